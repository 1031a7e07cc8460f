"""The documented search semantics, evaluated on records as the server returned them.

This is the contract's prose (the ``filter`` and ``sort`` parameters) written as Python: the
kit checks every returned record against the filter that found it and every page sequence
against the requested order.

* Nodes of the filter array are ANDed; ``{"and": []}`` is true, ``{"or": []}`` false.
* ``eq null`` is ``isnull``, ``ne null`` is ``isnotnull``; ``ne v`` matches null; orderings
  never match null.
* ``prefix`` / ``like`` are case-sensitive, ``ilike`` folds ASCII case; ``%`` and ``_`` are
  wildcards, a backslash escapes.
* Against ``tags``: ``eq t`` has t, ``ne t`` lacks t, ``isnull`` empty, pattern ops: some tag.
* Datetimes compare as instants (ISO strings or epoch seconds).
* Sort: keys most significant first, a repeated key keeps its first direction, keys after
  ``id`` are dropped, default ``creation_date``, ``id`` ascending always last; nulls sort first
  ascending and last descending.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["DATETIME_FIELDS", "matches", "order_keys", "sorted_like", "violates_order"]

DATETIME_FIELDS = frozenset(
    {"creation_date", "modified_date", "last_execution_date", "last_completion_date"}
)


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _like(pattern: str) -> re.Pattern[str]:
    out, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def _fold(text: str) -> str:
    return "".join(char.lower() if char.isascii() else char for char in text)


def _pattern(op: str, text: str, pattern: str) -> bool:
    if op == "prefix":
        return text.startswith(pattern)
    if op == "like":
        return _like(pattern).fullmatch(text) is not None
    return _like(_fold(pattern)).fullmatch(_fold(text)) is not None


def matches(record: dict[str, Any], node: Any) -> bool:
    """Whether ``record`` satisfies one filter node (or a list of nodes, ANDed)."""
    if isinstance(node, list):
        return all(matches(record, child) for child in node)
    if "and" in node:
        return all(matches(record, child) for child in node["and"])
    if "or" in node:
        return any(matches(record, child) for child in node["or"])
    name, op, val = node["name"], node["op"], node.get("val")
    value = record.get(name)
    if name == "tags":
        tags = value or []
        if op == "isnull" or (op == "eq" and val is None):
            return not tags
        if op == "isnotnull" or (op == "ne" and val is None):
            return bool(tags)
        if op == "eq":
            return val in tags
        if op == "ne":
            return val not in tags
        return any(_pattern(op, tag, val) for tag in tags)
    if op == "isnull" or (op == "eq" and val is None):
        return value is None
    if op == "isnotnull" or (op == "ne" and val is None):
        return value is not None
    if name in DATETIME_FIELDS:
        val, value = _instant(val), _instant(value)
    if op == "ne":
        return value is None or value != val
    if value is None:
        return False
    if op in ("prefix", "like", "ilike"):
        return _pattern(op, str(value), str(val))
    return bool(
        {
            "eq": lambda: value == val,
            "lt": lambda: value < val,
            "lte": lambda: value <= val,
            "gt": lambda: value > val,
            "gte": lambda: value >= val,
        }[op]()
    )


def order_keys(sort: list[str] | None) -> list[tuple[str, bool]]:
    """The effective sort keys as (field, descending)."""
    keys: list[tuple[str, bool]] = []
    for item in sort or []:
        name, descending = item.lstrip("-"), item.startswith("-")
        if any(name == seen for seen, _ in keys):
            continue
        if any(seen == "id" for seen, _ in keys):
            break
        keys.append((name, descending))
    if not keys:
        keys = [("creation_date", False)]
    if all(name != "id" for name, _ in keys):
        keys.append(("id", False))
    return keys


def _compare(keys: list[tuple[str, bool]], left: dict[str, Any], right: dict[str, Any]) -> int:
    for name, descending in keys:
        a, b = left.get(name), right.get(name)
        if name in DATETIME_FIELDS:
            a, b = _instant(a), _instant(b)
        if a == b:
            continue
        result = -1 if a is None else 1 if b is None else (-1 if a < b else 1)
        return -result if descending else result
    return 0


def sorted_like(records: list[dict[str, Any]], sort: list[str] | None) -> list[dict[str, Any]]:
    keys = order_keys(sort)

    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        return _compare(keys, left, right)

    return sorted(records, key=functools.cmp_to_key(compare))


def violates_order(records: list[dict[str, Any]], sort: list[str] | None) -> int | None:
    """The index of the first record out of order, or None."""
    keys = order_keys(sort)
    for index in range(1, len(records)):
        if _compare(keys, records[index - 1], records[index]) > 0:
            return index
    return None
