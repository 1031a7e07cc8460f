"""``ComputeResult`` and ``Serializable`` for job code, when the genuine clients are absent.

Code written for the hosted service imports them inside the function
(``from descarteslabs.compute import ComputeResult``), because the hosted images had the client
preinstalled. A job process of this server appends the directory holding this module to the
*end* of ``sys.path``, so ``descarteslabs.compute`` and ``earthdaily.earthone.compute`` resolve
to the small packages beside it only when the real client is not installed: an installed client
always wins. Only these two names are provided; anything else the clients offer needs the real
package in the job's environment.

Standard library only, Python 3.8 and newer: the same files serve every job interpreter.
The server recognises a result by its attributes (``value``, ``description``, ``expires``,
``extra_properties``, ``geometry``, ``tags``), skips storing it when ``isnull`` is true, and
validates the attributes itself (the job fails with a message saying which one is wrong).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["ComputeResult", "Serializable", "not_provided"]


class Serializable:
    """Base class for values that turn themselves into result bytes.

    Implement ``serialize`` (this object as bytes) and the classmethod ``deserialize`` (bytes
    back to an object); ``Job.result(cast_type=YourClass)`` calls the latter on the client side.
    """

    def serialize(self) -> bytes:
        raise NotImplementedError(f"{type(self).__name__} must implement serialize() -> bytes")

    @classmethod
    def deserialize(cls, data: bytes) -> Any:
        raise NotImplementedError(f"{cls.__name__} must implement the classmethod deserialize")


class ComputeResult:
    """A function's return value with attributes for the result blob it becomes.

    The value becomes bytes at once, as on the hosted service: ``bytes`` as they are, an object
    with ``serialize()`` as the bytes it returns, anything else as UTF-8 JSON. ``isnull`` is
    true when there is neither a value nor an attribute; then no result is stored at all.
    ``ComputeResult(None, tags=[...])`` stores ``null`` with its tags.
    """

    def __init__(
        self,
        value: Any = None,
        description: str | None = None,
        expires: Any = None,
        extra_properties: dict[str, str | float] | None = None,
        geometry: Any = None,
        tags: Any = None,
    ) -> None:
        attributes = (description, expires, extra_properties, geometry, tags)
        self.isnull = value is None and all(item is None for item in attributes)
        self.value = _as_bytes(value)
        self.description = description
        self.expires = expires
        self.extra_properties = extra_properties
        self.geometry = geometry
        self.tags = tags

    def __repr__(self) -> str:
        return f"ComputeResult(value={self.value!r}, tags={self.tags!r})"


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    serialize = None if isinstance(value, type) else getattr(value, "serialize", None)
    if callable(serialize):
        data = serialize()
        if not isinstance(data, bytes):
            raise TypeError(
                f"{type(value).__name__}.serialize() must return bytes, not {type(data).__name__}"
            )
        return data
    try:
        return json.dumps(value).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"cannot store a {type(value).__name__} as a job result ({exc}): return bytes, "
            "a JSON-serializable value, or an object implementing Serializable"
        ) from None


def not_provided(module: str, name: str, distribution: str) -> AttributeError:
    """The error for a name of the real client that this stand-in does not have."""
    return AttributeError(
        f"module {module!r} has no attribute {name!r}: this job runs without the "
        f"{distribution} package, and the stand-in this server provides only has "
        f"ComputeResult and Serializable (install {distribution} where the server runs jobs "
        "for the rest)"
    )
