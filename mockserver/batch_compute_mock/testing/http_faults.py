"""HTTP faults on the contract's operations: a status instead of the answer, a delay, or a
connection closed without an answer (see ``faults``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from ..contract import operation_id
from .faults import FaultBook

__all__ = ["DROP_CONNECTION", "HttpFaults"]

#: Where the server puts, into each request's scope, how to close that request's connection
#: at once (``serving`` does, under uvicorn; without it a drop ends the response half-sent).
DROP_CONNECTION = "batch_compute.drop_connection"


class HttpFaults:
    """The outermost middleware while test controls are on."""

    def __init__(self, app: ASGIApp, faults: FaultBook) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        operation = operation_id(scope["method"], scope["path"])
        fault = self.faults.http_fault(operation) if operation is not None else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.drop:
            drop: Callable[[], None] | None = scope.get("extensions", {}).get(DROP_CONNECTION)
            if drop is not None:
                drop()
                return
            # No connection to close (in-process): promise a body and never send it.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1")],
                }
            )
            return
        if fault.status is not None:
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Injected fault",
                    "status": fault.status,
                    "detail": f"A test control answered {operation} with {fault.status}.",
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": fault.status,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
