"""``isolation``: the first owner's functions, jobs, logs and results are invisible and
untouchable with the second owner's token (404), and no token (or a malformed one) means 401."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from ..api import CATALOG, COMPUTE, Api, scoped_filter
from ..bundles import bundle
from ..context import Context

__all__ = ["run"]

_COMPARED = ("name", "status", "enabled", "timeout", "memory", "cpus")
_JOB_COMPARED = ("status", "tags", "args", "execution_count")


def run(ctx: Context) -> None:
    data: dict[str, Any] = {}
    ctx.scenario(lambda: _make_data(ctx, ctx.first, data))
    if "function" not in data:
        return
    ctx.scenario(lambda: _cross_owner(ctx, data))
    ctx.scenario(lambda: _invisible(ctx, data))
    ctx.scenario(lambda: _bulk(ctx, data))
    ctx.scenario(lambda: _untouched(ctx, data))
    ctx.scenario(lambda: _no_token(ctx, data))


def _make_data(ctx: Context, api: Api, data: dict[str, Any]) -> None:
    function = api.ready_function(bundle(), ctx.options.build_timeout, name=ctx.name("private"))
    held = api.ready_function(
        bundle(), ctx.options.build_timeout, name=ctx.name("private-held"), auto_start=False
    )
    done = api.submit(function["id"], "echo", {"secret": 1}, rule="isolation.not-found")
    failed = api.submit(function["id"], "raise", "private", rule="isolation.not-found")
    waiting = api.submit(held["id"], "echo", 2, rule="isolation.not-found")
    api.wait_jobs([done["id"], failed["id"]], "isolation.not-found", ctx.options.job_timeout)
    data.update(
        function=function, held=held, done=done["id"], failed=failed["id"], waiting=waiting["id"]
    )
    data["before"] = _snapshot(api, data)


def _snapshot(api: Api, data: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key in ("function", "held"):
        body = api.get_function(data[key]["id"]).json() or {}
        seen[key] = {k: body.get(k) for k in _COMPARED}
    for key in ("done", "failed", "waiting"):
        body = api.get_job(data[key]).json() or {}
        seen[key] = {k: body.get(k) for k in _JOB_COMPARED}
    return seen


def _attempts(data: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
    """(method, path, JSON body, what) for everything of the first owner."""
    fid, held = data["function"]["id"], data["held"]["id"]
    blob = f"compute/{data['function']['namespace']}/{fid}/{data['done']}"
    quoted = urllib.parse.quote(blob, safe="/")
    return [
        ("GET", f"{COMPUTE}/functions/{fid}", None, "reading a function"),
        (
            "PATCH",
            f"{COMPUTE}/functions/{fid}",
            {"name": "stolen", "timeout": 5},
            "editing a function",
        ),
        ("PATCH", f"{COMPUTE}/functions/{held}", {"status": "ready"}, "starting a function"),
        ("POST", f"{COMPUTE}/functions/{fid}/bundle", None, "completing a bundle"),
        ("GET", f"{COMPUTE}/functions/{fid}/log", None, "reading a build log"),
        ("DELETE", f"{COMPUTE}/functions/{held}", None, "deleting a function"),
        ("POST", f"{COMPUTE}/jobs", {"function_id": fid, "args": ["echo", 1]}, "submitting a job"),
        (
            "POST",
            f"{COMPUTE}/jobs/bulk",
            {"function_id": fid, "bulk_args": [["echo", 1]]},
            "submitting a bulk",
        ),
        ("GET", f"{COMPUTE}/jobs/{data['done']}", None, "reading a job"),
        ("PATCH", f"{COMPUTE}/jobs/{data['waiting']}", {"tags": ["stolen"]}, "editing a job"),
        ("GET", f"{COMPUTE}/jobs/{data['done']}/log", None, "reading a job log"),
        ("POST", f"{COMPUTE}/jobs/{data['waiting']}/cancel", None, "canceling a job"),
        ("DELETE", f"{COMPUTE}/jobs/{data['failed']}", None, "deleting a job"),
        ("GET", f"{CATALOG}/storage/download/{quoted}", None, "downloading a result"),
        ("GET", f"{CATALOG}/storage/{quoted}", None, "reading a result's metadata"),
    ]


def _cross_owner(ctx: Context, data: dict[str, Any]) -> None:
    for method, path, body, what in _attempts(data):
        reply = ctx.second.request(method, path, json_body=body)
        ctx.check(
            "isolation.not-found",
            reply.status == 404,
            f"another owner {what} of the first owner answered {reply.status}, not 404",
            reply.exchange,
        )


def _invisible(ctx: Context, data: dict[str, Any]) -> None:
    fid = data["function"]["id"]
    queries = [
        ("jobs", {"filter": json.dumps(scoped_filter([fid, data["held"]["id"]]))}),
        ("jobs", {"filter": json.dumps([{"name": "id", "op": "eq", "val": data["done"]}])}),
        ("jobs", {"function_id": fid}),
        ("functions", {"filter": json.dumps([{"name": "id", "op": "eq", "val": fid}])}),
        (
            "functions",
            {"filter": json.dumps([{"name": "name", "op": "prefix", "val": ctx.name("private")}])},
        ),
    ]
    for resource, params in queries:
        for extra in ({}, {"limit": 0}):
            reply = ctx.second.search(resource, {**params, **extra})
            body = reply.json() if isinstance(reply.json(), dict) else {}
            ours = {fid, data["held"]["id"], data["done"], data["failed"], data["waiting"]}
            leaked = [r.get("id") for r in body.get("data") or [] if r.get("id") in ours]
            total = (body.get("meta") or {}).get("total")
            ctx.check(
                "isolation.invisible",
                reply.status == 200 and not leaked and total == 0,
                f"another owner's search found the first owner's records {leaked} (total {total})",
                reply.exchange,
            )


def _bulk(ctx: Context, data: dict[str, Any]) -> None:
    scope = scoped_filter([data["function"]["id"], data["held"]["id"]])
    for action in ("cancel", "rerun", "delete"):
        body: dict[str, Any] = {"filter": scope}
        if action == "delete":
            body["delete_results"] = True
        reply = ctx.second.by_query(action, body)
        ctx.check(
            "isolation.bulk-untouched",
            reply.status in (200, 404) and not reply.json(),
            f"another owner's {action} by query answered {reply.status} with {reply.text[:200]}",
            reply.exchange,
        )


def _untouched(ctx: Context, data: dict[str, Any]) -> None:
    after = _snapshot(ctx.first, data)
    for key, before in data["before"].items():
        ctx.check(
            "isolation.untouched",
            after.get(key) == before,
            f"the first owner's {key} changed after another owner's attempts: "
            f"{before} -> {after.get(key)}",
        )


def _no_token(ctx: Context, data: dict[str, Any]) -> None:
    scope = scoped_filter([data["function"]["id"], data["held"]["id"]])
    attempts = [
        *_attempts(data),
        ("GET", f"{COMPUTE}/functions", None, "searching functions"),
        (
            "POST",
            f"{COMPUTE}/functions",
            {"name": "x", "image": "python3.11:latest"},
            "creating a function",
        ),
        ("GET", f"{COMPUTE}/jobs", None, "searching jobs"),
        ("POST", f"{COMPUTE}/jobs/cancel", {"filter": scope}, "canceling by query"),
        ("POST", f"{COMPUTE}/jobs/rerun", {"filter": scope}, "rerunning by query"),
        ("POST", f"{COMPUTE}/jobs/delete", {"filter": scope}, "deleting by query"),
        ("GET", f"{COMPUTE}/credentials", None, "reading credentials"),
    ]
    for api, how in (
        (ctx.anonymous, "without a token"),
        (ctx.malformed(), "with a malformed token"),
    ):
        for method, path, body, what in attempts:
            reply = api.request(method, path, json_body=body)
            ctx.check(
                "isolation.no-token",
                reply.status == 401,
                f"{what} {how} answered {reply.status}, not 401",
                reply.exchange,
            )
