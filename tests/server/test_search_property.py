"""The SQL search agrees with a plain-Python reference on random data, filters, sorts and paging.

Rows go straight into a fresh SQLite file; each example replaces them. The reference below
reads the filter as sent on the wire and knows nothing of the parser or the SQL: it is the
semantics of wire-protocol.md 4 as ``service/queries.py`` documents them.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from batch_compute_mock.kernel.errors import InvalidInput
from batch_compute_mock.kernel.query import Query
from batch_compute_mock.service.queries import CursorCodec, parse_query_body, parse_search_params
from batch_compute_mock.store import Page, Store, open_store

pytestmark = pytest.mark.both_databases

OWNERS = ("alice", "bob")
WORDS = ("", "a", "A", "ab", "aB", "a%", "b_", "\\", "*", "?a", "[a]", "é", "É", "aé")
TEXT = st.sampled_from(WORDS) | st.text(alphabet="aAb%_\\*?[]é", max_size=3)
TAGS = ("a", "A", "b%", "x_y", "é", "", "[a]")
FUNCTION_STATUSES = ("awaiting_bundle", "building", "build_failed", "ready", "stopped")
JOB_STATUSES = (
    "pending",
    "running",
    "cancel",
    "canceling",
    "success",
    "failure",
    "timeout",
    "canceled",
)
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MOMENTS = tuple(
    BASE + timedelta(seconds=seconds)
    for seconds in (-86400 * 400, -1, -0.5, 0, 0.000001, 0.5, 1, 3600)
)
INTEGERS = (-1, 0, 1, 2, 3, 512, 1024)

# name -> (kind, sortable, nullable); written out here, not taken from store/fields.py
FIELDS: dict[str, dict[str, tuple[str, bool, bool]]] = {
    "functions": {
        "id": ("string", True, False),
        "creation_date": ("datetime", True, False),
        "modified_date": ("datetime", True, False),
        "name": ("string", True, False),
        "image": ("string", False, False),
        "cpus": ("number", True, False),
        "memory": ("integer", True, False),
        "maximum_concurrency": ("integer", True, False),
        "timeout": ("integer", True, False),
        "retry_count": ("integer", True, False),
        "enabled": ("boolean", True, False),
        "auto_start": ("boolean", True, False),
        "namespace": ("string", False, False),
        "owner": ("string", False, False),
        "status": ("function_status", True, False),
    },
    "jobs": {
        "id": ("string", True, False),
        "function_id": ("string", False, False),
        "creation_date": ("datetime", True, False),
        "tags": ("tags", False, False),
        "status": ("job_status", True, False),
        "execution_count": ("integer", True, False),
        "exit_code": ("integer", True, True),
        "runtime": ("integer", True, True),
        "last_execution_date": ("datetime", True, True),
        "last_completion_date": ("datetime", True, True),
    },
}
TEXTUAL = {"string", "function_status", "job_status"}


def stored(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


# --------------------------------------------------------------------------------------------
# Data


OWNER = st.sampled_from(OWNERS[:1] * 3 + OWNERS)


def _nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


moments = st.sampled_from(MOMENTS).map(stored)

function_rows = st.fixed_dictionaries(
    {
        "owner": OWNER,
        "namespace": st.sampled_from(["ns", "ns2"]),
        "name": TEXT,
        "image": st.sampled_from(["python3.11:latest", "python3.10:x"]),
        "cpus": st.sampled_from([0.25, 0.5, 1.0, 2.0]),
        "memory": st.sampled_from(INTEGERS),
        "maximum_concurrency": st.sampled_from(INTEGERS),
        "timeout": st.sampled_from(INTEGERS),
        "retry_count": st.sampled_from(INTEGERS),
        "enabled": st.booleans(),
        "auto_start": st.booleans(),
        "status": st.sampled_from(FUNCTION_STATUSES),
        "creation_date": moments,
        "modified_date": moments,
    }
)

job_rows = st.fixed_dictionaries(
    {
        "owner": OWNER,
        "function_id": st.sampled_from(["f1", "f2", "F1"]),
        "creation_date": moments,
        "tags": st.lists(st.sampled_from(TAGS), max_size=3) | st.none(),
        "status": st.sampled_from(JOB_STATUSES),
        "execution_count": st.sampled_from(INTEGERS),
        "exit_code": _nullable(st.sampled_from(INTEGERS)),
        "runtime": _nullable(st.sampled_from(INTEGERS)),
        "last_execution_date": _nullable(moments),
        "last_completion_date": _nullable(moments),
    }
)


@st.composite
def data_sets(draw: st.DrawFn, resource: str) -> list[dict[str, Any]]:
    size = draw(st.integers(0, 40))
    row = function_rows if resource == "functions" else job_rows
    rows = draw(st.lists(row, min_size=size, max_size=size))
    # unique ids that still share prefixes and collide in case
    return [{**row, "id": f"{draw(TEXT)}{index}"} for index, row in enumerate(rows)]


# --------------------------------------------------------------------------------------------
# Queries


def datetime_values() -> st.SearchStrategy[Any]:
    def spell(moment: datetime, form: int) -> Any:
        if form == 0:
            return moment.isoformat().replace("+00:00", "Z")
        if form == 1:
            return moment.astimezone(timezone(timedelta(hours=-5, minutes=-30))).isoformat()
        if form == 2:
            return moment.timestamp()
        return moment.replace(tzinfo=None).isoformat()  # naive is UTC

    return st.builds(spell, st.sampled_from(MOMENTS), st.integers(0, 3))


def values_for(resource: str, kind: str, op: str) -> st.SearchStrategy[Any]:
    if op in {"prefix", "like", "ilike"}:
        return TEXT | st.sampled_from(TAGS) | st.sampled_from(["can%", "%ing", "r_ady"])
    return {
        "string": TEXT | st.sampled_from(["f1", "ns", "alice", "python3.11:latest"]),
        "datetime": datetime_values(),
        "number": st.sampled_from([0.25, 0.5, 1, 1.5, 2]),
        "integer": st.sampled_from([*INTEGERS, 1.5]),
        "boolean": st.booleans(),
        "function_status": st.sampled_from(FUNCTION_STATUSES),
        "job_status": st.sampled_from(JOB_STATUSES),
        "tags": st.sampled_from(TAGS),
    }[kind]


def ops_for(kind: str) -> list[str]:
    ops = ["eq", "ne", "isnull", "isnotnull"]
    if kind != "tags":
        ops += ["lt", "lte", "gt", "gte"]
    if kind in TEXTUAL or kind == "tags":
        ops += ["prefix", "like", "ilike"]
    return ops


@st.composite
def leaves(draw: st.DrawFn, resource: str) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(FIELDS[resource])))
    kind = FIELDS[resource][name][0]
    op = draw(st.sampled_from(ops_for(kind)))
    if op in {"isnull", "isnotnull"}:
        return {"name": name, "op": op}
    if op in {"eq", "ne"} and draw(st.integers(0, 9)) == 0:
        return {"name": name, "op": op, "val": None}
    return {"name": name, "op": op, "val": draw(values_for(resource, kind, op))}


def filters(resource: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    nodes = st.recursive(
        leaves(resource),
        lambda children: st.builds(
            lambda junction, items: {junction: items},
            st.sampled_from(["and", "or"]),
            st.lists(children, max_size=3),
        ),
        max_leaves=6,
    )
    return st.lists(nodes, max_size=2)


def sorts(resource: str) -> st.SearchStrategy[list[str] | None]:
    names = sorted(name for name, (_, sortable, _) in FIELDS[resource].items() if sortable)
    key = st.builds(
        lambda name, minus: f"-{name}" if minus else name, st.sampled_from(names), st.booleans()
    )
    return st.none() | st.lists(key, max_size=3)


# --------------------------------------------------------------------------------------------
# Reference


def ref_datetime(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def like_regex(pattern: str) -> re.Pattern[str]:
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


def ascii_lower(text: str) -> str:
    return "".join(char.lower() if char.isascii() else char for char in text)


def pattern_match(op: str, text: str, pattern: str) -> bool:
    if op == "prefix":
        return text.startswith(pattern)
    if op == "like":
        return like_regex(pattern).fullmatch(text) is not None
    return like_regex(ascii_lower(pattern)).fullmatch(ascii_lower(text)) is not None


def ref_match(resource: str, row: dict[str, Any], node: dict[str, Any]) -> bool:
    if "and" in node:
        return all(ref_match(resource, row, child) for child in node["and"])
    if "or" in node:
        return any(ref_match(resource, row, child) for child in node["or"])
    name, op, val = node["name"], node["op"], node.get("val")
    kind = FIELDS[resource][name][0]
    value = row[name]
    if kind == "tags":
        tags = value or []
        if op == "isnull" or (op == "eq" and val is None):
            return not tags
        if op == "isnotnull" or (op == "ne" and val is None):
            return bool(tags)
        if op == "eq":
            return val in tags
        if op == "ne":
            return val not in tags
        return any(pattern_match(op, tag, val) for tag in tags)
    if op == "isnull" or (op == "eq" and val is None):
        return value is None
    if op == "isnotnull" or (op == "ne" and val is None):
        return value is not None
    if kind == "datetime":
        val = ref_datetime(val)
        value = None if value is None else datetime.fromisoformat(value)
    if op == "ne":
        return value is None or value != val
    if value is None:
        return False
    if op in {"prefix", "like", "ilike"}:
        return pattern_match(op, value, val)
    return {
        "eq": value == val,
        "lt": value < val,
        "lte": value <= val,
        "gt": value > val,
        "gte": value >= val,
    }[op]


def ref_sort_keys(sort: list[str] | None) -> list[tuple[str, bool]]:
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


def ref_order(rows: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for name, descending in keys:
            a, b = left[name], right[name]
            if a == b:
                continue
            # NULL is the smallest value: first ascending, last descending
            result = -1 if a is None else 1 if b is None else (-1 if a < b else 1)
            return -result if descending else result
        return 0

    return sorted(rows, key=functools.cmp_to_key(compare))


def reference(
    resource: str,
    rows: list[dict[str, Any]],
    owner: str,
    nodes: list[dict[str, Any]],
    sort: list[str] | None,
) -> list[str]:
    matches = [
        row
        for row in rows
        if row["owner"] == owner and all(ref_match(resource, row, node) for node in nodes)
    ]
    return [row["id"] for row in ref_order(matches, ref_sort_keys(sort))]


# --------------------------------------------------------------------------------------------
# The property


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    store = open_store(database_url or f"sqlite:///{tmp_path / 'search.sqlite3'}")
    yield store
    store.close()


@contextmanager
def stored_rows(store: Store, resource: str, rows: list[dict[str, Any]]) -> Iterator[None]:
    """``rows`` in the store (through its own interface) for the duration of the block."""
    with store.write() as writer:
        if resource == "jobs":
            writer.insert_jobs(rows)
        for row in rows if resource == "functions" else ():
            writer.insert_function(row)
    try:
        yield
    finally:
        with store.write() as writer:
            if resource == "jobs":
                writer.delete_jobs([row["id"] for row in rows])
            for row in rows if resource == "functions" else ():
                writer.delete_function(row["id"])


def first_page(store: Store, query: Query, owner: str) -> Page:
    with store.read() as reader:
        return reader.search_page(query, owner, None)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    resource = draw(st.sampled_from(["functions", "jobs"]))
    statuses = FUNCTION_STATUSES if resource == "functions" else JOB_STATUSES
    return {
        "resource": resource,
        "rows": draw(data_sets(resource)),
        "owner": draw(OWNER),
        "filter": draw(filters(resource)),
        "sort": draw(sorts(resource)),
        "limit": draw(st.none() | st.integers(0, 25)),
        "page_size": draw(st.sampled_from([1, 2, 3, 4, 1, 2, 3, None])),
        "status": draw(st.none() | st.lists(st.sampled_from(statuses), max_size=2)),
        "function_id": (
            draw(st.none() | st.sampled_from(["f1", "F1"])) if resource == "jobs" else None
        ),
    }


CODEC = CursorCodec(b"property-test-key")


def check(store: Store, scenario: dict[str, Any]) -> None:
    with stored_rows(store, scenario["resource"], scenario["rows"]):
        check_stored(store, scenario)


def check_stored(store: Store, scenario: dict[str, Any]) -> None:
    resource, rows, owner = scenario["resource"], scenario["rows"], scenario["owner"]
    nodes = list(scenario["filter"])
    if scenario["status"]:
        nodes.append({"or": [{"name": "status", "op": "eq", "val": s} for s in scenario["status"]]})
    if scenario["function_id"]:
        nodes.append({"name": "function_id", "op": "eq", "val": scenario["function_id"]})
    expected = reference(resource, rows, owner, nodes, scenario["sort"])
    limit = scenario["limit"]
    wanted = expected if limit is None else expected[:limit]

    query = parse_search_params(
        resource,
        filter=json.dumps(scenario["filter"]),
        sort=scenario["sort"],
        limit=None if limit is None else str(limit),
        page_size=scenario["page_size"],
        status=scenario["status"],
        function_id=scenario["function_id"],
    )
    page_size = scenario["page_size"] or 100
    with store.read() as reader:
        assert reader.count(query, owner) == len(expected)

        seen: list[str] = []
        pages = 1
        page = reader.search_page(query, owner, None)
        while True:
            assert page.total == len(expected)
            ids = [row["id"] for row in page.rows]
            if page.next_position is not None:
                # every page but the last is full, and the last is never empty for nothing
                assert len(ids) == min(page_size, len(wanted) - len(seen))
                assert len(seen) + len(ids) < len(wanted)
            assert len(ids) <= page_size
            seen.extend(ids)
            if page.next_position is None:
                break
            cursor = CODEC.encode(query, page.next_position, owner=owner)
            again, position = CODEC.decode(cursor, resource, owner=owner)
            assert (again, position) == (query, page.next_position)
            page = reader.search_page(again, owner, position)
            pages += 1
        assert seen == wanted
        event(f"matches: {min(len(wanted), 3)}{'+' if len(wanted) >= 3 else ''}")
        event(f"pages: {min(pages, 3)}{'+' if pages >= 3 else ''}")

        body = {"filter": nodes, "sort": scenario["sort"], "limit": limit, "page_size": 3}
        bulk = parse_query_body(resource, {k: v for k, v in body.items() if v is not None})
        assert [row["id"] for row in reader.matching_rows(bulk, owner)] == wanted


def like_example(pattern: str) -> str:
    """A string that ``pattern`` matches under LIKE: escapes resolved, % empty, _ an x."""

    def one(match: re.Match[str]) -> str:
        if match[1] is not None:
            return match[1]
        return {"%": "", "_": "x"}.get(match[0], "\\")

    return re.sub(r"\\(.)|\\$|%|_", one, pattern, flags=re.DOTALL)


@st.composite
def pattern_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """One pattern against strings made from it: the wildcard, escape and case rules, densely."""
    resource = draw(st.sampled_from(["functions", "jobs"]))
    rows = draw(data_sets(resource))
    pieces = [*"aAbé%_*?[]", "[a]", "\\%", "\\_", "\\\\", "\\a", "\\["]
    pattern = "".join(draw(st.lists(st.sampled_from(pieces), max_size=4)))
    if draw(st.booleans()):
        pattern += "\\"  # a trailing lone backslash is a literal backslash
    plain = pattern.replace("\\", "")
    example = like_example(pattern)
    variants = st.sampled_from(
        [
            example,  # a string the pattern matches
            example.swapcase(),
            pattern,
            pattern.swapcase(),
            plain,
            plain.swapcase(),
            plain + "z",
            "z" + plain,
            re.sub(r"[%_*?\[\]]", "x", pattern),
            re.sub(r"[%_*?\[\]]", "", pattern) + "bb",
        ]
    ) | st.text(alphabet="aAbB%_\\*?[]é", max_size=4)
    for row in rows:
        if resource == "functions":
            row["name"] = draw(variants)
        else:
            row["tags"] = draw(st.lists(variants, max_size=2))
    name = "name" if resource == "functions" else "tags"
    return {
        "resource": resource,
        "rows": rows,
        "owner": OWNERS[0],
        "filter": [{"name": name, "op": "like", "val": pattern}],
        "sort": None,
        "limit": None,
        "page_size": None,
        "status": None,
        "function_id": None,
    }


HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(deadline=None, suppress_health_check=HEALTH)
@given(scenario=scenarios())
def test_search_matches_reference(store: Store, scenario: dict[str, Any]) -> None:
    check(store, scenario)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "1000")),
    deadline=None,
    suppress_health_check=HEALTH,
)
@given(scenario=scenarios())
def test_search_matches_reference_long(store: Store, scenario: dict[str, Any]) -> None:
    check(store, scenario)


@settings(deadline=None, suppress_health_check=HEALTH)
@given(scenario=pattern_scenarios())
def test_patterns_match_reference(store: Store, scenario: dict[str, Any]) -> None:
    (node,) = scenario["filter"]
    for op in ("prefix", "like", "ilike", "eq", "ne"):
        check(store, {**scenario, "filter": [{**node, "op": op}]})


def test_large_and_deep_filters_run(store: Store) -> None:
    """SQLite caps expression depth at 1000: long OR/AND lists and deep nesting still run."""
    rows = [
        {
            "id": f"j{n:05d}",
            "owner": "alice",
            "function_id": "f1",
            "tags": ["t"],
            "status": "pending",
            "execution_count": 0,
            "creation_date": stored(BASE + timedelta(seconds=n)),
        }
        for n in range(3000)
    ]
    with store.write() as writer:
        writer.insert_jobs(rows)
    wanted = [f"j{n:05d}" for n in range(0, 3000, 2)]
    by_id = [{"name": "id", "op": "eq", "val": job_id} for job_id in wanted]
    mixed = [{"or": [*by_id, {"name": "tags", "op": "eq", "val": "nope"}]}]
    many_ands = [{"name": "id", "op": "ne", "val": f"x{n}"} for n in range(2000)]
    deep: dict[str, Any] = {"name": "status", "op": "eq", "val": "pending"}
    for depth in range(15):
        deep = {("and", "or")[depth % 2]: [deep, {"name": "runtime", "op": "gt", "val": 1}]}
    with store.read() as reader:
        for nodes, expected in [
            (mixed, wanted),
            ([{"or": [*by_id, *by_id]}], wanted),
            (many_ands, [row["id"] for row in rows]),
            ([deep], [row["id"] for row in rows if False] or None),
        ]:
            query = parse_search_params("jobs", filter=json.dumps(nodes), limit=None)
            ids = [row["id"] for row in reader.matching_rows(query, "alice")]
            if expected is not None:
                assert ids == expected
            page = reader.search_page(query, "alice", None)
            assert page.total == len(ids)


def test_a_filter_at_every_limit_runs_or_is_refused_cleanly(store: Store) -> None:
    """16 levels, 10,000 nodes, each level a long chain: never a 500."""
    level: dict[str, Any] = {"name": "runtime", "op": "gt", "val": 1}
    for depth in range(15):
        siblings = [{"name": "exit_code", "op": "ne", "val": n} for n in range(600)]
        level = {("and", "or")[depth % 2]: [level, *siblings]}
    query = parse_search_params("jobs", filter=json.dumps([level]))
    with store.read() as reader:
        try:
            reader.count(query, "alice")
        except InvalidInput as error:
            assert "too complex" in error.detail


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=6)
    | datetime_values()
)


@st.composite
def loose_leaves(draw: st.DrawFn, resource: str) -> dict[str, Any]:
    node = {
        "name": draw(st.sampled_from(sorted(FIELDS[resource]))),
        "op": draw(st.sampled_from(sorted({*ops_for("string"), *ops_for("integer")}))),
    }
    if draw(st.booleans()):
        node["val"] = draw(scalars)
    return node


@settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
@given(data=st.data())
def test_every_accepted_filter_runs(store: Store, data: st.DataObject) -> None:
    """Whatever the parser accepts, SQLite can bind and run: a 400 or rows, never a 500."""
    resource = data.draw(st.sampled_from(["functions", "jobs"]))
    nodes = data.draw(st.lists(loose_leaves(resource), max_size=3))
    try:
        query = parse_search_params(
            resource, filter=json.dumps(nodes), sort=data.draw(sorts(resource))
        )
    except InvalidInput:
        return
    with store.read() as reader:
        reader.count(query, "alice")
        reader.search_page(query, "alice", None)


def test_pages_do_not_shift_when_rows_change(store: Store) -> None:
    """Keyset paging: rows added before the position never appear, none repeats or is skipped."""

    def job(n: int, status: str = "pending") -> dict[str, Any]:
        return {
            "id": f"j{n:03d}",
            "owner": "alice",
            "function_id": "f1",
            "tags": [],
            "status": status,
            "execution_count": 0,
            "creation_date": stored(BASE + timedelta(seconds=n)),
        }

    with store.write() as writer:
        writer.insert_jobs([job(n) for n in range(0, 100, 2)])
    query = parse_search_params("jobs", page_size="10", sort=["-creation_date"])
    first = first_page(store, query, "alice")
    assert [row["id"] for row in first.rows] == [f"j{n:03d}" for n in range(98, 78, -2)]
    with store.write() as writer:  # new rows on both sides of the position; one row deleted
        writer.insert_jobs([job(n) for n in (99, 81, 77, 75)])
        writer.delete_jobs(["j076"])
    seen = [row["id"] for row in first.rows]
    position = first.next_position
    with store.read() as reader:
        while position:
            page = reader.search_page(query, "alice", position)
            assert page.total == 50  # counted when the search began
            seen.extend(row["id"] for row in page.rows)
            position = page.next_position
    older = sorted({*range(0, 80, 2), 77, 75} - {76}, reverse=True)
    assert seen[10:] == [f"j{n:03d}" for n in older]
