"""``batch-compute serve`` under uvicorn, on a socket bound before the app is built.

Binding first means ``--port 0`` is resolved to the real port before anything needs the
origin (the app's pre-signed URLs, the banner, ``--port-file``); ``on_ready`` is called once
uvicorn has run the app's start-up and accepts connections, never earlier, and ``on_stopped``
once it has shut down (uvicorn then re-raises SIGINT/SIGTERM, so code after ``run`` may not
run at all).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from .app import create_app
from .settings import Settings
from .testing.http_faults import DROP_CONNECTION

__all__ = ["bind", "run"]

_LOG_FORMAT = "%(levelname)s:  %(name)s: %(message)s"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port), as uvicorn would open it."""
    family, kind, protocol, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except BaseException:
        listener.close()
        raise
    return listener


def run(
    listener: socket.socket,
    settings: Settings,
    *,
    log_level: str,
    on_ready: Callable[[], None],
    on_stopped: Callable[[], None],
) -> None:
    """Serve until SIGINT/SIGTERM; the app's lifespan stops jobs gracefully."""
    level = "DEBUG" if log_level == "trace" else log_level.upper()
    # Everything but uvicorn's own loggers (ours, Connexion's) goes to stderr with its level
    # named, so a real problem is both visible and recognisable in a log.
    logging.basicConfig(level=level, format=_LOG_FORMAT)
    host, port = listener.getsockname()[:2]
    app = _ConnectionDropper(create_app(settings))
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)
    server = _Server(config, on_ready, on_stopped)
    app.server = server
    server.run(sockets=[listener])


class _ConnectionDropper:
    """Gives each request a way to close its own connection at once, without an answer (the
    ``drop`` HTTP fault of the test controls): uvicorn keeps the connection of a request whose
    scope is this very dict."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.server: uvicorn.Server | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("extensions", {})[DROP_CONNECTION] = lambda: self._drop(scope)
        await self.app(scope, receive, send)

    def _drop(self, scope: Scope) -> None:
        connections = self.server.server_state.connections if self.server else ()
        for protocol in list(connections):
            if getattr(protocol, "scope", None) is scope:
                protocol.transport.abort()


class _Server(uvicorn.Server):
    """uvicorn's server, calling back once start-up has succeeded and once it has stopped."""

    def __init__(
        self, config: uvicorn.Config, on_ready: Callable[[], None], on_stopped: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self._on_stopped = on_stopped

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().shutdown(sockets=sockets)
        finally:
            self._on_stopped()
