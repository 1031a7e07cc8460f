"""The ASGI application: the contract (openapi.yaml) served by Connexion over our services."""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import connexion
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api._context import SERVER_KEY
from .connexion_ext.bearer_security import security_map
from .connexion_ext.body_validation import with_request_body_validators
from .connexion_ext.cached_validation import cached_validator_map
from .connexion_ext.decorate_once import AsyncApp
from .connexion_ext.log_validation import validator_map
from .connexion_ext.path_parameters import fold_path_parameters
from .contract import connexion_view, load_contract
from .dashboard import dashboard_routes
from .kernel.errors import DomainError, PayloadTooLarge
from .problems import (
    OUTAGES,
    handle_domain_error,
    handle_http_error,
    handle_outage,
    handle_problem,
)
from .server import Server
from .service.presigned import BUNDLE_UPLOAD_PATH
from .settings import Settings
from .swagger_ui import DIRECTORY as SWAGGER_UI_DIRECTORY
from .testing.http_faults import HttpFaults

__all__ = ["create_app"]


def create_app(settings: Settings, server: Server | None = None) -> AsyncApp:
    """A ready app; its lifespan starts and stops the background work (builds, executor)."""
    server = server or Server.create(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await server.start()
        # What start-up built (the contract, validators, SQL metadata) lives as long as the
        # server: keep it out of the cyclic GC's full collections, which otherwise walk all of
        # it during the first large request (a 1,000-job bulk took twice as long).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await server.stop()

    app = AsyncApp(__name__, lifespan=lifespan, security_map=security_map())
    app.add_api(
        fold_path_parameters(connexion_view()),
        validate_responses=settings.validate_responses,
        strict_validation=False,
        validator_map=with_request_body_validators(cached_validator_map(validator_map())),
        # Connexion would serve its $ref-resolved 3.0 view, which the recursive filter
        # grammar makes circular; /openapi.json serves the contract itself instead, and the
        # page is our vendored Swagger UI 5 (Connexion's 4.x cannot read OpenAPI 3.1).
        swagger_ui_options=connexion.options.SwaggerUIOptions(
            swagger_ui_path="/ui",
            serve_spec=False,
            spec_path="/openapi.json",
            swagger_ui_template_dir=str(SWAGGER_UI_DIRECTORY),
        ),
    )
    app.add_error_handler(DomainError, handle_domain_error)
    app.add_error_handler(ProblemException, handle_problem)
    app.add_error_handler(HTTPException, handle_http_error)
    for outage in OUTAGES:
        app.add_error_handler(outage, handle_outage)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/openapi.json", "openapi_json", _served_contract(settings.public_url))
    for route in dashboard_routes(server):  # the web pages, over the same services
        app.add_url_rule(route.path, route.name, route.endpoint, methods=route.methods)
    app.add_middleware(_ProvideServer, position=MiddlewarePosition.BEFORE_EXCEPTION, server=server)
    app.add_middleware(
        _LimitBodySize,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        default_limit=settings.max_body_bytes,
        limits={
            BUNDLE_UPLOAD_PATH: settings.max_bundle_bytes,
            "/_mock/restore": settings.max_snapshot_bytes,
        },
    )
    if server.controls is not None:
        for path, methods, handler in server.controls.routes():
            app.add_url_rule(path, path, handler, methods=methods)
        app.add_middleware(
            HttpFaults, position=MiddlewarePosition.BEFORE_EXCEPTION, faults=server.controls.faults
        )
    return app


def _served_contract(origin: str) -> Callable[[Any], Awaitable[JSONResponse]]:
    """``/openapi.json``: the contract with this server as its only server, so that clients
    generated from it, and the docs page's "Try it out", reach this server."""
    served = {**load_contract(), "servers": [{"url": origin, "description": "This server."}]}

    async def contract(_request: Any) -> JSONResponse:
        return JSONResponse(served)

    return contract


async def _healthz(request: Any) -> JSONResponse:
    """Ready when the database and the blob store answer and the scheduler's rounds do not
    keep failing (503 with the reasons when not, so a load balancer sends requests elsewhere
    and an operator sees why no job runs), and how jobs are confined here (an operator
    checks it after ``--sandbox auto``), and whether this server runs the scheduler
    (``active``), waits to take over from the one that does (``standby``) or runs no jobs
    (``off``)."""
    server: Server = request.scope["state"][SERVER_KEY]
    problems = await run_in_threadpool(server.problems)
    sandbox = server.settings.sandbox.describe()
    scheduling = server.scheduling
    scheduler = "off" if scheduling is None else "active" if scheduling.active else "standby"
    if problems:
        body = {
            "status": "unavailable",
            "problems": problems,
            "sandbox": sandbox,
            "scheduler": scheduler,
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "sandbox": sandbox, "scheduler": scheduler})


class _ProvideServer:
    """Puts the one ``Server`` into each request's scope state (no globals)."""

    def __init__(self, app: ASGIApp, server: Server) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("state", {})[SERVER_KEY] = self.server
        await self.app(scope, receive, send)


class _LimitBodySize:
    """Refuses bodies over the cap with a 400 before they are buffered in memory.

    A declared ``Content-Length`` over the cap is refused before anything is read; a body of
    unannounced length (chunked) is counted as it arrives, and the read that crosses the cap
    raises ``PayloadTooLarge``, which the error handlers turn into the same 400.
    413 would be the textbook code, but the genuine client crashes on unlisted 4xx codes.
    """

    def __init__(self, app: ASGIApp, default_limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = limits  # path prefix -> its own cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = next(
            (cap for prefix, cap in self.limits.items() if path.startswith(prefix)),
            self.default_limit,
        )
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(_too_large_detail(limit))
            return message

        await self.app(scope, counting_receive, send)


def _too_large_detail(limit: int) -> str:
    return f"The request body is larger than this server accepts ({limit} bytes)."


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Payload too large",
            "status": 400,
            "detail": _too_large_detail(limit),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
