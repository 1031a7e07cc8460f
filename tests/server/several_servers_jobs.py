"""Job code for ``test_several_servers`` (module level, so the SDK can bundle its source)."""

from __future__ import annotations

__all__ = ["guarded_square"]


def guarded_square(n, root, seconds=0.0):  # type: ignore[no-untyped-def]
    """Square ``n``, noting each attempt in ``root/runs/JOB`` and holding an exclusive lock
    on ``root/locks/JOB`` while it runs: an attempt that finds the lock taken (the same job
    running elsewhere at once) leaves ``root/overlaps/JOB``."""
    import fcntl
    import os
    import time

    job = os.environ["BATCH_COMPUTE_JOB_ID"]
    with open(os.path.join(root, "runs", job), "a") as runs:
        runs.write("attempt\n")
    lock = os.open(os.path.join(root, "locks", job), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            open(os.path.join(root, "overlaps", job), "w").close()
            raise
        print(f"job {n} started", flush=True)
        time.sleep(seconds)
        print(f"job {n} done", flush=True)
        return n * n
    finally:
        os.close(lock)
