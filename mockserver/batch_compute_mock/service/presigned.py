"""The two pre-signed URLs of the API: the bundle upload and the result download.

The genuine client uses them exactly as given and sends no ``Authorization`` header (wire
protocol 5.2, 8.2), so each URL carries its own signature (``signing``), bound to its method.
"""

from __future__ import annotations

import urllib.parse

from .signing import UrlSigner

__all__ = ["BUNDLE_UPLOAD_PATH", "RESULT_DATA_PATH", "PresignedUrls"]

BUNDLE_UPLOAD_PATH = "/presigned/bundles/"
RESULT_DATA_PATH = "/presigned/results/"


class PresignedUrls:
    def __init__(self, signer: UrlSigner, ttl_seconds: int) -> None:
        self._signer = signer
        self._ttl = ttl_seconds

    def bundle_upload_url(self, function_id: str) -> str:
        return self._signer.sign("PUT", BUNDLE_UPLOAD_PATH + function_id, self._ttl)

    def result_download_url(self, blob_id: str) -> str:
        return self._signer.sign("GET", RESULT_DATA_PATH + blob_id, self._ttl)

    def verify(self, method: str, path: str, expires: int, signature: str) -> None:
        """Raise ``Forbidden`` unless the pre-signed URL for ``path`` is genuine and current."""
        self._signer.verify(method, urllib.parse.unquote(path), expires, signature)
