"""Handlers for the ``functions`` tag: unpack the request, call one service, return."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ._context import caller, server
from ._params import JsonBody, json_body, truthy

__all__ = [
    "complete_function_bundle",
    "create_function",
    "delete_function",
    "get_function",
    "get_function_build_log",
    "search_functions",
    "update_function",
]


def search_functions(
    token_info: dict[str, Any],
    filter: Any = None,
    sort: Any = None,
    limit: Any = None,
    page_size: Any = None,
    include: Any = None,
    page_cursor: Any = None,
    status: Any = None,
) -> JsonBody:
    # The contract's parameters by name, not **params: Connexion hands a handler that takes
    # **kwargs every query parameter and logs an error for each one the contract lacks.
    params = {
        "filter": filter,
        "sort": sort,
        "limit": limit,
        "page_size": page_size,
        "include": include,
        "page_cursor": page_cursor,
        "status": status,
    }
    return json_body(server().search.page(caller(token_info), "functions", params))


def create_function(token_info: dict[str, Any], body: dict[str, Any]) -> JsonBody:
    return json_body(server().functions.create(caller(token_info), body), 201)


def get_function(
    token_info: dict[str, Any], function_id: str, include: list[str] | None = None
) -> JsonBody:
    return json_body(server().functions.get(caller(token_info), function_id, include))


def update_function(token_info: dict[str, Any], function_id: str, body: dict[str, Any]) -> JsonBody:
    return json_body(server().functions.update(caller(token_info), function_id, body))


def delete_function(
    token_info: dict[str, Any], function_id: str, delete_results: str | None = None
) -> tuple[None, int]:
    server().functions.delete(caller(token_info), function_id, truthy(delete_results))
    return None, 204


def complete_function_bundle(token_info: dict[str, Any], function_id: str) -> JsonBody:
    return json_body(server().functions.complete_bundle(caller(token_info), function_id))


def get_function_build_log(token_info: dict[str, Any], function_id: str) -> Response:
    # Gzip bytes without Content-Encoding: the genuine client gunzips the body itself.
    log = server().functions.build_log(caller(token_info), function_id)
    return Response(log, media_type="application/gzip")
