"""The dashboard's URLs, and what every one of them does around its page: find who is
signed in, check the form's CSRF token, turn the services' errors into pages, add the
security headers.

    /dashboard/                                   the functions (search by name, paged)
    /dashboard/signin, /dashboard/signout         a session from a bearer token
    /dashboard/functions/{id}                     a function, its charts, its jobs table
    /dashboard/functions/{id}/confirm/{action}    what an action will do; its form POSTs to
    /dashboard/functions/{id}/{action}            start, stop, enable, disable, cancel, rerun,
                                                  delete
    /dashboard/jobs/{id}                          a job, its log, its result
    /dashboard/jobs/{id}/log.txt, .../result      downloads
    /dashboard/static/{name}                      the stylesheet and the script

Handlers are plain functions run in a worker thread (the services are synchronous).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..kernel.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from ..server import Server
from .access import HOME, Access, SignInFirst, Visit, sign_in_url
from .actions import Actions
from .pages import Pages
from .rendering import SECURITY_HEADERS, Renderer

__all__ = ["dashboard_routes"]

Form = Mapping[str, str]
Handler = Callable[[Request, Visit, Form], Response]
Endpoint = Callable[[Request], Awaitable[Response]]

_ERROR_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    InvalidInput: 400,
}


def dashboard_routes(server: Server) -> list[Route]:
    """Every route of the dashboard, for the app's router."""
    return _Dashboard(server).routes()


class _Dashboard:
    def __init__(self, server: Server) -> None:
        self._renderer = Renderer()
        self._access = Access(server, self._renderer)
        self._pages = Pages(server, self._renderer)
        self._actions = Actions(server, self._renderer)

    def routes(self) -> list[Route]:
        pages, actions = self._pages, self._actions
        get, post = ["GET"], ["POST"]
        return [
            Route("/dashboard", _to_home, methods=get),
            Route("/dashboard/", self._signed_in(pages.functions), methods=get),
            Route("/dashboard/signin", self._signin, methods=["GET", "POST"]),
            Route("/dashboard/signout", self._signed_in(self._access.signout), methods=post),
            Route("/dashboard/static/{name}", self._static, methods=get),
            Route(
                "/dashboard/functions/{function_id}", self._signed_in(pages.function), methods=get
            ),
            Route(
                "/dashboard/functions/{function_id}/confirm/{action}",
                self._signed_in(actions.confirm),
                methods=get,
            ),
            Route(
                "/dashboard/functions/{function_id}/{action}",
                self._signed_in(actions.perform),
                methods=post,
            ),
            Route("/dashboard/jobs/{job_id}", self._signed_in(pages.job), methods=get),
            Route("/dashboard/jobs/{job_id}/log.txt", self._signed_in(pages.job_log), methods=get),
            Route(
                "/dashboard/jobs/{job_id}/result", self._signed_in(pages.job_result), methods=get
            ),
            Route("/dashboard/{rest:path}", self._signed_in(_no_such_page), methods=get),
        ]

    # Around every page ---------------------------------------------------------------------
    def _signed_in(self, handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            form = await _form(request)
            return await run_in_threadpool(self._respond, handler, request, form)

        return endpoint

    def _respond(self, handler: Handler, request: Request, form: Form) -> Response:
        visit: Visit | None = None
        try:
            visit = self._access.visit(request)
            response = handler(request, visit, form)
        except SignInFirst:
            response = self._sign_in_first(request)
        except DomainError as error:
            response = self._error_page(visit, error)
        return _secured(response)

    async def _signin(self, request: Request) -> Response:
        form = await _form(request)
        response = await run_in_threadpool(self._access.signin, request, form)
        return _secured(response)

    async def _static(self, request: Request) -> Response:
        response = self._renderer.static(request.path_params["name"])
        if response is None:
            response = self._error_page(None, NotFound("There is no such file."))
        return _secured(response)

    def _sign_in_first(self, request: Request) -> Response:
        if request.query_params.get("part"):
            # A page's script polling: it reloads the page, which goes to the sign-in form.
            return JSONResponse({"detail": "Sign in again."}, 401)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(sign_in_url(here if request.method == "GET" else HOME), 303)

    def _error_page(self, visit: Visit | None, error: DomainError) -> Response:
        status = next((code for cls, code in _ERROR_STATUS.items() if isinstance(error, cls)), 400)
        context = {
            "title": HTTPStatus(status).phrase,
            "visit": visit,
            "live_url": "",
            "message": error.detail,
            "status": status,
        }
        return self._renderer.page("error.html", context, status)


async def _form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    form = await request.form()
    try:
        return {key: value for key, value in form.items() if isinstance(value, str)}
    finally:
        await form.close()


def _no_such_page(request: Request, visit: Visit, form: Form) -> Response:
    raise NotFound(f"There is no dashboard page at {request.url.path}.")


async def _to_home(request: Request) -> Response:
    return _secured(RedirectResponse(HOME, 308))


def _secured(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
