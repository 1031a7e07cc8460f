"""What a person can do from a function's page, each behind a confirmation page: start or
stop the function, enable or disable it, and cancel, rerun or delete the jobs that match the
jobs table's current filter.

The confirmation page (``GET .../confirm/{action}``) says what will happen and to how many
jobs; its form (``POST .../{action}``, with the session's CSRF token) does it through the
API's own service calls: ``FunctionService.update`` for the function, and
``SearchService.matching_jobs`` then ``JobService.cancel_matching`` / ``rerun_matching`` /
``delete_matching`` for the jobs, as ``POST /jobs/cancel|rerun|delete`` do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..kernel.errors import NotFound
from ..kernel.states import ACTIVE_JOB_STATUSES, JobEdge, JobStatus
from ..server import Server
from .access import Access, Visit
from .filters import JobFilter
from .rendering import Renderer

__all__ = ["ACTIONS", "FUNCTION_ACTIONS", "JOB_ACTIONS", "Action", "Actions"]


@dataclass(frozen=True)
class Action:
    """One action: ``statuses`` are the job statuses it affects (job actions only)."""

    name: str
    label: str  #: the button
    question: str  #: the confirmation page's heading
    statuses: frozenset[str] = frozenset()
    danger: bool = False
    detail: str = ""  #: what happens to which jobs, in words

    @property
    def on_jobs(self) -> bool:
        return bool(self.statuses)


_CANCELABLE = JobEdge.CANCEL_PENDING.sources | JobEdge.ASK_CANCEL.sources
_DELETABLE = frozenset(JobStatus) - ACTIVE_JOB_STATUSES
ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("start", "Start", "Start this function? Its pending jobs will run."),
        Action("stop", "Stop", "Stop this function? Pending jobs wait until it is started."),
        Action("enable", "Enable", "Enable this function? It will accept new jobs."),
        Action("disable", "Disable", "Disable this function? It will refuse new jobs."),
        Action(
            "cancel",
            "Cancel jobs",
            "Cancel the matching jobs?",
            statuses=_CANCELABLE,
            danger=True,
            detail="Pending jobs are canceled at once; running ones are stopped.",
        ),
        Action(
            "rerun",
            "Rerun jobs",
            "Rerun the matching jobs?",
            statuses=JobEdge.RERUN.sources,
            detail="Jobs that failed, timed out or were canceled run again from the start.",
        ),
        Action(
            "delete",
            "Delete jobs",
            "Delete the matching jobs?",
            statuses=_DELETABLE,
            danger=True,
            detail="Running jobs are left alone; cancel them first to delete them.",
        ),
    )
}
FUNCTION_ACTIONS = ("start", "stop", "enable", "disable")
JOB_ACTIONS = ("cancel", "rerun", "delete")
_FUNCTION_CHANGES: dict[str, dict[str, Any]] = {
    "start": {"status": "ready"},
    "stop": {"status": "stopped"},
    "enable": {"enabled": True},
    "disable": {"enabled": False},
}


class Actions:
    def __init__(self, server: Server, renderer: Renderer) -> None:
        self._server = server
        self._renderer = renderer

    def confirm(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        action, function_id = _action(request)
        function = self._server.functions.get(visit.identity, function_id, None)
        jobs_filter = JobFilter.from_params(request.query_params)
        affected = None
        if action.on_jobs:
            params = jobs_filter.count_params(function_id, action.statuses)
            affected = self._server.search.page(visit.identity, "jobs", params)["meta"]["total"]
        back = f"/dashboard/functions/{function_id}" + jobs_filter.query_string(cursor="")
        context = {
            "title": action.question,
            "visit": visit,
            "live_url": "",
            "action": action,
            "function": function,
            "filter": jobs_filter,
            "affected": affected,
            "affected_statuses": sorted(action.statuses),
            "back": back,
            "post_to": f"/dashboard/functions/{function_id}/{action.name}",
        }
        return self._renderer.page("confirm.html", context)

    def perform(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        Access.check_form(visit, form)
        action, function_id = _action(request)
        identity = visit.identity
        jobs_filter = JobFilter.from_params(
            {"status": form.get("status", ""), "tag": form.get("tag", "")}
        )
        count = 0
        if not action.on_jobs:
            self._server.functions.update(identity, function_id, _FUNCTION_CHANGES[action.name])
        else:
            self._server.functions.get(identity, function_id, None)  # another owner's: 404
            body = jobs_filter.query_body(function_id, action.statuses)
            matches = self._server.search.matching_jobs(identity, body)
            jobs = self._server.jobs
            if action.name == "cancel":
                count = len(jobs.cancel_matching(identity, matches))
            elif action.name == "rerun":
                count = len(jobs.rerun_matching(identity, matches))
            else:
                delete_results = form.get("delete_results") == "yes"
                count = len(jobs.delete_matching(identity, matches, delete_results))
        back = {"status": jobs_filter.status, "tag": jobs_filter.tag}
        done = {**{k: v for k, v in back.items() if v}, "done": action.name, "count": str(count)}
        return RedirectResponse(f"/dashboard/functions/{function_id}?{urlencode(done)}", 303)


def _action(request: Request) -> tuple[Action, str]:
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        raise NotFound(f"There is no action {request.path_params['action']!r} on functions.")
    return action, request.path_params["function_id"]
