"""Job results as catalog storage blobs: lookup by blob id, download URLs, expiry, deletion.

A result's bytes live in the blob store (``blobs.keys.result_key``); its attributes live in the
store under the blob id ``compute/{namespace}/{function_id}/{job_id}`` (``kernel.ids``), which
is what the genuine clients compute and ask the catalog for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from ..blobs import BlobStore
from ..blobs.keys import result_key
from ..kernel.errors import NotFound
from ..kernel.ids import result_blob_id
from ..kernel.timestamps import utc_now, z_timestamp
from ..store import Row, Store
from .identity import Identity
from .presigned import PresignedUrls

__all__ = ["ResultStorage"]


class ResultStorage:
    def __init__(self, store: Store, blobs: BlobStore, urls: PresignedUrls) -> None:
        self._store = store
        self._blobs = blobs
        self._urls = urls

    def storage_document(self, identity: Identity, blob_id: str) -> dict[str, Any]:
        row = self._current(identity, blob_id)
        return {"data": {"type": "storage", "id": row["id"], "attributes": _attributes(row)}}

    def download_document(self, identity: Identity, blob_id: str) -> dict[str, Any]:
        row = self._current(identity, blob_id)
        return {
            "data": {
                "type": "storage_download",
                "id": row["id"],
                "attributes": {"resumable_url": self._urls.result_download_url(row["id"])},
            }
        }

    def data(self, blob_id: str) -> BinaryIO:
        """The bytes behind a verified pre-signed URL, opened for streaming (the caller
        closes it): a large result never sits whole in the server's memory."""
        with self._store.read() as store:
            row = store.result(blob_id)
        if row is None or _expired(row):
            raise NotFound(f"Blob {blob_id} not found.")
        try:
            return self._blobs.open(result_key(row["id"]))
        except FileNotFoundError:
            raise NotFound(f"Blob {blob_id} has no data.") from None

    def job_result(self, identity: Identity, job_id: str) -> dict[str, Any] | None:
        """The result a job of the caller stored: ``id`` and its catalog attributes (what a
        ``ComputeResult`` set: description, tags, extra_properties, expires...), or None
        when it stored none (or it expired)."""
        with self._store.read() as store:
            job = store.job(job_id, identity.owner)
            if job is None:
                raise NotFound(f"Job {job_id} not found.")
            function = store.function(job["function_id"])
            row = None
            if function is not None:
                blob_id = result_blob_id(function["namespace"], function["id"], job_id)
                row = store.result(blob_id, identity.owner)
        if row is None or _expired(row):
            return None
        return {"id": row["id"], **_attributes(row)}

    def job_result_data(self, identity: Identity, job_id: str, limit: int | None = None) -> bytes:
        """The bytes of a job's result (the first ``limit`` of them); ``NotFound`` without one."""
        result = self.job_result(identity, job_id)
        if result is None:
            raise NotFound(f"Job {job_id} has no stored result.")
        try:
            with self._blobs.open(result_key(result["id"])) as file:
                return file.read() if limit is None else file.read(limit)
        except FileNotFoundError:
            raise NotFound(f"Job {job_id} has no stored result.") from None

    def delete_for_jobs(self, job_ids: Sequence[str]) -> None:
        with self._store.write() as store:
            blob_ids = store.delete_results_of_jobs(job_ids)
        self._remove(blob_ids)

    def delete_for_function(self, function_id: str) -> None:
        with self._store.write() as store:
            blob_ids = store.delete_results_of_function(function_id)
        self._remove(blob_ids)

    def purge_expired(self) -> int:
        """Delete every result whose ``expires`` has passed; returns how many."""
        with self._store.write() as store:
            expired = store.delete_results_expiring_before(utc_now())
        self._remove(expired)
        return len(expired)

    def _remove(self, blob_ids: Sequence[str]) -> None:
        for blob_id in blob_ids:
            self._blobs.delete(result_key(blob_id))

    def _current(self, identity: Identity, blob_id: str) -> Row:
        with self._store.read() as store:
            row = store.result(blob_id, identity.owner)
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
