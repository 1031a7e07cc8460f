"""Shared helpers for scenario scripts; runs INSIDE a genuine client's venv, never under pytest.

The same scenario drives either genuine client: ``BATCH_COMPUTE_COMPAT_FLAVOR`` (set by
``tests/support/compat.py``) picks ``descarteslabs`` or ``earthdaily.earthone``; both expose the
same ``compute`` classes and exception names. The client is configured only through the
environment (URLs and token), as a user would.

A scenario is a ``main(obs, sdk)`` function handed to :func:`run_scenario`. It records facts in
``obs`` (plain JSON values); the pytest side asserts on them. On an exception, whatever was
observed so far is still printed (marked ``"_incomplete": true``) before the traceback.
"""

from __future__ import annotations

import datetime as _dt
import enum
import importlib
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence, Set
from types import ModuleType
from typing import Any

__all__ = [
    "Sdk",
    "blob_fields",
    "capture_error",
    "execution_fields",
    "function_fields",
    "job_fields",
    "load_sdk",
    "plain",
    "run_scenario",
    "unique_name",
    "wait_for_status",
    "wait_until",
]

_PACKAGES = {"descarteslabs": "descarteslabs", "earthone": "earthdaily.earthone"}

FUNCTION_FIELDS = (
    "id", "name", "image", "cpus", "memory", "maximum_concurrency", "timeout", "retry_count",
    "enabled", "auto_start", "environment", "namespace", "owner", "status",
)  # fmt: skip
JOB_FIELDS = (
    "id", "function_id", "args", "kwargs", "environment", "tags", "status", "error_reason",
    "execution_count", "exit_code",
)  # fmt: skip
BLOB_FIELDS = (
    "id", "name", "namespace", "storage_type", "storage_state", "description", "extra_properties",
    "tags", "size_bytes", "hash",
)  # fmt: skip


class Sdk:
    """The genuine client's modules and classes, whichever flavor is installed."""

    def __init__(self, flavor: str) -> None:
        package = _PACKAGES[flavor]
        self.flavor = flavor
        self.compute: ModuleType = importlib.import_module(f"{package}.compute")
        self.exceptions: ModuleType = importlib.import_module(f"{package}.exceptions")
        self.auth: ModuleType = importlib.import_module(f"{package}.auth")
        self.Function = self.compute.Function
        self.Job = self.compute.Job
        self.FunctionStatus = self.compute.FunctionStatus
        self.JobStatus = self.compute.JobStatus
        self.ComputeClient = self.compute.ComputeClient

    def client_for(self, token: str) -> Any:
        """A ComputeClient acting as another user (the env token stays the default)."""
        auth = self.auth.Auth(jwt_token=token, token_info_path=None)
        return self.ComputeClient(auth=auth)


def load_sdk() -> Sdk:
    return Sdk(os.environ.get("BATCH_COMPUTE_COMPAT_FLAVOR", "descarteslabs"))


def run_scenario(main: Callable[[dict[str, Any], Sdk], None]) -> None:
    """Run ``main(obs, sdk)`` and print ``obs`` as the final JSON line (also on failure)."""
    started = time.monotonic()
    sdk = load_sdk()
    obs: dict[str, Any] = {"_flavor": sdk.flavor, "_import_seconds": time.monotonic() - started}
    try:
        main(obs, sdk)
    except BaseException:
        obs["_incomplete"] = True
        _emit(obs)
        traceback.print_exc()
        sys.exit(1)
    obs["_seconds"] = time.monotonic() - started
    _emit(obs)


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: enums by value, datetimes in ISO form, tuples as lists."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    # The clients hand out their own container types (e.g. a tracked list for ``tags``).
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, Set):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [plain(item) for item in value]
    return repr(value)


def function_fields(fn: Any) -> dict[str, Any]:
    fields = {name: plain(getattr(fn, name, None)) for name in FUNCTION_FIELDS}
    fields.update(_date_facts(fn, "creation_date", "modified_date"))
    return fields


def job_fields(job: Any) -> dict[str, Any]:
    fields = {name: plain(getattr(job, name, None)) for name in JOB_FIELDS}
    fields.update(_date_facts(job, "creation_date"))
    return fields


def execution_fields(job: Any) -> dict[str, Any]:
    """``job_fields`` plus what only an executed job has: runtime, dates, statistics, timings."""
    fields = job_fields(job)
    for name in ("runtime", "provisioning_time", "pull_time"):
        fields[name] = plain(getattr(job, name, None))
    fields.update(_date_facts(job, "last_execution_date", "last_completion_date"))
    statistics = getattr(job, "statistics", None)
    fields["statistics"] = None if statistics is None else plain(statistics.to_dict())
    return fields


def blob_fields(blob: Any) -> dict[str, Any] | None:
    """A result Blob's attributes as plain data; the geometry as GeoJSON (``None``: no blob)."""
    if blob is None:
        return None
    fields = {name: plain(getattr(blob, name, None)) for name in BLOB_FIELDS}
    geometry = getattr(blob, "geometry", None)
    fields["geometry"] = None if geometry is None else plain(geometry.__geo_interface__)
    fields["geometry_type"] = type(geometry).__name__
    fields.update(_date_facts(blob, "expires", "created"))
    return fields


def capture_error(call: Callable[[], Any]) -> dict[str, Any]:
    """Call and describe what it raised: ``{"raised": bool, "type", "bases", "message"}``."""
    try:
        result = call()
    except Exception as error:  # the point is to observe it
        return {
            "raised": True,
            "type": type(error).__name__,
            "bases": [cls.__name__ for cls in type(error).__mro__],
            "message": str(error),
        }
    return {"raised": False, "result": plain(result)}


def wait_until(
    probe: Callable[[], Any],
    done: Callable[[Any], bool],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str = "condition",
) -> Any:
    """Poll ``probe()`` until ``done(value)``; TimeoutError names the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:g} s; last value {value!r}")
        time.sleep(interval)


def wait_for_status(fn: Any, statuses: set[str], *, timeout: float = 30.0) -> str:
    """Refresh the function until its status is one of ``statuses``; return that status."""

    def probe() -> str:
        fn.refresh()
        return str(plain(fn.status))

    return str(
        wait_until(
            probe,
            statuses.__contains__,
            timeout=timeout,
            what=f"function {fn.id} status in {sorted(statuses)}",
        )
    )


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _date_facts(obj: Any, *names: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name, None)
        facts[name] = plain(value)
        offset = value.utcoffset() if isinstance(value, _dt.datetime) else None
        facts[f"{name}_aware"] = offset is not None
        if offset is not None:
            age = _dt.datetime.now(_dt.UTC) - value
            facts[f"{name}_age_seconds"] = age.total_seconds()
    return facts


def _emit(obs: dict[str, Any]) -> None:
    sys.stdout.flush()
    print(json.dumps(plain(obs), sort_keys=True), flush=True)
