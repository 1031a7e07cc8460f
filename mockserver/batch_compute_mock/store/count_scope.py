"""Which job searches the maintained counts (``job_counts``) can answer.

A search's filter qualifies when it says nothing but which functions and which statuses:
``function_id`` and ``status`` equalities, joined by "and", and "or"s of equalities on one of
the two fields (how the client spells "in"). Its matches are then exactly the owner's jobs
in the counted keys that ``CountScope`` names. Any other filter returns None: its total is a
real count of the matching rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..kernel.query import Condition, Node

__all__ = ["CountScope", "count_scope"]

_COUNTED = frozenset({"function_id", "status"})
#: Per field, the values a match may hold (a field absent: any value).
_Restriction = dict[str, frozenset[str]]


@dataclass(frozen=True)
class CountScope:
    """An owner's jobs in these functions and statuses (None: in any)."""

    function_ids: frozenset[str] | None = None
    statuses: frozenset[str] | None = None


def count_scope(filter: Sequence[Node]) -> CountScope | None:
    """The scope a job search's filter (its top-level "and") selects, or None if the filter
    says more than functions and statuses."""
    restriction = _all_of(filter)
    if restriction is None:
        return None
    return CountScope(restriction.get("function_id"), restriction.get("status"))


def _restriction(node: Node) -> _Restriction | None:
    if isinstance(node, Condition):
        if node.field in _COUNTED and node.op == "eq" and isinstance(node.value, str):
            return {node.field: frozenset({node.value})}
        return None
    return _all_of(node.nodes) if node.junction == "and" else _any_of(node.nodes)


def _all_of(nodes: Sequence[Node]) -> _Restriction | None:
    merged: _Restriction = {}
    for node in nodes:
        restriction = _restriction(node)
        if restriction is None:
            return None
        for field, values in restriction.items():
            merged[field] = merged[field] & values if field in merged else values
    return merged


def _any_of(nodes: Sequence[Node]) -> _Restriction | None:
    if not nodes:  # an empty "or" matches nothing
        return {"status": frozenset()}
    parts = [_restriction(node) for node in nodes]
    if any(part is None for part in parts):
        return None
    if any(not part for part in parts):  # one alternative matches every job
        return {}
    fields = {field for part in parts if part for field in part}
    if len(fields) != 1 or any(part is not None and len(part) != 1 for part in parts):
        return None  # e.g. (function a and status x) or (function b): not a set of keys
    (field,) = fields
    return {field: frozenset().union(*(part[field] for part in parts if part is not None))}
