"""``search``: the filter grammar, multi-key sort, limit, page_size, cursors, counts, include
and the legacy parameters, driven by a Hypothesis rule-based state machine.

The kit makes a small data set (functions whose names share the run's prefix; finished,
pending and canceled jobs with assorted tags) and keeps a model of it: the records as last
read one by one. The machine interleaves random searches with changes (cancel, retag) and
checks each answer against the model and the documented semantics (``semantics.py``). Every
search is scoped to the kit's records (a name prefix, or the kit's function ids), so other
records of the owner never disturb it.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import hypothesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from ..api import Api, scoped_filter
from ..bundles import bundle
from ..context import Context
from ..model import FUNCTION_STATUSES, JOB_STATUSES
from ..semantics import matches, sorted_like, violates_order

__all__ = ["run"]

TAG_SETS = [[], ["a"], ["A", "b%"], ["x_y"], ["é"], ["a", "x_y"], ["conf"], []]
TEXT = ["a", "A", "b", "b%", "x_", "x\\_y", "%", "_", "é", "c", "con%", "%y", ""]
FUNCTION_FIELDS: dict[str, str] = {
    "id": "string",
    "name": "string",
    "image": "string",
    "cpus": "number",
    "memory": "integer",
    "maximum_concurrency": "integer",
    "timeout": "integer",
    "retry_count": "integer",
    "enabled": "boolean",
    "auto_start": "boolean",
    "status": "string",
    "creation_date": "datetime",
    "modified_date": "datetime",
}
JOB_FIELDS: dict[str, str] = {
    "id": "string",
    "function_id": "string",
    "tags": "tags",
    "status": "string",
    "execution_count": "integer",
    "exit_code": "integer",
    "runtime": "integer",
    "creation_date": "datetime",
    "last_execution_date": "datetime",
    "last_completion_date": "datetime",
}
FUNCTION_SORT = [
    "id",
    "creation_date",
    "modified_date",
    "name",
    "cpus",
    "memory",
    "maximum_concurrency",
    "timeout",
    "retry_count",
    "enabled",
    "auto_start",
    "status",
]
JOB_SORT = [
    "id",
    "creation_date",
    "status",
    "execution_count",
    "exit_code",
    "runtime",
    "last_execution_date",
    "last_completion_date",
]
FUNCTION_SPECS: list[dict[str, Any]] = [
    {
        "suffix": "alpha",
        "cpus": 0.25,
        "memory": 512,
        "timeout": 30,
        "retry_count": 0,
        "maximum_concurrency": 1,
        "enabled": True,
    },
    {
        "suffix": "Beta",
        "cpus": 1,
        "memory": 2048,
        "timeout": 60,
        "retry_count": 2,
        "maximum_concurrency": 5,
        "enabled": False,
    },
    {
        "suffix": "gamma_1",
        "cpus": 0.5,
        "memory": 4096,
        "timeout": 60,
        "retry_count": 1,
        "maximum_concurrency": 5,
        "enabled": True,
        "auto_start": False,
    },
]


def run(ctx: Context) -> None:
    data: dict[str, Any] = {}
    ctx.scenario(lambda: _make_data(ctx, ctx.first, data))
    if "jobs" not in data:
        return
    ctx.scenario(lambda: _fixed_queries(ctx, ctx.first, data))
    ctx.scenario(lambda: _machine(ctx, data))


# -- the data set -------------------------------------------------------------------------------


def _make_data(ctx: Context, api: Api, data: dict[str, Any]) -> None:
    prefix = ctx.name("search")
    data["prefix"] = prefix
    runner = api.ready_function(bundle(), ctx.options.build_timeout, name=f"{prefix}-runner")
    holder = api.ready_function(
        bundle(),
        ctx.options.build_timeout,
        name=f"{prefix}-holder",
        auto_start=False,
        cpus=2,
        memory=4096,
    )
    for spec in FUNCTION_SPECS:
        fields = {k: v for k, v in spec.items() if k != "suffix"}
        api.create_function(name=f"{prefix}-{spec['suffix']}", **fields)
    data["function_ids"] = [runner["id"], holder["id"]]
    rule = "search.filter-complete"
    finished = []
    for index, tags in enumerate(TAG_SETS[:5]):
        mode = ("raise", "no") if index == 3 else ("echo", index)
        finished.append(api.submit(runner["id"], *mode, rule=rule, tags=tags)["id"])
    held = [
        api.submit(holder["id"], "echo", index, rule=rule, tags=tags)["id"]
        for index, tags in enumerate(TAG_SETS)
    ]
    api.wait_jobs(finished, rule, ctx.options.job_timeout)
    for job_id in held[:2]:
        api.expect(api.cancel_job(job_id), 200, rule, "canceling a pending job")
    data["jobs"] = {}
    for job_id in finished + held:
        _refresh_job(api, data, job_id)
    data["held"] = held
    data["functions"] = {}
    _refresh_functions(api, data)


def _refresh_job(api: Api, data: dict[str, Any], job_id: str) -> None:
    reply = api.get_job(job_id)
    job = api.expect(reply, 200, "search.filter-complete", f"reading job {job_id}")
    data["jobs"][job_id] = job


def _refresh_functions(api: Api, data: dict[str, Any]) -> None:
    """Functions are known by reading each one the kit created with the run's prefix."""
    for function_id, created in api.session.ledger.functions.items():
        if str(created.get("name", "")).startswith(data["prefix"]):
            reply = api.get_function(function_id)
            data["functions"][function_id] = api.expect(
                reply, 200, "search.filter-complete", f"reading function {function_id}"
            )


def _scope(resource: str, data: dict[str, Any]) -> list[Any]:
    if resource == "jobs":
        return scoped_filter(data["function_ids"])
    return [{"name": "name", "op": "prefix", "val": data["prefix"]}]


def _records(resource: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    return list((data["jobs"] if resource == "jobs" else data["functions"]).values())


# -- one search, checked ------------------------------------------------------------------------


def search_and_check(
    ctx: Context,
    api: Api,
    data: dict[str, Any],
    resource: str,
    nodes: list[Any],
    sort: list[str] | None = None,
    limit: int | None = None,
    page_size: int | None = None,
    include: str | None = None,
) -> None:
    """Page through one query and hold it to every search rule."""
    full = _scope(resource, data) + nodes
    params: dict[str, Any] = {"filter": json.dumps(full)}
    if sort:
        params["sort"] = sort
    if limit is not None:
        params["limit"] = limit
    if page_size is not None:
        params["page_size"] = page_size
    if include:
        params["include"] = include
    expected = sorted_like([r for r in _records(resource, data) if matches(r, full)], sort)
    seen: list[dict[str, Any]] = []
    last = None
    for reply, page in api.pages(resource, params):
        last = reply
        records = [r for r in page.get("data") or [] if isinstance(r, dict)]
        size = page_size or 100
        ctx.check(
            "search.page-size",
            len(records) <= size,
            f"a page holds {len(records)} records, page_size is {size}",
            reply.exchange,
        )
        wrong = [r.get("id") for r in records if not matches(r, full)]
        ctx.check(
            "search.filter-holds",
            not wrong,
            f"records {wrong} do not satisfy the filter {json.dumps(full)}",
            reply.exchange,
        )
        if include is not None:
            _check_include(ctx, resource, records, True, reply)
        seen += records
    assert last is not None
    ids = [r.get("id") for r in seen]
    duplicates = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    ctx.check(
        "search.cursor-once",
        not duplicates,
        f"paging returned {duplicates} more than once",
        last.exchange,
    )
    if limit is not None:
        ctx.check(
            "search.limit",
            len(seen) <= limit,
            f"paging returned {len(seen)} records, limit is {limit}",
            last.exchange,
        )
    wanted = [r["id"] for r in expected]
    cap = len(wanted) if limit is None else min(limit, len(wanted))
    missing = [i for i in wanted if i not in ids] if limit is None else []
    ctx.check(
        "search.filter-complete",
        not missing and len(set(ids)) >= cap,
        f"the query {json.dumps(full)} found {len(set(ids))} records, {cap} match it"
        + (f"; missing {missing}" if missing else ""),
        last.exchange,
    )
    position = violates_order(seen, sort)
    ctx.check(
        "search.sort-order",
        position is None,
        f"record {position} ({ids[position] if position is not None else ''}) is out of "
        f"order for sort {sort}",
        last.exchange,
    )
    if limit is not None and position is None and not duplicates:
        ctx.check(
            "search.sort-order",
            ids == wanted[:limit],
            f"limit {limit} with sort {sort} answered {ids}, not the first records "
            f"{wanted[:limit]}",
            last.exchange,
        )
    if limit is None:
        count = api.search(resource, {"filter": json.dumps(full), "limit": 0})
        body = count.json() if isinstance(count.json(), dict) else {}
        total = (body.get("meta") or {}).get("total")
        ctx.check(
            "search.count",
            total == len(seen) and body.get("data") == [],
            f"limit=0 counted {total} (data {len(body.get('data') or [])} records), "
            f"paging found {len(seen)}",
            count.exchange,
        )


def _check_include(
    ctx: Context, resource: str, records: list[Any], wanted: bool, reply: Any
) -> None:
    keys = ("job_statistics",) if resource == "functions" else ("provisioning_time", "pull_time")
    for record in records:
        present = all(key in record for key in keys)
        if wanted and resource == "functions":
            present = present and isinstance(record.get("job_statistics"), dict)
        absent = not any(key in record and record[key] is not None for key in keys)
        ok = present if wanted else absent
        if not ctx.check(
            "search.include",
            ok,
            f"{resource} {'lack' if wanted else 'carry'} {', '.join(keys)} "
            f"{'with' if wanted else 'without'} include",
            reply.exchange,
        ):
            return


def _fixed_queries(ctx: Context, api: Api, data: dict[str, Any]) -> None:
    """Queries every backend must get right, before the random ones."""
    holder = data["function_ids"][1]
    search_and_check(ctx, api, data, "jobs", [], sort=["-creation_date"], page_size=3)
    search_and_check(
        ctx, api, data, "jobs", [{"name": "tags", "op": "eq", "val": "a"}], page_size=1
    )
    search_and_check(
        ctx,
        api,
        data,
        "jobs",
        [{"name": "status", "op": "eq", "val": "pending"}],
        sort=["status", "-id"],
        limit=4,
        page_size=2,
    )
    search_and_check(
        ctx, api, data, "functions", [], sort=["-name"], page_size=2, include="job.statistics"
    )
    search_and_check(ctx, api, data, "jobs", [], page_size=4, include="timings")

    plain = api.search("jobs", {"filter": json.dumps(_scope("jobs", data)), "limit": 3})
    _check_include(ctx, "jobs", (plain.json() or {}).get("data") or [], False, plain)
    plain = api.search("functions", {"filter": json.dumps(_scope("functions", data)), "limit": 3})
    _check_include(ctx, "functions", (plain.json() or {}).get("data") or [], False, plain)

    legacy = api.search(
        "jobs", {"function_id": holder, "status": ["pending", "canceled"], "page_size": 100}
    )
    got = sorted(r.get("id") for r in (legacy.json() or {}).get("data") or [])
    want = sorted(
        r["id"]
        for r in data["jobs"].values()
        if r["function_id"] == holder and r["status"] in ("pending", "canceled")
    )
    ctx.check(
        "search.legacy-params",
        got == want,
        f"function_id and status parameters found {got}, not {want}",
        legacy.exchange,
    )

    _cursor_alone(ctx, api, data)

    for params, what in (
        (
            {"filter": json.dumps([{"name": "colour", "op": "eq", "val": "red"}])},
            "an unknown filter attribute",
        ),
        (
            {"filter": json.dumps([{"name": "execution_count", "op": "prefix", "val": "1"}])},
            "prefix on a number",
        ),
        ({"filter": "[{not json"}, "malformed JSON"),
        ({"page_cursor": "not-a-cursor-this-server-issued"}, "a made-up cursor"),
    ):
        reply = api.search("jobs", params)
        ctx.check(
            "search.bad-query",
            reply.status == 400,
            f"{what} answered {reply.status}, not 400",
            reply.exchange,
        )


def _cursor_alone(ctx: Context, api: Api, data: dict[str, Any]) -> None:
    """Page two asked with its cursor alone, and with other parameters beside it: the same."""
    first = api.search(
        "jobs", {"filter": json.dumps(_scope("jobs", data)), "page_size": 2, "sort": "id"}
    )
    cursor = ((first.json() or {}).get("meta") or {}).get("page_cursor")
    if not cursor:
        ctx.check(
            "search.cursor-alone",
            False,
            "a 2-record page of more records had no cursor",
            first.exchange,
        )
        return
    alone = api.search("jobs", {"page_cursor": cursor})
    noisy = api.search(
        "jobs",
        {
            "page_cursor": cursor,
            "page_size": 1,
            "sort": "-id",
            "filter": json.dumps([{"name": "status", "op": "eq", "val": "running"}]),
        },
    )
    ids = [
        [r.get("id") for r in (reply.json() or {}).get("data") or []] for reply in (alone, noisy)
    ]
    ctx.check(
        "search.cursor-alone",
        noisy.status == 200 and ids[0] == ids[1],
        f"the page for a cursor alone held {ids[0]}, with other parameters {ids[1]}",
        noisy.exchange,
    )


# -- the state machine --------------------------------------------------------------------------


def _leaf(resource: str, records: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Leaves whose values come from ``records``: a snapshot taken once, so that the same
    draws always make the same filter (Hypothesis insists), whatever the machine changed."""
    fields = JOB_FIELDS if resource == "jobs" else FUNCTION_FIELDS

    @st.composite
    def leaf(draw: st.DrawFn) -> dict[str, Any]:
        name = draw(st.sampled_from(sorted(fields)))
        kind = fields[name]
        ops = ["eq", "ne", "isnull", "isnotnull"]
        if kind != "tags" and kind != "boolean":
            ops += ["lt", "lte", "gt", "gte"]
        if kind in ("string", "tags"):
            ops += ["prefix", "like", "ilike"]
        op = draw(st.sampled_from(ops))
        if op in ("isnull", "isnotnull"):
            return {"name": name, "op": op}
        seen = [r.get(name) for r in records]
        if kind == "tags":
            values = sorted({t for tags in seen for t in (tags or [])}) + TEXT
        elif name == "status" and op not in ("prefix", "like", "ilike"):
            values = list(JOB_STATUSES if resource == "jobs" else FUNCTION_STATUSES)
        elif kind == "string":
            values = [v for v in seen if isinstance(v, str)] + TEXT
            if op in ("prefix", "like", "ilike"):
                values = [v[: draw(st.integers(0, len(v)))] for v in values] + TEXT
        elif kind == "datetime":
            values = [_spell(v, draw(st.integers(0, 2))) for v in seen if v]
        elif kind == "boolean":
            values = [True, False]
        else:
            values = [v for v in seen if v is not None] + [0, 1, 2]
        if op in ("eq", "ne") and (not values or draw(st.integers(0, 9)) == 0):
            return {"name": name, "op": op, "val": None}
        if not values:
            return {"name": name, "op": "isnull"}
        return {"name": name, "op": op, "val": draw(st.sampled_from(values))}

    return leaf()


def _spell(value: str, form: int) -> Any:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if form == 0:
        return moment.isoformat()
    if form == 1:
        return moment.isoformat().replace("+00:00", "Z")
    return moment.timestamp()


def _filters(resource: str, records: list[dict[str, Any]]) -> st.SearchStrategy[list[Any]]:
    nodes = st.recursive(
        _leaf(resource, records),
        lambda children: st.builds(
            lambda j, items: {j: items},
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        max_leaves=4,
    )
    return st.lists(nodes, max_size=2)


def _sorts(resource: str) -> st.SearchStrategy[list[str] | None]:
    names = JOB_SORT if resource == "jobs" else FUNCTION_SORT
    key = st.builds(lambda n, minus: f"-{n}" if minus else n, st.sampled_from(names), st.booleans())
    return st.none() | st.lists(key, min_size=1, max_size=3)


def _machine(ctx: Context, data: dict[str, Any]) -> None:
    api = ctx.first
    resources = st.sampled_from(["jobs", "functions"])
    filters = {
        resource: _filters(resource, copy.deepcopy(_records(resource, data)))
        for resource in ("jobs", "functions")
    }

    class SearchMachine(RuleBasedStateMachine):
        @rule(
            resource=resources,
            data_=st.data(),
            limit=st.none() | st.integers(0, 8),
            page_size=st.none() | st.integers(1, 4),
        )
        def search(
            self, resource: str, data_: Any, limit: int | None, page_size: int | None
        ) -> None:
            nodes = data_.draw(filters[resource])
            sort = data_.draw(_sorts(resource))
            self._guarded(
                lambda: search_and_check(ctx, api, data, resource, nodes, sort, limit, page_size)
            )

        @rule(index=st.integers(0, 100))
        def cancel(self, index: int) -> None:
            pending = [j for j in data["held"] if data["jobs"][j]["status"] == "pending"]
            if not pending:
                return
            job_id = pending[index % len(pending)]

            def change() -> None:
                api.expect(api.cancel_job(job_id), 200, "search.filter-complete", "canceling")
                _refresh_job(api, data, job_id)

            self._guarded(change)

        @rule(index=st.integers(0, 100), tags=st.sampled_from(TAG_SETS))
        def retag(self, index: int, tags: list[str]) -> None:
            job_id = sorted(data["jobs"])[index % len(data["jobs"])]

            def change() -> None:
                reply = api.request("PATCH", f"/compute/v1/jobs/{job_id}", json_body={"tags": tags})
                api.expect(reply, 200, "lifecycle.job-update", "retagging a job")
                _refresh_job(api, data, job_id)

            self._guarded(change)

        @staticmethod
        def _guarded(step: Any) -> None:
            ctx.scenario(step)

    machine: type[RuleBasedStateMachine] = SearchMachine
    if ctx.options.seed is not None:
        machine = hypothesis.seed(ctx.options.seed)(SearchMachine)
    try:
        _run_machine(ctx, machine)
    except hypothesis.errors.HypothesisException as error:
        ctx.outcome.note(f"the search state machine stopped early: {type(error).__name__}")


def _run_machine(ctx: Context, machine: type[RuleBasedStateMachine]) -> None:
    run_state_machine_as_test(
        machine,
        settings=hypothesis.settings(
            max_examples=max(1, ctx.options.examples),
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.generate],
            print_blob=False,
        ),
    )
