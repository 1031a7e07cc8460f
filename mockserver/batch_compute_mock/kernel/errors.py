"""Domain errors: what went wrong, in terms of the API, without any HTTP.

``problems.py`` maps each class to one status code; handlers never choose codes.

    DomainError
    ├── InvalidInput        400  a query, filter, cursor or body the server cannot use
    │   └── ValidationFailed 422  field values that break a documented rule (``errors`` per field)
    ├── Unauthenticated     401  no bearer token, or one that is malformed or expired
    ├── Forbidden           403  a pre-signed URL whose signature is wrong or expired
    ├── NotFound            404  no such resource for this owner
    ├── Conflict            409  the resource's state forbids the operation right now
    └── PayloadTooLarge     400  a body over a documented size cap (413 would crash the client)
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "Unauthenticated",
    "ValidationFailed",
]


class DomainError(Exception):
    """Base of every error the server reports to a client; ``detail`` is shown to the user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """The request cannot be understood: bad filter, sort, cursor, JSON or parameter."""


class ValidationFailed(InvalidInput):
    """Field values that break a documented rule; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]], detail: str = "Validation error") -> None:
        super().__init__(detail)
        self.errors = errors


class Unauthenticated(DomainError):
    """No usable bearer token."""


class Forbidden(DomainError):
    """A signature that does not match, or has expired."""


class NotFound(DomainError):
    """No such resource, or it belongs to another owner (the two are not told apart)."""


class Conflict(DomainError):
    """The resource exists but its current state forbids the operation."""


class PayloadTooLarge(InvalidInput):
    """A body larger than the server accepts."""
