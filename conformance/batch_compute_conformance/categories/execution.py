"""``execution``: jobs that really run. Results of every kind, logs, failures, timeouts,
retries, cancel, rerun, bulk idempotency, maximum_concurrency and job statistics.

The functions are built together and all the jobs submitted before any is waited for, so the
category takes about as long as its slowest job.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
from hypothesis import HealthCheck, stateful
from hypothesis.stateful import Bundle, RuleBasedStateMachine, run_state_machine_as_test

from ..api import Api, scoped_filter
from ..bundles import bundle
from ..context import Context
from ..model import FINAL_STATUSES
from ..outcome import Broken

__all__ = ["run"]

JSON_VALUE = {"numbers": [1, 2.5, -3], "text": "héllo", "nothing": None, "yes": True}
BYTES_HEX = "00010262696e617279ff"
LOG_LINES = [
    "conformance first line",
    "conformance second line",
    "conformance third line",
    "conformance fourth line",
]
GEOMETRY = {
    "type": "Polygon",
    "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]],
}
CONCURRENT_JOBS = 4
CONCURRENT_SLEEP = 1.5


def run(ctx: Context) -> None:
    api = ctx.first
    state: dict[str, Any] = {}
    ctx.scenario(lambda: _build(ctx, api, state))
    if "main" not in state:
        return
    ctx.scenario(lambda: _submit(ctx, api, state))
    for scenario in (
        _results,
        _failures,
        _bulk,
        _cancel,
        _concurrency,
        _rerun,
        _statistics,
        _reread,
        _retention,
        _job_machine,
    ):
        ctx.scenario(functools.partial(scenario, ctx, api, state))


def _build(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    specs: dict[str, dict[str, Any]] = {
        "main": {"environment": {"CONF_A": "function", "CONF_B": "function"}},
        "retry": {"retry_count": 2},
        "timeout": {"timeout": 1},
        "limited": {"maximum_concurrency": 1},
        "held": {"auto_start": False},
    }
    pending = {}
    for key, fields in specs.items():
        function, url = api.create_function(rule="lifecycle.create", name=ctx.name(key), **fields)
        api.expect(
            api.upload(url, bundle()),
            (200, 201, 204),
            "lifecycle.bundle-build",
            "uploading a bundle",
        )
        api.expect(
            api.complete(function["id"]), 200, "lifecycle.bundle-build", "completing a bundle"
        )
        pending[key] = function["id"]
    for key, fid in pending.items():
        state[key] = api.wait_built(fid, ctx.options.build_timeout, "lifecycle.bundle-build")


def _submit(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    main = state["main"]["id"]
    rule = "execution.result-json"
    expires = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    state["expires"] = expires
    state["jobs"] = {
        "json": api.submit(main, "echo", JSON_VALUE, rule=rule),
        "bytes": api.submit(main, "bytes", BYTES_HEX, rule=rule),
        "none": api.submit(main, "none", rule=rule),
        "attributes": api.submit(
            main,
            "compute_result",
            {"v": 1},
            rule=rule,
            kwargs={
                "description": "conformance result",
                "expires": expires.isoformat(),
                "extra_properties": {"band": "red", "count": 3},
                "geometry": GEOMETRY,
                "tags": ["conformance-a", "conformance-b"],
            },
        ),
        "log": api.submit(main, "print", *LOG_LINES, rule=rule),
        "raise": api.submit(main, "raise", "conformance boom", rule=rule),
        "env": api.submit(
            main, "env", "CONF_A", "CONF_B", rule=rule, environment={"CONF_B": "job"}
        ),
        "running": api.submit(main, "sleep", 60, rule=rule),
        "retry": api.submit(state["retry"]["id"], "raise", "always", rule=rule),
        "timeout": api.submit(state["timeout"]["id"], "sleep", 30, rule=rule),
        "pending": api.submit(state["held"]["id"], "echo", 1, rule=rule),
        "pending2": api.submit(state["held"]["id"], "echo", 2, rule=rule),
        "pending3": api.submit(state["held"]["id"], "echo", 3, rule=rule),
    }
    state["limited_jobs"] = [
        api.submit(state["limited"]["id"], "sleep", CONCURRENT_SLEEP, rule=rule)["id"]
        for _ in range(CONCURRENT_JOBS)
    ]
    waited = [
        job["id"]
        for key, job in state["jobs"].items()
        if key not in ("running", "pending", "pending2", "pending3")
    ]
    state["done"] = {}
    state["waited"] = waited


def _finished(ctx: Context, api: Api, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if not state.get("collected"):
        state["collected"] = True
        state["done"] = api.wait_jobs(
            state["waited"], "execution.result-json", ctx.options.job_timeout
        )
    return state["done"]  # type: ignore[no-any-return]


def _job(ctx: Context, api: Api, state: dict[str, Any], key: str) -> dict[str, Any]:
    return _finished(ctx, api, state)[state["jobs"][key]["id"]]


def _results(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    main = state["main"]
    job = _job(ctx, api, state, "json")
    ctx.check(
        "execution.result-json",
        job["status"] == "success",
        f"a job returning JSON ended {job['status']!r}: {job.get('error_reason')}",
    )
    download, data = api.result(main, job["id"])
    ctx.check(
        "execution.result-json",
        data is not None
        and data.status == 200
        and data.json() == JSON_VALUE
        and "content-encoding" not in data.headers,
        "the result read back is not the JSON the job returned",
        (data or download).exchange,
    )

    job = _job(ctx, api, state, "bytes")
    download, data = api.result(main, job["id"])
    ctx.check(
        "execution.result-bytes",
        data is not None and data.status == 200 and data.content == bytes.fromhex(BYTES_HEX),
        "returned bytes were not served verbatim",
        (data or download).exchange,
    )

    job = _job(ctx, api, state, "none")
    ctx.check(
        "execution.result-none",
        job["status"] == "success",
        f"a job returning None ended {job['status']!r}",
    )
    download, _ = api.result(main, job["id"])
    ctx.check(
        "execution.result-none",
        download.status == 404,
        f"the result of a job returning None answered {download.status}, not 404",
        download.exchange,
    )

    job = _job(ctx, api, state, "attributes")
    download, data = api.result(main, job["id"])
    ctx.check(
        "execution.result-attributes",
        data is not None and data.json() == {"v": 1},
        "the ComputeResult value was not stored",
        (data or download).exchange,
    )
    meta = api.storage_blob(api.blob_id(main, job["id"]))
    document = meta.json() if meta.status == 200 else None
    attributes = ((document or {}).get("data") or {}).get("attributes") or {}
    expected = {
        "description": "conformance result",
        "extra_properties": {"band": "red", "count": 3},
        "geometry": GEOMETRY,
        "tags": ["conformance-a", "conformance-b"],
        "storage_type": "compute",
        "namespace": main["namespace"],
        "name": f"{main['id']}/{job['id']}",
    }
    differs = {k: attributes.get(k) for k, v in expected.items() if attributes.get(k) != v}
    if data is not None:
        if attributes.get("size_bytes") != len(data.content):
            differs["size_bytes"] = attributes.get("size_bytes")
        if attributes.get("hash") != hashlib.md5(data.content).hexdigest():
            differs["hash"] = attributes.get("hash")
    if _when(attributes.get("expires")) != state["expires"]:
        differs["expires"] = attributes.get("expires")
    ctx.check(
        "execution.result-attributes",
        meta.status == 200 and not differs,
        f"the result blob's metadata differs from the ComputeResult: {differs}",
        meta.exchange,
    )

    job = _job(ctx, api, state, "log")
    reply = api.job_log(job["id"])
    lines, malformed = [], []
    for raw in reply.text.splitlines():
        try:
            record = json.loads(raw)
            lines.append(record["log"])
            if not str(record["date"]).endswith("Z"):
                malformed.append(raw)
        except (ValueError, KeyError, TypeError):
            malformed.append(raw)
    ctx.check(
        "execution.log-lines",
        reply.status == 200 and not malformed,
        f"log lines that are not JSON with a date ending in Z: {malformed[:3]}",
        reply.exchange,
    )
    ctx.check(
        "execution.log-lines",
        _in_order(LOG_LINES, lines),
        f"the printed lines {LOG_LINES} are not all in the log, in order: {lines}",
        reply.exchange,
    )

    job = _job(ctx, api, state, "env")
    _, data = api.result(main, job["id"])
    seen = data.json() if data is not None else None
    ctx.check(
        "execution.environment",
        seen == {"CONF_A": "function", "CONF_B": "job"},
        f"the job saw the environment {seen}, not the function's overlaid by its own",
        data.exchange if data is not None else None,
    )


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)


def _in_order(wanted: list[str], lines: list[str]) -> bool:
    position = 0
    for line in lines:
        if position < len(wanted) and line == wanted[position]:
            position += 1
    return position == len(wanted)


def _failures(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    job = _job(ctx, api, state, "raise")
    ctx.check(
        "execution.failure",
        job["status"] == "failure"
        and "conformance boom" in str(job.get("error_reason"))
        and job.get("exit_code") not in (None, 0),
        f"a job raising ValueError('conformance boom') ended {job['status']!r} with "
        f"error_reason {job.get('error_reason')!r} and exit_code {job.get('exit_code')!r}",
    )
    job = _job(ctx, api, state, "retry")
    ctx.check(
        "execution.retries",
        job["status"] == "failure" and job.get("execution_count") == 3,
        f"a job failing every attempt with retry_count 2 ended {job['status']!r} after "
        f"{job.get('execution_count')!r} attempts, not 3",
    )
    job = _job(ctx, api, state, "timeout")
    ctx.check(
        "execution.timeout",
        job["status"] == "timeout",
        f"a job sleeping 30 s with timeout 1 ended {job['status']!r}, not timeout",
    )
    for key, function in (("raise", "main"), ("retry", "retry"), ("timeout", "timeout")):
        job = _job(ctx, api, state, key)
        download, _ = api.result(state[function], job["id"])
        ctx.check(
            "execution.result-iff-success",
            download.status == 404,
            f"a {job['status']} job has a result (storage download answered {download.status})",
            download.exchange,
        )


def _bulk(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    fid = state["main"]["id"]
    args = [["echo", n] for n in range(3)]
    reference = str(uuid.uuid4())
    first = api.bulk(fid, args, reference_id=reference, tags=["conformance-bulk"])
    jobs = api.expect(first, 201, "execution.bulk", "a bulk submission")
    ok = (
        isinstance(jobs, list)
        and [job.get("args") for job in jobs] == args
        and all(
            job.get("tags") == ["conformance-bulk"] and job.get("function_id") == fid
            for job in jobs
        )
    )
    ctx.check(
        "execution.bulk",
        ok,
        "a bulk submission did not answer one job per argument list, in input order, with its tags",
        first.exchange,
    )
    count = _count_jobs(api, fid)
    again = api.bulk(fid, args, reference_id=reference, tags=["conformance-bulk"])
    replay = api.expect(again, (200, 201), "execution.reference-id", "replaying a bulk submission")
    ids = [job.get("id") for job in jobs] if isinstance(jobs, list) else []
    ctx.check(
        "execution.reference-id",
        isinstance(replay, list) and [job.get("id") for job in replay] == ids,
        "replaying a bulk submission with the same reference_id answered other jobs",
        again.exchange,
    )
    after = _count_jobs(api, fid)
    ctx.check(
        "execution.reference-id",
        after == count,
        f"replaying a bulk submission changed the function's job count from {count} to {after}",
    )
    mismatched: list[dict[str, Any]] = [
        {"bulk_kwargs": [{}]},
        {"bulk_environments": [{}, {}, {}, {}]},
    ]
    for extra in mismatched:
        refused = api.bulk(fid, args, **extra)
        ctx.check(
            "execution.bulk-validation",
            refused.status == 422,
            f"a bulk submission with {extra} for {len(args)} argument lists answered "
            f"{refused.status}, not 422",
            refused.exchange,
        )
    final = _count_jobs(api, fid)
    ctx.check(
        "execution.bulk-validation",
        final == after,
        f"refused bulk submissions changed the job count from {after} to {final}",
    )
    state["bulk"] = ids


def _count_jobs(api: Api, fid: str) -> int | None:
    reply = api.search("jobs", {"filter": json.dumps(scoped_filter([fid])), "limit": 0})
    body = reply.json()
    return (body.get("meta") or {}).get("total") if isinstance(body, dict) else None


def _cancel(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    jobs = state["jobs"]
    reply = api.cancel_job(jobs["pending"]["id"])
    body = api.expect(reply, 200, "execution.cancel-pending", "canceling a pending job")
    ctx.check(
        "execution.cancel-pending",
        body.get("status") == "canceled",
        f"canceling a pending job answered status {body.get('status')!r}",
        reply.exchange,
    )
    query = {
        "filter": scoped_filter(
            [state["held"]["id"]], {"name": "id", "op": "eq", "val": jobs["pending2"]["id"]}
        )
    }
    reply = api.by_query("cancel", query)
    affected = api.expect(reply, 200, "execution.cancel-by-query", "canceling by query")
    ctx.check(
        "execution.cancel-by-query",
        isinstance(affected, list)
        and [job.get("id") for job in affected] == [jobs["pending2"]["id"]],
        "cancel by query did not answer exactly the matching job",
        reply.exchange,
    )
    ctx.pause(0.5)
    for key, rule in (
        ("pending", "execution.cancel-pending"),
        ("pending2", "execution.cancel-by-query"),
    ):
        read = api.get_job(jobs[key]["id"])
        ctx.check(
            rule,
            (read.json() or {}).get("status") == "canceled",
            f"a canceled pending job reads as {(read.json() or {}).get('status')!r}",
            read.exchange,
        )
    untouched = api.get_job(jobs["pending3"]["id"])
    ctx.check(
        "execution.cancel-by-query",
        (untouched.json() or {}).get("status") == "pending",
        "cancel by query touched a job its filter did not match",
        untouched.exchange,
    )

    running = jobs["running"]["id"]
    api.wait_jobs(
        [running],
        "execution.cancel-running",
        ctx.options.job_timeout,
        until=lambda job: job["status"] != "pending",
    )
    busy = api.request("DELETE", f"/compute/v1/jobs/{running}")
    ctx.check(
        "lifecycle.delete-busy",
        busy.status == 409,
        f"deleting a running job answered {busy.status}, not 409",
        busy.exchange,
    )
    busy = api.request("DELETE", f"/compute/v1/functions/{state['main']['id']}")
    ctx.check(
        "lifecycle.delete-busy",
        busy.status == 409,
        f"deleting a function with a running job answered {busy.status}, not 409",
        busy.exchange,
    )
    if busy.status == 204:
        api.session.ledger.deleted_functions.add(state["main"]["id"])
    finished = _job(ctx, api, state, "none")
    reply = api.cancel_job(finished["id"])
    body = reply.json() if reply.status == 200 else None
    ctx.check(
        "execution.cancel-finished",
        isinstance(body, dict) and body.get("status") == "success",
        f"canceling a finished job answered {reply.status} with status "
        f"{(body or {}).get('status')!r}",
        reply.exchange,
    )
    reply = api.cancel_job(running)
    api.expect(reply, 200, "execution.cancel-running", "canceling a running job")
    done = api.wait_jobs([running], "execution.cancel-running", ctx.options.job_timeout)
    ctx.check(
        "execution.cancel-running",
        done[running]["status"] == "canceled",
        f"a canceled running job ended {done[running]['status']!r}, not canceled",
    )
    download, _ = api.result(state["main"], running)
    ctx.check(
        "execution.result-iff-success",
        download.status == 404,
        f"a canceled job has a result (storage download answered {download.status})",
        download.exchange,
    )


def _concurrency(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    fid = state["limited"]["id"]
    limit = state["limited"]["maximum_concurrency"]
    query = {
        "filter": json.dumps(
            scoped_filter([fid], {"name": "status", "op": "eq", "val": "running"})
        ),
        "limit": 0,
    }
    deadline = time.monotonic() + ctx.options.job_timeout
    most, worst = 0, None
    finished: set[str] = set()
    while time.monotonic() < deadline:
        reply = api.search("jobs", query)
        running = ((reply.json() or {}).get("meta") or {}).get("total") or 0
        if running > most:
            most, worst = running, reply
        for jid in state["limited_jobs"]:
            job = api.get_job(jid).json() if jid not in finished else None
            if isinstance(job, dict) and job.get("status") in FINAL_STATUSES:
                finished.add(jid)
        if len(finished) == len(state["limited_jobs"]):
            break
        ctx.pause(0.1)
    # Jobs that ran before this scenario began polling still tell, by their own times.
    afterwards = _most_at_once([api.get_job(jid).json() for jid in state["limited_jobs"]])
    if afterwards > most:
        most, worst = afterwards, None
    ctx.check(
        "execution.max-concurrency",
        most <= limit,
        f"{most} jobs of a function with maximum_concurrency {limit} ran at once",
        worst.exchange if worst else None,
    )
    ctx.check(
        "execution.max-concurrency",
        most >= 1,
        "no job of the limited function was ever seen running",
    )


def _most_at_once(jobs: list[Any]) -> int:
    """The most of ``jobs`` whose [last_execution_date, last_completion_date] overlap."""
    events = []
    for job in jobs:
        try:
            start = datetime.fromisoformat(job["last_execution_date"])
            end = datetime.fromisoformat(job["last_completion_date"])
        except (TypeError, KeyError, ValueError):
            continue
        events += [(_aware(start), 1), (_aware(end), -1)]
    most = running = 0
    for _, step in sorted(events):  # at equal times an end (-1) sorts before a start
        running += step
        most = max(most, running)
    return most


def _aware(moment: datetime) -> datetime:
    """Dates without an offset read as UTC, so a backend mixing both styles still compares."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rerun(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    main = state["main"]["id"]
    failed = _job(ctx, api, state, "raise")["id"]
    succeeded = _job(ctx, api, state, "json")["id"]
    either = {
        "or": [
            {"name": "id", "op": "eq", "val": failed},
            {"name": "id", "op": "eq", "val": succeeded},
        ]
    }
    query = {"filter": scoped_filter([main], either)}
    reply = api.by_query("rerun", query)
    rerun = api.expect(reply, 200, "execution.rerun", "rerunning jobs")
    ids = [job.get("id") for job in rerun] if isinstance(rerun, list) else []
    ctx.check(
        "execution.rerun",
        ids == [failed],
        f"rerunning a failed and a successful job answered {ids}, not the failed one",
        reply.exchange,
    )
    ctx.check(
        "execution.rerun",
        isinstance(rerun, list)
        and all(job.get("status") in ("pending", "running", "failure") for job in rerun),
        "a rerun job is not back to pending",
        reply.exchange,
    )
    done = api.wait_jobs([failed], "execution.rerun", ctx.options.job_timeout)
    ctx.check(
        "execution.rerun",
        done[failed]["status"] == "failure",
        f"a rerun of a job that always raises ended {done[failed]['status']!r}",
    )
    read = api.get_job(succeeded)
    ctx.check(
        "execution.rerun",
        (read.json() or {}).get("status") == "success",
        "a rerun changed a successful job",
        read.exchange,
    )


def _statistics(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    for key in ("held", "main"):
        fid = state[key]["id"]
        counts: dict[str, int] = {}
        for _, page in api.pages(
            "jobs", {"filter": json.dumps(scoped_filter([fid])), "page_size": 100}
        ):
            for job in page.get("data") or []:
                counts[job["status"]] = counts.get(job["status"], 0) + 1
        reply = api.get_function(fid, include="job.statistics")
        body = reply.json() or {}
        stats = body.get("job_statistics")
        shown = {k: v for k, v in (stats or {}).items() if v} if isinstance(stats, dict) else stats
        ctx.check(
            "execution.job-statistics",
            shown == counts,
            f"job_statistics {stats!r} does not count the function's jobs {counts}",
            reply.exchange,
        )


def _retention(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    """Deleting a job keeps its result unless delete_results is true."""
    main = state["main"]
    kept, dropped = _job(ctx, api, state, "json")["id"], _job(ctx, api, state, "bytes")["id"]
    for job_id, flag in ((kept, "false"), (dropped, "true")):
        reply = api.request("DELETE", f"/compute/v1/jobs/{job_id}", params={"delete_results": flag})
        api.expect(reply, 204, "lifecycle.delete", "deleting a finished job")
        api.session.model.forget_job(job_id)
    download, data = api.result(main, kept)
    ctx.check(
        "execution.result-retention",
        data is not None and data.json() == JSON_VALUE,
        f"the result of a job deleted without delete_results answered {download.status}",
        (data or download).exchange,
    )
    download, _ = api.result(main, dropped)
    ctx.check(
        "execution.result-retention",
        download.status == 404,
        f"the result of a job deleted with delete_results answered {download.status}, not 404",
        download.exchange,
    )


def _job_machine(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    """A Hypothesis rule-based state machine over jobs of a stopped function, where nothing
    runs, so the model knows each job's status exactly: submit, cancel, rerun, delete, read."""
    fid = state["held"]["id"]
    model: dict[str, str] = {}  # job id -> expected status, or "deleted"

    class JobMachine(RuleBasedStateMachine):
        jobs = Bundle("jobs")

        @stateful.rule(target=jobs)
        def submit(self) -> str:
            job = api.submit(fid, "echo", 1, rule="execution.cancel-pending")
            model[job["id"]] = "pending"
            return str(job["id"])

        @stateful.rule(job=jobs)
        def cancel(self, job: str) -> None:
            reply = api.cancel_job(job)
            if model[job] == "deleted":
                ctx.check(
                    "lifecycle.delete",
                    reply.status == 404,
                    f"canceling a deleted job answered {reply.status}",
                    reply.exchange,
                )
                return
            model[job] = "canceled"
            self._compare(job, reply)

        @stateful.rule(job=jobs)
        def rerun(self, job: str) -> None:
            query = {"filter": scoped_filter([fid], {"name": "id", "op": "eq", "val": job})}
            reply = api.by_query("rerun", query)
            answered = [item.get("id") for item in reply.json() or [] if isinstance(item, dict)]
            expected = [job] if model[job] == "canceled" else []
            ctx.check(
                "execution.rerun",
                reply.status == 200 and answered == expected,
                f"rerunning a {model[job]} job answered {reply.status} {answered}",
                reply.exchange,
            )
            if model[job] == "canceled":
                model[job] = "pending"

        @stateful.rule(job=jobs)
        def delete(self, job: str) -> None:
            reply = api.request("DELETE", f"/compute/v1/jobs/{job}")
            wanted = 404 if model[job] == "deleted" else 204
            ctx.check(
                "lifecycle.delete",
                reply.status == wanted,
                f"deleting a {model[job]} job answered {reply.status}, not {wanted}",
                reply.exchange,
            )
            model[job] = "deleted"
            api.session.model.forget_job(job)

        @stateful.rule(job=jobs)
        def read(self, job: str) -> None:
            self._compare(job, api.get_job(job))

        @staticmethod
        def _compare(job: str, reply: Any) -> None:
            expected = model[job]
            if expected == "deleted":
                ctx.check(
                    "lifecycle.delete",
                    reply.status == 404,
                    f"a deleted job answered {reply.status}, not 404",
                    reply.exchange,
                )
                return
            status = (reply.json() or {}).get("status") if reply.status == 200 else None
            rule_id = "execution.cancel-pending" if expected == "canceled" else "execution.rerun"
            ctx.check(
                rule_id,
                status == expected,
                f"job {job} should be {expected} (nothing of its stopped function runs), "
                f"answered {reply.status} with status {status!r}",
                reply.exchange,
            )

    machine: type[RuleBasedStateMachine] = JobMachine
    if ctx.options.seed is not None:
        machine = hypothesis.seed(ctx.options.seed)(JobMachine)
    settings = hypothesis.settings(
        max_examples=max(1, ctx.options.examples // 5),
        stateful_step_count=8,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.generate],
        print_blob=False,
    )
    try:
        run_state_machine_as_test(machine, settings=settings)
    except Broken as error:
        ctx.outcome.broken(error)
    except hypothesis.errors.HypothesisException as error:
        ctx.outcome.note(f"the job state machine stopped early: {type(error).__name__}")


def _reread(ctx: Context, api: Api, state: dict[str, Any]) -> None:
    """Read every finished job again, one by one and by search: finished stays finished."""
    gone = {_job(ctx, api, state, key)["id"] for key in ("json", "bytes")}
    ids = [jid for jid in state.get("waited", []) if jid not in gone] + state.get("bulk", [])
    for jid in ids:
        api.get_job(jid)
    functions = [state[key]["id"] for key in ("main", "retry", "timeout", "limited", "held")]
    for _ in api.pages("jobs", {"filter": json.dumps(scoped_filter(functions)), "page_size": 7}):
        pass
