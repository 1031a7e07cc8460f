"""Deliberately broken backends: a small HTTP proxy in front of the real server that breaks one
documented rule, so the tests can show the conformance kit catches each one.

The server itself has no switch for any of this: every breakage is a rewrite of requests or
responses here, in the tests. :class:`BrokenProxy` runs uvicorn in a thread on a free loopback
port and forwards to the upstream server with httpx; a :class:`Breakage` may answer a request
itself (``on_request``) or rewrite the upstream answer (``on_response``).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import uvicorn

__all__ = ["BREAKAGES", "Answer", "Breakage", "BrokenProxy", "Flow"]

_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


@dataclass
class Flow:
    """One request as the proxy received it."""

    method: str
    path: str  # raw (still percent-encoded)
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    notes: dict[str, Any] = field(default_factory=dict)  # a breakage's own, never sent

    @property
    def auth(self) -> str | None:
        return self.headers.get("authorization")

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    def parts(self) -> list[str]:
        return self.path.removeprefix("/compute/v1/").strip("/").split("/")


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
        self.headers["content-type"] = self.headers.get("content-type", "application/json")


class Breakage:
    """Breaks one rule; ``rule`` is what the kit must report, ``category`` what to run."""

    name: ClassVar[str] = ""
    rule: ClassVar[str] = ""
    category: ClassVar[str] = ""

    def __init__(self) -> None:
        self.proxy: BrokenProxy | None = None

    async def on_request(self, flow: Flow) -> Answer | None:
        return None

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        return answer

    async def upstream(self, method: str, path: str, auth: str | None, **kw: Any) -> Answer:
        assert self.proxy is not None
        headers = {"authorization": auth} if auth else {}
        return await self.proxy.send(method, path, headers=headers, **kw)


def _is_compute(flow: Flow, *parts: str) -> bool:
    if not flow.path.startswith("/compute/v1/"):
        return False
    actual = flow.parts()
    if len(actual) != len(parts):
        return False
    return all(p in ("*", a) for p, a in zip(parts, actual, strict=True))


def _map_jobs(answer: Answer, change: Any) -> Answer:
    """Apply ``change`` to every job object in a job answer (object, list or page)."""
    body = answer.json()
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        body["data"] = [change(job) for job in body["data"]]
    elif isinstance(body, list):
        body = [change(job) if isinstance(job, dict) else job for job in body]
    elif isinstance(body, dict) and "function_id" in body:
        body = change(body)
    else:
        return answer
    answer.set_json(body)
    return answer


# -- contract ------------------------------------------------------------------------------------


class ServerErrorOnLargePages(Breakage):
    """A 500 on odd but valid input: the largest page size."""

    name, rule, category = "500 on page_size=1000", "contract.no-server-error", "contract"

    async def on_request(self, flow: Flow) -> Answer | None:
        size = flow.param("page_size")
        if size is not None and size.isdigit() and int(size) >= 1000:
            return Answer(500, {"content-type": "text/plain"}, b"Internal Server Error")
        return None


class DroppedNamespace(Breakage):
    """Function objects lose a required field."""

    name, rule, category = "function without namespace", "contract.response-conformance", "contract"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if not flow.path.startswith("/compute/v1/functions") or answer.status >= 300:
            return answer
        body = answer.json()
        for function in _functions_in(body):
            function.pop("namespace", None)
        if body is not None:
            answer.set_json(body)
        return answer


def _functions_in(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return [f for f in body["data"] if isinstance(f, dict)]
    if isinstance(body, dict) and isinstance(body.get("function"), dict):
        return [body["function"]]
    if isinstance(body, dict) and "namespace" in body:
        return [body]
    return []


# -- lifecycle -----------------------------------------------------------------------------------


class UpdateNotKept(Breakage):
    """PATCH answers the change but never stores it."""

    name, rule, category = "function edit not kept", "lifecycle.update", "lifecycle"

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method != "PATCH" or not _is_compute(flow, "functions", "*"):
            return None
        change = flow.json()
        if not isinstance(change, dict) or "status" in change or "enabled" in change:
            return None
        current = await self.upstream("GET", flow.path, flow.auth)
        body = current.json()
        if current.status != 200 or not isinstance(body, dict):
            return current
        current.set_json({**body, **change})
        return current


class DeleteDoesNothing(Breakage):
    """DELETE of a function answers 204 and deletes nothing."""

    name, rule, category = "function delete does nothing", "lifecycle.delete", "lifecycle"

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "DELETE" and _is_compute(flow, "functions", "*"):
            return Answer(204)
        return None


class EncodedBuildLog(Breakage):
    """The build log is sent with Content-Encoding: gzip (the client would gunzip twice)."""

    name, rule, category = "build log with Content-Encoding", "lifecycle.build-log", "lifecycle"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if _is_compute(flow, "functions", "*", "log") and answer.status == 200:
            answer.headers["content-encoding"] = "gzip"
        return answer


class InvalidEditAccepted(Breakage):
    """An edit the contract refuses (422) is answered as if it had worked."""

    name, rule, category = "invalid edit accepted", "lifecycle.update-validation", "lifecycle"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if flow.method == "PATCH" and _is_compute(flow, "functions", "*") and answer.status == 422:
            current = await self.upstream("GET", flow.path, flow.auth)
            body = current.json()
            change = flow.json()
            if isinstance(body, dict) and isinstance(change, dict):
                current.set_json({**body, **change})
            return current
        return answer


# -- execution -----------------------------------------------------------------------------------


class StatusGoesBackwards(Breakage):
    """A finished job reads as running again later."""

    name, rule, category = "finished job reads as running", "every.final-stays-final", "execution"

    def __init__(self) -> None:
        super().__init__()
        self.finished: set[str] = set()

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if flow.method != "GET" or not _is_compute(flow, "jobs", "*") or answer.status != 200:
            return answer
        job = answer.json()
        if not isinstance(job, dict):
            return answer
        if job.get("id") in self.finished:
            self.finished.discard(job["id"])
            job["status"] = "running"
            answer.set_json(job)
        elif job.get("status") == "success":
            self.finished.add(job["id"])
        return answer


class CancelDoesNothing(Breakage):
    """Cancelling a job answers it unchanged and cancels nothing."""

    name, rule, category = "cancel does nothing", "execution.cancel-pending", "execution"

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "POST" and _is_compute(flow, "jobs", "*", "cancel"):
            job_path = flow.path.rsplit("/", 1)[0]
            return await self.upstream("GET", job_path, flow.auth)
        return None


class ResultForFailedJob(Breakage):
    """The storage download serves a result for a job that failed."""

    name, rule, category = (
        "result served for a failed job",
        "execution.result-iff-success",
        "execution",
    )

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        prefix = "/catalog/v2/storage/download/"
        if not flow.path.startswith(prefix) or answer.status != 404:
            return answer
        blob_id = urllib.parse.unquote(flow.path[len(prefix) :])
        job_id = blob_id.rsplit("/", 1)[-1]
        job = (await self.upstream("GET", f"/compute/v1/jobs/{job_id}", flow.auth)).json()
        if isinstance(job, dict) and job.get("status") in ("failure", "timeout", "canceled"):
            assert self.proxy is not None
            document = {
                "data": {
                    "type": "storage_download",
                    "id": blob_id,
                    "attributes": {"resumable_url": f"{self.proxy.origin}/__forged/result"},
                }
            }
            return Answer(
                200, {"content-type": "application/vnd.api+json"}, json.dumps(document).encode()
            )
        return answer

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.path == "/__forged/result":
            return Answer(200, {"content-type": "application/octet-stream"}, b'"forged"')
        return None


class LogLosesLines(Breakage):
    """The job log drops its second line."""

    name, rule, category = "log loses a line", "execution.log-lines", "execution"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if _is_compute(flow, "jobs", "*", "log") and answer.status == 200:
            lines = answer.body.splitlines(keepends=True)
            if len(lines) > 1:
                answer.body = b"".join(lines[:1] + lines[2:])
        return answer


class ConcurrencyIgnored(Breakage):
    """maximum_concurrency is recorded as asked but not applied (the server is given 1000)."""

    name, rule, category = "maximum_concurrency ignored", "execution.max-concurrency", "execution"

    def __init__(self) -> None:
        super().__init__()
        self.asked: dict[str, int] = {}

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "POST" and _is_compute(flow, "functions"):
            body = flow.json()
            if isinstance(body, dict) and "maximum_concurrency" in body:
                flow.notes["asked"] = int(body["maximum_concurrency"])
                body["maximum_concurrency"] = 1000
                flow.set_json(body)
        return None

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if not flow.path.startswith("/compute/v1/functions") or answer.status >= 300:
            return answer
        body = answer.json()
        asked = flow.notes.get("asked")
        for function in _functions_in(body):
            if asked is not None:
                self.asked[function["id"]] = int(asked)
            if function.get("id") in self.asked:
                function["maximum_concurrency"] = self.asked[function["id"]]
        if body is not None:
            answer.set_json(body)
        return answer


class ExecutionCountInflated(Breakage):
    """execution_count runs past retry_count + 1."""

    name, rule, category = "execution_count inflated", "every.execution-count", "execution"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if not flow.path.startswith("/compute/v1/jobs") or answer.status >= 300:
            return answer

        def inflate(job: dict[str, Any]) -> dict[str, Any]:
            if isinstance(job.get("execution_count"), int) and job["execution_count"] > 0:
                job["execution_count"] += 5
            return job

        return _map_jobs(answer, inflate)


class ReferenceIdIgnored(Breakage):
    """A replayed bulk submission creates new jobs (reference_id is dropped)."""

    name, rule, category = "reference_id ignored", "execution.reference-id", "execution"

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "POST" and _is_compute(flow, "jobs", "bulk"):
            body = flow.json()
            if isinstance(body, dict):
                body.pop("reference_id", None)
                flow.set_json(body)
        return None


class DroppedErrorReason(Breakage):
    """Job objects lose a required field."""

    name, rule, category = "job without error_reason", "every.required-fields", "execution"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if not flow.path.startswith("/compute/v1/jobs") or answer.status >= 300:
            return answer

        def drop(job: dict[str, Any]) -> dict[str, Any]:
            job.pop("error_reason", None)
            return job

        return _map_jobs(answer, drop)


# -- search --------------------------------------------------------------------------------------


class PageRepeatsRecord(Breakage):
    """Each next page starts with the last record of the page before."""

    name, rule, category = "page repeats a record", "search.cursor-once", "search"

    def __init__(self) -> None:
        super().__init__()
        self.last: dict[str, Any] = {}

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if flow.method != "GET" or not _is_compute(flow, "jobs") or answer.status != 200:
            return answer
        page = answer.json()
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            return answer
        cursor = flow.param("page_cursor")
        if cursor in self.last:
            page["data"] = [self.last.pop(cursor), *page["data"]]
        next_cursor = (page.get("meta") or {}).get("page_cursor")
        if next_cursor and page["data"]:
            self.last[next_cursor] = page["data"][-1]
        answer.set_json(page)
        return answer


class CountOffByOne(Breakage):
    """limit=0 counts one record too many."""

    name, rule, category = "count off by one", "search.count", "search"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if flow.method == "GET" and flow.param("limit") == "0" and answer.status == 200:
            page = answer.json()
            if isinstance(page, dict) and isinstance(page.get("meta"), dict):
                page["meta"]["total"] = int(page["meta"].get("total") or 0) + 1
                answer.set_json(page)
        return answer


class CursorForgetsFilter(Breakage):
    """Pages after the first are pages of the unfiltered collection."""

    name, rule, category = "cursor forgets the filter", "search.filter-holds", "search"

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if flow.method != "GET" or not flow.param("page_cursor") or answer.status != 200:
            return answer
        page = answer.json()
        if not isinstance(page, dict) or not page.get("data"):
            return answer
        size = max(1, len(page["data"]))
        unfiltered = await self.upstream(
            "GET", flow.path, flow.auth, params={"page_size": size, "sort": "-creation_date"}
        )
        body = unfiltered.json()
        if isinstance(body, dict):
            page["data"] = body.get("data") or page["data"]
            answer.set_json(page)
        return answer


class SortIgnoresDescending(Breakage):
    """A leading '-' on a sort key is dropped."""

    name, rule, category = "descending sort ignored", "search.sort-order", "search"

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "GET" and flow.path.startswith("/compute/v1/"):
            flow.query = [(k, v.lstrip("-") if k == "sort" else v) for k, v in flow.query]
        return None


class LimitIgnored(Breakage):
    """A positive limit is ignored."""

    name, rule, category = "limit ignored", "search.limit", "search"

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "GET" and flow.path.startswith("/compute/v1/"):
            flow.query = [(k, v) for k, v in flow.query if not (k == "limit" and v != "0")]
        return None


# -- isolation -----------------------------------------------------------------------------------


class CrossOwnerRead(Breakage):
    """Another owner can read a function or job: the proxy asks as its creator."""

    name, rule, category = "cross-owner read succeeds", "isolation.not-found", "isolation"

    def __init__(self) -> None:
        super().__init__()
        self.creator: dict[str, str] = {}

    async def on_request(self, flow: Flow) -> Answer | None:
        if flow.method == "GET" and (
            _is_compute(flow, "functions", "*") or _is_compute(flow, "jobs", "*")
        ):
            owner = self.creator.get(flow.parts()[1])
            if owner is not None and (flow.auth or "").count(".") == 2 and owner != flow.auth:
                flow.headers["authorization"] = owner
        return None

    async def on_response(self, flow: Flow, answer: Answer) -> Answer:
        if flow.method == "POST" and answer.status == 201 and flow.auth:
            body = answer.json()
            for item in _functions_in(body) + ([body] if _is_compute(flow, "jobs") else []):
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self.creator[item["id"]] = flow.auth
        return answer


class NoTokenAccepted(Breakage):
    """Requests without a token are served as some default user's."""

    name, rule, category = "no token accepted", "isolation.no-token", "isolation"

    def __init__(self, default_token: str = "") -> None:
        super().__init__()
        self.default_token = default_token

    async def on_request(self, flow: Flow) -> Answer | None:
        if "authorization" not in flow.headers and flow.path.startswith("/compute/v1/"):
            flow.headers["authorization"] = f"Bearer {self.default_token}"
        return None


BREAKAGES: list[type[Breakage]] = [
    ServerErrorOnLargePages,
    DroppedNamespace,
    UpdateNotKept,
    DeleteDoesNothing,
    EncodedBuildLog,
    InvalidEditAccepted,
    StatusGoesBackwards,
    CancelDoesNothing,
    ResultForFailedJob,
    LogLosesLines,
    ConcurrencyIgnored,
    ExecutionCountInflated,
    ReferenceIdIgnored,
    DroppedErrorReason,
    PageRepeatsRecord,
    CountOffByOne,
    CursorForgetsFilter,
    SortIgnoresDescending,
    LimitIgnored,
    CrossOwnerRead,
    NoTokenAccepted,
]


# -- the proxy -----------------------------------------------------------------------------------


class BrokenProxy:
    """``with BrokenProxy(upstream, breakage) as proxy: proxy.origin``"""

    def __init__(self, upstream: str, breakage: Breakage) -> None:
        self.upstream = upstream.rstrip("/")
        self.breakage = breakage
        breakage.proxy = self
        self.port = _free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self._client: httpx.AsyncClient | None = None
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> BrokenProxy:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the proxy did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        query: str = "",
        params: dict[str, Any] | None = None,
    ) -> Answer:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60)
        url = self.upstream + path + (f"?{query}" if query else "")
        response = await self._client.request(
            method, url, headers=headers, content=content, params=params
        )
        kept = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS}
        return Answer(response.status_code, kept, response.content)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        flow = Flow(
            method=scope["method"],
            path=scope.get("raw_path", scope["path"].encode()).decode(),
            query=urllib.parse.parse_qsl(
                scope.get("query_string", b"").decode(), keep_blank_values=True
            ),
            headers={
                k.decode().lower(): v.decode()
                for k, v in scope["headers"]
                if k.decode().lower() not in _HOP_HEADERS
            },
            body=body,
        )
        answer = await self.breakage.on_request(flow)
        if answer is None:
            answer = await self.send(
                flow.method,
                flow.path,
                headers=flow.headers,
                content=flow.body or None,
                query=urllib.parse.urlencode(flow.query),
            )
            answer = await self.breakage.on_response(flow, answer)
        headers = [
            (k.encode(), v.encode())
            for k, v in answer.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding")
        ]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
