"""Where each kind of file lives under the data dir, and the pre-signed URLs that reach them.

bundles/{function_id}.zip        the uploaded code bundle, as received
build-logs/{function_id}.log     the build log, gzip-compressed as it is served
built/{function_id}/             the unpacked bundle the workers import from
job-logs/{job_id}.ndjson         a job's stdout/stderr, one JSON object per line
results/{sha256(blob id)}        a job's result bytes (attributes are in the database)
"""

from __future__ import annotations

import shutil
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from ..builder.build import gzip_log
from ..signing import UrlSigner
from .files import BlobStore, build_log_key, bundle_key, job_log_key, result_key

__all__ = ["BUNDLE_UPLOAD_PATH", "RESULT_DATA_PATH", "DataLayout"]

BUNDLE_UPLOAD_PATH = "/presigned/bundles/"
RESULT_DATA_PATH = "/presigned/results/"


class DataLayout:
    """The data dir's file layout; the one place that knows a file's key from an id."""

    def __init__(self, blobs: BlobStore, signer: UrlSigner, ttl_seconds: int) -> None:
        self.blobs = blobs
        self._signer = signer
        self._ttl = ttl_seconds

    # Bundles -------------------------------------------------------------------------------
    def bundle_upload_url(self, function_id: str) -> str:
        return self._signer.sign("PUT", BUNDLE_UPLOAD_PATH + function_id, self._ttl)

    def store_bundle(self, function_id: str, data: bytes) -> None:
        self.blobs.write_bytes(bundle_key(function_id), data)

    def has_bundle(self, function_id: str) -> bool:
        return self.blobs.exists(bundle_key(function_id))

    def bundle_path(self, function_id: str) -> Path:
        return self.blobs.path(bundle_key(function_id))

    def built_dir(self, function_id: str) -> Path:
        return self.blobs.path(f"built/{function_id}")

    # Build logs ----------------------------------------------------------------------------
    def write_build_log(self, function_id: str, text: str) -> None:
        self.blobs.write_bytes(build_log_key(function_id), gzip_log(text))

    def build_log_gzip(self, function_id: str) -> bytes | None:
        key = build_log_key(function_id)
        return self.blobs.read_bytes(key) if self.blobs.exists(key) else None

    # Job logs and results ------------------------------------------------------------------
    def job_log_path(self, job_id: str) -> Path:
        return self.blobs.path(job_log_key(job_id))

    def result_path(self, blob_id: str) -> Path:
        return self.blobs.path(result_key(blob_id))

    def result_download_url(self, blob_id: str) -> str:
        return self._signer.sign("GET", RESULT_DATA_PATH + blob_id, self._ttl)

    def verify(self, method: str, path: str, expires: int, signature: str) -> None:
        """Raise ``Forbidden`` unless the pre-signed URL for ``path`` is genuine and current."""
        self._signer.verify(method, urllib.parse.unquote(path), expires, signature)

    # Clean-up ------------------------------------------------------------------------------
    def remove_job_logs(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self.blobs.delete(job_log_key(job_id))

    def remove_results(self, blob_ids: Iterable[str]) -> None:
        for blob_id in blob_ids:
            self.blobs.delete(result_key(blob_id))

    def remove_function_files(self, function_id: str, job_ids: Iterable[str]) -> None:
        self.blobs.delete(bundle_key(function_id))
        self.blobs.delete(build_log_key(function_id))
        shutil.rmtree(self.built_dir(function_id), ignore_errors=True)
        self.remove_job_logs(job_ids)
