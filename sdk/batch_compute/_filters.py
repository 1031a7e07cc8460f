"""Document attributes and the filter expressions built from them (``Job.status == "success"``).

An ``Attribute`` is a descriptor: on an instance it holds a value (and enforces readonly /
immutable), on the class it builds filter expressions and sort keys. Expressions are frozen
values; combining them makes new ones, so building ``Job.runtime < 10`` never changes what a
later ``Job.runtime > 60`` means (the genuine client accumulates range conditions there).
``to_wire()`` gives the JSON filter grammar of the contract; ``from_wire()`` reads it back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, overload

import attrs

__all__ = [
    "And",
    "Attribute",
    "Comparison",
    "Expression",
    "NullCheck",
    "Or",
    "Sort",
    "from_wire",
    "parse_datetime",
    "wire_value",
]

T = TypeVar("T")
JsonValue = str | int | float | bool | None

_COMPARISON_OPS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "prefix", "like", "ilike"})
_NULL_OPS = frozenset({"isnull", "isnotnull"})


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from what the wire or a user may give (ISO string, epoch, datetime)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:  # naive means UTC here, never the caller's local time
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def wire_value(value: Any, *, is_datetime: bool = False) -> JsonValue:
    """A filter value as JSON: enums by value, datetimes as UTC ISO strings."""
    if is_datetime and value is not None:
        moment = parse_datetime(value)
        return moment.isoformat() if moment is not None else None
    if isinstance(value, datetime):
        return wire_value(value, is_datetime=True)
    if isinstance(value, enum.Enum):
        return wire_value(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot filter on {value!r}: use a string, number, boolean or None")


class Expression:
    """A filter condition; combine with ``&`` and ``|`` (``and`` / ``or`` cannot be overloaded)."""

    def to_wire(self) -> dict[str, Any]:
        raise NotImplementedError

    def __and__(self, other: Expression) -> Expression:
        return And(_flatten(And, self, other))

    def __or__(self, other: Expression) -> Expression:
        return Or(_flatten(Or, self, other))

    def __bool__(self) -> bool:
        raise TypeError(
            "filter expressions have no truth value: combine them with & and |, "
            "not 'and', 'or' or chained comparisons"
        )


@attrs.frozen(eq=True)
class Comparison(Expression):
    """``name op val``, e.g. ``{"name": "status", "op": "eq", "val": "success"}``."""

    name: str
    op: str = attrs.field(validator=attrs.validators.in_(_COMPARISON_OPS))
    value: JsonValue = None

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "val": self.value}


@attrs.frozen(eq=True)
class NullCheck(Expression):
    """``isnull`` / ``isnotnull`` (None or an empty list); the wire node has no ``val``."""

    name: str
    op: str = attrs.field(validator=attrs.validators.in_(_NULL_OPS))

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op}


@attrs.frozen(eq=True)
class And(Expression):
    """All of ``items`` hold."""

    items: tuple[Expression, ...] = attrs.field(validator=attrs.validators.min_len(1))

    def to_wire(self) -> dict[str, Any]:
        return {"and": [item.to_wire() for item in self.items]}


@attrs.frozen(eq=True)
class Or(Expression):
    """At least one of ``items`` holds."""

    items: tuple[Expression, ...] = attrs.field(validator=attrs.validators.min_len(1))

    def to_wire(self) -> dict[str, Any]:
        return {"or": [item.to_wire() for item in self.items]}


def _flatten(kind: type[And] | type[Or], *parts: Expression) -> tuple[Expression, ...]:
    items: list[Expression] = []
    for part in parts:
        if not isinstance(part, Expression):
            raise TypeError(f"cannot combine a filter expression with {part!r}")
        items.extend(part.items if isinstance(part, kind) else (part,))
    return tuple(items)


def from_wire(node: dict[str, Any]) -> Expression:
    """The expression a wire filter node stands for (the inverse of ``to_wire``)."""
    if set(node) == {"and"}:
        return And(tuple(from_wire(item) for item in node["and"]))
    if set(node) == {"or"}:
        return Or(tuple(from_wire(item) for item in node["or"]))
    if node.get("op") in _NULL_OPS and set(node) == {"name", "op"}:
        return NullCheck(node["name"], node["op"])
    if node.get("op") in _COMPARISON_OPS and set(node) == {"name", "op", "val"}:
        return Comparison(node["name"], node["op"], node["val"])
    raise ValueError(f"not a filter node: {node!r}")


@attrs.frozen
class Sort:
    """A sort key: ``Sort("creation_date", descending=True)`` travels as ``-creation_date``."""

    name: str
    descending: bool = False

    def to_wire(self) -> str:
        return f"-{self.name}" if self.descending else self.name

    def __neg__(self) -> Sort:
        return attrs.evolve(self, descending=not self.descending)


class Attribute(Generic[T]):
    """A document field: a value on instances, a filter / sort builder on the class.

    ``readonly``: only the server sets it. ``immutable``: settable until the document is saved.
    ``filterable`` / ``sortable``: whether the server accepts it in filters / sort keys.
    """

    def __init__(
        self,
        *,
        readonly: bool = False,
        immutable: bool = False,
        filterable: bool = False,
        sortable: bool = False,
        is_datetime: bool = False,
        convert: Callable[[Any], Any] | None = None,
        default: Callable[[], Any] | None = None,
        doc: str = "",
    ) -> None:
        self.name = ""
        self.readonly = readonly
        self.immutable = immutable
        self.filterable = filterable
        self.sortable = sortable
        self.is_datetime = is_datetime
        self.convert = parse_datetime if is_datetime and convert is None else convert
        self.default = default
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Attribute {self.name}>"

    __hash__ = object.__hash__

    # -- the instance side -----------------------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: type) -> Attribute[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Attribute[T] | T:
        if instance is None:
            return self
        values: dict[str, Any] = instance.__dict__.setdefault("_values", {})
        if self.name not in values:
            values[self.name] = self.default() if self.default is not None else None
        return values[self.name]  # type: ignore[no-any-return]

    def __set__(self, instance: Any, value: Any) -> None:
        if self.readonly:
            raise AttributeError(f"{self.name} is readonly: only the server sets it")
        current = instance.__dict__.get("_values", {}).get(self.name)
        if self.immutable and current is not None and instance.state != "new":
            raise AttributeError(f"{self.name} is immutable once the object is saved")
        instance._set_value(self.name, self.load(value))

    def load(self, value: Any) -> Any:
        """The Python value of a wire (or user) value."""
        if value is None or self.convert is None:
            return value
        return self.convert(value)

    # -- the class side: filters -----------------------------------------------------------------

    def _compare(self, op: str, value: Any) -> Comparison:
        self._check_filterable()
        return Comparison(self.name, op, wire_value(value, is_datetime=self.is_datetime))

    def _check_filterable(self) -> None:
        if not self.filterable:
            raise ValueError(f"cannot filter on {self.name!r}: the server does not filter on it")

    def __eq__(self, other: object) -> Comparison:  # type: ignore[override]
        return self._compare("eq", other)

    def __ne__(self, other: object) -> Comparison:  # type: ignore[override]
        return self._compare("ne", other)

    def __lt__(self, other: Any) -> Comparison:
        return self._compare("lt", other)

    def __le__(self, other: Any) -> Comparison:
        return self._compare("lte", other)

    def __gt__(self, other: Any) -> Comparison:
        return self._compare("gt", other)

    def __ge__(self, other: Any) -> Comparison:
        return self._compare("gte", other)

    def in_(self, values: Iterable[Any]) -> Expression:
        """Equal to any of ``values`` (there is no ``in`` on the wire: an ``or`` of ``eq``)."""
        items = list(values)
        if not items:
            raise ValueError(f"{self.name}.in_() needs at least one value")
        if len(items) == 1:
            return self._compare("eq", items[0])
        return Or(tuple(self._compare("eq", item) for item in items))

    any_of = in_

    @property
    def isnull(self) -> NullCheck:
        """The value is None (or an empty list)."""
        self._check_filterable()
        return NullCheck(self.name, "isnull")

    @property
    def isnotnull(self) -> NullCheck:
        """The value is neither None nor an empty list."""
        self._check_filterable()
        return NullCheck(self.name, "isnotnull")

    def prefix(self, value: str) -> Comparison:
        """The string value starts with ``value``."""
        return self._compare("prefix", value)

    startswith = prefix

    def like(self, pattern: str) -> Comparison:
        """SQL ``LIKE`` (``%``, ``_``, backslash escapes), case-sensitive."""
        return self._compare("like", pattern)

    def ilike(self, pattern: str) -> Comparison:
        """SQL ``LIKE``, case-insensitive."""
        return self._compare("ilike", pattern)

    # -- the class side: sorting -----------------------------------------------------------------

    def __neg__(self) -> Sort:
        return Sort(self.name, descending=True)

    def __pos__(self) -> Sort:
        return Sort(self.name)

    def sort_key(self) -> Sort:
        return Sort(self.name)
