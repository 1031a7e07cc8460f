"""Length-prefixed JSON frames, and the typed frames the job process and its supervisor trade.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (one object).
One frame carries a job in, one frame carries its report out, so each side pays one
``json.loads`` per job. The same framing serves the supervisor's control socket to the pool.

Between the supervisor and the job process (pipes):

    supervisor -> job process   JobFrame      run this job now (the process is idle)
    job process -> supervisor   ReportFrame   how the job ended, and what it used

``ExecutorConfig`` is the job process's start-up configuration (its one argument, as JSON).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any, TypedDict

__all__ = [
    "MAX_FRAME_BYTES",
    "ExecutorConfig",
    "FrameDecoder",
    "JobFrame",
    "ProtocolError",
    "ReportFrame",
    "encode_frame",
    "recv_frames",
]

MAX_FRAME_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ExecutorConfig(TypedDict):
    """How the supervisor starts a job process (``python -I -m batch_compute_runtime CONFIG``)."""

    job_fd: int  #: frames in (JobFrame)
    report_fd: int  #: frames out (ReportFrame)
    supervisor_pid: int  #: the process must die with it
    own_group: bool  #: lead a process group of its own (not in a sandbox, whose bwrap leads it)
    bundle_dir: str  #: the unpacked bundle, first on sys.path
    python_path: list[str]  #: directories next on sys.path (the interpreter runs with -I)
    memory_mib: int  #: the function's memory (RLIMIT_AS adds the headroom)
    memory_headroom_mib: int
    fsize_cap_bytes: int  #: RLIMIT_FSIZE
    nproc_limit: int | None  #: RLIMIT_NPROC, or None where the kernel ignores it (root)
    preload: list[str]  #: modules to import once, before the first job


class JobFrame(TypedDict):
    """One job for the job process to run."""

    job_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    environment: dict[str, str]  #: laid over the process's own; restored afterwards
    work_dir: str  #: the job's working directory (and TMPDIR unless it sets one)
    result_path: str  #: where the result bytes go, when there are any
    memory_mib: int
    fault: dict[str, Any] | None  #: a test's injected fault to act out instead of ``main``


class ReportFrame(TypedDict, total=False):
    """How a job ended. ``ok`` jobs have ``result`` (bytes were written) and ``attributes``;
    failed ones ``exit_code`` and ``reason``. Every report has the measurements and ``taint``:
    why this process must not run another job, or None."""

    ok: bool
    result: bool
    attributes: dict[str, Any] | None
    exit_code: int
    reason: str
    cpu_ns: int  #: CPU time of this job (and the children it waited for)
    cpu_total_ns: int  #: CPU time of the process so far
    peak_bytes: int  #: peak resident memory during this job
    taint: str | None


class ProtocolError(Exception):
    """A frame that cannot be decoded: the peer is broken and must be discarded."""


def encode_frame(message: Any) -> bytes:
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
