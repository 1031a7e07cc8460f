"""``lifecycle``: functions from creation to deletion, bundles and builds, edits, start/stop,
enable/disable, job edits and deletes."""

from __future__ import annotations

import functools
import gzip
import urllib.parse
from typing import Any

from ..api import COMPUTE, scoped_filter
from ..bundles import bundle, not_a_zip, without_entrypoint
from ..context import Context

__all__ = ["run"]

DEFAULTS = {
    "cpus": 0.25,
    "memory": 512,
    "maximum_concurrency": 10,
    "timeout": 900,
    "retry_count": 0,
    "enabled": True,
    "auto_start": True,
    "environment": None,
}
UNMET_REQUIREMENT = "conformance-kit-no-such-package-zz==9.9.9"


def run(ctx: Context) -> None:
    for scenario in (
        _create_upload_build,
        _bad_bundles,
        _stopped_build,
        _build_failure,
        _update,
        _start_stop,
        _enable_disable,
        _job_update,
        _delete,
    ):
        ctx.scenario(functools.partial(scenario, ctx))


def _create_upload_build(ctx: Context) -> None:
    api = ctx.first
    function, url = api.create_function(name=ctx.name("defaults"))
    fid = function["id"]
    wrong = {k: function.get(k) for k, v in DEFAULTS.items() if function.get(k) != v}
    ctx.check(
        "lifecycle.create",
        not wrong,
        f"a new function's defaults differ from the contract's: {wrong}",
    )
    ctx.check(
        "lifecycle.create",
        function.get("status") == "awaiting_bundle",
        f"a new function has status {function.get('status')!r}, not awaiting_bundle",
    )
    ctx.check(
        "lifecycle.create",
        bool(function.get("namespace")) and bool(function.get("owner")),
        "a new function has no namespace or owner",
    )
    ctx.check(
        "lifecycle.create",
        urllib.parse.urlsplit(url).scheme in ("http", "https"),
        f"bundle_upload_url {url!r} is not an absolute URL",
    )
    read = api.get_function(fid)
    body = api.expect(read, 200, "lifecycle.create", "reading a new function")
    ctx.check(
        "lifecycle.create",
        body.get("id") == fid and body.get("name") == ctx.name("defaults"),
        "reading a new function back does not answer it",
        read.exchange,
    )

    early = api.complete(fid)
    ctx.check(
        "lifecycle.complete-needs-bundle",
        early.status == 409,
        f"completing before any upload answered {early.status}, not 409",
        early.exchange,
    )

    tampered = _tamper(url)
    refused = api.upload(tampered, bundle())
    ctx.check(
        "lifecycle.presigned-signature",
        refused.status == 403,
        f"an upload with a tampered signature answered {refused.status}, not 403",
        refused.exchange,
    )

    uploaded = api.upload(url, bundle())
    ctx.check(
        "lifecycle.bundle-build",
        200 <= uploaded.status < 300,
        f"the bundle upload without a bearer token answered {uploaded.status}",
        uploaded.exchange,
    )
    completed = api.complete(fid)
    state = api.expect(completed, 200, "lifecycle.bundle-build", "completing the bundle")
    ctx.check(
        "lifecycle.bundle-build",
        state.get("status") == "building",
        f"completing the bundle answered status {state.get('status')!r}, not building",
        completed.exchange,
    )
    built = api.wait_built(fid, ctx.options.build_timeout, "lifecycle.bundle-build")
    ctx.check(
        "lifecycle.bundle-build",
        built["status"] == "ready",
        f"a built function with auto_start true is {built['status']!r}, not ready",
    )
    again = api.complete(fid)
    ctx.check(
        "lifecycle.complete-needs-bundle",
        again.status == 409,
        f"completing a built function again answered {again.status}, not 409",
        again.exchange,
    )
    late = api.upload(url, bundle())
    ctx.check(
        "lifecycle.complete-needs-bundle",
        late.status == 409,
        f"uploading a bundle after the build answered {late.status}, not 409",
        late.exchange,
    )

    log = api.request("GET", f"{COMPUTE}/functions/{fid}/log")
    ctx.check(
        "lifecycle.build-log",
        log.status == 200,
        f"the build log answered {log.status}",
        log.exchange,
    )
    ctx.check(
        "lifecycle.build-log",
        "content-encoding" not in log.headers,
        "the build log carries a Content-Encoding header",
        log.exchange,
    )
    try:
        gzip.decompress(log.content).decode("utf-8")
        readable = True
    except (OSError, EOFError, UnicodeDecodeError):
        readable = False
    ctx.check(
        "lifecycle.build-log",
        readable,
        "the build log body is not gzip-compressed UTF-8 text",
        log.exchange,
    )


def _tamper(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    changed = []
    for key, value in query:
        if key == "signature":
            value = ("0" if value[:1] != "0" else "1") + value[1:] if value else "00"
        changed.append((key, value))
    if not any(key == "signature" for key, _ in query):
        changed.append(("signature", "0" * 64))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(changed)))


def _bad_bundles(ctx: Context) -> None:
    """Refused at upload (400), or accepted there and refused by the build (build_failed)."""
    api = ctx.first
    for data, what in (
        (not_a_zip(), "a non-zip bundle"),
        (without_entrypoint(), "a bundle without __dlentrypoint__.py"),
    ):
        function, url = api.create_function(name=ctx.name("bad-bundle"))
        reply = api.upload(url, data)
        if reply.status == 400:
            ctx.check("lifecycle.bundle-validation", True)
            continue
        ctx.check(
            "lifecycle.bundle-validation",
            200 <= reply.status < 300,
            f"uploading {what} answered {reply.status}, neither 400 nor 2xx",
            reply.exchange,
        )
        api.expect(
            api.complete(function["id"]),
            (200, 409),
            "lifecycle.bundle-validation",
            f"completing {what}",
        )
        built = api.wait_built(
            function["id"], ctx.options.build_timeout, "lifecycle.bundle-validation"
        )
        ctx.check(
            "lifecycle.bundle-validation",
            built["status"] == "build_failed",
            f"{what} was accepted at upload and built to {built['status']!r}, not build_failed",
        )


def _stopped_build(ctx: Context) -> None:
    built = ctx.first.ready_function(
        bundle(), ctx.options.build_timeout, name=ctx.name("auto-start-off"), auto_start=False
    )
    ctx.check(
        "lifecycle.bundle-build",
        built["status"] == "stopped",
        f"a built function with auto_start false is {built['status']!r}, not stopped",
    )


def _build_failure(ctx: Context) -> None:
    api = ctx.first
    built = api.ready_function(
        bundle(requirements=UNMET_REQUIREMENT),
        ctx.options.build_timeout,
        rule="lifecycle.build-failure",
        name=ctx.name("unmet"),
    )
    ctx.check(
        "lifecycle.build-failure",
        built["status"] == "build_failed",
        f"a bundle requiring {UNMET_REQUIREMENT} built to {built['status']!r}, not build_failed",
    )
    refused = api.create_job(built["id"], "echo", 1)
    ctx.check(
        "lifecycle.build-failure",
        refused.status == 409,
        f"a job for a function whose build failed answered {refused.status}, not 409",
        refused.exchange,
    )


def _update(ctx: Context) -> None:
    api = ctx.first
    function, _ = api.create_function(name=ctx.name("edit"), cpus=1, memory=2048)
    fid = function["id"]
    change = {
        "name": ctx.name("edited"),
        "timeout": 120,
        "retry_count": 1,
        "cpus": 2,
        "memory": 8192,
        "maximum_concurrency": 3,
        "environment": {"CONF": "1"},
    }
    reply = api.patch_function(fid, **change)
    updated = api.expect(reply, 200, "lifecycle.update", "updating a function")
    differs = {k: updated.get(k) for k, v in change.items() if updated.get(k) != v}
    ctx.check(
        "lifecycle.update",
        not differs,
        f"PATCH answered a function without the change: {differs}",
        reply.exchange,
    )
    read = api.get_function(fid)
    again = api.expect(read, 200, "lifecycle.update", "reading an updated function")
    differs = {k: again.get(k) for k, v in change.items() if again.get(k) != v}
    ctx.check(
        "lifecycle.update",
        not differs,
        f"a later read does not show the change: {differs}",
        read.exchange,
    )

    before = again
    for fields, status in (
        ({"cpus": 1, "memory": 512}, 422),
        ({"memory": 1024}, 422),
        ({"image": "python3.10:latest"}, 400),
    ):
        refused = api.patch_function(fid, **fields)
        ctx.check(
            "lifecycle.update-validation",
            refused.status == status,
            f"PATCH {fields} answered {refused.status}, not {status}",
            refused.exchange,
        )
    read = api.get_function(fid)
    after = api.expect(read, 200, "lifecycle.update-validation", "reading the function")
    keys = ("cpus", "memory", "image", "name")
    changed = {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
    ctx.check(
        "lifecycle.update-validation",
        not changed,
        f"refused edits changed the function: {changed}",
        read.exchange,
    )


def _start_stop(ctx: Context) -> None:
    api = ctx.first
    function = api.ready_function(bundle(), ctx.options.build_timeout, name=ctx.name("start-stop"))
    fid = function["id"]
    stop = api.patch_function(fid, status="stopped")
    stopped = api.expect(stop, 200, "lifecycle.start-stop", "stopping a function")
    ctx.check(
        "lifecycle.start-stop",
        stopped.get("status") == "stopped",
        f"stopping answered status {stopped.get('status')!r}",
        stop.exchange,
    )
    job = api.submit(fid, "echo", 1, rule="lifecycle.start-stop")
    ctx.pause(1.5)
    read = api.get_job(job["id"])
    waiting = api.expect(read, 200, "lifecycle.start-stop", "reading a job")
    ctx.check(
        "lifecycle.start-stop",
        waiting.get("status") == "pending",
        f"a job of a stopped function is {waiting.get('status')!r} after 1.5 s, not pending",
        read.exchange,
    )
    start = api.patch_function(fid, status="ready")
    started = api.expect(start, 200, "lifecycle.start-stop", "starting a function")
    ctx.check(
        "lifecycle.start-stop",
        started.get("status") == "ready",
        f"starting answered status {started.get('status')!r}",
        start.exchange,
    )
    done = api.wait_jobs([job["id"]], "lifecycle.start-stop", ctx.options.job_timeout)
    ctx.check(
        "lifecycle.start-stop",
        done[job["id"]]["status"] == "success",
        f"the held job ended {done[job['id']]['status']!r} once the function started",
    )


def _enable_disable(ctx: Context) -> None:
    api = ctx.first
    function = api.ready_function(bundle(), ctx.options.build_timeout, name=ctx.name("disable"))
    fid = function["id"]
    failing = api.submit(fid, "raise", "to rerun", rule="lifecycle.enable-disable")
    api.wait_jobs([failing["id"]], "lifecycle.enable-disable", ctx.options.job_timeout)
    off = api.patch_function(fid, enabled=False)
    disabled = api.expect(off, 200, "lifecycle.enable-disable", "disabling a function")
    ctx.check(
        "lifecycle.enable-disable",
        disabled.get("enabled") is False,
        "disabling answered enabled other than false",
        off.exchange,
    )
    for reply, what in (
        (api.create_job(fid, "echo", 1), "a job"),
        (api.bulk(fid, [["echo", 1]]), "a bulk submission"),
        (
            api.by_query(
                "rerun",
                {"filter": scoped_filter([fid], {"name": "id", "op": "eq", "val": failing["id"]})},
            ),
            "a rerun",
        ),
    ):
        ctx.check(
            "lifecycle.enable-disable",
            reply.status == 409,
            f"{what} for a disabled function answered {reply.status}, not 409",
            reply.exchange,
        )
    on = api.patch_function(fid, enabled=True)
    api.expect(on, 200, "lifecycle.enable-disable", "enabling a function")
    accepted = api.create_job(fid, "echo", 1)
    ctx.check(
        "lifecycle.enable-disable",
        accepted.status == 201,
        f"a job for a re-enabled function answered {accepted.status}, not 201",
        accepted.exchange,
    )


def _job_update(ctx: Context) -> None:
    api = ctx.first
    function = api.ready_function(
        bundle(), ctx.options.build_timeout, name=ctx.name("job-edit"), auto_start=False
    )
    job = api.submit(function["id"], "echo", 1, rule="lifecycle.job-update", tags=["before"])
    jid = job["id"]
    change: dict[str, Any] = {"tags": ["after", "edited"], "args": ["echo", 2], "kwargs": {}}
    reply = api.request("PATCH", f"{COMPUTE}/jobs/{jid}", json_body=change)
    updated = api.expect(reply, 200, "lifecycle.job-update", "updating a pending job")
    differs = {k: updated.get(k) for k, v in change.items() if updated.get(k) != v}
    ctx.check(
        "lifecycle.job-update",
        not differs,
        f"PATCH answered a job without the change: {differs}",
        reply.exchange,
    )
    read = api.get_job(jid)
    again = api.expect(read, 200, "lifecycle.job-update", "reading an updated job")
    differs = {k: again.get(k) for k, v in change.items() if again.get(k) != v}
    ctx.check(
        "lifecycle.job-update",
        not differs,
        f"a later read does not show the change: {differs}",
        read.exchange,
    )
    api.expect(api.cancel_job(jid), 200, "lifecycle.job-update", "canceling a pending job")
    late = api.request("PATCH", f"{COMPUTE}/jobs/{jid}", json_body={"args": ["echo", 3]})
    ctx.check(
        "lifecycle.job-update",
        late.status == 409,
        f"changing the arguments of a canceled job answered {late.status}, not 409",
        late.exchange,
    )
    tags = api.request("PATCH", f"{COMPUTE}/jobs/{jid}", json_body={"tags": ["late"]})
    tagged = api.expect(tags, 200, "lifecycle.job-update", "tagging a finished job")
    ctx.check(
        "lifecycle.job-update",
        tagged.get("tags") == ["late"],
        f"tagging a finished job answered tags {tagged.get('tags')!r}",
        tags.exchange,
    )


def _delete(ctx: Context) -> None:
    api = ctx.first
    function = api.ready_function(bundle(), ctx.options.build_timeout, name=ctx.name("delete"))
    fid = function["id"]
    jobs = [api.submit(fid, "echo", n, rule="lifecycle.delete")["id"] for n in range(4)]
    api.wait_jobs(jobs, "lifecycle.delete", ctx.options.job_timeout)
    gone = api.request("DELETE", f"{COMPUTE}/jobs/{jobs[0]}")
    ctx.check(
        "lifecycle.delete",
        gone.status == 204,
        f"deleting a finished job answered {gone.status}, not 204",
        gone.exchange,
    )
    query = {
        "filter": scoped_filter(
            [fid],
            {
                "or": [
                    {"name": "id", "op": "eq", "val": jobs[1]},
                    {"name": "id", "op": "eq", "val": jobs[2]},
                ]
            },
        ),
        "delete_results": True,
    }
    reply = api.by_query("delete", query)
    deleted = api.expect(reply, 200, "lifecycle.delete", "deleting jobs by query")
    ctx.check(
        "lifecycle.delete",
        isinstance(deleted, list) and sorted(deleted) == sorted(jobs[1:3]),
        f"delete by query answered {deleted!r}, not the ids {sorted(jobs[1:3])}",
        reply.exchange,
    )
    for _ in range(2):  # deleted stays deleted on every later read
        for jid in jobs[:3]:
            read = api.get_job(jid)
            ctx.check(
                "lifecycle.delete",
                read.status == 404,
                f"a deleted job answered {read.status}, not 404",
                read.exchange,
            )
        ctx.pause(0.3)
    removed = api.delete_function(fid)
    ctx.check(
        "lifecycle.delete",
        removed.status == 204,
        f"deleting a function answered {removed.status}, not 204",
        removed.exchange,
    )
    for _ in range(2):
        read = api.get_function(fid)
        ctx.check(
            "lifecycle.delete",
            read.status == 404,
            f"a deleted function answered {read.status}, not 404",
            read.exchange,
        )
        leftover = api.get_job(jobs[3])
        ctx.check(
            "lifecycle.delete",
            leftover.status == 404,
            f"a job of a deleted function answered {leftover.status}, not 404",
            leftover.exchange,
        )
        ctx.pause(0.3)
    for jid in jobs:  # the model forgets deleted jobs
        ctx.session.model.forget_job(jid)
