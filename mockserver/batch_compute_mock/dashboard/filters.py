"""The jobs table's filter, order and page, as they travel in a dashboard URL.

``?status=failure&tag=nightly&sort=-runtime&cursor=...`` becomes the API's own search
parameters (``SearchService.page``, the cursors included) and, for the actions on the jobs
it selects, the API's own query body (``SearchService.matching_jobs``): the dashboard shows
and acts on exactly what the API would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from ..kernel.errors import InvalidInput
from ..kernel.query import sortable_names
from ..kernel.states import JobStatus

__all__ = ["DEFAULT_SORT", "JobFilter"]

DEFAULT_SORT = "-creation_date"
_SORTABLE = frozenset(sortable_names("jobs"))
_STATUSES = tuple(status.value for status in JobStatus)


@dataclass(frozen=True)
class JobFilter:
    """A function's jobs table: which jobs (``status``, ``tag``), in what order, which page."""

    status: str = ""
    tag: str = ""
    sort: str = DEFAULT_SORT
    cursor: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> JobFilter:
        """From a page's query string or a form; ``InvalidInput`` names what is wrong."""
        status = params.get("status", "").strip()
        if status and status not in _STATUSES:
            raise InvalidInput(f"status {status!r} is not a job status; use {', '.join(_STATUSES)}")
        sort = params.get("sort", "").strip() or DEFAULT_SORT
        if sort.removeprefix("-") not in _SORTABLE:
            raise InvalidInput(
                f"cannot sort jobs by {sort!r}; use one of {', '.join(sorted(_SORTABLE))}, "
                "optionally prefixed with -"
            )
        return cls(
            status=status,
            tag=params.get("tag", "").strip(),
            sort=sort,
            cursor=params.get("cursor", "").strip(),
        )

    # What the API is asked ---------------------------------------------------------------
    def nodes(self, function_id: str, statuses: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The filter nodes: this function's jobs with the chosen status and tag; with
        ``statuses``, only jobs in one of them too."""
        nodes: list[dict[str, Any]] = [{"name": "function_id", "op": "eq", "val": function_id}]
        if self.status:
            nodes.append({"name": "status", "op": "eq", "val": self.status})
        if self.tag:
            nodes.append({"name": "tags", "op": "eq", "val": self.tag})
        wanted = sorted(set(statuses))
        if wanted:
            nodes.append({"or": [{"name": "status", "op": "eq", "val": s} for s in wanted]})
        return nodes

    def search_params(self, function_id: str, page_size: int) -> dict[str, Any]:
        """``SearchService.page`` parameters of this table's page (its cursor, when it has one:
        the cursor carries the whole query)."""
        if self.cursor:
            return {"page_cursor": self.cursor}
        return {
            "filter": json.dumps(self.nodes(function_id)),
            "sort": self.sort,
            "page_size": str(page_size),
        }

    def count_params(self, function_id: str, statuses: Iterable[str] = ()) -> dict[str, Any]:
        """``SearchService.page`` parameters that count the matches (``limit=0``)."""
        return {"filter": json.dumps(self.nodes(function_id, statuses)), "limit": "0"}

    def query_body(self, function_id: str, statuses: Iterable[str] = ()) -> dict[str, Any]:
        """The body of ``POST /jobs/cancel|rerun|delete`` selecting these jobs."""
        return {"filter": self.nodes(function_id, statuses)}

    # Links ---------------------------------------------------------------------------------
    def query_string(self, **changes: str) -> str:
        """``?status=...`` for this filter with ``changes``; default values are left out."""
        changed = replace(self, **changes)
        pairs = {
            "status": changed.status,
            "tag": changed.tag,
            "sort": "" if changed.sort == DEFAULT_SORT else changed.sort,
            "cursor": changed.cursor,
        }
        text = urlencode({key: value for key, value in pairs.items() if value})
        return f"?{text}" if text else ""

    def sorted_by(self, column: str) -> str:
        """The query string that sorts by ``column`` (descending first; again: ascending)."""
        sort = column if self.sort == f"-{column}" else f"-{column}"
        return self.query_string(sort=sort, cursor="")

    def direction(self, column: str) -> str:
        """``ascending``, ``descending`` or ``""``: how the table is sorted by ``column``."""
        if self.sort == column:
            return "ascending"
        return "descending" if self.sort == f"-{column}" else ""

    @property
    def description(self) -> str:
        """The filter in words, e.g. ``status = failure, tag = nightly`` (``all jobs``)."""
        parts = [f"status = {self.status}"] if self.status else []
        if self.tag:
            parts.append(f"tag = {self.tag}")
        return ", ".join(parts) or "all jobs"
