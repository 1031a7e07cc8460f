"""A result download's handle is closed when the client goes away midway, not left open."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from batch_compute_mock.api.presigned import BlobResponse


def test_a_client_that_drops_midway_leaves_no_open_handle(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"x" * (8 << 20))  # eight 1 MiB chunks
    data = blob.open("rb")
    sent: list[dict[str, Any]] = []
    first_chunk = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await first_chunk.wait()  # the client reads one chunk, then hangs up
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            first_chunk.set()
            await asyncio.sleep(3600)  # a slow socket: the disconnect ends the response

    async def download() -> bool:
        response = BlobResponse(data, 8 << 20)  # alive, as the server's frames keep it
        scope = {"type": "http", "asgi": {"spec_version": "2.3"}, "method": "GET"}
        await response(scope, receive, send)
        return data.closed

    assert asyncio.run(download()), "the handle is still open after the response ended"
    assert len([m for m in sent if m["type"] == "http.response.body"]) == 1


def test_a_whole_download_closes_its_handle(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"abc")
    data = blob.open("rb")
    body = bytearray()

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        body.extend(message.get("body", b""))

    scope = {"type": "http", "asgi": {"spec_version": "2.3"}, "method": "GET"}
    asyncio.run(BlobResponse(data, 3)(scope, receive, send))
    assert bytes(body) == b"abc" and data.closed
