"""Connexion's bearer security check without its per-request signature inspection.

Connexion's stock handler calls ``inspect.signature`` on ``x-bearerInfoFunc`` twice per
request to decide whether to pass ``request`` and ``required_scopes``; that was about a tenth
of a cheap GET. The answer never changes, so this handler works it out once per operation.
Everything else (which header is read, ``NO_VALUE`` for other schemes, the 401 when the
function returns ``None``) is Connexion's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from connexion.exceptions import OAuthResponseProblem
from connexion.security import NO_VALUE, BearerSecurityHandler

__all__ = ["InspectOnceBearerHandler", "security_map"]


class InspectOnceBearerHandler(BearerSecurityHandler):
    """``BearerSecurityHandler`` whose wrapper knows the function's keywords up front."""

    def _generic_check(
        self, func: Callable[..., Any], exception_msg: str
    ) -> Callable[..., Awaitable[Any]]:
        pass_scopes = self._accepts_kwarg(func, self.required_scopes_kw)
        pass_request = self._accepts_kwarg(func, self.request_kw)
        scopes_kw, request_kw = self.required_scopes_kw, self.request_kw

        async def wrapper(request: Any, *args: Any, required_scopes: Any = None) -> Any:
            kwargs: dict[str, Any] = {}
            if pass_scopes:
                kwargs[scopes_kw] = required_scopes
            if pass_request:
                kwargs[request_kw] = request
            token_info = func(*args, **kwargs)
            while asyncio.iscoroutine(token_info):
                token_info = await token_info
            if token_info is NO_VALUE:
                return NO_VALUE
            if token_info is None:
                raise OAuthResponseProblem(detail=exception_msg)
            return token_info

        return wrapper


def security_map() -> dict[str, type[BearerSecurityHandler]]:
    """For ``AsyncApp(security_map=...)``: HTTP bearer schemes use the handler above."""
    return {"bearer": InspectOnceBearerHandler}
