"""Process-group chores for the supervisor and the job process: kill, count, reap.

The executor process that runs a job leads its own process group; everything the job starts
(``subprocess``, ``os.fork``, shell pipelines) joins that group unless it deliberately calls
``setsid``/``setpgid``. Killing the group therefore ends the job and its descendants, and the
kernel guarantees a group-wide SIGKILL cannot be outrun by a concurrent ``fork``. Counting the
group's members in /proc is the fork-bomb watchdog (RLIMIT_NPROC is not enforced for root, see
``limits``).
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["count_group", "kill_children", "kill_group", "reap_orphans", "signal_group"]


def signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to the group; ``False`` if it has no members left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def kill_group(leader: int, signum: int = signal.SIGKILL) -> None:
    """Signal the leader's group, and the leader itself if it has not joined the group yet.

    The leader is signalled once: a job's SIGTERM handler, given the signal twice, ran twice.
    Only for a leader that is not reaped yet, so its pid cannot have been reused.
    """
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(leader) != leader:
            os.kill(leader, signum)
    signal_group(leader, signum)


def count_group(pgid: int, stop_above: int | None = None) -> int:
    """Live members of process group ``pgid`` (stops counting once above ``stop_above``)."""
    count = 0
    for entry in os.scandir("/proc"):
        name = entry.name
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/stat", os.O_RDONLY)
        except OSError:
            continue
        try:
            stat = os.read(fd, 512)
        except OSError:
            continue
        finally:
            os.close(fd)
        # "pid (comm) state ppid pgrp ..." - comm may contain spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2 :].split(b" ", 3)
        if len(fields) > 2 and fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid:
            count += 1
            if stop_above is not None and count > stop_above:
                break
    return count


def kill_children() -> int:
    """SIGKILL every child of this (single-threaded) process and the process group of each
    child that leads one of its own; how many children there were.

    For a subreaper whose own child just died: its remaining children are descendants the job
    moved out of its process group (``setsid``), adopted when their parents died.
    """
    try:
        fd = os.open(f"/proc/self/task/{os.getpid()}/children", os.O_RDONLY)
    except OSError:
        return 0
    try:
        pids = [int(pid) for pid in os.read(fd, 1 << 16).split()]
    finally:
        os.close(fd)
    own = os.getpgrp()
    for pid in pids:
        try:
            group = os.getpgid(pid)
            if group != own:
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
    return len(pids)


def reap_orphans() -> int:
    """Reap every exited child (the worker is a child subreaper); how many were reaped."""
    reaped = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped += 1
