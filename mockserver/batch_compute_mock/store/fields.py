"""Which wire fields a search may filter and sort on, and what kind of value each holds.

One registry serves both the validation of a filter (``service/queries.py``: is the field
known, does the value fit its kind) and its compilation (``store/search.py``: how the column
compares). The sets follow the genuine client's attribute flags (wire-protocol.md 3.1, 3.2):
everything filterable is sortable except ``image``, ``namespace``, ``owner``, ``function_id``
and ``tags``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs
import sqlalchemy as sa

from ..service.states import FunctionStatus, JobStatus
from . import tables

__all__ = [
    "RESOURCES",
    "Field",
    "Kind",
    "fields_of",
    "filterable_names",
    "sortable_names",
    "table_of",
]


class Kind(enum.Enum):
    """How a field's values are validated and compared."""

    STRING = "a string"
    NUMBER = "a number"
    INTEGER = "an integer"
    BOOLEAN = "a JSON boolean (true or false)"
    DATETIME = "an ISO 8601 datetime such as 2024-05-01T12:00:00Z, or epoch seconds"
    ENUM = "one of the status values"
    TAGS = "a tag (string); the field is a list of tags"


@attrs.frozen
class Field:
    """One filterable wire field; its column in the table has the same name."""

    name: str
    kind: Kind
    sortable: bool = True
    choices: tuple[str, ...] = ()  #: the allowed values of an ENUM field
    nullable: bool = False  #: taken from the table column, so the two cannot disagree

    @property
    def textual(self) -> bool:
        """Whether the pattern operators (prefix, like, ilike) apply."""
        return self.kind in (Kind.STRING, Kind.ENUM, Kind.TAGS)


def _registry(table: sa.Table, *fields: Field) -> dict[str, Field]:
    return {
        field.name: attrs.evolve(field, nullable=bool(table.c[field.name].nullable))
        for field in fields
    }


_FUNCTIONS = _registry(
    tables.functions,
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
    tables.jobs,
    Field("id", Kind.STRING),
    Field("function_id", Kind.STRING, sortable=False),
    Field("creation_date", Kind.DATETIME),
    Field("tags", Kind.TAGS, sortable=False),
    Field("status", Kind.ENUM, choices=tuple(status.value for status in JobStatus)),
    Field("execution_count", Kind.INTEGER),
    Field("exit_code", Kind.INTEGER),
    Field("runtime", Kind.INTEGER),
    Field("last_execution_date", Kind.DATETIME),
    Field("last_completion_date", Kind.DATETIME),
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


def table_of(resource: str) -> sa.Table:
    """The table that holds a resource's rows; its columns are named as the wire fields."""
    return _TABLES[resource]


_TABLES = {"functions": tables.functions, "jobs": tables.jobs}
