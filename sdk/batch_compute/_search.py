"""Lazy, immutable searches over functions and jobs.

Every builder method returns a new ``Search`` (an evolved copy), so a base query can be shared
and refined without surprises. Nothing is sent until the search is iterated, counted or
collected; a filter on a non-filterable attribute or a sort on a non-sortable one fails at
build time, before any request. Follow-up pages send only the server's cursor, which carries
the whole query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

import attrs

from ._client import ComputeClient
from ._filters import Attribute, Expression, Sort

if TYPE_CHECKING:
    from ._job import Job

__all__ = ["Collection", "JobSearch", "Search", "SearchableDocument"]


class SearchableDocument(Protocol):
    """What a document class offers to searches."""

    _attribute_names: tuple[str, ...]

    @classmethod
    def _from_wire(cls, data: dict[str, Any], client: ComputeClient) -> Any: ...


D = TypeVar("D")


class Collection(list[D], Generic[D]):
    """The materialised result of a search: a list with a readable repr."""

    def __repr__(self) -> str:
        return f"Collection({list.__repr__(self)})"


def _check_expression(document: type, expression: Expression) -> None:
    """Fail early on filters the server would refuse: unknown or non-filterable attributes."""
    if not isinstance(expression, Expression):
        raise ValueError(f"not a filter expression: {expression!r}")
    for node in _leaves(expression):
        attribute = getattr(document, node.name, None)
        if not isinstance(attribute, Attribute) or not attribute.filterable:
            raise ValueError(f"cannot filter {document.__name__} on {node.name!r}")


def _leaves(expression: Expression) -> Iterator[Any]:
    items = getattr(expression, "items", None)
    if items is None:
        yield expression
        return
    for item in items:
        yield from _leaves(item)


def _sort_key(document: type, key: Attribute[Any] | Sort | str) -> str:
    if isinstance(key, Attribute):
        key = Sort(key.name)
    elif isinstance(key, str):
        key = Sort(key.lstrip("-"), descending=key.startswith("-"))
    if not isinstance(key, Sort):
        raise ValueError(f"not a sort key: {key!r}")
    attribute = getattr(document, key.name, None)
    if not isinstance(attribute, Attribute) or not attribute.sortable:
        raise ValueError(f"cannot sort {document.__name__} by {key.name!r}")
    return key.to_wire()


@attrs.frozen(init=False)
class Search(Generic[D]):
    """A search request that iterates over its results across pages.

    ``Search(Function, client)`` lists everything; ``filter``, ``sort``, ``limit`` and ``param``
    return refined copies.
    """

    document: type[D]
    client: ComputeClient
    url: str
    filters: tuple[Expression, ...] = ()
    sorts: tuple[str, ...] = ()
    max_results: int | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict)

    def __init__(
        self,
        document: type[D],
        client: ComputeClient | None = None,
        url: str | None = None,
        **params: Any,
    ) -> None:
        kind = url or ("jobs" if document.__name__ == "Job" else "functions")
        self.__attrs_init__(
            document, client or ComputeClient.get_default_client(), kind.strip("/"),
            params=dict(params),
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.document.__name__} {self._query()}>"

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (attrs.evolve would go through the public ``__init__``)."""
        values = {field.name: getattr(self, field.name) for field in attrs.fields(type(self))}
        values.update(changes)
        copy = object.__new__(type(self))
        copy.__attrs_init__(**values)
        return copy

    # -- builders --------------------------------------------------------------------------------

    def filter(self, expression: Expression) -> Self:
        """A copy that also requires ``expression`` (successive filters are and-ed)."""
        _check_expression(self.document, expression)
        return self._replace(filters=(*self.filters, expression))

    def sort(self, *sorts: Attribute[Any] | Sort | str) -> Self:
        """A copy sorted by these keys (``-Attr`` or ``"-name"`` for descending)."""
        keys = tuple(_sort_key(self.document, key) for key in sorts)
        return self._replace(sorts=(*self.sorts, *keys))

    def limit(self, limit: int) -> Self:
        """A copy returning at most ``limit`` results over all pages (replaces any previous)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative integer, not {limit!r}")
        return self._replace(max_results=limit)

    def param(self, **params: Any) -> Self:
        """A copy sending extra query parameters verbatim."""
        return self._replace(params={**self.params, **params})

    # -- execution -------------------------------------------------------------------------------

    def filter_wire(self) -> list[dict[str, Any]]:
        """The filters in the wire grammar (a top-level ``&`` is flattened into the list)."""
        nodes: list[dict[str, Any]] = []
        for expression in self.filters:
            wire = expression.to_wire()
            nodes.extend(wire["and"] if set(wire) == {"and"} else [wire])
        return nodes

    def _query(self) -> dict[str, Any]:
        query: dict[str, Any] = dict(self.params)
        if self.filters:
            query["filter"] = json.dumps(self.filter_wire(), separators=(",", ":"), sort_keys=True)
        if self.sorts:
            query["sort"] = list(self.sorts)
        if self.max_results is not None:
            query["limit"] = self.max_results
        return query

    def _pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        api = self.client.api
        page = api.search_page(self.url, query)
        while True:
            yield page
            cursor = page.get("meta", {}).get("page_cursor")
            if not cursor:
                return
            page = api.search_page(self.url, {"page_cursor": cursor})

    def __iter__(self) -> Iterator[D]:
        from_wire_ = getattr(self.document, "_from_wire")  # noqa: B009 (D is unbounded)
        for page in self._pages(self._query()):
            for item in page.get("data", []):
                yield from_wire_(item, self.client)

    def count(self) -> int:
        """The number of matches (all of them: limit and paging do not apply)."""
        query = {**self._query(), "limit": 0}
        page = self.client.api.search_page(self.url, query)
        return int(page["meta"]["total"])

    def collect(self, **kwargs: Any) -> Collection[D]:
        """Run the search and return every result."""
        search = self.param(**kwargs) if kwargs else self
        return Collection(search)


class JobSearch(Search["Job"]):
    """A search over jobs that can also cancel, rerun or delete everything it matches."""

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.params)
        if self.filters:
            body["filter"] = self.filter_wire()
        if self.sorts:
            body["sort"] = list(self.sorts)
        if self.max_results is not None:
            body["limit"] = self.max_results
        return body

    def cancel(self) -> list[Job]:
        """Cancel every matching job that has not finished; returns the affected jobs."""
        return self._jobs(self.client.api.cancel_jobs(self._body()))

    def rerun(self) -> list[Job]:
        """Resubmit every matching failed, timed-out or canceled job; returns them."""
        return self._jobs(self.client.api.rerun_jobs(self._body()))

    def delete(self, delete_results: bool = False) -> list[str]:
        """Delete every matching job that is not running; returns the deleted job ids."""
        return self.client.api.delete_jobs({**self._body(), "delete_results": delete_results})

    def _jobs(self, items: Iterable[dict[str, Any]]) -> list[Job]:
        from_wire_ = getattr(self.document, "_from_wire")  # noqa: B009
        return [from_wire_(item, self.client) for item in items]
