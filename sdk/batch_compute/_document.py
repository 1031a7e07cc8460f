"""The shared shape of ``Function`` and ``Job``: typed attributes, change tracking, lifecycle.

A document knows which attributes changed since it was last loaded from the server, so that
``save()`` sends only those (a PATCH must not overwrite what someone else changed meanwhile).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from ._client import ComputeClient
from ._filters import Attribute

__all__ = ["Document", "DocumentState"]


class DocumentState(enum.StrEnum):
    """Where a document stands relative to the server."""

    #: Never saved: it exists only in this process.
    NEW = "new"
    #: Same as the server's copy, as far as this process knows.
    SAVED = "saved"
    #: Saved once, with local changes not yet sent.
    MODIFIED = "modified"
    #: Deleted on the server; using it raises AttributeError.
    DELETED = "deleted"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


class Document:
    """Base class: attribute bookkeeping shared by ``Function`` and ``Job``."""

    _attribute_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._attribute_names = tuple(
            name
            for klass in reversed(cls.__mro__)
            for name, value in vars(klass).items()
            if isinstance(value, Attribute)
        )

    def __init__(self, client: ComputeClient | None = None) -> None:
        self._values: dict[str, Any] = {}
        self._modified: set[str] = set()
        self._saved = False
        self._deleted = False
        self._client = client

    @classmethod
    def _attribute(cls, name: str) -> Attribute[Any]:
        value = getattr(cls, name, None)
        if not isinstance(value, Attribute):
            raise AttributeError(f"{cls.__name__} has no attribute {name!r}")
        return value

    @property
    def client(self) -> ComputeClient:
        """The client this document talks through (the default client when none was given)."""
        if self._client is None:
            self._client = ComputeClient.get_default_client()
        return self._client

    # -- change tracking -------------------------------------------------------------------------

    def _set_value(self, name: str, value: Any) -> None:
        self._check_not_deleted()
        if self._values.get(name) != value or name not in self._values:
            self._modified.add(name)
        self._values[name] = value

    def _load(self, data: dict[str, Any]) -> None:
        """Take the server's representation; unknown fields are ignored, missing ones kept."""
        for name in self._attribute_names:
            if name in data:
                self._values[name] = self._attribute(name).load(data[name])
        self._modified.clear()
        self._saved = True

    def _mark_deleted(self) -> None:
        self._deleted = True

    def _check_not_deleted(self) -> None:
        if self.__dict__.get("_deleted"):
            raise AttributeError(f"this {type(self).__name__} has been deleted")

    def _check_saved(self) -> None:
        self._check_not_deleted()
        if not self._saved:
            raise ValueError(f"this {type(self).__name__} has not been saved yet")

    @property
    def is_modified(self) -> bool:
        """Determines if the document has been modified."""
        return bool(self._modified)

    @property
    def state(self) -> DocumentState:
        """Returns the state of the current document instance."""
        if self._deleted:
            return DocumentState.DELETED
        if not self._saved:
            return DocumentState.NEW
        return DocumentState.MODIFIED if self._modified else DocumentState.SAVED

    def to_dict(
        self,
        only_modified: bool = False,
        exclude_readonly: bool = False,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The attributes as JSON-encodable values, filtered as asked."""
        result: dict[str, Any] = {}
        for name in self._attribute_names:
            attribute = self._attribute(name)
            if only_modified and name not in self._modified:
                continue
            if exclude_readonly and attribute.readonly:
                continue
            value = getattr(self, name)
            if exclude_none and value is None:
                continue
            result[name] = _jsonable(value)
        return result

    def update(self, ignore_missing: bool = False, **kwargs: Any) -> None:
        """Set several attributes at once; unknown names raise unless ``ignore_missing``."""
        for name, value in kwargs.items():
            if name not in self._attribute_names:
                if ignore_missing:
                    continue
                raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
            setattr(self, name, value)
