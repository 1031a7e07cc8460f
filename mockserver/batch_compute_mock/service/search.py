"""Searches of functions and jobs: query parameters or a cursor in, a page envelope out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..store import Row, Store
from .functions import job_statistics
from .identity import Identity
from .queries import CursorCodec, parse_query_body, parse_search_params
from .wire import function_to_wire, job_to_wire

__all__ = ["SearchService"]

_PARAMS = ("filter", "sort", "limit", "page_size", "include", "status")


class SearchService:
    def __init__(self, store: Store, cursor_key: bytes) -> None:
        self._store = store
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
        with self._store.read() as store:
            page = store.search_page(query, identity.owner, position)
            if resource == "functions":
                with_statistics = bool(query.include)
                data = [
                    function_to_wire(
                        row, job_statistics(store, row["id"]) if with_statistics else None
                    )
                    for row in page.rows
                ]
            else:
                timings = "timings" in query.include
                data = [job_to_wire(row, timings) for row in page.rows]
        next_cursor = None
        if page.next_position is not None:
            next_cursor = self._codec.encode(query, page.next_position, owner=identity.owner)
        return {
            "meta": {
                "page_cursor": next_cursor,
                "total": page.total,
                "page_size": query.page_size,
            },
            "data": data,
        }

    def matching_jobs(self, identity: Identity, body: Mapping[str, Any]) -> list[Row]:
        """The caller's jobs that a bulk-by-query body selects (sort and limit honoured)."""
        query = parse_query_body("jobs", dict(body))
        with self._store.read() as store:
            return store.matching_rows(query, identity.owner)
