"""Raw HTTP to the backend under test, for one owner at a time, with every exchange recorded.

The kit touches only what it created: :class:`Ledger` holds the ids of the functions and jobs
it made, and :meth:`Api.request` refuses (raises :class:`GuardError`) any change to an id
outside it, and any cancel, rerun or delete by query whose filter is not scoped to the kit's
own functions. Every answer is checked against the ``every`` rules on the way.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from .exchange import Exchange
from .model import FINAL_STATUSES, Model
from .outcome import Broken, Outcome

__all__ = ["Api", "GuardError", "Ledger", "Reply", "Session", "Unreachable", "scoped_filter"]

COMPUTE = "/compute/v1"
CATALOG = "/catalog/v2"
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_ABSENT_FUNCTION = "conformance-absent-function"


class Unreachable(Exception):
    """The backend cannot be reached at all (exit status 2)."""


class GuardError(Exception):
    """The kit was about to change something it did not create (a bug in the kit)."""


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    content: bytes
    exchange: Exchange

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


@dataclass
class Ledger:
    """Everything the kit created, so that it changes nothing else and can clean up."""

    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: set[str] = field(default_factory=set)
    deleted_functions: set[str] = field(default_factory=set)

    def owns_function(self, function_id: str) -> bool:
        return function_id in self.functions

    def owns_job(self, job_id: str) -> bool:
        return job_id in self.jobs

    def live_functions(self) -> list[str]:
        return [fid for fid in self.functions if fid not in self.deleted_functions]


def scoped_filter(function_ids: Iterable[str], *nodes: Any) -> list[Any]:
    """A filter limited to jobs of these functions (of the kit), ANDed with ``nodes``."""
    ids = list(function_ids) or [_ABSENT_FUNCTION]
    scope = {"or": [{"name": "function_id", "op": "eq", "val": fid} for fid in ids]}
    return [scope, *nodes]


def filter_is_scoped(body: Any, ledger: Ledger) -> bool:
    """True when a bulk-by-query body can only match jobs of the kit's functions."""
    if not isinstance(body, dict):
        return False
    for node in body.get("filter") or []:
        ids = _function_ids_of(node)
        if ids is not None and all(
            fid in ledger.functions or fid == _ABSENT_FUNCTION for fid in ids
        ):
            return True
    return False


def _function_ids_of(node: Any) -> list[str] | None:
    if not isinstance(node, dict):
        return None
    if node.get("name") == "function_id" and node.get("op") == "eq":
        value = node.get("val")
        return [value] if isinstance(value, str) else None
    if isinstance(node.get("or"), list) and node["or"]:
        ids: list[str] = []
        for child in node["or"]:
            found = _function_ids_of(child)
            if found is None:
                return None
            ids += found
        return ids
    return None


class Session:
    """One run against one backend: the HTTP client, the outcome, the model and the ledger."""

    def __init__(self, base_url: str, outcome: Outcome) -> None:
        self.base_url = base_url.rstrip("/")
        self.outcome = outcome
        self.model = Model(outcome.check)
        self.ledger = Ledger()
        self.http = httpx.Client(timeout=_TIMEOUT, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def absolute(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url


class Api:
    """Requests as one owner (``token``); ``owner`` names it in reproductions."""

    def __init__(self, session: Session, token: str | None, owner: str | None) -> None:
        self.session = session
        self.token = token
        self.owner = owner

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def check(self) -> Callable[..., bool]:
        return self.session.outcome.check

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        self._guard(method, path, json_body)
        url = self.session.absolute(path)
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        sent: dict[str, str] = {"Accept": "application/json"}
        body = content
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif content is not None:
            sent["Content-Type"] = "application/octet-stream"
        if auth and self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        sent.update(headers or {})
        exchange = Exchange(method, url, sent, body, owner=self.owner if auth else None)
        try:
            response = self.session.http.request(method, url, content=body, headers=sent)
        except httpx.TransportError as error:
            exchange.error = f"{type(error).__name__}: {error}"
            raise Unreachable(f"{method} {url}: {exchange.error}") from error
        exchange.status = response.status_code
        exchange.response_headers = dict(response.headers)
        exchange.response_body = response.content
        self.check(
            "every.no-server-error",
            response.status_code < 500,
            f"{method} {urllib.parse.urlsplit(url).path} answered {response.status_code}",
            exchange,
        )
        reply = Reply(response.status_code, response.headers, response.content, exchange)
        self._observe(method, path, reply)
        return reply

    def expect(self, reply: Reply, statuses: int | tuple[int, ...], rule: str, what: str) -> Any:
        """The JSON of ``reply`` if its status is expected, else :class:`Broken` for ``rule``."""
        wanted = statuses if isinstance(statuses, tuple) else (statuses,)
        if reply.status not in wanted:
            raise Broken(
                rule,
                f"{what}: expected {' or '.join(map(str, wanted))}, got {reply.status}",
                reply.exchange,
            )
        return reply.json()

    def _guard(self, method: str, path: str, body: Any) -> None:
        if method == "GET" or not path.startswith(COMPUTE):
            return
        ledger = self.session.ledger
        parts = path[len(COMPUTE) :].strip("/").split("/")
        if parts[0] == "jobs" and parts[1:2] in (["cancel"], ["rerun"], ["delete"]):
            # Whoever asks, a query never reaches beyond the kit's own functions.
            if not filter_is_scoped(body, ledger):
                raise GuardError(f"refusing {method} {path}: filter not scoped to the kit")
            return
        if self.owner != "first":
            return
        if parts[0] == "functions" and len(parts) >= 2 and not ledger.owns_function(parts[1]):
            raise GuardError(f"refusing {method} {path}: not a function the kit created")
        job_path = parts[0] == "jobs" and parts[1:2] not in ([], ["bulk"])
        if job_path and not ledger.owns_job(parts[1]):
            raise GuardError(f"refusing {method} {path}: not a job the kit created")
        if parts == ["jobs"] or parts == ["jobs", "bulk"]:
            function_id = body.get("function_id") if isinstance(body, dict) else None
            if function_id is not None and not ledger.owns_function(function_id):
                raise GuardError(f"refusing {method} {path}: not a function the kit created")

    def _observe(self, method: str, path: str, reply: Reply) -> None:
        """Feed function and job objects to the model; note what was created."""
        if reply.status >= 300 or not path.startswith(COMPUTE):
            return
        parts = path[len(COMPUTE) :].strip("/").split("/")
        body = reply.json()
        model, ledger = self.session.model, self.session.ledger
        if parts[0] == "functions":
            if method == "POST" and len(parts) == 1 and isinstance(body, dict):
                function = body.get("function")
                if isinstance(function, dict) and isinstance(function.get("id"), str):
                    if self.owner == "first":
                        ledger.functions[function["id"]] = function
                    model.observe_function(function, reply.exchange)
            elif len(parts) == 1 and isinstance(body, dict):
                for function in body.get("data") or []:
                    model.observe_function(function, reply.exchange)
            elif (len(parts) == 2 and method in ("GET", "PATCH")) or parts[2:] == ["bundle"]:
                model.observe_function(body, reply.exchange)
            return
        if parts[0] != "jobs":
            return
        if len(parts) == 1 and method == "GET" and isinstance(body, dict):
            jobs = body.get("data") or []
        elif len(parts) == 1 and method == "POST":
            jobs = [body]
        elif len(parts) == 2 and parts[1] in ("bulk", "cancel", "rerun"):
            jobs = body if isinstance(body, list) else []
            if parts[1] == "rerun":
                model.rerun(jobs)
        elif len(parts) == 2 and parts[1] == "delete":
            for job_id in body if isinstance(body, list) else []:
                model.forget_job(str(job_id))
            return
        elif (len(parts) == 2 and method in ("GET", "PATCH")) or parts[2:] == ["cancel"]:
            jobs = [body]
        else:
            return
        created = method == "POST" and (len(parts) == 1 or parts[1] == "bulk")
        for job in jobs:
            if created and self.owner == "first" and isinstance(job, dict):
                ledger.jobs.add(str(job.get("id")))
            model.observe_job(job, reply.exchange)

    # -- functions ------------------------------------------------------------------------------

    def create_function(self, rule: str = "lifecycle.create", **fields: Any) -> tuple[dict, str]:
        """A new function (``fields`` over a small default) and its bundle upload URL."""
        body = {"name": "conformance", "image": "python3.11:latest", **fields}
        reply = self.request("POST", f"{COMPUTE}/functions", json_body=body)
        created = self.expect(reply, 201, rule, "creating a function")
        if not isinstance(created, dict) or not isinstance(created.get("function"), dict):
            raise Broken(rule, "creating a function answered no function object", reply.exchange)
        return created["function"], str(created.get("bundle_upload_url"))

    def upload(self, url: str, bundle: bytes) -> Reply:
        """PUT the bundle to a pre-signed URL, without a bearer token."""
        return self.request("PUT", url, content=bundle, auth=False)

    def complete(self, function_id: str) -> Reply:
        return self.request("POST", f"{COMPUTE}/functions/{function_id}/bundle")

    def get_function(self, function_id: str, **params: Any) -> Reply:
        return self.request("GET", f"{COMPUTE}/functions/{function_id}", params=params)

    def patch_function(self, function_id: str, **fields: Any) -> Reply:
        return self.request("PATCH", f"{COMPUTE}/functions/{function_id}", json_body=fields)

    def delete_function(self, function_id: str) -> Reply:
        reply = self.request(
            "DELETE", f"{COMPUTE}/functions/{function_id}", params={"delete_results": "true"}
        )
        if reply.status == 204:
            self.session.ledger.deleted_functions.add(function_id)
        return reply

    def wait_built(self, function_id: str, timeout: float, rule: str) -> dict[str, Any]:
        """Poll until the function leaves awaiting_bundle/building."""
        deadline = time.monotonic() + timeout
        while True:
            reply = self.get_function(function_id)
            function = self.expect(reply, 200, rule, "reading a function while it builds")
            status = function.get("status") if isinstance(function, dict) else None
            if status not in ("building", "awaiting_bundle"):
                return dict(function)
            if time.monotonic() > deadline:
                raise Broken(
                    rule,
                    f"function {function_id} still {status} after {timeout:g} s",
                    reply.exchange,
                )
            time.sleep(0.1)

    def ready_function(
        self,
        bundle: bytes,
        timeout: float = 60.0,
        rule: str = "lifecycle.bundle-build",
        **fields: Any,
    ) -> dict[str, Any]:
        """Create, upload, complete and wait for the build: the function as built."""
        function, url = self.create_function(**fields)
        self.expect(self.upload(url, bundle), (200, 201, 204), rule, "uploading a bundle")
        self.expect(self.complete(function["id"]), 200, rule, "completing a bundle")
        return self.wait_built(function["id"], timeout, rule)

    # -- jobs -----------------------------------------------------------------------------------

    def create_job(self, function_id: str, *args: Any, **fields: Any) -> Reply:
        body = {"function_id": function_id, "args": list(args), **fields}
        return self.request("POST", f"{COMPUTE}/jobs", json_body=body)

    def submit(self, function_id: str, *args: Any, rule: str, **fields: Any) -> dict[str, Any]:
        job = self.expect(
            self.create_job(function_id, *args, **fields), 201, rule, "submitting a job"
        )
        return dict(job)

    def bulk(self, function_id: str, bulk_args: list[list[Any]], **fields: Any) -> Reply:
        body = {"function_id": function_id, "bulk_args": bulk_args, **fields}
        return self.request("POST", f"{COMPUTE}/jobs/bulk", json_body=body)

    def get_job(self, job_id: str, **params: Any) -> Reply:
        return self.request("GET", f"{COMPUTE}/jobs/{job_id}", params=params)

    def job_log(self, job_id: str) -> Reply:
        return self.request("GET", f"{COMPUTE}/jobs/{job_id}/log")

    def cancel_job(self, job_id: str) -> Reply:
        return self.request("POST", f"{COMPUTE}/jobs/{job_id}/cancel")

    def by_query(self, action: str, body: dict[str, Any]) -> Reply:
        return self.request("POST", f"{COMPUTE}/jobs/{action}", json_body=body)

    def wait_jobs(
        self,
        job_ids: list[str],
        rule: str,
        timeout: float = 60.0,
        until: Callable[[dict[str, Any]], bool] = lambda job: job["status"] in FINAL_STATUSES,
    ) -> dict[str, dict[str, Any]]:
        """Poll each job until ``until`` holds for it (default: finished)."""
        deadline = time.monotonic() + timeout
        done: dict[str, dict[str, Any]] = {}
        while True:
            for job_id in job_ids:
                if job_id in done:
                    continue
                reply = self.get_job(job_id)
                job = self.expect(reply, 200, rule, f"reading job {job_id}")
                if isinstance(job, dict) and until(job):
                    done[job_id] = job
            if len(done) == len(job_ids):
                return done
            if time.monotonic() > deadline:
                waiting = [job_id for job_id in job_ids if job_id not in done]
                raise Broken(
                    rule,
                    f"jobs {', '.join(waiting)} did not reach the expected state "
                    f"within {timeout:g} s",
                    reply.exchange,
                )
            time.sleep(0.1)

    # -- search ---------------------------------------------------------------------------------

    def search(self, resource: str, params: Any) -> Reply:
        return self.request("GET", f"{COMPUTE}/{resource}", params=params)

    def pages(
        self, resource: str, params: Any, max_pages: int = 200
    ) -> Iterator[tuple[Reply, dict[str, Any]]]:
        """The first page, then each next page by its cursor alone (as the clients do)."""
        reply = self.search(resource, params)
        for _ in range(max_pages):
            page = reply.json()
            if reply.status != 200 or not isinstance(page, dict):
                raise Broken(
                    "search.cursor-once",
                    f"searching {resource} answered {reply.status}",
                    reply.exchange,
                )
            yield reply, page
            cursor = (page.get("meta") or {}).get("page_cursor")
            if not cursor:
                return
            reply = self.search(resource, {"page_cursor": cursor})
        raise Broken(
            "search.cursor-once",
            f"paging {resource} did not end after {max_pages} pages",
            reply.exchange,
        )

    # -- results --------------------------------------------------------------------------------

    def blob_id(self, function: dict[str, Any], job_id: str) -> str:
        return f"compute/{function['namespace']}/{function['id']}/{job_id}"

    def storage_download(self, blob_id: str) -> Reply:
        quoted = urllib.parse.quote(blob_id, safe="/")
        return self.request(
            "GET",
            f"{CATALOG}/storage/download/{quoted}",
            headers={"Accept": "application/vnd.api+json"},
        )

    def storage_blob(self, blob_id: str) -> Reply:
        quoted = urllib.parse.quote(blob_id, safe="/")
        return self.request(
            "GET", f"{CATALOG}/storage/{quoted}", headers={"Accept": "application/vnd.api+json"}
        )

    def result(self, function: dict[str, Any], job_id: str) -> tuple[Reply, Reply | None]:
        """The storage download answer and, when it gave a URL, the bytes answer."""
        download = self.storage_download(self.blob_id(function, job_id))
        if download.status != 200:
            return download, None
        document = download.json()
        try:
            url = document["data"]["attributes"]["resumable_url"]
        except (KeyError, TypeError):
            return download, None
        return download, self.request("GET", str(url), auth=False)
