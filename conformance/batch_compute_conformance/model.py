"""What the backend should hold, as far as the kit has seen: the rules of the ``every`` category.

Every function and job object the kit reads (its own requests and schemathesis' alike) passes
through :meth:`Model.observe_function` / :meth:`Model.observe_job`, which check the object's
fields and compare its status with what was seen before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .exchange import Exchange

__all__ = ["FINAL_STATUSES", "JOB_STATUSES", "Model"]

JOB_STATUSES = (
    "pending",
    "running",
    "cancel",
    "canceling",
    "success",
    "failure",
    "timeout",
    "canceled",
)
FINAL_STATUSES = frozenset({"success", "failure", "timeout", "canceled"})
RERUNNABLE = frozenset({"failure", "timeout", "canceled"})
FUNCTION_STATUSES = ("awaiting_bundle", "building", "build_failed", "ready", "stopped")
_RANK = {"pending": 0, "running": 1, "cancel": 2, "canceling": 3}
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
_DATES = {
    "function": ("creation_date", "modified_date"),
    "job": ("creation_date", "last_execution_date", "last_completion_date"),
}

_STR, _INT, _NUM, _BOOL = (str,), (int,), (int, float), (bool,)
_NULL = (type(None),)
FUNCTION_FIELDS: dict[str, tuple[type, ...]] = {
    "id": _STR,
    "name": _STR,
    "image": _STR,
    "cpus": _NUM,
    "memory": _INT,
    "maximum_concurrency": _INT,
    "timeout": _INT,
    "retry_count": _INT,
    "enabled": _BOOL,
    "auto_start": _BOOL,
    "environment": (dict, *_NULL),
    "namespace": _STR,
    "owner": _STR,
    "status": _STR,
    "creation_date": _STR,
    "modified_date": _STR,
}
JOB_FIELDS: dict[str, tuple[type, ...]] = {
    "id": _STR,
    "function_id": _STR,
    "creation_date": _STR,
    "args": (list, *_NULL),
    "kwargs": (dict, *_NULL),
    "environment": (dict, *_NULL),
    "tags": (list,),
    "status": _STR,
    "error_reason": (str, *_NULL),
    "execution_count": (int, *_NULL),
    "exit_code": (int, *_NULL),
    "runtime": (int, *_NULL),
    "last_execution_date": (str, *_NULL),
    "last_completion_date": (str, *_NULL),
    "statistics": (dict, *_NULL),
}

Check = Callable[[str, bool, str, Exchange | None], bool]


@dataclass
class _Seen:
    status: str
    exchange: Exchange | None


class Model:
    """Known functions (their retry_count) and the last status seen of each job."""

    def __init__(self, check: Check) -> None:
        self._check = check
        self.retry_counts: dict[str, int] = {}
        self._jobs: dict[str, _Seen] = {}

    # -- functions ------------------------------------------------------------------------------

    def observe_function(self, function: Any, exchange: Exchange | None) -> None:
        if not self._fields("function", function, FUNCTION_FIELDS, exchange):
            return
        self._check(
            "every.required-fields",
            function["status"] in FUNCTION_STATUSES,
            f"function {function['id']} has status {function['status']!r}, not one of "
            f"{', '.join(FUNCTION_STATUSES)}",
            exchange,
        )
        self.retry_counts[function["id"]] = function["retry_count"]

    # -- jobs -----------------------------------------------------------------------------------

    def observe_job(self, job: Any, exchange: Exchange | None) -> None:
        if not self._fields("job", job, JOB_FIELDS, exchange):
            return
        job_id, status = job["id"], job["status"]
        if not self._check(
            "every.required-fields",
            status in JOB_STATUSES,
            f"job {job_id} has status {status!r}, not one of {', '.join(JOB_STATUSES)}",
            exchange,
        ):
            return
        self._execution_count(job, exchange)
        before = self._jobs.get(job_id)
        self._jobs[job_id] = _Seen(status, exchange)
        if before is None:
            return
        if before.status in FINAL_STATUSES:
            self._check(
                "every.final-stays-final",
                status == before.status,
                f"job {job_id} read as {before.status!r} earlier, now as {status!r} "
                "(no rerun in between)",
                exchange,
            )
            return
        if status in FINAL_STATUSES:
            return
        backwards = _RANK[status] < _RANK[before.status]
        retry = status == "pending" and before.status == "running" and self._may_retry(job)
        self._check(
            "every.status-monotonic",
            not backwards or retry,
            f"job {job_id} read as {before.status!r} earlier, now as {status!r} "
            "(no rerun in between)",
            exchange,
        )

    def rerun(self, jobs: list[Any]) -> None:
        """A rerun answered these jobs: each may start over from pending."""
        for job in jobs:
            if isinstance(job, dict) and isinstance(job.get("id"), str):
                self._jobs.pop(job["id"], None)

    def forget_job(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def last_status(self, job_id: str) -> str | None:
        seen = self._jobs.get(job_id)
        return seen.status if seen else None

    # -- internals ------------------------------------------------------------------------------

    def _may_retry(self, job: dict[str, Any]) -> bool:
        retries = self.retry_counts.get(job["function_id"])
        count = job.get("execution_count") or 0
        return retries is None or count <= retries

    def _execution_count(self, job: dict[str, Any], exchange: Exchange | None) -> None:
        retries = self.retry_counts.get(job["function_id"])
        count = job.get("execution_count")
        if retries is None or count is None:
            return
        self._check(
            "every.execution-count",
            count <= retries + 1,
            f"job {job['id']} has execution_count {count} but its function allows "
            f"{retries + 1} attempts (retry_count {retries})",
            exchange,
        )

    def _fields(
        self,
        kind: str,
        value: Any,
        fields: dict[str, tuple[type, ...]],
        exchange: Exchange | None,
    ) -> bool:
        if not isinstance(value, dict):
            return self._check(
                "every.required-fields", False, f"a {kind} is not a JSON object", exchange
            )
        odd = [
            f"{name}={value[name]!r}"
            for name in _DATES[kind]
            if isinstance(value.get(name), str) and not _TIMESTAMP.match(value[name])
        ]
        if odd:
            self._check(
                "every.timestamps",
                False,
                f"{kind} {value.get('id', '?')} has {', '.join(odd)}",
                exchange,
            )
        elif any(isinstance(value.get(name), str) for name in _DATES[kind]):
            self._check("every.timestamps", True, "", exchange)
        missing = [name for name in fields if name not in value]
        wrong = [
            name
            for name, types in fields.items()
            if name in value
            and (
                not isinstance(value[name], types)
                or (bool not in types and isinstance(value[name], bool))
            )
        ]
        problems = []
        if missing:
            problems.append(f"lacks {', '.join(missing)}")
        if wrong:
            problems.append(f"has the wrong type for {', '.join(wrong)}")
        return self._check(
            "every.required-fields",
            not problems,
            f"{kind} {value.get('id', '?')} {' and '.join(problems)}",
            exchange,
        )
