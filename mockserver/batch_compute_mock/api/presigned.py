"""Handlers for the ``presigned`` tag: URLs that carry their own authorisation.

The genuine client sends no bearer token here (wire-protocol.md §5.2, §8.2): the signature
and expiry in the query are checked against the exact path instead.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..kernel.errors import PayloadTooLarge
from ..service.presigned import BUNDLE_UPLOAD_PATH, RESULT_DATA_PATH
from ._context import server

__all__ = ["BlobResponse", "download_result_data", "upload_function_bundle"]


def upload_function_bundle(
    function_id: str, expires: int, signature: str, body: bytes | None = None
) -> Response:
    svc = server()
    svc.urls.verify("PUT", BUNDLE_UPLOAD_PATH + function_id, expires, signature)
    data = body or b""
    limit = svc.settings.max_bundle_bytes
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The bundle is {len(data)} bytes; this server accepts bundles up to {limit} bytes."
        )
    svc.functions.receive_bundle(function_id, data)
    return Response(status_code=200)


def download_result_data(blob_id: str, expires: int, signature: str) -> Response:
    # Raw bytes, never Content-Encoding: the genuine client reads the socket undecoded.
    svc = server()
    svc.urls.verify("GET", RESULT_DATA_PATH + blob_id, expires, signature)
    data = svc.results.data(blob_id)
    size = data.seek(0, io.SEEK_END)
    data.seek(0)
    return BlobResponse(data, size)


class BlobResponse(StreamingResponse):
    """A blob streamed in 1 MiB reads; its handle is closed when the response ends, also when
    the client goes away midway (Starlette then abandons the body iterator unclosed, and a
    held S3 or file handle would live until the garbage collector found it)."""

    def __init__(self, data: BinaryIO, size: int) -> None:
        super().__init__(
            _chunks(data),
            media_type="application/octet-stream",
            headers={"Content-Length": str(size)},
        )
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.data.close()


def _chunks(data: BinaryIO) -> Iterator[bytes]:
    while chunk := data.read(1 << 20):
        yield chunk
