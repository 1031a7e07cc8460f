"""A function's return value as result bytes plus blob attributes (wire-protocol 8.4).

Runs inside the job's process: standard library only, Python 3.8 and newer.

A ComputeResult is recognised by its shape, not its class: any object with the attributes
``value``, ``description``, ``expires``, ``extra_properties``, ``geometry`` and ``tags`` (the
classes of descarteslabs, earthone and our SDK all qualify; none is imported). Anything else is
treated as ``ComputeResult(value)``. The genuine classes (and our job-side stand-ins) serialise the
value when constructed and say ``isnull`` when neither value nor attribute was given: such a
result stores nothing, as a bare ``None`` does.

The value becomes bytes: ``bytes``-like values as they are; an object with a callable
``serialize()`` as the bytes it returns; anything else as ``json.dumps(value)`` in UTF-8. A value
of ``None`` with no attribute set means no result at all; ``ComputeResult(None, tags=[...])``
stores ``b"null"``. Every problem raises ``ResultError`` with a message for ``error_reason``.

Attributes (all validated): ``description`` str of at most 80,000 characters; ``expires`` a
datetime/date, an ISO 8601 string or epoch seconds (stored timestamp form); ``extra_properties``
a mapping of at most 50 string keys to strings or numbers; ``geometry`` a GeoJSON geometry dict
(or Feature), an object with ``__geo_interface__`` (shapely), a WKT/EWKT string or a GeoJSON
string; ``tags`` a list/tuple/set of strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any, NamedTuple

from .timestamps import format_timestamp, parse_timestamp

__all__ = [
    "COMPUTE_RESULT_FIELDS",
    "ResultError",
    "SerializedResult",
    "geometry_to_geojson",
    "is_compute_result",
    "parse_wkt",
    "serialize_return",
]

COMPUTE_RESULT_FIELDS = ("value", "description", "expires", "extra_properties", "geometry", "tags")
MAX_DESCRIPTION_CHARS = 80_000
MAX_EXTRA_PROPERTIES = 50


class ResultError(ValueError):
    """The return value cannot become a result; the message is the job's error_reason."""


class SerializedResult(NamedTuple):
    data: bytes | None  # None: no result blob at all
    attributes: dict[str, Any] | None


def is_compute_result(obj: Any) -> bool:
    if obj is None or isinstance(obj, (type, str, bytes, Mapping, list, tuple)):
        return False
    return all(hasattr(obj, name) for name in COMPUTE_RESULT_FIELDS)


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, (list, tuple, set, frozenset, dict)) and not value)


def serialize_return(obj: Any) -> SerializedResult:
    """Bytes and attributes for what ``main`` returned."""
    if is_compute_result(obj):
        if getattr(obj, "isnull", False) is True:
            return SerializedResult(None, None)
        fields = {name: getattr(obj, name) for name in COMPUTE_RESULT_FIELDS}
    else:
        fields = dict.fromkeys(COMPUTE_RESULT_FIELDS)
        fields["value"] = obj
    value = fields.pop("value")
    if value is None and all(_unset(v) for v in fields.values()):
        return SerializedResult(None, None)
    return SerializedResult(value_bytes(value), result_attributes(**fields))


def value_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    serialize = None if isinstance(value, type) else getattr(value, "serialize", None)
    if callable(serialize):
        try:
            data = serialize()
        except Exception as exc:
            raise ResultError(f"Result serialize() failed: {type(exc).__name__}: {exc}") from None
        if isinstance(data, (bytes, bytearray, memoryview)):
            return bytes(data)
        if isinstance(data, str):
            return data.encode()
        raise ResultError(f"Result serialize() must return bytes, got {type(data).__name__}")
    try:
        return json.dumps(value).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise ResultError(f"Result is not JSON serializable: {type(exc).__name__}: {exc}") from None


def result_attributes(
    *, description: Any, expires: Any, extra_properties: Any, geometry: Any, tags: Any
) -> dict[str, Any]:
    return {
        "description": _description(description),
        "expires": _expires(expires),
        "extra_properties": _extra_properties(extra_properties),
        "geometry": None if geometry is None else geometry_to_geojson(geometry),
        "tags": _tags(tags),
    }


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ResultError(
            f"Invalid result description: expected a string, got {type(value).__name__}"
        )
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise ResultError(
            f"Invalid result description: {len(value):,} characters, at most "
            f"{MAX_DESCRIPTION_CHARS:,} allowed"
        )
    return value


def _expires(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return format_timestamp(datetime(value.year, value.month, value.day, tzinfo=timezone.utc))
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return format_timestamp(parse_timestamp(value))
        except (ValueError, OverflowError, OSError) as exc:
            raise ResultError(f"Invalid result expires: {exc}") from None
    raise ResultError(
        f"Invalid result expires: expected a datetime or an ISO 8601 string, got "
        f"{type(value).__name__}"
    )


def _extra_properties(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ResultError(
            f"Invalid result extra_properties: expected a dict, got {type(value).__name__}"
        )
    if len(value) > MAX_EXTRA_PROPERTIES:
        raise ResultError(
            f"Invalid result extra_properties: {len(value)} keys, at most "
            f"{MAX_EXTRA_PROPERTIES} allowed"
        )
    checked: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ResultError(f"Invalid result extra_properties: key {key!r} is not a string")
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ResultError(
                f"Invalid result extra_properties: value of {key!r} must be a string or a "
                f"number, got {type(item).__name__}"
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise ResultError(f"Invalid result extra_properties: value of {key!r} is {item}")
        checked[key] = item
    return checked


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ResultError(
            f"Invalid result tags: expected a list of strings, got {type(value).__name__}"
        )
    items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    for tag in items:
        if not isinstance(tag, str):
            raise ResultError(f"Invalid result tags: {tag!r} is not a string")
    return items


# Geometry ---------------------------------------------------------------------------------

_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}


def geometry_to_geojson(value: Any) -> dict[str, Any]:
    """A GeoJSON geometry dict (plain lists) from any accepted geometry form."""
    geo = getattr(value, "__geo_interface__", None)
    if geo is not None and not isinstance(value, Mapping):
        value = geo() if callable(geo) else geo
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ResultError(f"Invalid result geometry: bad GeoJSON string: {exc}") from None
        else:
            return parse_wkt(text)
    if not isinstance(value, Mapping) or "type" not in value:
        raise ResultError(
            "Invalid result geometry: expected a GeoJSON dict, an object with __geo_interface__ "
            f"or a WKT string, got {type(value).__name__}"
        )
    return _geojson(value)


def _geojson(value: Mapping[str, Any]) -> dict[str, Any]:
    kind = value.get("type")
    if kind == "Feature":
        inner = value.get("geometry")
        if not isinstance(inner, Mapping):
            raise ResultError("Invalid result geometry: Feature without a geometry")
        return _geojson(inner)
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, (list, tuple)):
            raise ResultError("Invalid result geometry: GeometryCollection needs 'geometries'")
        return {"type": kind, "geometries": [_geojson(_mapping(m)) for m in members]}
    if kind not in _DEPTH:
        raise ResultError(f"Invalid result geometry: unknown GeoJSON type {kind!r}")
    coordinates = value.get("coordinates")
    if isinstance(coordinates, (list, tuple)) and not coordinates:
        return {"type": kind, "coordinates": []}  # an EMPTY geometry
    return {"type": kind, "coordinates": _coordinates(coordinates, _DEPTH[kind], kind)}


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ResultError("Invalid result geometry: GeometryCollection member is not a dict")
    return value


def _coordinates(value: Any, depth: int, kind: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ResultError(f"Invalid result geometry: {kind} coordinates must be nested lists")
    if depth == 1:
        if not 2 <= len(value) <= 4 or not all(
            isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n)
            for n in value
        ):
            raise ResultError(f"Invalid result geometry: bad {kind} position {list(value)!r}")
        return list(value)
    return [_coordinates(item, depth - 1, kind) for item in value]


_TOKEN = re.compile(r"\s*(?:([A-Za-z]+)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([(),]))")
_WKT_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRYCOLLECTION": "GeometryCollection",
}


def parse_wkt(text: str) -> dict[str, Any]:
    """GeoJSON for a WKT or EWKT string (2D, Z, M, ZM; M values are dropped)."""
    if text.upper().startswith("SRID=") and ";" in text:
        text = text.split(";", 1)[1]
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            near = stripped[position : position + 20]
            raise ResultError(f"Invalid result geometry: cannot parse WKT near {near!r}")
        word, number, punct = match.groups()
        tokens.append(("w", word.upper()) if word else ("n", number) if number else ("p", punct))
        position = match.end()
    parser = _WktParser(tokens, text)
    geometry = parser.geometry()
    if parser.index != len(tokens):
        parser.fail("unexpected text after the geometry")
    return geometry


class _WktParser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens = tokens
        self.index = 0
        self.text = text
        self.keep = 3  # how many ordinates of a position to keep

    def fail(self, why: str) -> None:
        raise ResultError(f"Invalid result geometry: bad WKT ({why}): {self.text[:80]!r}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            self.fail(f"expected {value or kind!r}")
        self.index += 1
        return token[1]  # type: ignore[index]

    def geometry(self) -> dict[str, Any]:
        name = self.take("w")
        if name not in _WKT_TYPES:
            self.fail(f"unsupported geometry type {name}")
        kind = _WKT_TYPES[name]
        token = self.peek()
        if token and token[0] == "w" and token[1] in ("Z", "M", "ZM"):
            self.keep = 2 if token[1] == "M" else 3
            self.index += 1
            token = self.peek()
        if token == ("w", "EMPTY"):
            self.index += 1
            key = "geometries" if kind == "GeometryCollection" else "coordinates"
            return {"type": kind, key: []}
        if kind == "GeometryCollection":
            return {"type": kind, "geometries": self.listing(self.geometry)}
        if kind == "MultiPoint":
            return {"type": kind, "coordinates": self.listing(self.loose_point)}
        return {"type": kind, "coordinates": self.nested(_DEPTH[kind])}

    def listing(self, item: Any) -> list[Any]:
        self.take("p", "(")
        items = [item()]
        while self.peek() == ("p", ","):
            self.index += 1
            items.append(item())
        self.take("p", ")")
        return items

    def nested(self, depth: int) -> list[Any]:
        if depth == 1:
            return self.bracketed_position()
        if depth == 2:
            return self.listing(self.position)
        return self.listing(lambda: self.nested(depth - 1))

    def bracketed_position(self) -> list[float]:
        self.take("p", "(")
        position = self.position()
        self.take("p", ")")
        return position

    def loose_point(self) -> list[float]:
        return self.bracketed_position() if self.peek() == ("p", "(") else self.position()

    def position(self) -> list[float]:
        numbers: list[float] = []
        while (token := self.peek()) is not None and token[0] == "n":
            numbers.append(float(token[1]))
            self.index += 1
        if not 2 <= len(numbers) <= 4:
            self.fail("a position needs 2 to 4 numbers")
        if self.keep == 2 and len(numbers) == 3:  # "M" geometry: x y m
            return numbers[:2]
        return numbers[: self.keep]
