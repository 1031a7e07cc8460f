"""Filter expressions: every tree serialises to the contract's grammar and reads back the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from batch_compute import ComputeClient, Function, Job, JobStatus
from batch_compute._filters import And, Comparison, Expression, NullCheck, from_wire

_SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def _validator() -> jsonschema.Draft202012Validator:
    schema = {"$ref": "#/components/schemas/FilterNode", "components": _SPEC["components"]}
    return jsonschema.Draft202012Validator(schema)


VALIDATOR = _validator()
FILTERABLE = ["id", "status", "runtime", "exit_code", "tags", "function_id", "creation_date"]
values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)  # fmt: skip


def leaves() -> st.SearchStrategy[Expression]:
    names = st.sampled_from(FILTERABLE)
    ops = st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte", "prefix", "like", "ilike"])
    comparisons = st.builds(Comparison, names, ops, values)
    nulls = st.builds(NullCheck, names, st.sampled_from(["isnull", "isnotnull"]))
    return st.one_of(comparisons, nulls)


expressions = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda p: p[0] & p[1]),
        st.tuples(children, children).map(lambda p: p[0] | p[1]),
    ),
    max_leaves=12,
)


@given(expressions)
def test_every_tree_round_trips_through_the_wire_grammar(expression: Expression) -> None:
    wire = expression.to_wire()
    VALIDATOR.validate(wire)
    assert from_wire(json.loads(json.dumps(wire))) == expression


@given(st.lists(expressions, min_size=1, max_size=4))
def test_search_sends_a_json_list_of_nodes(filters: list[Expression]) -> None:
    client = ComputeClient(url="http://127.0.0.1:9", auth="token")
    search = Job.search(client=client)
    for expression in filters:
        search = search.filter(expression)
    sent = json.loads(search._query()["filter"])
    assert isinstance(sent, list)
    for node in sent:
        VALIDATOR.validate(node)
    assert And(tuple(from_wire(n) for n in sent)) == And(tuple(_flat(filters)))


def _flat(filters: list[Expression]) -> list[Expression]:
    out: list[Expression] = []
    for f in filters:
        out.extend(f.items if isinstance(f, And) else [f])
    return out


def test_python_operators_map_to_wire_ops() -> None:
    assert (Job.status == JobStatus.SUCCESS).to_wire() == {
        "name": "status", "op": "eq", "val": "success"}  # fmt: skip
    assert (Job.runtime > 5).to_wire()["op"] == "gt"
    assert (Job.runtime >= 5).to_wire()["op"] == "gte"
    assert (Job.runtime < 5).to_wire()["op"] == "lt"
    assert (Job.runtime <= 5).to_wire()["op"] == "lte"
    assert (5 < Job.runtime).to_wire()["op"] == "gt"  # noqa: SIM300 (reflected on purpose)
    assert (Job.id != "x").to_wire()["op"] == "ne"
    assert Job.tags.isnull.to_wire() == {"name": "tags", "op": "isnull"}
    assert Job.tags.isnotnull.to_wire() == {"name": "tags", "op": "isnotnull"}
    assert Function.name.prefix("ab").to_wire()["op"] == "prefix"
    assert Function.name.like("a%").to_wire()["op"] == "like"
    assert Function.name.ilike("A%").to_wire()["op"] == "ilike"
    assert Job.status.in_(["success"]).to_wire() == {
        "name": "status", "op": "eq", "val": "success"}  # fmt: skip
    assert Job.status.any_of(["success", "failure"]).to_wire() == {
        "or": [{"name": "status", "op": "eq", "val": "success"},
               {"name": "status", "op": "eq", "val": "failure"}]}  # fmt: skip
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert (Job.creation_date > when).to_wire()["val"] == "2024-01-01T00:00:00+00:00"
    assert (Job.creation_date > "2024-01-01T00:00:00Z").to_wire()["val"] == (
        "2024-01-01T00:00:00+00:00"
    )


def test_range_comparisons_do_not_accumulate() -> None:
    first = Job.runtime < 10
    second = Job.runtime > 60
    assert first.to_wire() == {"name": "runtime", "op": "lt", "val": 10}
    assert second.to_wire() == {"name": "runtime", "op": "gt", "val": 60}
    assert (Job.runtime > 60).to_wire() == second.to_wire()


def test_misuse_fails_before_any_request() -> None:
    client = ComputeClient(url="http://127.0.0.1:9", auth="token")  # nothing listens there
    with pytest.raises(ValueError, match="filter"):
        _ = Job.args == [1]
    with pytest.raises(ValueError, match="filter"):
        Function.search(client=client).filter(Comparison("environment", "eq", "x"))
    with pytest.raises(ValueError, match="sort"):
        Function.search(client=client).sort(Function.image)
    with pytest.raises(ValueError, match="sort"):
        Job.search(client=client).sort("-tags")
    with pytest.raises(ValueError, match="at least one"):
        Job.status.in_([])
    with pytest.raises(TypeError, match="truth value"):
        bool(Job.runtime > 1)
    with pytest.raises(TypeError, match="truth value"):
        _ = 1 < Job.runtime < 5


def test_searches_are_immutable() -> None:
    client = ComputeClient(url="http://127.0.0.1:9", auth="token")
    base = Job.search(client=client)
    refined = base.filter(Job.status == "success").sort(-Job.creation_date, Job.id).limit(5)
    refined = refined.param(include=["timings"])
    assert base._query() == {}
    assert refined._query() == {
        "filter": '[{"name":"status","op":"eq","val":"success"}]',
        "sort": ["-creation_date", "id"],
        "limit": 5,
        "include": ["timings"],
    }
    assert type(refined).__name__ == "JobSearch"
