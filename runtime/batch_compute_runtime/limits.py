"""The resource limits a job process sets on itself before it imports the job's code.

Why each limit is set the way it is is explained where the values are chosen
(``batch_compute_mock.executors.local.limits``); this is the part that runs inside the job's
process. Hard limits are lowered together with soft ones, so a job that is not root cannot
raise them again.
"""

from __future__ import annotations

import resource

__all__ = ["MIB", "address_space_bytes", "apply_job_limits"]

MIB = 1024 * 1024


def address_space_bytes(memory_mib: int, headroom_mib: int) -> int:
    return (int(memory_mib) + int(headroom_mib)) * MIB


def _lower(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def apply_job_limits(
    *, memory_mib: int, headroom_mib: int, fsize_cap_bytes: int, nproc_limit: int | None
) -> None:
    """Core dumps off; file size, process count and address space capped."""
    _lower(resource.RLIMIT_CORE, 0)
    _lower(resource.RLIMIT_FSIZE, int(fsize_cap_bytes))
    if nproc_limit is not None:
        _lower(resource.RLIMIT_NPROC, nproc_limit)
    _lower(resource.RLIMIT_AS, address_space_bytes(memory_mib, headroom_mib))
