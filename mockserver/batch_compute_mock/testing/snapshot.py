"""The whole state as one file, and back: ``write_snapshot`` and ``read_snapshot``.

A snapshot is a zip: ``manifest.json`` (the format, the schema revision that wrote it, counts),
``tables/<table>.jsonl`` (one JSON object per row) and ``blobs/<key>`` (every bundle, build
log, job log and result). A server restores a snapshot of its own format or an older one
(rows written before a column existed get its default); one from a newer server, or anything
malformed, is refused with a message, before anything is changed.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..blobs import BlobStore
from ..blobs.keys import key_segments
from ..kernel.errors import InvalidInput
from ..kernel.timestamps import utc_now

__all__ = ["BLOB_DIRECTORIES", "FORMAT", "Snapshot", "read_snapshot", "write_snapshot"]

FORMAT = 1
#: The blob directories a snapshot holds (all of them).
BLOB_DIRECTORIES = ("bundles/", "build-logs/", "job-logs/", "results/")
_MAX_ENTRIES = 2_000_000
_MAX_UNPACKED = 64 * 1024**3


@dataclass
class Snapshot:
    """A snapshot read and checked: its rows, and the archive its blobs are read from."""

    manifest: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    archive: zipfile.ZipFile
    blob_entries: list[zipfile.ZipInfo]

    def blobs(self) -> Iterator[tuple[str, IO[bytes]]]:
        """(key, stream) of every blob, one open stream at a time."""
        for info in self.blob_entries:
            with self.archive.open(info) as stream:
                yield info.filename.removeprefix("blobs/"), stream


def write_snapshot(
    target: IO[bytes],
    rows: Mapping[str, list[dict[str, Any]]],
    blobs: BlobStore,
    schema_revision: str,
) -> None:
    """Write the snapshot of ``rows`` and every blob to ``target`` (a binary file)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        count = 0
        for directory in BLOB_DIRECTORIES:
            for key in sorted(blobs.keys(directory)):
                with blobs.open(key) as source, archive.open(f"blobs/{key}", "w") as sink:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        sink.write(chunk)
                count += 1
        for name, table in rows.items():
            lines = (json.dumps(row, separators=(",", ":")) + "\n" for row in table)
            archive.writestr(f"tables/{name}.jsonl", "".join(lines))
        manifest = {
            "format": FORMAT,
            "schema_revision": schema_revision,
            "created": utc_now(),
            "tables": {name: len(table) for name, table in rows.items()},
            "blobs": count,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))


def read_snapshot(path: Path, known_revisions: list[str]) -> Snapshot:
    """Open and check the snapshot at ``path``; ``InvalidInput`` says what is wrong with it.

    ``known_revisions`` are this server's schema revisions, oldest first: a snapshot written at
    a revision not among them comes from a newer server.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidInput(
            f"The body is not a snapshot (a zip made by /_mock/snapshot): {error}"
        ) from None
    try:
        return _checked(archive, known_revisions)
    except BaseException:
        archive.close()
        raise


def _checked(archive: zipfile.ZipFile, known_revisions: list[str]) -> Snapshot:
    infos = archive.infolist()
    if len(infos) > _MAX_ENTRIES or sum(i.file_size for i in infos) > _MAX_UNPACKED:
        raise InvalidInput("The snapshot is larger than this server restores.")
    names = {info.filename for info in infos}
    if "manifest.json" not in names:
        raise InvalidInput("The snapshot has no manifest.json; it was not made by /_mock/snapshot.")
    manifest = _json(archive, "manifest.json")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise InvalidInput("The snapshot's manifest.json has no format number.")
    if manifest["format"] > FORMAT:
        raise InvalidInput(
            f"The snapshot is in format {manifest['format']}, made by a newer server; this one "
            f"reads format {FORMAT} and older. Restore it on a server at least as new."
        )
    revision = manifest.get("schema_revision")
    if revision not in known_revisions:
        raise InvalidInput(
            f"The snapshot was written at database revision {revision!r}, which this server does "
            "not know (it comes from a newer server)."
        )
    rows: dict[str, list[dict[str, Any]]] = {}
    blob_entries: list[zipfile.ZipInfo] = []
    for info in infos:
        name = info.filename
        if name == "manifest.json" or info.is_dir():
            continue
        if name.startswith("tables/") and name.endswith(".jsonl"):
            rows[name[len("tables/") : -len(".jsonl")]] = _rows(archive, name)
        elif name.startswith("blobs/"):
            key = name.removeprefix("blobs/")
            try:
                key_segments(key)
            except ValueError as error:
                raise InvalidInput(f"The snapshot holds a blob with a bad key: {error}") from None
            if not key.startswith(BLOB_DIRECTORIES):
                raise InvalidInput(f"The snapshot holds an unexpected blob {key!r}.")
            blob_entries.append(info)
        else:
            raise InvalidInput(f"The snapshot holds an unexpected entry {name!r}.")
    return Snapshot(manifest, rows, archive, blob_entries)


def _json(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(archive.read(name))
    except (ValueError, zipfile.BadZipFile, OSError) as error:
        raise InvalidInput(f"The snapshot's {name} is not valid JSON: {error}") from None


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, Any]]:
    rows = []
    try:
        text = archive.read(name).decode("utf-8")
    except (UnicodeDecodeError, zipfile.BadZipFile, OSError) as error:
        raise InvalidInput(f"The snapshot's {name} cannot be read: {error}") from None
    for number, line in enumerate(text.splitlines(), 1):
        try:
            row = json.loads(line)
        except ValueError as error:
            raise InvalidInput(f"{name} line {number} is not JSON: {error}") from None
        if not isinstance(row, dict):
            raise InvalidInput(f"{name} line {number} is not a JSON object.")
        rows.append(row)
    return rows
