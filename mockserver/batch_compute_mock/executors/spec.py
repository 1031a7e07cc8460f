"""What an executor needs to run one job attempt: ``JobSpec``.

The scheduler builds it from the database rows. It names no place on any disk: the bundle,
the log and the result are blob keys, so the same spec runs on the local pool or on a worker
on another machine that reaches the same blob store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["JobSpec"]


def _env(value: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


@attrs.frozen(kw_only=True)
class JobSpec:
    """One job attempt.

    ``environment`` is the function's environment already overlaid by the job's (the job wins).
    ``bundle_key`` is the function's uploaded zip; executors unpack it once and cache it.
    ``log_key`` receives the job log as ndjson while the job runs; ``result_key`` the result
    bytes (only when there is a result). ``attempt`` counts from 1.
    """

    job_id: str
    function_id: str
    attempt: int = 1
    bundle_key: str
    log_key: str
    result_key: str
    args: list[Any] = attrs.field(factory=list, converter=lambda v: list(v or ()))
    kwargs: dict[str, Any] = attrs.field(factory=dict, converter=lambda v: dict(v or {}))
    environment: dict[str, str] = attrs.field(factory=dict, converter=_env)
    timeout_s: float = 900.0
    memory_mib: int = 512
    #: CPUs the function asks for (a cluster executor reserves them on a worker).
    cpus: float = 1.0
    #: The function's environment (``builder.environments.EnvironmentSpec`` as JSON) its job
    #: process runs in, built here first if this machine lacks it; None: the executor's own
    #: interpreter.
    python_environment: dict[str, Any] | None = None
    #: A test's injected fault (``testing.faults``): ``{"action": ..., ...}`` or None.
    fault: dict[str, Any] | None = None
