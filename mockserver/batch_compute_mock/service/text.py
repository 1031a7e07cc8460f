"""JSON as the contract means it (RFC 8259), parsed strictly, and text the server can store.

Python's ``json`` module accepts more than JSON: ``NaN`` and ``Infinity``, numbers too large
for a float (``1e99999`` becomes infinity), and ``\\uD800``-``\\uDFFF`` escapes that decode
to lone surrogates, which Python keeps in a ``str`` but no UTF-8 store (SQLite, PostgreSQL, a
file) accepts. ``load_json`` refuses all three with a message that names the problem (and the
field, for text), so every JSON document that arrives (a body, a filter, a token's claims)
is checked once, at the door, instead of failing later at the database.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..kernel.errors import InvalidInput

__all__ = ["invalid_text_path", "load_json", "require_valid_text"]

# Only a \\uD800-\\uDFFF escape can put a surrogate into decoded JSON text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def load_json(text: str | bytes, what: str) -> Any:
    """Parse ``text`` as strict JSON; ``InvalidInput`` saying what is wrong with ``what``."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply.") from None
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError included
        raise InvalidInput(f"{what} is not valid JSON: {error}") from None
    if _SURROGATE_ESCAPE.search(text if isinstance(text, str) else text.decode("utf-8")):
        require_valid_text(value, what)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large (over about 1.8e308)")
    return value


def invalid_text_path(value: Any, path: str = "") -> str | None:
    """The path (``name``, ``environment.HOME``, ``args[2]``) of the first string in
    ``value`` (keys included) that is not valid Unicode, or ``None`` when all are."""
    if isinstance(value, str):
        return None if _encodable(value) else (path or "(the value)")
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not _encodable(key):
                return f"{path or '(the object)'} (a key)"
            found = invalid_text_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = invalid_text_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def require_valid_text(value: Any, what: str) -> None:
    """Raise ``InvalidInput`` naming the field when ``value`` holds a lone surrogate."""
    path = invalid_text_path(value)
    if path is not None:
        raise InvalidInput(
            f"{what}: {path} contains text that is not valid Unicode (a lone surrogate such "
            "as \\udfff); send UTF-8 text."
        )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
