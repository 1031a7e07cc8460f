"""Handlers for the ``jobs`` tag: unpack the request, call one service, return."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..kernel.errors import InvalidInput
from ._context import caller, server
from ._params import JsonBody, json_body, truthy

__all__ = [
    "cancel_job",
    "cancel_jobs",
    "create_job",
    "create_jobs_bulk",
    "delete_job",
    "delete_jobs",
    "get_job",
    "get_job_log",
    "rerun_jobs",
    "search_jobs",
    "update_job",
]


def search_jobs(
    token_info: dict[str, Any],
    filter: Any = None,
    sort: Any = None,
    limit: Any = None,
    page_size: Any = None,
    include: Any = None,
    page_cursor: Any = None,
    status: Any = None,
    function_id: Any = None,
) -> JsonBody:
    # By name, not **params: see search_functions.
    params = {
        "filter": filter,
        "sort": sort,
        "limit": limit,
        "page_size": page_size,
        "include": include,
        "page_cursor": page_cursor,
        "status": status,
        "function_id": function_id,
    }
    return json_body(server().search.page(caller(token_info), "jobs", params))


def create_job(token_info: dict[str, Any], body: dict[str, Any]) -> JsonBody:
    return json_body(server().jobs.create(caller(token_info), body), 201)


def create_jobs_bulk(token_info: dict[str, Any], body: dict[str, Any]) -> JsonBody:
    return json_body(server().jobs.create_bulk(caller(token_info), body), 201)


async def get_job(
    token_info: dict[str, Any], job_id: str, include: list[str] | None = None
) -> JsonBody:
    # On the event loop: one primary-key read costs less than the hop to a worker thread.
    return json_body(server().jobs.get(caller(token_info), job_id, include))


def update_job(token_info: dict[str, Any], job_id: str, body: dict[str, Any]) -> JsonBody:
    return json_body(server().jobs.update(caller(token_info), job_id, body))


def delete_job(
    token_info: dict[str, Any], job_id: str, delete_results: str | None = None
) -> tuple[None, int]:
    server().jobs.delete(caller(token_info), job_id, truthy(delete_results))
    return None, 204


def cancel_job(token_info: dict[str, Any], job_id: str) -> JsonBody:
    return json_body(server().jobs.cancel(caller(token_info), job_id))


def get_job_log(token_info: dict[str, Any], job_id: str) -> Response:
    log = server().jobs.log(caller(token_info), job_id)
    return Response(log, media_type="application/x-ndjson")


def cancel_jobs(token_info: dict[str, Any], body: Any = None) -> JsonBody:
    identity = caller(token_info)
    body = _query_body(body)
    matches = server().search.matching_jobs(identity, body)
    return json_body(server().jobs.cancel_matching(identity, matches))


def rerun_jobs(token_info: dict[str, Any], body: Any = None) -> JsonBody:
    identity = caller(token_info)
    body = _query_body(body)
    matches = server().search.matching_jobs(identity, body)
    return json_body(server().jobs.rerun_matching(identity, matches))


def delete_jobs(token_info: dict[str, Any], body: Any = None) -> JsonBody:
    identity = caller(token_info)
    body = _query_body(body)
    matches = server().search.matching_jobs(identity, body)
    return json_body(
        server().jobs.delete_matching(identity, matches, bool(body.get("delete_results")))
    )


def _query_body(body: Any) -> dict[str, Any]:
    """An absent or empty body means ``{}``; without a JSON content type Connexion hands over
    the raw bytes (or the schema default, serialized), which are parsed here."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body) if body.strip() else {}
        except ValueError:
            raise InvalidInput("The body is not valid JSON.") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    return body
