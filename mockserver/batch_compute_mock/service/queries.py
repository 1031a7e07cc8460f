"""A search as the server understands it: parsed, validated and normalised, plus its cursor.

Three ways in, one ``Query`` out (wire-protocol.md 4 and 7.7):

* ``parse_search_params(resource, filter=..., sort=..., ...)``: the query string of
  ``GET /functions`` or ``GET /jobs``;
* ``parse_query_body(resource, body)``: the JSON body of ``POST /jobs/cancel|rerun|delete``;
* ``CursorCodec(key).decode(cursor)``: a ``page_cursor`` (the client sends it alone, so it
  carries the whole query, the keyset position, the remaining limit and the total).

Every problem raises ``InvalidInput`` with a message that names it. ``store/search.py`` turns a
``Query`` into SQL.

Semantics decided here (the reference test, ``tests/server/test_search_property.py``, checks
the store against them):

* The filter is an array of nodes, ANDed. ``{"and": []}`` is true and ``{"or": []}`` is false
  (the identities of the two operators); at most 10,000 nodes nested at most 16 deep.
* ``eq null`` means ``isnull`` and ``ne null`` means ``isnotnull``; ``ne v`` matches NULL;
  ``lt``/``lte``/``gt``/``gte`` never match NULL and need a non-null value.
* Values must fit the field: JSON numbers (finite; integers within 64 bits) for numeric fields,
  JSON booleans for booleans, a status value for ``status``, strings for text, and an ISO 8601
  string or epoch seconds for datetimes (normalised to the stored form so text order works).
* ``prefix``, ``like`` and ``ilike`` take a string and apply to text fields (strings, ``status``
  and ``tags``). ``like``/``ilike`` use SQL wildcards ``%`` and ``_`` with backslash escapes; a
  trailing lone backslash is a literal backslash. ``prefix`` and ``like`` are case-sensitive,
  ``ilike`` folds ASCII case only.
* ``tags``: ``eq t`` contains t, ``ne t`` does not contain t, ``isnull`` empty (or null),
  ``isnotnull`` non-empty, pattern ops: some tag matches; no ordering ops.
* Sort keys are sortable fields with an optional ``-``; repeated parameters or comma-separated
  lists; blanks ignored. Default ``creation_date``; ``id`` ascending is always the final key
  (keys after an explicit ``id`` are dropped, a repeated key keeps its first direction). NULLs
  sort first ascending and last descending.
* ``limit`` (>= 0, None for no limit) caps the records over all pages; ``limit=0`` asks only
  for ``total``. ``page_size`` is 1..1000, default 100. Blank ``sort``/``include``/``status``
  items, a blank ``function_id`` and a blank or ``null`` filter are ignored.
* ``include``: ``job.statistics`` or ``job_statistics`` (both become ``job.statistics``) on
  functions, ``timings`` on jobs.
* Legacy ``status`` (any of) and ``function_id`` (jobs) become filter nodes ANDed with the rest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from ..kernel.errors import InvalidInput
from ..kernel.query import (
    DEFAULT_PAGE_SIZE,
    Condition,
    Field,
    Group,
    Kind,
    Node,
    PagePosition,
    Query,
    SortKey,
    fields_of,
    filterable_names,
    sortable_names,
)
from ..kernel.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "CURSOR_INVALID",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Condition",
    "CursorCodec",
    "Group",
    "Node",
    "PagePosition",
    "Query",
    "SortKey",
    "node_to_wire",
    "normalise_datetime",
    "parse_query_body",
    "parse_search_params",
]

MAX_PAGE_SIZE = 1000
MAX_FILTER_NODES = 10_000
MAX_FILTER_DEPTH = 16
CURSOR_INVALID = "page_cursor is not valid; start the search again without it"

COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
ORDERINGS = frozenset({"lt", "lte", "gt", "gte"})
PATTERNS = frozenset({"prefix", "like", "ilike"})
NULL_TESTS = frozenset({"isnull", "isnotnull"})
OPS = (*COMPARISONS, "prefix", "like", "ilike", "isnull", "isnotnull")

_INCLUDES: Mapping[str, Mapping[str, str]] = {
    "functions": {"job.statistics": "job.statistics", "job_statistics": "job.statistics"},
    "jobs": {"timings": "timings"},
}
_INT64 = (-(2**63), 2**63 - 1)


# ---------------------------------------------------------------------------------------------
# Entry points


def parse_search_params(
    resource: str,
    *,
    filter: str | None = None,
    sort: Iterable[str] | str | None = None,
    limit: int | str | None = None,
    page_size: int | str | None = None,
    include: Iterable[str] | str | None = None,
    status: Iterable[str] | str | None = None,
    function_id: str | None = None,
) -> Query:
    """The query string of a search (everything but ``page_cursor``), validated."""
    fields = fields_of(resource)
    nodes = list(_filter_text(resource, fields, filter))
    nodes.extend(_legacy(resource, fields, status, function_id))
    return Query(
        resource=resource,
        filter=tuple(nodes),
        sort=_sort(resource, sort),
        limit=_integer("limit", limit, 0, _INT64[1]),
        page_size=_page_size(page_size),
        include=_include(resource, include),
    )


def parse_query_body(resource: str, body: Any) -> Query:
    """The body of a bulk-by-query request: ``filter``, ``sort``, ``limit``; other keys ignored."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidInput(f"the request body must be a JSON object, got {_json_type(body)}")
    fields = fields_of(resource)
    return Query(
        resource=resource,
        filter=_filter_text(resource, fields, body.get("filter")),
        sort=_sort(resource, body.get("sort")),
        limit=_integer("limit", body.get("limit"), 0, _INT64[1], text=False),
    )


def node_to_wire(node: Node) -> dict[str, Any]:
    """A node in the wire form it was parsed from (with normalised values)."""
    if isinstance(node, Group):
        return {node.junction: [node_to_wire(child) for child in node.nodes]}
    if node.op in NULL_TESTS:
        return {"name": node.field, "op": node.op}
    return {"name": node.field, "op": node.op, "val": node.value}


# ---------------------------------------------------------------------------------------------
# Filter


class _Budget:
    """Counts nodes so that a huge or deeply nested filter is refused before it reaches SQL."""

    def __init__(self) -> None:
        self.nodes = 0

    def spend(self, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_FILTER_NODES:
            raise InvalidInput(f"filter has more than {MAX_FILTER_NODES} nodes")
        if depth > MAX_FILTER_DEPTH:
            raise InvalidInput(f"{path}: filter is nested more than {MAX_FILTER_DEPTH} deep")


def _filter_text(resource: str, fields: Mapping[str, Field], text: Any) -> tuple[Node, ...]:
    if not isinstance(text, str):  # already decoded by the caller
        return _filter_array(resource, fields, text)
    if not text.strip():
        return ()
    try:
        raw = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidInput("filter is nested too deeply") from None
    except ValueError as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise InvalidInput(
            f"filter is not valid JSON ({reason}); send a JSON array of filter nodes such as "
            '[{"name": "status", "op": "eq", "val": "ready"}]'
        ) from None
    return _filter_array(resource, fields, raw)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _filter_array(resource: str, fields: Mapping[str, Field], raw: Any) -> tuple[Node, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput(
            f"filter must be a JSON array of filter nodes, got {_json_type(raw)}; wrap a single "
            'node in brackets: [{"name": "status", "op": "eq", "val": "ready"}]'
        )
    budget = _Budget()
    return tuple(
        _node(resource, fields, item, f"filter[{index}]", 1, budget)
        for index, item in enumerate(raw)
    )


def _node(
    resource: str, fields: Mapping[str, Field], raw: Any, path: str, depth: int, budget: _Budget
) -> Node:
    budget.spend(path, depth)
    if not isinstance(raw, dict):
        raise InvalidInput(
            f'{path}: a filter node must be an object such as {{"name": "status", "op": "eq", '
            f'"val": "ready"}} or {{"or": [...]}}, got {_json_type(raw)}'
        )
    for junction in ("and", "or"):
        if junction in raw:
            return _group(resource, fields, raw, junction, path, depth, budget)
    unknown = sorted(set(raw) - {"name", "op", "val"})
    if unknown:
        raise InvalidInput(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))} in a filter node; a node "
            'has "name", "op" and "val", or is {"and": [...]} or {"or": [...]}'
        )
    name = raw.get("name")
    if not isinstance(name, str):
        raise InvalidInput(f'{path}: a filter node needs "name", a string naming a field')
    field = fields.get(name)
    if field is None:
        raise InvalidInput(
            f"{path}: {name!r} is not a filterable field of {resource}; filterable fields are "
            f"{', '.join(filterable_names(resource))}"
        )
    op = raw.get("op")
    if not isinstance(op, str) or op not in OPS:
        shown = "missing" if op is None else repr(op)
        raise InvalidInput(f"{path}: op {shown} is not an operator; use one of {', '.join(OPS)}")
    if op in NULL_TESTS:
        if "val" in raw:
            raise InvalidInput(f'{path}: {op} takes no "val"; remove it')
        return Condition(name, op)
    if "val" not in raw:
        raise InvalidInput(f'{path}: {op} needs a "val"')
    value = raw["val"]
    if value is None:
        if op == "eq":
            return Condition(name, "isnull")
        if op == "ne":
            return Condition(name, "isnotnull")
        raise InvalidInput(f"{path}: {op} cannot compare with null; use isnull or isnotnull")
    if field.kind is Kind.TAGS and op in ORDERINGS:
        raise InvalidInput(
            f"{path}: {op} does not apply to tags (a list); use eq, ne, prefix, like, ilike, "
            "isnull or isnotnull"
        )
    if op in PATTERNS and not field.textual:
        raise InvalidInput(
            f"{path}: {op} applies to text fields only, and {name} holds {field.kind.value}"
        )
    return Condition(name, op, _value(field, op, value, path))


def _group(
    resource: str,
    fields: Mapping[str, Field],
    raw: dict[str, Any],
    junction: str,
    path: str,
    depth: int,
    budget: _Budget,
) -> Group:
    if len(raw) != 1:
        others = sorted(set(raw) - {junction})
        raise InvalidInput(
            f'{path}: an "{junction}" node has no other keys; found {", ".join(map(repr, others))}'
        )
    items = raw[junction]
    if not isinstance(items, list):
        raise InvalidInput(
            f'{path}: "{junction}" takes a JSON array of filter nodes, got {_json_type(items)}'
        )
    return Group(
        junction,
        tuple(
            _node(resource, fields, item, f"{path}.{junction}[{index}]", depth + 1, budget)
            for index, item in enumerate(items)
        ),
    )


def _value(field: Field, op: str, value: Any, path: str) -> str | int | float | bool:
    """``value`` checked against the field's kind and put in the form the column compares."""

    def wrong(expected: str) -> InvalidInput:
        return InvalidInput(
            f"{path}: {field.name} {op} takes {expected}, got {_json_type(value)} {value!r}"
        )

    if op in PATTERNS or field.kind in (Kind.STRING, Kind.TAGS):
        if not isinstance(value, str):
            raise wrong("a string")
        return _text(value, path)
    if field.kind is Kind.ENUM:
        if not isinstance(value, str) or value not in field.choices:
            raise wrong(f"one of {', '.join(field.choices)}")
        return value
    if field.kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise wrong("a JSON boolean (true or false)")
        return value
    if field.kind in (Kind.NUMBER, Kind.INTEGER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = " (MiB, a JSON number: 2GB is 2048)" if field.name == "memory" else ""
            raise wrong(f"a number{hint}")
        if isinstance(value, float) and not math.isfinite(value):
            raise wrong("a finite number")
        if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            raise wrong("a number within 64 bits")
        return value
    # Kind.DATETIME
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise wrong(Kind.DATETIME.value)
    try:
        return normalise_datetime(value)
    except (ValueError, OverflowError, OSError):
        raise wrong(Kind.DATETIME.value) from None


def normalise_datetime(value: str | int | float) -> str:
    """An ISO 8601 string or epoch seconds in the stored, fixed-width, text-ordered form."""
    return format_timestamp(parse_timestamp(value))


def _text(value: str, path: str) -> str:
    if "\x00" in value:
        raise InvalidInput(f"{path}: strings in a filter cannot contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{path}: the string {value!r} is not valid Unicode") from None
    return value


# ---------------------------------------------------------------------------------------------
# Legacy parameters, sort, include, numbers


def _legacy(
    resource: str,
    fields: Mapping[str, Field],
    status: Iterable[str] | str | None,
    function_id: str | None,
) -> list[Node]:
    nodes: list[Node] = []
    statuses = list(dict.fromkeys(_items(status, "status")))
    choices = fields["status"].choices
    for value in statuses:
        if value not in choices:
            raise InvalidInput(
                f"status {value!r} is not a {resource[:-1]} status; use {', '.join(choices)}"
            )
    if len(statuses) == 1:
        nodes.append(Condition("status", "eq", statuses[0]))
    elif statuses:
        nodes.append(Group("or", tuple(Condition("status", "eq", value) for value in statuses)))
    if function_id is not None and function_id != "":
        if resource != "jobs":
            raise InvalidInput("function_id is a parameter of GET /jobs only")
        if not isinstance(function_id, str):
            raise InvalidInput("function_id must be a string")
        nodes.append(Condition("function_id", "eq", _text(function_id, "function_id")))
    return nodes


def _items(raw: Iterable[str] | str | None, name: str) -> list[str]:
    """A repeated or comma-separated parameter as a list of its non-blank items."""
    if raw is None:
        return []
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list | tuple):
        raise InvalidInput(f"{name} must be a string or a list of strings")
    items: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string or a list of strings, got {value!r}")
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items


def _sort(resource: str, raw: Iterable[str] | str | None) -> tuple[SortKey, ...]:
    fields = fields_of(resource)
    keys: dict[str, SortKey] = {}
    for item in _items(raw, "sort"):
        descending = item.startswith("-")
        name = item[1:] if descending else item
        field = fields.get(name)
        if field is None or not field.sortable:
            raise InvalidInput(
                f"cannot sort {resource} by {item!r}; sortable fields are "
                f"{', '.join(sortable_names(resource))}, each optionally prefixed with - "
                "for descending order"
            )
        if "id" in keys:
            break  # id is unique: later keys never matter
        keys.setdefault(name, SortKey(name, descending))
    if not keys:
        keys["creation_date"] = SortKey("creation_date")
    keys.setdefault("id", SortKey("id"))
    return tuple(keys.values())


def _include(resource: str, raw: Iterable[str] | str | None) -> frozenset[str]:
    known = _INCLUDES[resource]
    result = set()
    for item in _items(raw, "include"):
        if item not in known:
            raise InvalidInput(
                f"include {item!r} is not known for {resource}; use {', '.join(known)}"
            )
        result.add(known[item])
    return frozenset(result)


def _page_size(raw: int | str | None) -> int:
    size = _integer("page_size", raw, 1, MAX_PAGE_SIZE)
    return DEFAULT_PAGE_SIZE if size is None else size


def _integer(
    name: str, raw: int | str | None, minimum: int, maximum: int, *, text: bool = True
) -> int | None:
    if raw is None or (text and isinstance(raw, str) and not raw.strip()):
        return None
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif text and isinstance(raw, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,20}\s*", raw):
        value = int(raw)
    if value is None or not minimum <= value <= maximum:
        upper = "" if maximum == _INT64[1] else f" and at most {maximum}"
        raise InvalidInput(f"{name} must be an integer of at least {minimum}{upper}, got {raw!r}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------
# Cursor


class CursorCodec:
    """Turns (Query, PagePosition) into an opaque, signed, URL-safe ``page_cursor`` and back.

    Form: ``base64url(zlib(json)) "." base64url(hmac_sha256(key, payload)[:16])``. The HMAC
    makes a tampered or invented cursor a clean 400, never a strange query. The signature also
    covers the owner the cursor was made for (not written inside): another owner's cursor fails
    the check like a forged one, so it learns nothing (not even the first owner's total).
    """

    VERSION = 1

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the cursor key must not be empty")
        self._key = key

    def encode(self, query: Query, position: PagePosition, *, owner: str) -> str:
        state = {
            "v": self.VERSION,
            "r": query.resource,
            "f": [node_to_wire(node) for node in query.filter],
            "s": [str(key) for key in query.sort],
            "l": query.limit,
            "p": query.page_size,
            "i": sorted(query.include),
            "a": list(position.after),
            "n": position.remaining,
            "t": position.total,
        }
        text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        payload = zlib.compress(text.encode("utf-8"), 6)
        return f"{_b64(payload)}.{_b64(self._sign(payload, owner))}"

    def decode(
        self, cursor: str, resource: str | None = None, *, owner: str
    ) -> tuple[Query, PagePosition]:
        """The query and position in ``cursor``; ``InvalidInput`` unless we made it for ``owner``.

        With ``resource``, a cursor made for the other collection is refused too.
        """
        try:
            return self._decode(cursor, resource, owner)
        except (
            InvalidInput,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            RecursionError,
            zlib.error,
            binascii.Error,
        ):
            raise InvalidInput(CURSOR_INVALID) from None

    def _decode(self, cursor: str, resource: str | None, owner: str) -> tuple[Query, PagePosition]:
        body, _, signature = cursor.strip().partition(".")
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(signature), self._sign(payload, owner)):
            raise ValueError("bad signature")
        inflater = zlib.decompressobj()
        text = inflater.decompress(payload, 4 * 1024 * 1024)
        if inflater.unconsumed_tail:
            raise ValueError("cursor too large")
        state = json.loads(text.decode("utf-8"))
        if state["v"] != self.VERSION or (resource is not None and state["r"] != resource):
            raise ValueError("not for this collection")
        kind = state["r"]
        fields = fields_of(kind)
        query = Query(
            resource=kind,
            filter=_filter_array(kind, fields, state["f"]),
            sort=_sort(kind, state["s"]),
            limit=_integer("limit", state["l"], 0, _INT64[1], text=False),
            page_size=_page_size(state["p"]),
            include=_include(kind, state["i"]),
        )
        after = state["a"]
        remaining = state["n"]
        total = state["t"]
        if (
            not isinstance(after, list)
            or len(after) != len(query.sort)
            or not all(_is_scalar(value) for value in after)
            or (remaining is not None and not _is_count(remaining))
            or not _is_count(total)
        ):
            raise ValueError("bad position")
        return query, PagePosition(after=tuple(after), remaining=remaining, total=total)

    def _sign(self, payload: bytes, owner: str) -> bytes:
        message = b"page_cursor:" + owner.encode("utf-8") + b"\0" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:16]


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or non-ASCII cursor part")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
