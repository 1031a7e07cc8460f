"""Domain errors to HTTP: one table, and the two error shapes of the API.

The compute API answers ``application/problem+json`` with a string ``detail`` (the genuine
client shows it to the user) and, for 422, ``errors: {field: [messages]}``; the catalog
slice answers JSON:API ``errors`` arrays. Only codes the genuine client maps are used.

A backend that does not answer (the database, the blob store) is no bug of ours: 503 with
``Retry-After``, which the genuine client waits out and retries, never 500.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

import sqlalchemy as sa
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from .blobs import BlobStoreUnavailable
from .contract import allowed_methods, request_media_types
from .kernel import errors
from .store.database import DatabaseUnavailable

__all__ = [
    "OUTAGES",
    "RETRY_AFTER_SECONDS",
    "STATUS_OF",
    "handle_domain_error",
    "handle_http_error",
    "handle_outage",
    "handle_problem",
]

log = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.DomainError], tuple[int, str]] = {
    errors.ValidationFailed: (422, "Validation error"),
    errors.PayloadTooLarge: (400, "Payload too large"),
    errors.InvalidInput: (400, "Bad request"),
    errors.Unauthenticated: (401, "Unauthorized"),
    errors.Forbidden: (403, "Forbidden"),
    errors.NotFound: (404, "Not found"),
    errors.Conflict: (409, "Conflict"),
}


#: Failures of a backend to answer: the database's connection and pool errors (psycopg's and
#: SQLite's OperationalError: refused, dropped, locked...) and the blob store's outage.
OUTAGES: tuple[type[Exception], ...] = (
    BlobStoreUnavailable,
    DatabaseUnavailable,
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
)
#: How long a client is asked to wait before it tries again.
RETRY_AFTER_SECONDS = 5


def _status_of(error: errors.DomainError) -> tuple[int, str]:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400, "Bad request"


def handle_domain_error(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    assert isinstance(error, errors.DomainError)
    status, title = _status_of(error)
    fields = error.errors if isinstance(error, errors.ValidationFailed) else None
    return _error_response(request, status, title, error.detail, fields)


def handle_outage(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    """A backend that did not answer: 503 saying which, the error itself in the server log."""
    assert isinstance(error, OUTAGES)
    backend = "blob store" if isinstance(error, BlobStoreUnavailable) else "database"
    path = request.url.path
    log.warning("%s %s: the %s is unavailable: %s", request.method, path, backend, error)
    detail = f"The server's {backend} is unavailable right now; try again in a few seconds."
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return _error_response(request, 503, "Service unavailable", detail, None, headers)


def handle_problem(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    """Connexion's own problems (validation, security) in the same two shapes."""
    assert isinstance(error, ProblemException)
    if isinstance(error, UnsupportedMediaTypeProblem):
        return _unsupported_media_type(request)
    detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
    return _error_response(request, error.status, error.title or "Error", detail or "", None)


def _unsupported_media_type(request: ConnexionRequest) -> ConnexionResponse:
    """A body of a media type the operation does not take: 400, as 415 crashes the client."""
    expected = request_media_types(request.url.path, request.method) or ["application/json"]
    sent = request.headers.get("content-type") or "none"
    detail = (
        f"The request body must be sent as {' or '.join(expected)}; this request's "
        f"Content-Type is {sent}."
    )
    return _error_response(request, 400, "Bad request", detail, None)


def handle_http_error(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    """Routing's 404 and 405 in the same two shapes; a 405 lists every method of the path.

    The router answers 405 from the first route whose path matched, so its ``Allow`` names
    only that route's methods; the contract knows them all.
    """
    assert isinstance(error, HTTPException)
    title = HTTPStatus(error.status_code).phrase
    headers = dict(error.headers or {})
    methods = allowed_methods(request.url.path) if error.status_code == 405 else []
    if methods:
        headers["Allow"] = ", ".join(methods)
    return _error_response(request, error.status_code, title, error.detail or title, None, headers)


def _error_response(
    request: ConnexionRequest,
    status: int,
    title: str,
    detail: str,
    fields: dict[str, list[str]] | None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    if request.url.path.startswith("/catalog/"):
        body: dict[str, object] = {
            "errors": [{"status": str(status), "title": title, "detail": detail}]
        }
        content_type = "application/vnd.api+json"
    else:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        if fields is not None:
            body["errors"] = fields
        content_type = "application/problem+json"
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body),
        content_type=content_type,
        headers=headers,
    )
