"""Connexion's ``AsyncApp`` with each handler wrapped once, not once per request.

Connexion 3.3's ``AsyncOperation.fn`` builds a new ``StarletteDecorator`` and re-wraps the
handler (parameter and response decorators, an ``inspect.signature`` of the handler) on every
request. The wrapping depends only on the handler: the wrappers read the request, the
operation and the body from Connexion's context when they are called. So each operation
wraps its handler on first use and keeps it; what a handler receives and returns is
unchanged. This leans on Connexion internals (``AsyncApi``, ``AsyncOperation``); the server
tests exercise every operation through it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import connexion
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator

__all__ = ["AsyncApp"]


class _WrapOnce(StarletteDecorator):
    """``StarletteDecorator`` whose per-request wrapper reuses one decorated handler."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        decorated = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*_args: Any, **_kwargs: Any) -> Any:
            request = self.framework.get_request(
                uri_parser=self.uri_parser, scope=scope, receive=receive
            )
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> Callable[..., Awaitable[Any]]:  # type: ignore[override]
        wrap = _WrapOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return wrap(self._fn)


class _Api(AsyncApi):
    def make_operation(self, operation: Any) -> AsyncOperation:
        return _Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class AsyncApp(connexion.AsyncApp):
    """``connexion.AsyncApp`` whose APIs (added after construction) wrap handlers once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._middleware_app.api_cls = _Api
