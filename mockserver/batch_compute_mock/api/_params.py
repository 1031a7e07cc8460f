"""Query-parameter spellings the genuine clients use."""

from __future__ import annotations

from typing import Any

JsonBody = tuple[Any, int, dict[str, str]]

__all__ = ["JsonBody", "json_body", "truthy"]


def truthy(value: str | bool | None) -> bool:
    """``delete_results`` arrives as Python's ``str(bool)`` (``True``/``False``) or JSON-style."""
    if isinstance(value, bool):
        return value
    return value is not None and value.lower() == "true"


def json_body(body: Any, status: int = 200) -> JsonBody:
    """A JSON answer with its content type named, as operations that also answer
    problem+json need (Connexion cannot guess between the two)."""
    return body, status, {"Content-Type": "application/json"}
