"""A scripted ``httpx.MockTransport`` for SDK unit tests: the SDK is under test, not a server.

``Script`` answers each request from a queue of canned responses (or exceptions) per route
and records every request, so tests can assert exact attempt counts and bodies.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import httpx

from batch_compute import ComputeClient, Retry

__all__ = ["ORIGIN", "Script", "function_json", "job_json", "make_client", "problem"]

ORIGIN = "http://sdk-under-test.invalid"
STAMP = "2024-05-01T12:00:00.000000+00:00"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def problem(status: int, detail: str, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    """A problem+json answer, as the compute API sends errors."""
    body: dict[str, Any] = {"type": "about:blank", "title": "Error", "status": status,
                            "detail": detail}  # fmt: skip
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(
        status, headers={"Content-Type": "application/problem+json", **(headers or {})},
        content=json.dumps(body).encode(),
    )  # fmt: skip


def function_json(id: str = "fn-1", **changes: Any) -> dict[str, Any]:
    """A contract-valid Function object."""
    return {
        "id": id, "name": "fn", "image": "python3.11:latest", "cpus": 0.25, "memory": 512,
        "maximum_concurrency": 10, "timeout": 900, "retry_count": 0, "enabled": True,
        "auto_start": True, "environment": {}, "namespace": "ns", "owner": "user:me",
        "status": "ready", "creation_date": STAMP, "modified_date": STAMP, **changes,
    }  # fmt: skip


def job_json(id: str = "job-1", **changes: Any) -> dict[str, Any]:
    """A contract-valid Job object."""
    return {
        "id": id, "function_id": "fn-1", "creation_date": STAMP, "args": [], "kwargs": {},
        "environment": {}, "tags": [], "status": "pending", "error_reason": None,
        "execution_count": 0, "exit_code": None, "runtime": None, "last_execution_date": None,
        "last_completion_date": None, "statistics": None, **changes,
    }  # fmt: skip


class Script:
    """Canned answers per ``"METHOD /path"``; the last answer of a route repeats forever."""

    def __init__(self) -> None:
        self.routes: dict[str, deque[Answer]] = defaultdict(deque)
        self.requests: list[httpx.Request] = []

    def on(self, route: str, *answers: Answer) -> Script:
        self.routes[route].extend(answers)
        return self

    def count(self, route: str) -> int:
        """How many requests hit ``route`` (``"METHOD /path"``)."""
        return sum(1 for r in self.requests if f"{r.method} {r.url.path}" == route)

    def bodies(self, route: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests
                if f"{r.method} {r.url.path}" == route]  # fmt: skip

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        queue = self.routes.get(route)
        if not queue:
            raise AssertionError(f"unexpected request {route}")
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def make_client(script: Script, retries: Retry | None = None,
                sleeps: list[float] | None = None) -> ComputeClient:  # fmt: skip
    """A client whose requests go to ``script``; waits are recorded in ``sleeps``, not slept."""
    recorded = sleeps if sleeps is not None else []
    retry = retries or Retry(sleep=recorded.append)
    return ComputeClient(
        url=ORIGIN, auth="token", retries=retry, transport=httpx.MockTransport(script)
    )
