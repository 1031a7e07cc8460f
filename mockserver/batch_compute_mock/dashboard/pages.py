"""The pages people look at: the functions, one function, one job (and its log and result).

Each page asks the services exactly what the API's handlers ask them, for the signed-in
``Identity``: another owner's function or job is ``NotFound`` here as it is there. Lists use
the API's searches and cursors (``SearchService.page``), so a page costs what one API page
costs, at 100 jobs or at 100,000.

A page that shows work going on names a ``live_url`` (the page's own URL with
``part=live``); its script polls it and swaps in the parts that changed.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..kernel.states import TERMINAL_JOB_STATUSES, FunctionStatus, JobStatus
from ..server import Server
from . import views
from .access import Visit
from .actions import ACTIONS, FUNCTION_ACTIONS, JOB_ACTIONS
from .charts import minutes_chart, runtimes_chart, status_bar
from .filters import DEFAULT_SORT, JobFilter
from .rendering import Renderer

__all__ = ["Pages"]

FUNCTIONS_PER_PAGE = 25
JOBS_PER_PAGE = 50
#: A job page shows the log's last MiB (the rest is a download away) and each poll of a
#: running job's page brings at most this much more.
LOG_BYTES = 1 << 20
#: A result is previewed up to this size; any result can be downloaded.
PREVIEW_BYTES = 64 * 1024
#: Milliseconds between polls while work goes on, and while it does not (0: stop).
LIVE_EVERY, IDLE_EVERY = 2000, 10000
JOB_LIVE_EVERY = 1000
_STATUSES = [status.value for status in JobStatus]
_NOTICES = {
    "start": "Started the function: its pending jobs run.",
    "stop": "Stopped the function: its pending jobs wait until it is started.",
    "enable": "Enabled the function: it accepts new jobs.",
    "disable": "Disabled the function: it refuses new jobs.",
    "cancel": "Canceled {count} job(s) (running ones stop shortly).",
    "rerun": "Queued {count} job(s) to run again.",
    "delete": "Deleted {count} job(s).",
}


class Pages:
    def __init__(self, server: Server, renderer: Renderer) -> None:
        self._server = server
        self._renderer = renderer

    # The functions -------------------------------------------------------------------------
    def functions(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        query = request.query_params
        search = query.get("q", "").strip()
        cursor = query.get("cursor", "").strip()
        params: dict[str, Any] = {
            "sort": "-creation_date",
            "include": ["job.statistics"],
            "page_size": str(FUNCTIONS_PER_PAGE),
        }
        if search:
            pattern = f"%{_like_literal(search)}%"
            params["filter"] = json.dumps([{"name": "name", "op": "ilike", "val": pattern}])
        if cursor:
            params = {"page_cursor": cursor}
        page = self._server.search.page(visit.identity, "functions", params)
        rows = [_function_row(function) for function in page["data"]]
        next_cursor = page["meta"]["page_cursor"]
        context = {
            "functions": rows,
            "total": page["meta"]["total"],
            "search": search,
            "first_page": _link("/dashboard/", q=search),
            "next_page": _link("/dashboard/", q=search, cursor=next_cursor) if next_cursor else "",
            "paged": bool(cursor),
        }
        live = any(row["live"] for row in rows)
        if query.get("part") == "live":
            return self._renderer.live(live, {"functions-list": ("_functions_list.html", context)})
        return self._page(request, visit, "functions.html", "Functions", context, live)

    # One function --------------------------------------------------------------------------
    def function(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        function_id = request.path_params["function_id"]
        jobs_filter = JobFilter.from_params(request.query_params)
        summary = self._function_summary(visit, function_id)
        table = self._jobs_table(visit, function_id, jobs_filter)
        context = {**summary, **table, "visit": visit}
        if request.query_params.get("part") == "live":
            return self._renderer.live(
                summary["live"],
                {
                    "function-summary": ("_function_summary.html", context),
                    "function-jobs": ("_jobs_table.html", context),
                },
            )
        notice = _NOTICES.get(request.query_params.get("done", ""), "")
        count = request.query_params.get("count", "")
        context["notice"] = notice.format(count=f"{int(count):,}" if count.isdigit() else "some")
        context["job_actions"] = [ACTIONS[name] for name in JOB_ACTIONS]
        title = summary["function"]["name"]
        return self._page(request, visit, "function.html", title, context, summary["live"])

    def _function_summary(self, visit: Visit, function_id: str) -> dict[str, Any]:
        server = self._server
        function = server.functions.get(visit.identity, function_id, ["job.statistics"])
        activity = server.activity.of_function(visit.identity, function_id)
        build_log = gzip.decompress(server.functions.build_log(visit.identity, function_id))
        log_text = build_log.decode("utf-8", "replace")
        row = _function_row(function)
        status = function["status"]
        actions = [
            name
            for name in FUNCTION_ACTIONS
            if (name == "start" and status == FunctionStatus.STOPPED)
            or (name == "stop" and status == FunctionStatus.READY)
            or (name == "enable" and not function["enabled"])
            or (name == "disable" and function["enabled"])
        ]
        return {
            "function": function,
            "row": row,
            "live": row["live"],
            "function_actions": [ACTIONS[name] for name in actions],
            "build_log": log_text,
            "python": server.functions.python_of(visit.identity, function_id),
            "build_failure": views.build_failure(log_text)
            if status == FunctionStatus.BUILD_FAILED
            else None,
            "minutes_chart": minutes_chart(activity.minutes),
            "runtimes_chart": runtimes_chart(activity.runtimes),
        }

    def _jobs_table(self, visit: Visit, function_id: str, jobs_filter: JobFilter) -> dict:
        params = jobs_filter.search_params(function_id, JOBS_PER_PAGE)
        page = self._server.search.page(visit.identity, "jobs", params)
        next_cursor = page["meta"]["page_cursor"]
        base = f"/dashboard/functions/{function_id}"
        return {
            "jobs": page["data"],
            "jobs_total": page["meta"]["total"],
            "filter": jobs_filter,
            "statuses": _STATUSES,
            "default_sort": DEFAULT_SORT,
            "base": base,
            "next_page": base + jobs_filter.query_string(cursor=next_cursor) if next_cursor else "",
            "first_page": base + jobs_filter.query_string(cursor="") if jobs_filter.cursor else "",
        }

    # One job -------------------------------------------------------------------------------
    def job(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        job_id = request.path_params["job_id"]
        details = self._job_details(visit, job_id)
        job = details["job"]
        query = request.query_params
        if query.get("part") == "live":
            attempt = query.get("attempt", "")
            offset = query.get("offset", "")
            same_attempt = attempt == str(job["execution_count"]) and offset.isdigit()
            window = self._server.jobs.log_window(
                visit.identity, job_id, int(offset) if same_attempt else None, LOG_BYTES
            )
            lines = views.log_lines(window.data)
            return self._renderer.live(
                details["live"],
                {"job-details": ("_job_details.html", details)},
                log={
                    "reset": window.restarted or not same_attempt,
                    "offset": window.end,
                    "attempt": job["execution_count"],
                    "html": self._renderer.render("_log_lines.html", {"lines": lines}),
                },
            )
        window = self._server.jobs.log_window(visit.identity, job_id, None, LOG_BYTES)
        context = {
            **details,
            "log_lines": views.log_lines(window.data),
            "log_window": window,
        }
        title = f"Job {job_id}"
        return self._page(
            request, visit, "job.html", title, context, details["live"], JOB_LIVE_EVERY, 0
        )

    def _job_details(self, visit: Visit, job_id: str) -> dict[str, Any]:
        server = self._server
        job = server.jobs.get(visit.identity, job_id, ["timings"])
        function = server.functions.get(visit.identity, job["function_id"], None)
        result = server.results.job_result(visit.identity, job_id)
        shown = None
        if result is not None:
            data = server.results.job_result_data(visit.identity, job_id, PREVIEW_BYTES)
            shown = views.preview(data, result["size_bytes"], PREVIEW_BYTES)
        return {
            "job": job,
            "function": function,
            "result": result,
            "preview": shown,
            "live": job["status"] not in TERMINAL_JOB_STATUSES,
            "statistics": _statistics(job["statistics"]),
        }

    def job_log(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        """The whole log as text, one ``date  line`` per line."""
        data = self._server.jobs.log(visit.identity, request.path_params["job_id"])
        text = "".join(f"{line.date}  {line.text}\n" for line in views.log_lines(data))
        return PlainTextResponse(text, headers={"Cache-Control": "no-store"})

    def job_result(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        """The result's bytes, as a download."""
        job_id = request.path_params["job_id"]
        data = self._server.results.job_result_data(visit.identity, job_id)
        filename = re.sub(r"[^A-Za-z0-9_.-]", "_", job_id) + ".result"
        return Response(
            data,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )

    # --------------------------------------------------------------------------------------
    def _page(
        self,
        request: Request,
        visit: Visit,
        template: str,
        title: str,
        context: Mapping[str, Any],
        live: bool,
        live_every: int = LIVE_EVERY,
        idle_every: int = IDLE_EVERY,
    ) -> Response:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _ONE_OFF]
        live_url = f"{request.url.path}?{urlencode([*kept, ('part', 'live')])}"
        page = {
            "title": title,
            "visit": visit,
            "live": live,
            "live_url": live_url,
            "live_every": live_every,
            "idle_every": idle_every,
        }
        return self._renderer.page(template, {**context, **page})


_ONE_OFF = frozenset({"done", "count", "part"})


def _function_row(function: Mapping[str, Any]) -> dict[str, Any]:
    """A function with its job counts grouped for display, and whether work goes on."""
    counts = views.group_counts(function.get("job_statistics") or {})
    active = any(count for group, count in counts if group in views.ACTIVE_JOB_GROUPS)
    return {
        "function": function,
        "counts": counts,
        "bar": status_bar(counts),
        "jobs": sum(count for _, count in counts),
        "live": active or function["status"] == FunctionStatus.BUILDING,
    }


def _statistics(statistics: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The figures of a job's statistics a person reads first."""
    if not statistics:
        return []
    cpu = statistics.get("cpu") or {}
    memory = statistics.get("memory") or {}
    network = statistics.get("network") or {}
    shown = []
    if cpu.get("time") is not None:
        shown.append(("CPU time", f"{cpu['time'] / 1e9:.3f} s"))
    if cpu.get("total") is not None:
        shown.append(("CPU usage", f"{cpu['total']} %"))
    if memory.get("peak_bytes") is not None:
        shown.append(("Peak memory", views.byte_size(memory["peak_bytes"])))
    for key, label in (("rx_bytes", "Network in"), ("tx_bytes", "Network out")):
        if network.get(key) is not None:
            shown.append((label, views.byte_size(network[key])))
    return shown


def _like_literal(text: str) -> str:
    """``text`` matched literally by ``ilike`` (its wildcards and escape escaped)."""
    return re.sub(r"([\\%_])", r"\\\1", text)


def _link(path: str, **params: str) -> str:
    kept = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path
