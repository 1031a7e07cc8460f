"""Resource limits a job process runs under, and why each is set the way it is.

- ``RLIMIT_AS`` (address space) = the function's ``memory`` MiB + ``headroom_mib`` (default
  256 MiB). The headroom covers what the interpreter maps before the job allocates anything
  (the warm executor process starts at about 21 MiB of address space; shared libraries of
  modules the job imports, thread stacks and allocator slack come on top), so a 512 MiB
  function can really allocate about 512 MiB. Allocations past the
  limit fail: Python raises ``MemoryError``, C code usually aborts or segfaults (reported as
  such, with the memory limit named). Address space is not resident memory: code that reserves
  huge virtual ranges (some JITs, many threads with large stacks) needs more headroom.
- ``RLIMIT_FSIZE`` caps each file the job writes (default 1 GiB). Python ignores SIGXFSZ, so a
  write past the cap fails with ``OSError: [Errno 27] File too large``.
- ``RLIMIT_CORE`` = 0: no core dumps from crashing jobs.
- ``RLIMIT_NPROC`` is counted per real user across the whole machine, and the kernel does not
  enforce it for root (or CAP_SYS_RESOURCE). It is therefore only a backstop for jobs that
  do not run as root (a non-root server's, or sandboxed ones, which run as ``nobody``): the
  user's thread count when the worker started plus twice ``nproc_cap`` for each worker that
  runs jobs as that user, so that it stops a bomb's growth between two looks of the real
  guard without hiding the bomb from it. That guard is the worker's watchdog, which counts the
  job's process group in /proc and kills the group when it holds more than ``nproc_cap``
  processes (see ``procs``).

The job process applies them to itself (``batch_compute_runtime.limits``); hard limits are
lowered together with soft ones so a non-root job cannot raise them again.
"""

from __future__ import annotations

import os

__all__ = [
    "DEFAULT_FSIZE_CAP_BYTES",
    "DEFAULT_MEMORY_HEADROOM_MIB",
    "DEFAULT_NPROC_CAP",
    "MIB",
    "machine_memory",
    "nproc_backstop",
]

MIB = 1024 * 1024
DEFAULT_MEMORY_HEADROOM_MIB = 256
DEFAULT_FSIZE_CAP_BYTES = 1024 * MIB
DEFAULT_NPROC_CAP = 256


def machine_memory() -> int:
    """This machine's physical memory in bytes (what a worker offers when not told)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def nproc_backstop(nproc_cap: int, *, uid: int | None = None, share: int = 1) -> int | None:
    """The RLIMIT_NPROC to set for jobs running as ``uid`` (default: ours), or ``None`` when
    the kernel would ignore it (root): what the user runs now plus twice ``nproc_cap`` for
    each of the ``share`` workers that run jobs as that user at once (see above)."""
    user = os.getuid() if uid is None else uid
    if user == 0:
        return None
    uid_field = str(user)
    threads = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as handle:
                status = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [uid_field]:
            threads += int(fields.get("Threads", "1").strip() or 1)
    return threads + 2 * int(nproc_cap) * max(1, share)
