"""How a blob that grows lives in a store without append (S3): a base object plus parts.

A running job's log must be readable, from any server, while the job writes it; S3 objects
can only be replaced whole. So the writer puts what it has every second (or every MiB) as a
new *part* object named after the byte offset where it starts::

    job-logs/J.ndjson                         the base: bytes [0, S) once compacted
    job-logs/J.ndjson@parts/0000000000000000  bytes [0, 812)
    job-logs/J.ndjson@parts/0000000000000812  bytes [812, 1630) ...

The blob's content is the base (``S`` bytes, none if there is no base) followed by the parts
that continue it without a gap: the part at offset ``S``, then the one at ``S`` + its size, and
so on. Compaction writes the concatenation as the new base (one atomic PUT) and only then
deletes the parts it covers, so a reader sees the same bytes before, during and after it.
``@`` is not allowed in keys (``keys.key_segments``), so no key can name a part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

__all__ = ["PARTS_MARK", "Piece", "base_key", "part_key", "pieces"]

#: What separates a key from its parts' names.
PARTS_MARK = "@parts/"
_OFFSET_DIGITS = 16


@attrs.frozen
class Piece:
    """``size`` bytes of the blob, held by the object ``name`` from its first byte."""

    name: str
    size: int


def part_key(key: str, offset: int) -> str:
    """The object that holds ``key``'s bytes from ``offset`` on."""
    return f"{key}{PARTS_MARK}{offset:0{_OFFSET_DIGITS}d}"


def base_key(name: str) -> str:
    """The key an object belongs to: itself, or the key whose part it is."""
    return name.partition(PARTS_MARK)[0]


def pieces(key: str, listing: Mapping[str, int]) -> list[Piece] | None:
    """The objects that make up ``key``, in order, from ``listing`` (object name to size,
    covering ``key`` and its parts; other names are ignored); None if ``key`` has neither a
    base nor a part at offset 0."""
    found: list[Piece] = []
    offset = 0
    if key in listing:
        offset = listing[key]
        found.append(Piece(key, offset))
    parts = _parts_by_offset(key, listing.items())
    if not found and 0 not in parts:
        return None
    while offset in parts:
        name, size = parts[offset]
        if size == 0:  # an empty part continues nothing (never written, but never loop)
            break
        found.append(Piece(name, size))
        offset += size
    return found


def _parts_by_offset(key: str, items: Iterable[tuple[str, int]]) -> dict[int, tuple[str, int]]:
    prefix = key + PARTS_MARK
    parts: dict[int, tuple[str, int]] = {}
    for name, size in items:
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            parts[int(name[len(prefix) :])] = (name, size)
    return parts
