"""Searches of functions and jobs: query parameters or a cursor in, a page envelope out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..identity import Identity
from ..store import search as store_search
from ..store.engine import Database
from .functions import job_statistics
from .queries import CursorCodec, parse_query_body, parse_search_params
from .wire import function_to_wire, job_to_wire

__all__ = ["SearchService"]

_PARAMS = ("filter", "sort", "limit", "page_size", "include", "status")


class SearchService:
    def __init__(self, db: Database, cursor_key: bytes) -> None:
        self._db = db
        self._codec = CursorCodec(cursor_key)

    def page(self, identity: Identity, resource: str, params: Mapping[str, Any]) -> dict:
        """One page; with ``page_cursor`` every other parameter is ignored (the client
        sends the cursor alone, so it carries the whole query)."""
        cursor = params.get("page_cursor")
        if cursor:
            query, position = self._codec.decode(cursor, resource, owner=identity.owner)
        else:
            wanted = {name: params.get(name) for name in _PARAMS}
            if resource == "jobs":
                wanted["function_id"] = params.get("function_id")
            query, position = parse_search_params(resource, **wanted), None
        with self._db.read() as conn:
            page = store_search.search_page(conn, query, identity.owner, position, self._codec)
            if resource == "functions":
                with_statistics = bool(query.include)
                data = [
                    function_to_wire(
                        row, job_statistics(conn, row["id"]) if with_statistics else None
                    )
                    for row in page.rows
                ]
            else:
                timings = "timings" in query.include
                data = [job_to_wire(row, timings) for row in page.rows]
        return {
            "meta": {
                "page_cursor": page.next_cursor,
                "total": page.total,
                "page_size": query.page_size,
            },
            "data": data,
        }

    def matching_jobs(self, identity: Identity, body: Mapping[str, Any]) -> list[Any]:
        """The caller's jobs that a bulk-by-query body selects (sort and limit honoured)."""
        query = parse_query_body("jobs", dict(body))
        with self._db.read() as conn:
            return store_search.matching_rows(conn, query, identity.owner)
