"""Faults a test asks for: jobs that fail on purpose, and HTTP answers that misbehave.

    POST /_mock/faults {"function_name": "f", "action": "fail", "attempts": [1]}
    POST /_mock/faults {"operation": "get_job", "status": 503, "count": 2}

A *job fault* names a function (by name or id) and an action: ``fail`` (the attempt raises),
``timeout`` (it runs past its function's timeout), ``exit`` (the process exits with ``code``),
``signal`` (the process is killed by ``signal``), ``lose_result`` (it succeeds but its result
is not stored) or ``pending`` (the job stays pending ``seconds`` after its submission).
``attempts`` limits it to those attempt numbers; the job then goes on as its retry policy says.
The first four run inside the job's own process, instead of its ``main``, so they take the
same paths a real failure takes.

An *HTTP fault* names a contract operation (its ``operationId``) and answers it with
``status``, delays it by ``latency_ms``, or closes the connection without an answer
(``drop``), for ``count`` requests (all, without it).

Both take ``probability`` (0 to 1) and ``seed``: the same seed makes the same choices for the
same jobs and attempts (job faults) or the same sequence of requests (HTTP faults).
"""

from __future__ import annotations

import functools
import itertools
import random
import signal as signals
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kernel.errors import NotFound, ValidationFailed

__all__ = ["JOB_ACTIONS", "FaultBook", "HttpFault", "JobFault"]

JOB_ACTIONS = ("fail", "timeout", "exit", "signal", "lose_result", "pending")
#: The actions the job's own process carries out (in place of its ``main``).
IN_PROCESS = frozenset({"fail", "timeout", "exit", "signal"})


@dataclass
class JobFault:
    id: str
    action: str
    function_name: str | None = None
    function_id: str | None = None
    attempts: list[int] | None = None
    code: int = 1
    signal: int = int(signals.SIGKILL)
    seconds: float = 0.0
    probability: float = 1.0
    seed: int = 0

    def applies(self, function: Mapping[str, Any], rank: Callable[[], int], attempt: int) -> bool:
        """Whether it applies to this attempt of a job of ``function``; ``rank()`` is the job's
        place among the function's jobs in submission order, so a seeded choice is the same
        for the same jobs submitted in the same order, run after run."""
        if self.function_id is not None and function["id"] != self.function_id:
            return False
        if self.function_name is not None and function["name"] != self.function_name:
            return False
        if self.attempts is not None and attempt not in self.attempts:
            return False
        if self.probability >= 1.0:
            return True
        return random.Random(f"{self.seed}:{rank()}:{attempt}").random() < self.probability

    def describe(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "kind": "job", "action": self.action}
        for key in ("function_name", "function_id", "attempts", "probability", "seed"):
            shown[key] = getattr(self, key)
        extra = {"exit": "code", "signal": "signal", "pending": "seconds"}.get(self.action)
        if extra is not None:
            shown[extra] = getattr(self, extra)
        return shown


@dataclass
class HttpFault:
    id: str
    operation: str
    status: int | None = None
    latency_ms: int = 0
    drop: bool = False
    count: int | None = None
    probability: float = 1.0
    seed: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def describe(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "kind": "http", "operation": self.operation}
        for key in ("status", "latency_ms", "drop", "count", "probability", "seed"):
            shown[key] = getattr(self, key)
        return shown


class FaultBook:
    """The faults in force; read by the scheduler (job faults) and a middleware (HTTP ones).

    ``function_exists(by, value)`` says whether a function with that ``id`` or ``name``
    exists, ``operations`` are the contract's operationIds: a fault naming neither is refused.
    ``job_rank(job_id)`` is a job's place among its function's jobs (seeded choices use it).
    """

    def __init__(
        self,
        function_exists: Callable[[str, str], bool],
        job_rank: Callable[[str], int],
        operations: frozenset[str],
    ) -> None:
        self._function_exists = function_exists
        self._job_rank = job_rank
        self._operations = operations
        self._lock = threading.Lock()
        self._jobs: list[JobFault] = []
        self._http: list[HttpFault] = []
        self._ids = itertools.count(1)

    # Managing ------------------------------------------------------------------------------
    def add(self, body: Any) -> dict[str, Any]:
        """Validate and add one fault; its description (with its ``id``)."""
        if not isinstance(body, Mapping):
            raise ValidationFailed({"body": ["a fault is a JSON object"]})
        fault: JobFault | HttpFault
        fault = self._http_fault(body) if "operation" in body else self._job_fault(body)
        with self._lock:
            if isinstance(fault, HttpFault):
                self._http.append(fault)
            else:
                self._jobs.append(fault)
        return fault.describe()

    def describe(self) -> list[dict[str, Any]]:
        """Every fault in force, job faults first."""
        with self._lock:
            return [f.describe() for f in self._jobs] + [f.describe() for f in self._http]

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._http.clear()

    # Consulted -----------------------------------------------------------------------------
    def job_fault(
        self, function: Mapping[str, Any], job_id: str, attempt: int
    ) -> dict[str, Any] | None:
        """What attempt ``attempt`` of the job must do instead of succeeding, if anything
        (``pending`` faults are not asked here but with ``hold``)."""
        with self._lock:
            faults = list(self._jobs)
        rank = functools.cache(lambda: self._job_rank(job_id))
        for fault in faults:
            if fault.action != "pending" and fault.applies(function, rank, attempt):
                return {"action": fault.action, "code": fault.code, "signal": fault.signal}
        return None

    def hold(self, function: Mapping[str, Any], job_id: str, age_seconds: float) -> float:
        """How many more seconds the job must stay pending (0: it may start)."""
        with self._lock:
            faults = [f for f in self._jobs if f.action == "pending"]
        rank = functools.cache(lambda: self._job_rank(job_id))
        waits = [
            fault.seconds - age_seconds for fault in faults if fault.applies(function, rank, 0)
        ]
        return max([0.0, *waits])

    def http_fault(self, operation: str) -> HttpFault | None:
        """The HTTP fault to apply to one request of ``operation`` (it counts as used)."""
        with self._lock:
            for fault in self._http:
                if fault.operation != operation:
                    continue
                if fault.probability < 1.0 and fault._random.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._http.remove(fault)
                return fault
        return None

    # Validation ----------------------------------------------------------------------------
    def _job_fault(self, body: Mapping[str, Any]) -> JobFault:
        errors: dict[str, list[str]] = {}
        action = body.get("action")
        if action not in JOB_ACTIONS:
            choices = ", ".join(JOB_ACTIONS)
            errors["action"] = [f"{action!r} is not a fault action; use one of {choices}"]
        names = [key for key in ("function_name", "function_id") if body.get(key) is not None]
        if len(names) != 1:
            errors["function_name"] = ["name the function: either function_name or function_id"]
        elif not isinstance(body[names[0]], str):
            errors[names[0]] = ["must be a string"]
        elif not self._function_exists(names[0].removeprefix("function_"), body[names[0]]):
            by = names[0].removeprefix("function_")
            raise NotFound(f"No function has {by} {body[names[0]]!r}.")
        attempts = body.get("attempts")
        if attempts is not None and (
            not isinstance(attempts, list)
            or not attempts
            or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in attempts)
        ):
            errors["attempts"] = ["a list of attempt numbers from 1, e.g. [1, 2]"]
        fault = JobFault(
            id=self._next_id(),
            action=str(action),
            function_name=body.get("function_name"),
            function_id=body.get("function_id"),
            attempts=attempts,
            probability=_probability(body, errors),
            seed=_integer(body, "seed", 0, errors),
        )
        if action == "exit":
            fault.code = _integer(body, "code", 1, errors, low=0, high=255)
        if action == "signal":
            fault.signal = _signal(body, errors)
        if action == "pending":
            seconds = body.get("seconds")
            if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
                fault.seconds = float(seconds)
            else:
                errors["seconds"] = ["how long the job stays pending: a positive number"]
        unknown = sorted(set(body) - {*_JOB_KEYS, *_ACTION_KEYS.get(str(action), ())})
        if unknown:
            errors["body"] = [f"unknown field(s) for a {action} fault: {', '.join(unknown)}"]
        if errors:
            raise ValidationFailed(errors)
        return fault

    def _http_fault(self, body: Mapping[str, Any]) -> HttpFault:
        errors: dict[str, list[str]] = {}
        operation = body.get("operation")
        if operation not in self._operations:
            errors["operation"] = [f"{operation!r} is not an operationId of the contract"]
        status, latency = body.get("status"), body.get("latency_ms", 0)
        drop = body.get("drop", False)
        if status is not None and (
            not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
        ):
            errors["status"] = ["an HTTP status code, 100 to 599"]
        if not isinstance(latency, int) or isinstance(latency, bool) or not 0 <= latency <= 60_000:
            errors["latency_ms"] = ["milliseconds of delay, 0 to 60000"]
        if not isinstance(drop, bool):
            errors["drop"] = ["true or false"]
        if status is None and not latency and not drop:
            errors["body"] = ["say what to do: status, latency_ms or drop"]
        count = body.get("count")
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 1
        ):
            errors["count"] = ["how many requests: a positive integer"]
        unknown = set(body) - _HTTP_KEYS
        if unknown:
            errors["body"] = [f"unknown field(s) for an HTTP fault: {', '.join(sorted(unknown))}"]
        probability, seed = _probability(body, errors), _integer(body, "seed", 0, errors)
        if errors:
            raise ValidationFailed(errors)
        return HttpFault(
            id=self._next_id(),
            operation=str(operation),
            status=status,
            latency_ms=int(latency),
            drop=bool(drop),
            count=count,
            probability=probability,
            seed=seed,
        )

    def _next_id(self) -> str:
        return f"fault-{next(self._ids)}"


_JOB_KEYS = {"function_name", "function_id", "action", "attempts", "probability", "seed"}
_ACTION_KEYS = {"exit": ("code",), "signal": ("signal",), "pending": ("seconds",)}
_HTTP_KEYS = {"operation", "status", "latency_ms", "drop", "count", "probability", "seed"}


def _probability(body: Mapping[str, Any], errors: dict[str, list[str]]) -> float:
    value = body.get("probability", 1.0)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    errors["probability"] = ["a number from 0 to 1"]
    return 1.0


def _integer(
    body: Mapping[str, Any],
    key: str,
    default: int,
    errors: dict[str, list[str]],
    low: int = -(2**63),
    high: int = 2**63 - 1,
) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        errors[key] = [f"an integer from {low} to {high}"]
        return default
    return value


def _signal(body: Mapping[str, Any], errors: dict[str, list[str]]) -> int:
    value = body.get("signal", "SIGKILL")
    try:
        if isinstance(value, str):
            return int(signals.Signals[value if value.startswith("SIG") else f"SIG{value}"])
        if isinstance(value, int) and not isinstance(value, bool):
            return int(signals.Signals(value))
    except (KeyError, ValueError):
        pass
    errors["signal"] = ["a signal name (SIGSEGV) or number (11)"]
    return int(signals.SIGKILL)
