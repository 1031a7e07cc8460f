"""Parsing and validation of searches (service/queries.py): every refusal names its problem."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_compute_mock.kernel.errors import InvalidInput
from batch_compute_mock.service.queries import (
    CURSOR_INVALID,
    Condition,
    CursorCodec,
    Group,
    PagePosition,
    Query,
    SortKey,
    node_to_wire,
    parse_query_body,
    parse_search_params,
)


def jobs(**params: Any) -> Query:
    return parse_search_params("jobs", **params)


def functions(**params: Any) -> Query:
    return parse_search_params("functions", **params)


def filter_of(*nodes: Any) -> str:
    return json.dumps(list(nodes))


def refused(resource: str, *fragments: str, **params: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_search_params(resource, **params)
    for fragment in fragments:
        assert fragment in caught.value.detail
    return caught.value.detail


# --------------------------------------------------------------------------------------------
# Filters that parse


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"name": "status", "op": "eq", "val": "success"}, Condition("status", "eq", "success")),
        ({"name": "runtime", "op": "ne", "val": 3}, Condition("runtime", "ne", 3)),
        ({"name": "runtime", "op": "lt", "val": 10}, Condition("runtime", "lt", 10)),
        ({"name": "runtime", "op": "lte", "val": 2.5}, Condition("runtime", "lte", 2.5)),
        ({"name": "exit_code", "op": "gt", "val": 0}, Condition("exit_code", "gt", 0)),
        ({"name": "exit_code", "op": "gte", "val": -1}, Condition("exit_code", "gte", -1)),
        ({"name": "id", "op": "prefix", "val": "abc"}, Condition("id", "prefix", "abc")),
        ({"name": "id", "op": "like", "val": "a%_"}, Condition("id", "like", "a%_")),
        ({"name": "tags", "op": "ilike", "val": "T%"}, Condition("tags", "ilike", "T%")),
        (
            {"name": "status", "op": "prefix", "val": "cancel"},
            Condition("status", "prefix", "cancel"),
        ),
        ({"name": "tags", "op": "isnull"}, Condition("tags", "isnull")),
        ({"name": "exit_code", "op": "isnotnull"}, Condition("exit_code", "isnotnull")),
        ({"name": "exit_code", "op": "eq", "val": None}, Condition("exit_code", "isnull")),
        ({"name": "exit_code", "op": "ne", "val": None}, Condition("exit_code", "isnotnull")),
        ({"name": "tags", "op": "eq", "val": "t1"}, Condition("tags", "eq", "t1")),
        ({"name": "tags", "op": "ne", "val": "t1"}, Condition("tags", "ne", "t1")),
        (
            {"or": [{"name": "id", "op": "eq", "val": "x"}, {"and": []}]},
            Group("or", (Condition("id", "eq", "x"), Group("and", ()))),
        ),
    ],
)
def test_each_operator_parses(node: dict[str, Any], expected: Any) -> None:
    assert jobs(filter=filter_of(node)).filter == (expected,)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.000000+00:00"),
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000000+00:00"),
        ("2024-01-01T02:00:00.5+02:00", "2024-01-01T00:00:00.500000+00:00"),
        ("2024-01-01T00:00:00", "2024-01-01T00:00:00.000000+00:00"),  # naive is UTC
        (1704067200, "2024-01-01T00:00:00.000000+00:00"),
        (1704067200.25, "2024-01-01T00:00:00.250000+00:00"),
        ("0900-01-01T00:00:00Z", "0900-01-01T00:00:00.000000+00:00"),  # fixed width
    ],
)
def test_datetimes_are_normalised_to_the_stored_form(value: Any, stored: str) -> None:
    node = {"name": "creation_date", "op": "gte", "val": value}
    assert jobs(filter=filter_of(node)).filter == (Condition("creation_date", "gte", stored),)


def test_observed_client_filters_parse() -> None:
    observed = (
        '[{"name":"id","op":"eq","val":"J"},{"or":[{"name":"status","op":"eq","val":"success"},'
        '{"name":"status","op":"eq","val":"failure"},{"name":"status","op":"eq","val":"timeout"},'
        '{"name":"status","op":"eq","val":"canceled"}]}]'
    )
    query = jobs(filter=observed, sort=["-creation_date", "id"], limit="5")
    assert len(query.filter) == 2
    assert query.sort == (SortKey("creation_date", True), SortKey("id"))
    assert query.limit == 5
    assert functions(filter='[{"name":"name","op":"eq","val":"add"}]', limit=0).limit == 0


def test_an_already_decoded_filter_is_accepted() -> None:
    node = {"name": "status", "op": "eq", "val": "success"}
    assert jobs(filter=[node]).filter == (Condition("status", "eq", "success"),)
    refused("jobs", "JSON array", filter={"name": "status"})


def test_blank_and_null_filters_mean_no_filter() -> None:
    assert jobs(filter="").filter == ()
    assert jobs(filter="  ").filter == ()
    assert jobs(filter="null").filter == ()
    assert jobs(filter="[]").filter == ()


def test_node_to_wire_round_trips() -> None:
    raw = [
        {"name": "tags", "op": "isnull"},
        {"or": [{"name": "runtime", "op": "gt", "val": 5}, {"and": []}]},
    ]
    query = jobs(filter=filter_of(*raw))
    assert [node_to_wire(node) for node in query.filter] == raw


# --------------------------------------------------------------------------------------------
# Filters that are refused


@pytest.mark.parametrize(
    ("resource", "text", "fragments"),
    [
        ("jobs", "[{", ["not valid JSON"]),
        ("jobs", "status=ready", ["not valid JSON"]),
        ("jobs", '[{"name":"runtime","op":"gt","val":NaN}]', ["not valid JSON", "NaN"]),
        ("jobs", '{"name":"id","op":"eq","val":"x"}', ["JSON array", "an object"]),
        ("jobs", '"id"', ["JSON array", "a string"]),
        ("jobs", "[1]", ["filter[0]", "must be an object", "a number"]),
        (
            "jobs",
            '[{"name":"nope","op":"eq","val":1}]',
            ["'nope'", "filterable fields are", "tags"],
        ),
        ("jobs", '[{"name":"error_reason","op":"isnull"}]', ["'error_reason' is not a filterable"]),
        ("functions", '[{"name":"environment","op":"isnull"}]', ["not a filterable field"]),
        ("functions", '[{"name":"tags","op":"isnull"}]', ["'tags'", "functions"]),
        ("jobs", '[{"name":"id","op":"in","val":["a"]}]', ["op 'in'", "eq, ne"]),
        ("jobs", '[{"name":"id","val":"a"}]', ["op missing"]),
        ("jobs", '[{"op":"eq","val":"a"}]', ['needs "name"']),
        ("jobs", '[{"name":1,"op":"eq","val":"a"}]', ['needs "name"']),
        ("jobs", '[{"name":"id","op":"eq"}]', ['eq needs a "val"']),
        ("jobs", '[{"name":"id","op":"isnull","val":null}]', ['isnull takes no "val"']),
        ("jobs", '[{"name":"id","op":"eq","val":"a","value":1}]', ["unknown key", "'value'"]),
        ("jobs", '[{"and":[],"name":"id"}]', ['"and" node has no other keys', "'name'"]),
        ("jobs", '[{"or":{"name":"id"}}]', ['"or" takes a JSON array', "an object"]),
        ("jobs", '[{"or":[{"name":"id","op":"eq"}]}]', ["filter[0].or[0]", "needs a"]),
        ("functions", '[{"name":"memory","op":"eq","val":"2GB"}]', ["memory", "'2GB'", "number"]),
        ("functions", '[{"name":"cpus","op":"gt","val":true}]', ["cpus", "a number", "boolean"]),
        ("functions", '[{"name":"enabled","op":"eq","val":"false"}]', ["JSON boolean"]),
        ("functions", '[{"name":"enabled","op":"eq","val":1}]', ["JSON boolean"]),
        ("functions", '[{"name":"status","op":"eq","val":"done"}]', ["'done'", "awaiting_bundle"]),
        ("jobs", '[{"name":"status","op":"eq","val":"ready"}]', ["'ready'", "canceling"]),
        ("jobs", '[{"name":"id","op":"eq","val":5}]', ["id eq takes a string"]),
        ("jobs", '[{"name":"creation_date","op":"gt","val":"yesterday"}]', ["ISO 8601"]),
        ("jobs", '[{"name":"creation_date","op":"gt","val":1e20}]', ["epoch seconds"]),
        ("jobs", '[{"name":"creation_date","op":"gt","val":true}]', ["ISO 8601"]),
        ("jobs", '[{"name":"creation_date","op":"gt","val":["2024"]}]', ["ISO 8601"]),
        ("jobs", '[{"name":"runtime","op":"lt","val":null}]', ["lt cannot compare with null"]),
        ("jobs", '[{"name":"tags","op":"gt","val":"a"}]', ["gt does not apply to tags"]),
        ("jobs", '[{"name":"tags","op":"eq","val":["a","b"]}]', ["tags eq takes a string"]),
        ("jobs", '[{"name":"runtime","op":"prefix","val":"1"}]', ["prefix applies to text"]),
        ("jobs", '[{"name":"creation_date","op":"like","val":"2024%"}]', ["like applies to text"]),
        ("jobs", '[{"name":"id","op":"like","val":1}]', ["id like takes a string"]),
        ("jobs", '[{"name":"runtime","op":"gt","val":99999999999999999999}]', ["64 bits"]),
        ("jobs", '[{"name":"id","op":"eq","val":"a\\u0000b"}]', ["NUL"]),
        ("jobs", '[{"name":"id","op":"eq","val":"\\ud800"}]', ["not valid Unicode"]),
    ],
)
def test_bad_filters_are_refused(resource: str, text: str, fragments: list[str]) -> None:
    refused(resource, *fragments, filter=text)


def test_deep_and_huge_filters_are_refused() -> None:
    deep: dict[str, Any] = {"name": "id", "op": "eq", "val": "x"}
    for _ in range(16):
        deep = {"and": [deep]}
    refused("jobs", "nested more than 16", filter=filter_of(deep))
    refused("jobs", "nested too deeply", filter="[" * 100_000 + "]" * 100_000)
    many = [{"name": "id", "op": "eq", "val": str(n)} for n in range(10_001)]
    refused("jobs", "more than 10000 nodes", filter=json.dumps([{"or": many}]))


def test_a_large_or_of_ids_is_accepted() -> None:
    ids = [{"name": "id", "op": "eq", "val": str(n)} for n in range(5000)]
    (group,) = jobs(filter=json.dumps([{"or": ids}])).filter
    assert isinstance(group, Group) and len(group.nodes) == 5000


# --------------------------------------------------------------------------------------------
# Sort, paging, include, legacy parameters


def test_default_sort_is_creation_date_then_id() -> None:
    assert jobs().sort == (SortKey("creation_date"), SortKey("id"))
    assert jobs(sort=[]).sort == (SortKey("creation_date"), SortKey("id"))
    assert jobs(sort=["", " "]).sort == (SortKey("creation_date"), SortKey("id"))


def test_sort_keys_end_with_id() -> None:
    assert functions(sort=["name", "-memory"]).sort == (
        SortKey("name"),
        SortKey("memory", True),
        SortKey("id"),
    )
    assert functions(sort="-name,cpus").sort == (
        SortKey("name", True),
        SortKey("cpus"),
        SortKey("id"),
    )
    # a repeated key keeps its first direction; keys after id never matter
    assert functions(sort=["name", "-name", "-id", "cpus"]).sort == (
        SortKey("name"),
        SortKey("id", True),
    )


@pytest.mark.parametrize(
    ("resource", "sort", "fragment"),
    [
        ("functions", ["image"], "'image'"),
        ("functions", ["-namespace"], "'-namespace'"),
        ("functions", ["owner"], "'owner'"),
        ("jobs", ["function_id"], "'function_id'"),
        ("jobs", ["tags"], "'tags'"),
        ("jobs", ["error_reason"], "'error_reason'"),
        ("jobs", ["-"], "'-'"),
        ("jobs", ["+runtime"], "'+runtime'"),
        ("jobs", [5], "list of strings"),
    ],
)
def test_bad_sorts_are_refused(resource: str, sort: list[Any], fragment: str) -> None:
    detail = refused(resource, fragment, sort=sort)
    if "list of strings" not in detail:
        assert "sortable fields are" in detail and "creation_date" in detail


def test_page_size_and_limit() -> None:
    assert jobs().page_size == 100
    assert jobs(page_size="1000").page_size == 1000
    assert jobs(page_size=1).page_size == 1
    assert jobs(limit="0").limit == 0
    assert jobs(limit=None).limit is None
    assert jobs(limit="").limit is None
    assert jobs(limit=" +7 ").limit == 7
    for bad in (0, 1001, "abc", "1.5", -3, True):
        refused(
            "jobs", "page_size must be an integer of at least 1 and at most 1000", page_size=bad
        )
    for bad in (-1, "-1", "ten", 2.0, False, "--5", "٣", "1e3", "9" * 30):
        refused("jobs", "limit must be an integer of at least 0", limit=bad)


def test_include() -> None:
    assert functions(include=["job.statistics"]).include == {"job.statistics"}
    assert functions(include="job_statistics").include == {"job.statistics"}
    assert jobs(include=["timings"]).include == {"timings"}
    assert jobs(include=[""]).include == frozenset()
    refused("functions", "include 'timings'", "job.statistics", include=["timings"])
    refused("jobs", "include 'job.statistics'", "timings", include=["job.statistics"])


def test_legacy_status_and_function_id_become_filters() -> None:
    query = jobs(
        filter='[{"name":"runtime","op":"gt","val":5}]',
        status=["pending", "running", "pending"],
        function_id="F",
    )
    assert query.filter == (
        Condition("runtime", "gt", 5),
        Group("or", (Condition("status", "eq", "pending"), Condition("status", "eq", "running"))),
        Condition("function_id", "eq", "F"),
    )
    assert functions(status="building").filter == (Condition("status", "eq", "building"),)
    assert jobs(status=[], function_id="").filter == ()
    refused("functions", "status 'pending' is not a function status", status=["pending"])
    refused("jobs", "status 'ready' is not a job status", status="ready")
    refused("functions", "function_id is a parameter of GET /jobs only", function_id="F")


# --------------------------------------------------------------------------------------------
# Bulk-by-query bodies


def test_query_body() -> None:
    body = {
        "filter": [{"op": "eq", "name": "function_id", "val": "F"}],
        "sort": ["-creation_date"],
        "limit": 10,
        "page_size": 100,
        "delete_results": True,
    }
    query = parse_query_body("jobs", body)
    assert query.filter == (Condition("function_id", "eq", "F"),)
    assert query.sort == (SortKey("creation_date", True), SortKey("id"))
    assert query.limit == 10
    assert parse_query_body("jobs", {}) == Query("jobs")
    assert parse_query_body("jobs", None) == Query("jobs")
    # a filter sent as a JSON string is read too
    as_text = parse_query_body("jobs", {"filter": json.dumps(body["filter"])})
    assert as_text.filter == query.filter


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "must be a JSON object"),
        ({"filter": {"name": "id"}}, "JSON array"),
        ({"filter": [{"name": "runtime", "op": "gt", "val": float("nan")}]}, "finite"),
        ({"filter": "[oops"}, "not valid JSON"),
        ({"limit": "10"}, "limit must be an integer"),
        ({"limit": True}, "limit must be an integer"),
        ({"limit": -1}, "limit must be an integer"),
        ({"sort": ["image"]}, "sortable fields are"),
    ],
)
def test_bad_query_bodies_are_refused(body: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query_body("jobs", body)
    assert fragment in caught.value.detail


# --------------------------------------------------------------------------------------------
# Cursors


CODEC = CursorCodec(b"unit-test-key")
OWNER = "user:alice"


def sample() -> tuple[Query, PagePosition]:
    query = jobs(
        filter='[{"name":"tags","op":"eq","val":"é"},{"name":"runtime","op":"isnull"}]',
        sort=["-runtime"],
        limit=50,
        page_size=7,
        include=["timings"],
    )
    return query, PagePosition(after=(None, "id-7"), remaining=43, total=120)


def test_cursor_round_trips_and_is_url_safe() -> None:
    query, position = sample()
    cursor = CODEC.encode(query, position, owner=OWNER)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert CODEC.decode(cursor, owner=OWNER) == (query, position)
    assert CODEC.decode(cursor, "jobs", owner=OWNER) == (query, position)


def test_cursor_carries_a_float_and_a_boolean() -> None:
    query = functions(sort=["cpus", "-enabled"])
    position = PagePosition(after=(0.25, True, "f"), remaining=None, total=3)
    assert CODEC.decode(CODEC.encode(query, position, owner=OWNER), owner=OWNER) == (
        query,
        position,
    )


def test_tampered_or_foreign_cursors_are_refused() -> None:
    cursor = CODEC.encode(*sample(), owner=OWNER)
    body, _, signature = cursor.partition(".")
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    candidates = [
        f"{flipped}.{signature}",
        # the first character: the last one of 16 bytes in base64 also carries padding bits
        f"{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        body,
        f"{body}.",
        "",
        "page2",
        "....",
        "%%%.%%%",
        "é.é",
        cursor + "x",
        CursorCodec(b"another-key").encode(*sample(), owner=OWNER),
    ]
    for candidate in candidates:
        with pytest.raises(InvalidInput) as caught:
            CODEC.decode(candidate, owner=OWNER)
        assert caught.value.detail == CURSOR_INVALID
    with pytest.raises(InvalidInput, match="start the search again"):
        CODEC.decode(cursor, "functions", owner=OWNER)
    with pytest.raises(InvalidInput):
        CODEC.decode(None, owner=OWNER)  # type: ignore[arg-type]


def test_a_cursor_works_only_for_the_owner_it_was_made_for() -> None:
    cursor = CODEC.encode(*sample(), owner=OWNER)
    assert CODEC.decode(cursor, owner=OWNER) == sample()
    with pytest.raises(InvalidInput) as caught:
        CODEC.decode(cursor, owner="user:bob")
    assert caught.value.detail == CURSOR_INVALID  # the same words as a forged cursor


def test_empty_cursor_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        CursorCodec(b"")


# --------------------------------------------------------------------------------------------
# Fuzz: anything at all is either a Query or an InvalidInput, never another exception

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from(["eq", "lt", "like", "isnull", "status", "tags", "memory", "id"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "op", "val", "and", "or", "x"]), children, max_size=3
        )
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    resource=st.sampled_from(["functions", "jobs"]),
    raw=json_values,
    sort=st.none() | st.lists(st.text(max_size=8), max_size=3),
    limit=st.none() | st.text(max_size=4) | st.integers(),
)
def test_any_input_parses_or_is_refused(resource: str, raw: Any, sort: Any, limit: Any) -> None:
    with contextlib.suppress(InvalidInput):
        parse_search_params(resource, filter=json.dumps(raw), sort=sort, limit=limit)
    with contextlib.suppress(InvalidInput):
        parse_query_body(resource, {"filter": raw, "sort": sort, "limit": limit})


@settings(max_examples=300, deadline=None)
@given(cursor=st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.hex()))
def test_any_cursor_decodes_or_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        CODEC.decode(cursor, owner=OWNER)
