"""Job results as catalog storage blobs: lookup by blob id, expiry, deletion.

A result's bytes live in the blob store (``results/{sha256(blob id)}``); its attributes live in the
``results`` table under the blob id ``compute/{namespace}/{function_id}/{job_id}``, which is
what the genuine clients compute and ask the catalog for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..blobs.layout import DataLayout
from ..identity import Identity
from ..store.engine import Database
from ..store.tables import results
from ..timestamps import utc_now, z_timestamp
from .errors import NotFound

__all__ = ["ResultService", "result_blob_id"]


def result_blob_id(namespace: str, function_id: str, job_id: str) -> str:
    return f"compute/{namespace}/{function_id}/{job_id}"


class ResultService:
    def __init__(self, db: Database, layout: DataLayout) -> None:
        self._db = db
        self._layout = layout

    def storage_document(self, identity: Identity, blob_id: str) -> dict[str, Any]:
        row = self._current(identity, blob_id)
        return {"data": {"type": "storage", "id": row["id"], "attributes": _attributes(row)}}

    def download_document(self, identity: Identity, blob_id: str) -> dict[str, Any]:
        row = self._current(identity, blob_id)
        return {
            "data": {
                "type": "storage_download",
                "id": row["id"],
                "attributes": {"resumable_url": self._layout.result_download_url(row["id"])},
            }
        }

    def data(self, blob_id: str) -> bytes:
        """The bytes behind a verified pre-signed URL."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(results).where(results.c.id == blob_id)).mappings().first()
        if row is None or _expired(row):
            raise NotFound(f"Blob {blob_id} not found.")
        path = self._layout.result_path(row["id"])
        if not path.exists():
            raise NotFound(f"Blob {blob_id} has no data.")
        return path.read_bytes()

    def delete_for_jobs(self, job_ids: Sequence[str]) -> None:
        with self._db.write() as conn:
            blob_ids: list[str] = []
            for start in range(0, len(job_ids), 500):
                chunk = results.c.job_id.in_(list(job_ids[start : start + 500]))
                blob_ids += [r.id for r in conn.execute(sa.select(results.c.id).where(chunk))]
                conn.execute(results.delete().where(chunk))
        self._layout.remove_results(blob_ids)

    def delete_for_function(self, function_id: str) -> None:
        with self._db.write() as conn:
            of_function = results.c.function_id == function_id
            blob_ids = [r.id for r in conn.execute(sa.select(results.c.id).where(of_function))]
            conn.execute(results.delete().where(of_function))
        self._layout.remove_results(blob_ids)

    def purge_expired(self) -> int:
        """Delete every result whose ``expires`` has passed; returns how many."""
        with self._db.write() as conn:
            past = results.c.expires < utc_now()
            expired = [r.id for r in conn.execute(sa.select(results.c.id).where(past))]
            conn.execute(results.delete().where(past))
        self._layout.remove_results(expired)
        return len(expired)

    def _current(self, identity: Identity, blob_id: str) -> sa.RowMapping:
        with self._db.read() as conn:
            row = (
                conn.execute(
                    sa.select(results).where(
                        results.c.id == blob_id, results.c.owner == identity.owner
                    )
                )
                .mappings()
                .first()
            )
        if row is None or _expired(row):
            raise NotFound(f"Storage blob {blob_id} not found.")
        return row


def _expired(row: Mapping[Any, Any]) -> bool:
    return row["expires"] is not None and row["expires"] <= utc_now()


def _catalog_time(stored: str | None) -> str | None:
    """Catalog timestamps end in ``Z`` (the only form the genuine catalog client parses)."""
    return None if stored is None else z_timestamp(stored)


def _attributes(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "namespace": row["namespace"],
        "name": f"{row['function_id']}/{row['job_id']}",
        "storage_type": "compute",
        "storage_state": "available",
        "description": row["description"],
        "expires": _catalog_time(row["expires"]),
        "extra_properties": row["extra_properties"],
        "tags": row["tags"],
        "geometry": row["geometry"],
        "size_bytes": row["size_bytes"],
        "hash": row["hash"],
        "href": None,
        "created": _catalog_time(row["created"]),
        "modified": _catalog_time(row["modified"]),
        "owners": [row["owner"]],
        "readers": [],
        "writers": [],
    }
