"""The test controls under ``/_mock/``: reset, snapshot and restore, faults, the journal.

They are not part of the contract and carry no authentication: they are on only when a server
listens on loopback (``serve --test-controls`` / ``--no-test-controls`` overrides), and when
they are off no ``/_mock/`` path exists (404).

    POST   /_mock/reset      {} everything, or {"owner": "<sub>"} / {"userid": "<id>"}   -> 204
    POST   /_mock/snapshot   the whole state as one zip                                  -> 200
    POST   /_mock/restore    that zip as the body                                        -> 204
    POST   /_mock/faults     a fault (``faults``)                                        -> 201
    GET    /_mock/faults     the faults in force                                         -> 200
    DELETE /_mock/faults     no more faults                                              -> 204
    GET    /_mock/journal    [?job_id=|?function_id=] job events in order                -> 200

A reset or a restore first stops whatever it removes that is running, and waits until it has
stopped, so nothing of the owner (or of anything, for a whole reset) survives it. On a server
that does not schedule (several servers on one database) it asks the one that does, through
the database, and waits for its answer; a restore also makes it recover from the restored
state. A scheduling server that does not answer in time gets a 503 (the state has changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ..blobs import BlobStore
from ..blobs.keys import build_log_key, bundle_key, job_log_key, result_key
from ..builder.cache import BundleCache
from ..kernel.errors import InvalidInput, PayloadTooLarge
from ..scheduler.leadership import SchedulerUnreachable, SchedulingRole
from ..store import Store
from ..store.database import head_revision, known_revisions
from .faults import FaultBook
from .snapshot import BLOB_DIRECTORIES, read_snapshot, write_snapshot

__all__ = ["ROUTES", "TestControls"]

#: path -> the methods and handler names of each control.
ROUTES: dict[str, tuple[list[str], str]] = {
    "/_mock/reset": (["POST"], "reset_route"),
    "/_mock/snapshot": (["POST"], "snapshot_route"),
    "/_mock/restore": (["POST"], "restore_route"),
    "/_mock/faults": (["GET", "POST", "DELETE"], "faults_route"),
    "/_mock/journal": (["GET"], "journal_route"),
}


class TestControls:
    """The controls of one server, over its store, blobs, bundle cache and scheduler."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        bundles: BundleCache,
        scheduling: SchedulingRole | None,
        faults: FaultBook,
        max_snapshot_bytes: int,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.bundles = bundles
        self.scheduling = scheduling
        self.faults = faults
        self.max_snapshot_bytes = max_snapshot_bytes

    # The operations ------------------------------------------------------------------------
    async def reset(self, owner: str | None = None) -> None:
        """Remove everything (``owner`` None), or everything of one owner (``user:<id>``)."""
        if owner is None:
            with self.store.write() as store:
                store.delete_all()
            if self.scheduling is not None:
                await self.scheduling.stop_jobs()
            for directory in BLOB_DIRECTORIES:
                self.blobs.delete_prefix(directory)
            self.bundles.clear()
            self.faults.clear()
            return
        with self.store.write() as store:
            owned = store.owned_ids(owner)
            store.delete_owner(owner)
        if self.scheduling is not None:
            await self.scheduling.stop_jobs(set(owned.job_ids))
        for function_id in owned.function_ids:
            self.blobs.delete(bundle_key(function_id))
            self.blobs.delete(build_log_key(function_id))
            self.bundles.forget(function_id)
        for job_id in owned.job_ids:
            self.blobs.delete(job_log_key(job_id))
        for blob_id in owned.result_ids:
            self.blobs.delete(result_key(blob_id))

    def snapshot(self) -> Path:
        """The whole state written to a temporary zip file (the caller removes it)."""
        with self.store.read() as store:
            rows = store.export_rows()
        fd, name = tempfile.mkstemp(prefix="batch-compute-snapshot-", suffix=".zip")
        try:
            with os.fdopen(fd, "wb") as target:
                write_snapshot(target, rows, self.blobs, head_revision())
        except BaseException:
            os.unlink(name)
            raise
        return Path(name)

    async def restore(self, path: Path) -> None:
        """Replace the whole state with the snapshot at ``path``; a bad snapshot changes
        nothing (it is read and checked whole first)."""
        snapshot = read_snapshot(path, known_revisions())
        with snapshot.archive:
            if self.scheduling is not None:
                await self.scheduling.stop_jobs()
            try:
                with self.store.write() as store:
                    store.delete_all()
                    store.import_rows(snapshot.rows)
            except ValueError as error:
                raise InvalidInput(f"The snapshot's rows do not fit: {error}") from None
            for directory in BLOB_DIRECTORIES:
                self.blobs.delete_prefix(directory)
            self.bundles.clear()
            for key, stream in snapshot.blobs():
                self.blobs.write_stream(key, _chunks(stream))
        if self.scheduling is not None:
            await self.scheduling.reload()

    def journal(self, job_id: str | None, function_id: str | None) -> list[dict[str, Any]]:
        with self.store.read() as store:
            return [dict(row) for row in store.journal(job_id, function_id)]

    # The routes ----------------------------------------------------------------------------
    async def reset_route(self, request: Request) -> Response:
        try:
            return await self._reset_route(request)
        except SchedulerUnreachable as error:
            return _unavailable(error)

    async def _reset_route(self, request: Request) -> Response:
        body = await _json_body(request)
        owner = None
        if body.get("owner") is not None:
            sub = body["owner"]
            if not isinstance(sub, str) or not sub:
                raise InvalidInput('"owner" is the sub (user name) whose state to reset.')
            owner = "user:" + hashlib.sha1(sub.encode()).hexdigest()
        elif body.get("userid") is not None:
            if not isinstance(body["userid"], str) or not body["userid"]:
                raise InvalidInput('"userid" is the user id whose state to reset.')
            owner = f"user:{body['userid']}"
        elif set(body) - {"owner", "userid"}:
            raise InvalidInput(
                'The body is {} (everything), {"owner": "<sub>"} or {"userid": ...}.'
            )
        await self.reset(owner)
        return Response(status_code=204)

    async def snapshot_route(self, _request: Request) -> Response:
        path = self.snapshot()
        return FileResponse(
            path,
            media_type="application/zip",
            filename="batch-compute-snapshot.zip",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )

    async def restore_route(self, request: Request) -> Response:
        fd, name = tempfile.mkstemp(prefix="batch-compute-restore-", suffix=".zip")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as target:
                size = 0
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > self.max_snapshot_bytes:
                        raise PayloadTooLarge(
                            f"The snapshot is larger than {self.max_snapshot_bytes} bytes."
                        )
                    target.write(chunk)
            await self.restore(path)
        except SchedulerUnreachable as error:
            return _unavailable(error)
        finally:
            path.unlink(missing_ok=True)
        return Response(status_code=204)

    async def faults_route(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.faults.describe())
        if request.method == "DELETE":
            self.faults.clear()
            return Response(status_code=204)
        return JSONResponse(self.faults.add(await _json_body(request)), status_code=201)

    async def journal_route(self, request: Request) -> Response:
        params = request.query_params
        return JSONResponse(self.journal(params.get("job_id"), params.get("function_id")))

    def routes(self) -> list[tuple[str, list[str], Callable[[Request], Awaitable[Response]]]]:
        """(path, methods, handler) of every control."""
        return [(path, methods, getattr(self, name)) for path, (methods, name) in ROUTES.items()]


def _unavailable(error: SchedulerUnreachable) -> Response:
    """The state changed, but the scheduling server did not confirm that it followed."""
    return JSONResponse(
        {"title": "Service Unavailable", "status": 503, "detail": f"{error}"},
        status_code=503,
        media_type="application/problem+json",
    )


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise InvalidInput(f"The body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    return body
