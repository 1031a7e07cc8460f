"""Servers that share a database share its signing key: a cursor, a pre-signed URL or a
dashboard session made by one is good on the other, though each has a data dir of its own.
A data dir from a release that kept the key in a file hands that key to the database."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.server import Server
from batch_compute_mock.service.signing_key import shared_signing_key
from batch_compute_mock.settings import Settings
from batch_compute_mock.store import SqlStore
from support.inprocess import FUNCTION, ORIGIN, bearer, make_bundle, upload

pytestmark = pytest.mark.both_databases


@pytest.fixture
def shared_url(tmp_path: Path, database_url: str | None) -> str:
    """One database for both servers: PostgreSQL, or a SQLite file outside their data dirs."""
    return database_url or f"sqlite:///{tmp_path / 'shared.sqlite3'}"


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, public_url=ORIGIN, execute_jobs=False)


@pytest.fixture
def two_servers(tmp_path: Path, shared_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    with ExitStack() as stack:
        clients = [
            stack.enter_context(
                TestClient(create_app(_settings(tmp_path / name, shared_url)), base_url=ORIGIN)
            )
            for name in ("one", "two")
        ]
        yield clients[0], clients[1]


def test_a_cursor_and_a_presigned_url_of_one_server_work_on_the_other(
    two_servers: tuple[TestClient, TestClient],
) -> None:
    one, two = two_servers
    alice = bearer("alice")
    created = one.post("/compute/v1/functions", json=FUNCTION, headers=alice).json()
    function_id = created["function"]["id"]
    bulk = {"function_id": function_id, "bulk_args": [[1], [2], [3]]}
    assert one.post("/compute/v1/jobs/bulk", json=bulk, headers=alice).status_code == 201

    first = one.get("/compute/v1/jobs", params={"page_size": 2}, headers=alice).json()
    cursor = first["meta"]["page_cursor"]
    rest = two.get("/compute/v1/jobs", params={"page_cursor": cursor}, headers=alice).json()
    seen = [job["id"] for job in first["data"] + rest["data"]]
    assert len(seen) == 3 == len(set(seen)) and rest["meta"]["total"] == 3

    # The upload URL one server signed is accepted by the other (a forged one is not).
    assert upload(two, created["bundle_upload_url"], make_bundle()).status_code == 200
    forged = created["bundle_upload_url"].replace("signature=", "signature=0")
    assert upload(two, forged, make_bundle()).status_code == 403


def test_no_key_file_is_written_and_a_release_key_file_is_handed_over(
    tmp_path: Path, shared_url: str
) -> None:
    old_dir = tmp_path / "release"
    old_dir.mkdir()
    release_key = secrets.token_bytes(32)
    (old_dir / "signing.key").write_bytes(release_key)
    first = Server.create(_settings(old_dir, shared_url))
    second = Server.create(_settings(tmp_path / "new", shared_url))  # an empty data dir
    try:
        assert first.signing_key == release_key == second.signing_key
        assert not (tmp_path / "new" / "signing.key").exists()
    finally:
        first.store.close()
        second.store.close()


def test_servers_starting_together_agree_on_one_key(tmp_path: Path, shared_url: str) -> None:
    """Eight stores race to store the first key: write transactions run one at a time (the
    advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), so one key wins, none fails."""
    stores = [SqlStore(shared_url) for _ in range(8)]
    barrier = threading.Barrier(len(stores))

    def start(store: SqlStore) -> bytes:
        barrier.wait()
        return shared_signing_key(store, tmp_path / "no-such-file")

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            keys = list(pool.map(start, stores))
    finally:
        for store in stores:
            store.close()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
