"""What the pool needs to run one job: ``JobSpec``.

The scheduler builds it from the database rows; the pool turns it into the one "run" message a
worker receives. Every path is chosen by the caller (the data-dir layout is not the executor's
business); the worker creates missing parent directories.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["JobSpec"]


def _env(value: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


@attrs.frozen(kw_only=True)
class JobSpec:
    """One job attempt.

    ``environment`` is the function's environment already overlaid by the job's (the job wins);
    the pool lays it over the server's environment minus secrets. ``work_dir`` is a scratch
    directory that becomes the job's working directory and ``TMPDIR`` (unless ``environment``
    sets ``TMPDIR``); the worker creates it and deletes it with everything in it when the job
    ends. ``log_path`` receives the job log as ndjson while the job runs. ``result_path``
    receives the result bytes (only when there is a result).
    """

    job_id: str
    function_id: str
    bundle_dir: Path = attrs.field(converter=Path)
    work_dir: Path = attrs.field(converter=Path)
    log_path: Path = attrs.field(converter=Path)
    result_path: Path = attrs.field(converter=Path)
    args: list[Any] = attrs.field(factory=list, converter=lambda v: list(v or ()))
    kwargs: dict[str, Any] = attrs.field(factory=dict, converter=lambda v: dict(v or {}))
    environment: dict[str, str] = attrs.field(factory=dict, converter=_env)
    timeout_s: float = 900.0
    memory_mib: int = 512

    def to_message(self) -> dict[str, Any]:
        """The JSON-ready form the worker reads (raises ``TypeError`` for non-JSON args)."""
        return {
            "job_id": self.job_id,
            "function_id": self.function_id,
            "bundle_dir": str(self.bundle_dir),
            "work_dir": str(self.work_dir),
            "log_path": str(self.log_path),
            "result_path": str(self.result_path),
            "args": self.args,
            "kwargs": self.kwargs,
            "environment": self.environment,
            "timeout_s": float(self.timeout_s),
            "memory_mib": int(self.memory_mib),
        }
