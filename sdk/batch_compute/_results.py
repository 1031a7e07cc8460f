"""Job results: what a function returns (``ComputeResult``), and how the bytes come back.

The server recognises a ``ComputeResult`` by shape (``value, description, expires,
extra_properties, geometry, tags``), so the class below is usable inside job code without
the server knowing about this SDK. Decoding follows the wire protocol: empty bytes are None,
a ``cast_type`` deserialises, else JSON when it parses, else the raw bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from ._filters import parse_datetime

__all__ = ["ComputeResult", "ResultBlob", "Serializable", "decode_result"]


@runtime_checkable
class Serializable(Protocol):
    """Interface for serializing objects to bytes as a result of a Function invocation.

    Implement ``serialize`` (instance to bytes) and a classmethod ``deserialize`` (bytes to
    instance); pass the class as ``cast_type`` to get instances back from ``Job.result``.
    """

    def serialize(self) -> bytes: ...

    @classmethod
    def deserialize(cls, data: bytes) -> Any: ...


class ComputeResult:
    """A function's return value with catalog attributes for the stored result blob.

    ``value`` is bytes, a ``Serializable`` or anything JSON-serializable. A None value with no
    attributes stores nothing; a None value with attributes stores ``null`` with them.
    """

    def __init__(
        self,
        value: bytes | Serializable | Any | None = None,
        description: str | None = None,
        expires: datetime | str | None = None,
        extra_properties: dict[str, str | float] | None = None,
        geometry: Any | None = None,
        tags: set[str] | list[str] | None = None,
    ) -> None:
        if description is not None and len(description) > 80_000:
            raise ValueError("description can be at most 80,000 characters")
        if extra_properties is not None:
            if len(extra_properties) > 50:
                raise ValueError("extra_properties can hold at most 50 keys")
            for key, item in extra_properties.items():
                if (
                    not isinstance(key, str)
                    or isinstance(item, bool)
                    or not isinstance(item, str | int | float)
                ):
                    raise ValueError("extra_properties maps strings to strings or numbers")
        if isinstance(expires, str):
            parse_datetime(expires)  # reject what is not ISO 8601 now, not in the job's runner
        self.value = value
        self.description = description
        self.expires = expires
        self.extra_properties = extra_properties
        self.geometry = geometry
        self.tags = list(tags) if tags is not None else None

    def __repr__(self) -> str:
        return f"ComputeResult(value={self.value!r}, tags={self.tags!r})"


def decode_result(data: bytes | None, cast_type: type[Any] | None = None) -> Any:
    """A result value from its stored bytes (see the module docstring for the rules)."""
    if cast_type is not None and not callable(getattr(cast_type, "deserialize", None)):
        raise ValueError(f"{cast_type!r} does not implement Serializable (no deserialize)")
    if not data:
        return None
    if cast_type is not None:
        return cast_type.deserialize(data)
    try:
        return json.loads(data)
    except ValueError:
        return data


@attrs.frozen
class ResultBlob:
    """The catalog record of a job's result: where it lives, its size and attributes."""

    id: str
    namespace: str
    name: str
    storage_type: str
    storage_state: str
    size_bytes: int | None = None
    hash: str | None = None
    description: str | None = None
    expires: datetime | None = None
    extra_properties: Mapping[str, str | float] = attrs.field(factory=dict)
    tags: tuple[str, ...] = ()
    geometry: Mapping[str, Any] | None = None
    href: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    owners: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ResultBlob:
        """From the JSON:API ``data`` object of ``GET /catalog/v2/storage/{id}``."""
        a = data.get("attributes", {})
        return cls(
            id=str(data["id"]),
            namespace=str(a.get("namespace", "")),
            name=str(a.get("name", "")),
            storage_type=str(a.get("storage_type", "")),
            storage_state=str(a.get("storage_state", "")),
            size_bytes=a.get("size_bytes"),
            hash=a.get("hash"),
            description=a.get("description"),
            expires=parse_datetime(a.get("expires")),
            extra_properties=dict(a.get("extra_properties") or {}),
            tags=tuple(a.get("tags") or ()),
            geometry=a.get("geometry"),
            href=a.get("href"),
            created=parse_datetime(a.get("created")),
            modified=parse_datetime(a.get("modified")),
            owners=tuple(a.get("owners") or ()),
            readers=tuple(a.get("readers") or ()),
            writers=tuple(a.get("writers") or ()),
        )
