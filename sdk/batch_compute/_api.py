"""The only module that imports the generated client: it turns SDK calls into contract operations.

Everything above this module works with plain JSON-shaped dicts (the wire representation), so a
regeneration of ``batch_compute_client`` can only break this file. Error answers become the
exceptions of ``_errors``; transient failures are retried here, per the client's ``Retry``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import httpx

from batch_compute_client import AuthenticatedClient
from batch_compute_client.api.credentials import set_credentials
from batch_compute_client.api.functions import (
    complete_function_bundle,
    create_function,
    delete_function,
    get_function,
    get_function_build_log,
    search_functions,
    update_function,
)
from batch_compute_client.api.jobs import (
    cancel_job,
    cancel_jobs,
    create_job,
    create_jobs_bulk,
    delete_job,
    delete_jobs,
    get_job,
    rerun_jobs,
    search_jobs,
    update_job,
)
from batch_compute_client.api.storage import get_storage_blob, get_storage_download
from batch_compute_client.models import (
    CredentialsSet,
    FunctionCreate,
    FunctionStatus,
    FunctionUpdate,
    JobBulkCreate,
    JobCreate,
    JobDeleteQuery,
    JobQuery,
    JobStatus,
    JobUpdate,
)
from batch_compute_client.models.delete_function_delete_results import (
    DeleteFunctionDeleteResults,
)
from batch_compute_client.models.delete_job_delete_results import DeleteJobDeleteResults
from batch_compute_client.types import UNSET, Response

from ._errors import ApiError, NotFoundError, TransportError, error_for_status
from ._retry import Retry

__all__ = ["CATALOG_PREFIX", "COMPUTE_PREFIX", "Api", "JsonDict", "transport_error"]

#: Where the compute API lives below the server origin.
COMPUTE_PREFIX = "/compute/v1"
#: Where the catalog storage slice lives below the server origin.
CATALOG_PREFIX = "/catalog/v2"

JsonDict = dict[str, Any]
T = TypeVar("T")

# Query parameters the generated search operations know; anything else goes out verbatim.
_SEARCH_KEYS = {"filter", "sort", "limit", "page_size", "include", "page_cursor", "status"}


def transport_error(describe: str, exc: httpx.HTTPError) -> TransportError:
    """A TransportError that names the URL tried (its query left out: a pre-signed URL's
    signature has no place in a message) and, when nothing answered there, says so."""
    detail = str(exc) or type(exc).__name__
    try:
        request = exc.request
    except RuntimeError:  # raised before a request existed
        return TransportError(f"{describe}: {detail}")
    url = request.url
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
    where = origin + url.path
    message = f"{request.method} {where}: {detail}"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        message += f" (is the Batch Compute server running at {origin}?)"
    return TransportError(message, url=where)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def _to_json(value: Any) -> Any:
    """A generated model (or list of them) as the JSON it travels as."""
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


class Api:
    """Contract operations on one server for one token, with retries and error mapping."""

    #: The httpx client class behind the generated client (ComputeClient.set_default_session_class).
    session_class: type[httpx.Client] = httpx.Client

    def __init__(
        self,
        origin: str,
        token: str,
        *,
        timeout: httpx.Timeout,
        retry: Retry,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.origin = origin.rstrip("/")
        self.retry = retry
        # Error answers raise in a response hook, before the generated client parses the body:
        # a body that is not the contract's problem+json (a proxy's HTML 502, a terse 404) must
        # still become the right ApiError, and ``session`` users get the same exceptions.
        hooks = {"response": [_raise_for_status]}
        self._client = AuthenticatedClient(
            base_url=self.origin,
            token=token,
            timeout=timeout,
            headers={"Accept": "application/json"},
            raise_on_unexpected_status=False,
        )
        self._client.set_httpx_client(
            self.session_class(
                base_url=self.origin,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=timeout,
                transport=transport,
                event_hooks=hooks,
            )
        )
        # Pre-signed URLs carry their own signature: no Authorization header may leak to them.
        self._third_party = httpx.Client(timeout=timeout, transport=transport, event_hooks=hooks)

    @property
    def session(self) -> httpx.Client:
        """The authenticated httpx client (base URL = the server origin)."""
        return self._client.get_httpx_client()

    def close(self) -> None:
        self.session.close()
        self._third_party.close()

    # -- the retry / error loop ------------------------------------------------------------------

    def _send(self, describe: str, call: Callable[[], T], *, idempotent: bool | None = None) -> T:
        """Run ``call`` until it succeeds, is refused for good, or the retry budget is spent.

        ``idempotent`` (default: every method but POST) says whether the request may be repeated
        after it may have reached the server; see ``_retry`` for the policy.
        """
        if idempotent is None:
            idempotent = not describe.startswith("POST ")
        retry = self.retry
        budget = {"total": retry.total, "connect": retry.connect, "read": retry.read,
                  "status": retry.status}  # fmt: skip
        attempt = 0
        while True:
            attempt += 1
            error: httpx.HTTPError
            try:
                return call()
            except ApiError as exc:
                wait_hint = exc.retry_after
                has_hint = wait_hint is not None and exc.status in retry.retry_after_statuses
                retryable = (exc.status == 429 and has_hint) or (
                    idempotent and (exc.status in retry.status_forcelist or has_hint)
                )
                if not (retryable and budget["status"] > 0 and budget["total"] > 0):
                    raise
                budget["status"] -= 1
                budget["total"] -= 1
                retry.sleep(retry.backoff(attempt, wait_hint))
                continue
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                kind, error, safe = "connect", exc, True  # never reached the server
            except (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
                kind, error, safe = "read", exc, idempotent
            except httpx.HTTPError as exc:
                raise transport_error(describe, exc) from exc
            if not safe or budget[kind] <= 0 or budget["total"] <= 0:
                raise transport_error(describe, error) from error
            budget[kind] -= 1
            budget["total"] -= 1
            retry.sleep(retry.backoff(attempt))

    def _op(
        self, describe: str, call: Callable[[], Response[Any]], *, idempotent: bool | None = None
    ) -> Any:
        return _to_json(self._send(describe, call, idempotent=idempotent).parsed)

    def _raw(self, describe: str, call: Callable[[], httpx.Response]) -> httpx.Response:
        return self._send(describe, call)

    # -- generic access (ComputeClient.iter_pages / iter_log_lines) ------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a path below the origin with query parameters sent verbatim."""
        query = _query(params or {})
        return self._raw(f"GET {path}", lambda: self.session.get(path, params=query)).json()

    def search_page(self, kind: str, params: Mapping[str, Any]) -> JsonDict:
        """One page of ``GET /functions`` or ``GET /jobs`` (``kind``): ``{meta, data}``."""
        if not set(params) <= _SEARCH_KEYS | ({"function_id"} if kind == "jobs" else set()):
            return dict(self.get_json(f"{COMPUTE_PREFIX}/{kind}", params))
        args: dict[str, Any] = {
            "filter_": params.get("filter", UNSET),
            "sort": _as_list(params["sort"]) if "sort" in params else UNSET,
            "limit": params.get("limit", UNSET),
            "page_size": params.get("page_size", UNSET),
            "include": _as_list(params["include"]) if "include" in params else UNSET,
            "page_cursor": params.get("page_cursor", UNSET),
        }
        describe = f"GET {COMPUTE_PREFIX}/{kind}"
        if kind == "functions":
            if "status" in params:
                args["status"] = [FunctionStatus(s) for s in _as_list(params["status"])]
            return dict(self._op(describe, lambda: search_functions.sync_detailed(
                client=self._client, **args)))  # fmt: skip
        if "status" in params:
            args["status"] = [JobStatus(s) for s in _as_list(params["status"])]
        if "function_id" in params:
            args["function_id"] = params["function_id"]
        return dict(self._op(describe, lambda: search_jobs.sync_detailed(
            client=self._client, **args)))  # fmt: skip

    def stream_lines(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[str]:
        """The body of a GET, line by line as it arrives (for logs that may be large)."""
        query = _query(params or {})
        try:
            with self.session.stream("GET", path, params=query) as response:  # errors: the hook
                yield from response.iter_lines()
        except httpx.TransportError as exc:
            raise transport_error(f"GET {path}", exc) from exc

    # -- credentials -----------------------------------------------------------------------------

    def get_credentials(self) -> JsonDict:
        # Read leniently (raw JSON): only the status matters to callers, as for the genuine client.
        return dict(self.get_json(f"{COMPUTE_PREFIX}/credentials"))

    def set_credentials(self, client_id: str, client_secret: str) -> JsonDict:
        body = CredentialsSet(client_id=client_id, client_secret=client_secret)
        return dict(
            self._op(
                f"POST {COMPUTE_PREFIX}/credentials",
                lambda: set_credentials.sync_detailed(client=self._client, body=body),
                idempotent=True,  # stores the same pair again
            )
        )

    # -- functions -------------------------------------------------------------------------------

    def create_function(self, body: JsonDict) -> tuple[JsonDict, str]:
        """Create a function; returns it and its pre-signed bundle upload URL."""
        model = FunctionCreate.from_dict(body)
        created = self._op(
            f"POST {COMPUTE_PREFIX}/functions",
            lambda: create_function.sync_detailed(client=self._client, body=model),
        )
        return dict(created["function"]), str(created["bundle_upload_url"])

    def upload_bundle(self, url: str, data: bytes) -> None:
        """PUT the zipped bundle to its pre-signed URL (no bearer token)."""
        headers = {"Content-Type": "application/octet-stream"}
        self._raw(
            "PUT bundle_upload_url",
            lambda: self._third_party.put(url, content=data, headers=headers),
        )

    def complete_function_bundle(self, function_id: str) -> JsonDict:
        path = f"{COMPUTE_PREFIX}/functions/{function_id}/bundle"
        return dict(self._op(f"POST {path}", lambda: complete_function_bundle.sync_detailed(
            function_id, client=self._client)))  # fmt: skip

    def get_function(self, function_id: str, include: list[str] | None = None) -> JsonDict:
        path = f"{COMPUTE_PREFIX}/functions/{function_id}"
        return dict(self._op(f"GET {path}", lambda: get_function.sync_detailed(
            function_id, client=self._client, include=include or UNSET)))  # fmt: skip

    def update_function(self, function_id: str, changes: JsonDict) -> JsonDict:
        model = FunctionUpdate.from_dict(changes)
        path = f"{COMPUTE_PREFIX}/functions/{function_id}"
        return dict(self._op(f"PATCH {path}", lambda: update_function.sync_detailed(
            function_id, client=self._client, body=model)))  # fmt: skip

    def delete_function(self, function_id: str, delete_results: bool) -> None:
        flag = (
            DeleteFunctionDeleteResults.TRUE
            if delete_results
            else (DeleteFunctionDeleteResults.FALSE)
        )
        path = f"{COMPUTE_PREFIX}/functions/{function_id}"
        self._op(f"DELETE {path}", lambda: delete_function.sync_detailed(
            function_id, client=self._client, delete_results=flag))  # fmt: skip

    def get_function_build_log(self, function_id: str) -> bytes:
        path = f"{COMPUTE_PREFIX}/functions/{function_id}/log"
        response = self._send(
            f"GET {path}",
            lambda: get_function_build_log.sync_detailed(function_id, client=self._client),
        )
        return bytes(response.content)

    # -- jobs ------------------------------------------------------------------------------------

    def create_job(self, body: JsonDict) -> JsonDict:
        model = JobCreate.from_dict(body)
        return dict(
            self._op(
                f"POST {COMPUTE_PREFIX}/jobs",
                lambda: create_job.sync_detailed(client=self._client, body=model),
            )
        )

    def create_jobs_bulk(self, body: JsonDict) -> list[JsonDict]:
        model = JobBulkCreate.from_dict(body)
        return list(
            self._op(
                f"POST {COMPUTE_PREFIX}/jobs/bulk",
                lambda: create_jobs_bulk.sync_detailed(client=self._client, body=model),
                idempotent=bool(body.get("reference_id")),  # the server deduplicates by it
            )
        )

    def get_job(self, job_id: str, include: list[str] | None = None) -> JsonDict:
        path = f"{COMPUTE_PREFIX}/jobs/{job_id}"
        return dict(self._op(f"GET {path}", lambda: get_job.sync_detailed(
            job_id, client=self._client, include=include or UNSET)))  # fmt: skip

    def update_job(self, job_id: str, changes: JsonDict) -> JsonDict:
        model = JobUpdate.from_dict(changes)
        path = f"{COMPUTE_PREFIX}/jobs/{job_id}"
        return dict(self._op(f"PATCH {path}", lambda: update_job.sync_detailed(
            job_id, client=self._client, body=model)))  # fmt: skip

    def delete_job(self, job_id: str, delete_results: bool) -> None:
        flag = DeleteJobDeleteResults.PY_TRUE if delete_results else DeleteJobDeleteResults.PY_FALSE
        path = f"{COMPUTE_PREFIX}/jobs/{job_id}"
        self._op(f"DELETE {path}", lambda: delete_job.sync_detailed(
            job_id, client=self._client, delete_results=flag))  # fmt: skip

    def cancel_job(self, job_id: str) -> JsonDict:
        path = f"{COMPUTE_PREFIX}/jobs/{job_id}/cancel"
        return dict(
            self._op(
                f"POST {path}",
                lambda: cancel_job.sync_detailed(job_id, client=self._client),
                idempotent=True,  # cancelling twice leaves the same state
            )
        )

    def cancel_jobs(self, query: JsonDict) -> list[JsonDict]:
        model = JobQuery.from_dict(query)
        return list(
            self._op(
                f"POST {COMPUTE_PREFIX}/jobs/cancel",
                lambda: cancel_jobs.sync_detailed(client=self._client, body=model),
                idempotent=True,  # cancelling twice leaves the same state
            )
        )

    def rerun_jobs(self, query: JsonDict) -> list[JsonDict]:
        model = JobQuery.from_dict(query)
        return list(
            self._op(
                f"POST {COMPUTE_PREFIX}/jobs/rerun",
                lambda: rerun_jobs.sync_detailed(client=self._client, body=model),
            )
        )

    def delete_jobs(self, query: JsonDict) -> list[str]:
        model = JobDeleteQuery.from_dict(query)
        return [str(i) for i in self._op(f"POST {COMPUTE_PREFIX}/jobs/delete",
                lambda: delete_jobs.sync_detailed(client=self._client, body=model))]  # fmt: skip

    # -- catalog storage slice -------------------------------------------------------------------

    def get_storage_blob(self, blob_id: str) -> JsonDict | None:
        """The blob's JSON:API ``data`` object, or None when there is no such blob."""
        try:
            document = self._op(
                f"GET /catalog/v2/storage/{blob_id}",
                lambda: get_storage_blob.sync_detailed(blob_id, client=self._client),
            )
        except NotFoundError:
            return None
        return dict(document["data"])

    def get_result_bytes(self, blob_id: str) -> bytes | None:
        """The blob's raw bytes via its resumable URL, or None when there is none (404)."""
        try:
            document = self._op(
                f"GET /catalog/v2/storage/download/{blob_id}",
                lambda: get_storage_download.sync_detailed(blob_id, client=self._client),
            )
            url = str(document["data"]["attributes"]["resumable_url"])
            response = self._raw("GET resumable_url", lambda: self._third_party.get(url))
        except NotFoundError:
            return None
        return response.content


def _raise_for_status(response: httpx.Response) -> None:
    """httpx response hook: an error status becomes its ApiError (the body is read first)."""
    if response.status_code < 400:
        return
    response.read()
    request = response.request
    raise error_for_status(
        response.status_code, response.content, request.method, request.url.path,
        response.headers.get("Retry-After"),
    )  # fmt: skip


def _query(params: Mapping[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    """Query pairs: lists repeat the key, bools travel as Python spells them (``True``)."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if value is None:
            continue
        for item in _as_list(value):
            pairs.append((key, str(item)))
    return pairs
