"""Runaway user code: each case ends failed or timed out with a clear reason, and the pool
keeps serving. Real processes; the fork bomb is bounded (2**7 processes) and capped at 50."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from batch_compute_mock.builder.sandbox import SandboxMode, probe
from batch_compute_mock.executors import OutcomeStatus, StopReason
from support.executor_lab import ExecutorLab


@pytest.fixture(params=["unconfined", "sandboxed"])
def confinement(request) -> dict:
    """Every runaway is tried both unconfined and in the bubblewrap sandbox."""
    if request.param == "unconfined":
        return {}
    return {"sandbox": probe(SandboxMode.BWRAP).policy}


def survive(tmp_path: Path, confinement: dict, source: str, *, pool_options=None, **spec_overrides):
    """Run the runaway job, then a healthy job on the same one-worker pool."""
    pool_options = {**confinement, **(pool_options or {})}
    lab = ExecutorLab(tmp_path)
    spec_overrides.setdefault("timeout_s", 20)
    runaway = lab.spec(lab.bundle(source, "runaway"), job_id="runaway", **spec_overrides)
    healthy = lab.spec(lab.bundle("def main():\n    return 42\n", "healthy"), job_id="ok")

    async def scenario(pool):
        first = await pool.run(runaway)
        second = await pool.run(healthy)
        return first, second, pool.stats()

    outcome, after, stats = lab.run(scenario, **pool_options)
    assert after.succeeded and lab.result(healthy) == b"42"
    assert stats.spawned == 1  # the same worker process kept serving
    return outcome, (lab, runaway)


def job_log(job):
    lab, spec = job
    return lab.log_path(spec)


def test_segfault(tmp_path, confinement):
    outcome, job = survive(
        tmp_path, confinement, "import ctypes\ndef main():\n    ctypes.string_at(0)\n"
    )
    assert outcome.status is OutcomeStatus.FAILURE and outcome.stop_reason is None
    assert outcome.exit_code == 139
    assert outcome.error_reason == "Killed by signal SIGSEGV (segmentation fault)"
    log = job_log(job).read_text()
    assert "Segmentation fault" in log and "__dlentrypoint__.py" in log  # faulthandler's stack


def test_os_exit(tmp_path, confinement):
    outcome, _ = survive(
        tmp_path, confinement, "import os\ndef main():\n    print('bye')\n    os._exit(3)\n"
    )
    assert (outcome.status, outcome.exit_code, outcome.error_reason) == (
        OutcomeStatus.FAILURE,
        3,
        "Exited with code 3",
    )


def test_infinite_loop_times_out(tmp_path, confinement):
    started = time.monotonic()
    outcome, _ = survive(
        tmp_path, confinement, "def main():\n    while True:\n        pass\n", timeout_s=1
    )
    assert time.monotonic() - started < 15
    assert outcome.status is OutcomeStatus.TIMEOUT and outcome.stop_reason is StopReason.TIMEOUT
    assert outcome.error_reason == "Timed out after 1 s" and outcome.exit_code == 137
    assert outcome.statistics["cpu"]["time"] > 0  # it was spinning (how much depends on load)


def test_memory_hog(tmp_path, confinement):
    outcome, job = survive(
        tmp_path,
        confinement,
        """
        def main():
            hoard = []
            while True:
                hoard.append(bytearray(32 * 1024 * 1024))
        """,
        memory_mib=512,
    )
    assert outcome.status is OutcomeStatus.FAILURE and outcome.exit_code == 1
    assert outcome.error_reason == (
        "MemoryError: the job exceeded the function's memory limit of 512 MiB"
    )
    assert outcome.statistics["memory"]["peak_bytes"] > 400 * 1024 * 1024
    assert "MemoryError" in job_log(job).read_text()


def test_fork_bomb(tmp_path, confinement):
    outcome, _ = survive(
        tmp_path,
        confinement,
        """
        import os, time
        def main():
            for _ in range(7):  # bounded: at most 128 processes, each sleeping
                os.fork()
            time.sleep(60)
        """,
        pool_options={"nproc_cap": 50},
        timeout_s=20,
    )
    assert outcome.status is OutcomeStatus.FAILURE and outcome.stop_reason is StopReason.FORK_BOMB
    assert outcome.error_reason == (
        "Fork bomb: the job ran more than 50 processes at once and was killed"
    )
    assert outcome.end_time - outcome.start_time < 10


def test_hundred_megabytes_of_printing(tmp_path, confinement):
    outcome, job = survive(
        tmp_path,
        confinement,
        """
        import sys
        def main():
            line = "y" * 1023 + "\\n"
            for _ in range(100 * 1024):
                sys.stdout.write(line)
            return "survived"
        """,
    )
    assert outcome.succeeded and outcome.log_truncated  # printing is not a reason to kill
    assert job[0].result(job[1]) == b'"survived"'
    size = job_log(job).stat().st_size
    assert size <= 10 * 1024 * 1024
    last = json.loads(job_log(job).read_text().splitlines()[-1])
    assert last["log"].startswith(
        "[log truncated: the job's output exceeded the log limit of 10 MiB"
    )


@pytest.mark.parametrize("grace", [0.0, 0.5])
def test_sigterm_grace_then_sigkill(tmp_path, grace, confinement):
    outcome, job = survive(
        tmp_path,
        confinement,
        """
        import signal, time
        def main():
            signal.signal(signal.SIGTERM, lambda *a: print("got SIGTERM, ignoring", flush=True))
            print("started", flush=True)
            while True:
                time.sleep(0.01)
        """,
        pool_options={"term_grace_s": grace},
        timeout_s=1,
    )
    assert outcome.status is OutcomeStatus.TIMEOUT and outcome.exit_code == 137
    lines = [json.loads(line)["log"] for line in job_log(job).read_text().splitlines()]
    assert lines == (["started", "got SIGTERM, ignoring"] if grace else ["started"])
