"""Length-prefixed JSON frames on the socket between the pool and a worker.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (one object).
One frame carries a job in, one frame carries its outcome out, so the parent pays one
``json.loads`` per job. Messages (``op`` key):

    pool -> worker   {"op": "run", "job": {...}}       start a job (the worker is idle)
                     {"op": "cancel", "job_id": "..."}  kill the job if it is still running
                     {"op": "shutdown"}                 kill any job, report it, exit
                     {"op": "exit"}                     exit when idle
    worker -> pool   {"op": "done", ...outcome fields}  one per "run"
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = ["MAX_FRAME_BYTES", "FrameDecoder", "ProtocolError", "encode_frame", "recv_frames"]

MAX_FRAME_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A frame that cannot be decoded: the peer is broken and must be discarded."""


def encode_frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEADER.pack(len(body)) + body


class FrameDecoder:
    """Turns a byte stream into messages; keeps any partial frame for the next ``feed``."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        buffer = self._buffer
        buffer += data
        messages: list[dict[str, Any]] = []
        offset = 0
        size = len(buffer)
        while size - offset >= 4:
            (length,) = _HEADER.unpack_from(buffer, offset)
            if length > MAX_FRAME_BYTES:
                raise ProtocolError(f"frame length {length} exceeds {MAX_FRAME_BYTES}")
            end = offset + 4 + length
            if end > size:
                break
            try:
                messages.append(json.loads(buffer[offset + 4 : end]))
            except ValueError as exc:
                raise ProtocolError(f"undecodable frame: {exc}") from None
            offset = end
        if offset:
            del buffer[:offset]
        return messages


def recv_frames(sock: socket.socket, decoder: FrameDecoder) -> list[dict[str, Any]] | None:
    """One ``recv`` worth of messages (possibly none yet); ``None`` at end of stream.

    A reset is an end of stream too: a peer that died with our last frame unread (the
    server killed while a worker's outcome was in flight) resets the connection, and it is
    just as gone as one that closed it.
    """
    try:
        data = sock.recv(1 << 16)
    except ConnectionResetError:
        return None
    if not data:
        return None
    return decoder.feed(data)
