"""Exceptions raised by the SDK, one class per failure a caller may want to tell apart.

Every HTTP status the server sends maps to exactly one class; the problem+json ``detail`` and
``errors`` (or the JSON:API ``errors`` of the catalog slice) end up in the message, so the
person reading a traceback sees why the server refused. Each class also subclasses the builtin
it resembles, so ``except LookupError`` catches a 404 too::

    ComputeError
    ├── ConfigurationError (ValueError)       no URL or token could be found
    ├── TransportError                         no answer from the URL it names (wraps httpx)
    ├── ApiError                               the server answered with an error status
    │   ├── ClientError                        4xx
    │   │   ├── BadRequestError (ValueError)   400
    │   │   │   └── ValidationError            422
    │   │   ├── UnauthorizedError              401
    │   │   ├── ForbiddenError (PermissionError) 403
    │   │   ├── NotFoundError (LookupError)    404
    │   │   ├── MethodNotAllowedError          405
    │   │   ├── ConflictError                  409
    │   │   ├── GoneError                      410
    │   │   └── RateLimitError                 429 (after retries)
    │   └── ServerError                        5xx (after retries)
    ├── BoundGlobalError (NameError)           the entrypoint reads module globals
    ├── BuildFailedError (RuntimeError)        the function's bundle did not build
    └── WaitTimeoutError (TimeoutError)        a wait_for_completion / as_completed ran out of time
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "ApiError",
    "BadRequestError",
    "BoundGlobalError",
    "BuildFailedError",
    "ClientError",
    "ComputeError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "MethodNotAllowedError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "ValidationError",
    "WaitTimeoutError",
    "error_for_status",
]


class ComputeError(Exception):
    """Base of every exception the SDK raises on purpose."""


class ConfigurationError(ComputeError, ValueError):
    """The client cannot be configured (no server URL or no token)."""


class TransportError(ComputeError):
    """No HTTP answer: connection refused, timed out, or dropped. ``url`` is the URL tried
    (without its query string, which for pre-signed URLs holds a signature), when known."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ApiError(ComputeError):
    """The server answered with an error status; ``status``, the parsed ``body`` and the
    ``Retry-After`` header (``retry_after``, when sent) are kept."""

    def __init__(
        self, message: str, *, status: int, body: Any = None, retry_after: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.retry_after = retry_after

    @property
    def detail(self) -> str | None:
        """The problem+json ``detail`` string, when the server sent one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("detail"), str):
            return str(self.body["detail"])
        return None

    @property
    def errors(self) -> dict[str, list[str]]:
        """The problem+json per-field messages (422), else empty."""
        if isinstance(self.body, dict) and isinstance(self.body.get("errors"), dict):
            return {str(k): [str(m) for m in v] for k, v in self.body["errors"].items()}
        return {}


class ClientError(ApiError):
    """A 4xx answer: the request itself was wrong."""


class BadRequestError(ClientError, ValueError):
    """400: the server could not accept the input."""


class ValidationError(BadRequestError):
    """422: well-formed input that breaks a rule; see ``errors`` for the fields."""


class UnauthorizedError(ClientError):
    """401: missing, expired or invalid token."""


class ForbiddenError(ClientError, PermissionError):
    """403: the token is valid but not allowed to do this."""


class NotFoundError(ClientError, LookupError):
    """404: no such function, job or blob (for this user)."""


class MethodNotAllowedError(ClientError):
    """405: the path exists but not with this method."""


class ConflictError(ClientError):
    """409: the object is in a state that forbids the operation."""


class GoneError(ClientError):
    """410: the object (or URL) existed but has expired."""


class RateLimitError(ClientError):
    """429: too many requests, still refused after the retries."""


class ServerError(ApiError):
    """5xx: the server failed; still failing after the retries."""


class BoundGlobalError(ComputeError, NameError):
    """The entrypoint reads module-level globals, which do not exist in the job's process."""


class BuildFailedError(ComputeError, RuntimeError):
    """The function's bundle failed to build, so its jobs will never run."""


class WaitTimeoutError(ComputeError, TimeoutError):
    """A wait gave up before everything it waited for had finished."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    410: GoneError,
    422: ValidationError,
    429: RateLimitError,
}


def error_for_status(
    status: int, content: bytes, method: str, url: str, retry_after: str | None = None
) -> ApiError:
    """The exception for an error answer, its message built from the body the server sent."""
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = content.decode("utf-8", "replace")
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ClientError)
    return cls(
        _message(status, body, method, url), status=status, body=body, retry_after=retry_after
    )


def _message(status: int, body: Any, method: str, url: str) -> str:
    head = f"{status} {method} {url}"
    if isinstance(body, dict):
        lines = []
        if isinstance(body.get("detail"), str):
            lines.append(body["detail"])
        errors = body.get("errors")
        if isinstance(errors, dict):  # problem+json: {field: [messages]}
            for field, messages in errors.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    lines.append(f"    {field}: {message}")
        elif isinstance(errors, list):  # JSON:API: [{status, title, detail}]
            for error in errors:
                if isinstance(error, dict):
                    title = error.get("title") or ""
                    detail = error.get("detail") or ""
                    lines.append(f"{title}: {detail}".strip(": "))
        if lines:
            return head + "\n" + "\n".join(lines)
    if isinstance(body, str) and body:
        return f"{head}\n{body}"
    return head
