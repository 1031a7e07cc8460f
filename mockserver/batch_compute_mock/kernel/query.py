"""What a search is, independent of how it arrives or how it runs.

Two parts, shared by the service (which parses and validates searches, ``service.queries``)
and the store (which runs them, ``store.search``):

* the fields a search may filter and sort on, and what kind of value each holds. The sets
  follow the genuine client's attribute flags (wire-protocol.md 3.1, 3.2): everything
  filterable is sortable except ``image``, ``namespace``, ``owner``, ``function_id`` and
  ``tags``. ``nullable`` says whether the stored value can be NULL (the store's schema is
  tested to agree);
* the validated query: ``Query`` with its filter tree of ``Condition`` and ``Group`` nodes and
  its ``SortKey``s, and ``PagePosition``, where the next page of a search starts.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .states import FunctionStatus, JobStatus

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "RESOURCES",
    "Condition",
    "Field",
    "Group",
    "Kind",
    "Node",
    "PagePosition",
    "Query",
    "SortKey",
    "fields_of",
    "filterable_names",
    "sortable_names",
]

DEFAULT_PAGE_SIZE = 100


class Kind(enum.Enum):
    """How a field's values are validated and compared."""

    STRING = "a string"
    NUMBER = "a number"
    INTEGER = "an integer"
    BOOLEAN = "a JSON boolean (true or false)"
    DATETIME = "an ISO 8601 datetime such as 2024-05-01T12:00:00Z, or epoch seconds"
    ENUM = "one of the status values"
    TAGS = "a tag (string); the field is a list of tags"


@dataclass(frozen=True)
class Field:
    """One filterable wire field; the store keeps it under the same name."""

    name: str
    kind: Kind
    sortable: bool = True
    choices: tuple[str, ...] = ()  #: the allowed values of an ENUM field
    nullable: bool = False  #: whether a stored value may be NULL (NULLs sort first)

    @property
    def textual(self) -> bool:
        """Whether the pattern operators (prefix, like, ilike) apply."""
        return self.kind in (Kind.STRING, Kind.ENUM, Kind.TAGS)


def _registry(*fields: Field) -> dict[str, Field]:
    return {field.name: field for field in fields}


_FUNCTIONS = _registry(
    Field("id", Kind.STRING),
    Field("creation_date", Kind.DATETIME),
    Field("modified_date", Kind.DATETIME),
    Field("name", Kind.STRING),
    Field("image", Kind.STRING, sortable=False),
    Field("cpus", Kind.NUMBER),
    Field("memory", Kind.INTEGER),
    Field("maximum_concurrency", Kind.INTEGER),
    Field("timeout", Kind.INTEGER),
    Field("retry_count", Kind.INTEGER),
    Field("enabled", Kind.BOOLEAN),
    Field("auto_start", Kind.BOOLEAN),
    Field("namespace", Kind.STRING, sortable=False),
    Field("owner", Kind.STRING, sortable=False),
    Field("status", Kind.ENUM, choices=tuple(status.value for status in FunctionStatus)),
)

_JOBS = _registry(
    Field("id", Kind.STRING),
    Field("function_id", Kind.STRING, sortable=False),
    Field("creation_date", Kind.DATETIME),
    Field("tags", Kind.TAGS, sortable=False),
    Field("status", Kind.ENUM, choices=tuple(status.value for status in JobStatus)),
    Field("execution_count", Kind.INTEGER),
    Field("exit_code", Kind.INTEGER, nullable=True),
    Field("runtime", Kind.INTEGER, nullable=True),
    Field("last_execution_date", Kind.DATETIME, nullable=True),
    Field("last_completion_date", Kind.DATETIME, nullable=True),
)

#: resource name (the collection in the URL) -> field name -> Field
RESOURCES: Mapping[str, Mapping[str, Field]] = {"functions": _FUNCTIONS, "jobs": _JOBS}


def fields_of(resource: str) -> Mapping[str, Field]:
    """The filterable fields of ``functions`` or ``jobs``; ``KeyError`` for anything else."""
    return RESOURCES[resource]


def filterable_names(resource: str) -> list[str]:
    return sorted(RESOURCES[resource])


def sortable_names(resource: str) -> list[str]:
    return sorted(name for name, field in RESOURCES[resource].items() if field.sortable)


# ---------------------------------------------------------------------------------------------
# The validated query


@dataclass(frozen=True)
class Condition:
    """``field op value``: ``value`` normalised (datetimes in stored form); None for null tests."""

    field: str
    op: str
    value: str | int | float | bool | None = None


@dataclass(frozen=True)
class Group:
    """``{"and": [...]}`` or ``{"or": [...]}``."""

    junction: str  # "and" | "or"
    nodes: tuple[Node, ...]


Node = Condition | Group


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True)
class Query:
    """A validated search. ``sort`` is the effective order: it always ends with ``id``."""

    resource: str
    filter: tuple[Node, ...] = ()
    sort: tuple[SortKey, ...] = (SortKey("creation_date"), SortKey("id"))
    limit: int | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    include: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PagePosition:
    """Where the next page starts.

    ``after`` holds the last delivered row's values of the ``Query.sort`` keys (one each, id
    last). ``remaining`` is what is left of the limit (None: no limit). ``total`` is the number
    of matches counted when the search began.
    """

    after: tuple[Any, ...]
    remaining: int | None
    total: int
