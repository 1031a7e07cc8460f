"""The schema is versioned: migrations build exactly the schema the code uses, and a data dir
written by the first release (before migrations existed) upgrades in place with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from batch_compute_mock.store import database as database_module
from batch_compute_mock.store.database import Database, head_revision, migrate
from batch_compute_mock.store.schema import created_on, job_counts, jobs, metadata
from support.live_server import LiveServer

if TYPE_CHECKING:
    from support.postgres import PostgresCluster

RELEASE_DATA = Path(__file__).parents[1] / "fixtures" / "release-0.1.0-data.tar.gz"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables yet, on each database the server supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.new_database(migrated=False)
    yield url
    cluster.drop_database(url)


def test_migrations_build_the_schema_the_code_uses(empty_database: str) -> None:
    database = Database(empty_database)
    try:
        with database.read() as connection:

            def include(item: Any, _name: Any, _type: Any, reflected: bool, _other: Any) -> bool:
                return reflected or created_on(item, database.dialect)

            context = MigrationContext.configure(connection, opts={"include_object": include})
            differences = compare_metadata(context, metadata)
    finally:
        database.dispose()
    assert differences == []


def _counts(connection: sa.Connection) -> dict[tuple[str, str, str], int]:
    rows = connection.execute(sa.select(job_counts).where(job_counts.c.n_jobs != 0))
    return {(owner, function_id, status): n for owner, function_id, status, n in rows}


def _counted(connection: sa.Connection) -> dict[tuple[str, str, str], int]:
    keys = (jobs.c.owner, jobs.c.function_id, jobs.c.status)
    rows = connection.execute(sa.select(*keys, sa.func.count()).group_by(*keys))
    return {(owner, function_id, status): n for owner, function_id, status, n in rows}


def _old_job(n: int) -> dict[str, Any]:
    return {
        "id": f"j{n}", "owner": ("alice", "bob")[n % 2], "function_id": f"f{n % 3}",
        "status": ("pending", "success")[n % 5 == 0], "tags": [], "execution_count": 0,
        "creation_date": "2024-05-01T00:00:00.000000+00:00",
    }  # fmt: skip


def test_the_job_counts_start_from_the_jobs_a_database_holds(empty_database: str) -> None:
    """Migration 0009 fills the maintained counts from the jobs stored before it."""
    database = Database(empty_database, upgrade=False)
    try:
        config = Config()
        config.set_main_option(
            "script_location", str(Path(database_module.__file__).parent / "migrations")
        )
        with database.write() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0008")
            connection.execute(jobs.insert(), [_old_job(n) for n in range(40)])
        migrate(database)
        with database.read() as connection:
            expected = _counted(connection)
            assert len(expected) == 12 and sum(expected.values()) == 40
            assert _counts(connection) == expected
    finally:
        database.dispose()


@pytest.fixture
def release_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    with tarfile.open(RELEASE_DATA) as archive:
        archive.extractall(data, filter="data")
    return data


def _cli(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "batch_compute_mock", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return done.stdout.strip()


def test_db_commands_report_and_upgrade_an_empty_database(
    empty_database: str, tmp_path: Path
) -> None:
    """The URL from BATCH_COMPUTE_DATABASE_URL, on SQLite and PostgreSQL alike."""
    env = {**os.environ, "BATCH_COMPUTE_DATABASE_URL": empty_database}
    head = head_revision()
    unused = str(tmp_path / "unused")  # the URL wins over the data dir's SQLite file
    assert _cli("db", "current", "--data-dir", unused, env=env).startswith("none")
    assert _cli("db", "upgrade", "--data-dir", unused, env=env).startswith(f"upgraded to {head}")
    assert _cli("db", "current", "--data-dir", unused, env=env).startswith(head)
    assert not Path(unused).exists()


def test_db_commands_say_what_is_wrong_with_a_database_url(tmp_path: Path) -> None:
    for url, reason in (
        ("postgresql+psycopg://nobody:s3cret@/none?host=/nonexistent", "cannot open"),
        ("mysql://nobody@localhost/db", "unsupported database"),
        ("not a url", "malformed database URL"),
        ("postgresql://nobody:s3cret@host:notaport/db", "malformed database URL"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "batch_compute_mock", "db", "current", "--database-url", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert done.stderr.startswith(f"error: {reason}"), done.stderr
        assert "s3cret" not in done.stderr and "Traceback" not in done.stderr


def test_db_commands_report_and_upgrade_a_release_data_dir(release_dir: Path) -> None:
    head = head_revision()
    before = _cli("db", "current", "--data-dir", str(release_dir))
    assert before.startswith("none") and f"latest: {head}" in before
    assert _cli("db", "upgrade", "--data-dir", str(release_dir)).startswith(f"upgraded to {head}")
    assert _cli("db", "current", "--data-dir", str(release_dir)).startswith(head)
    engine = sa.create_engine(f"sqlite:///{release_dir / 'batch-compute.sqlite3'}")
    with engine.connect() as connection:
        assert _counts(connection) == _counted(connection) != {}
    engine.dispose()


@pytest.fixture
def upgraded(release_dir: Path) -> Iterator[tuple[LiveServer, dict[str, Any], httpx.Client]]:
    manifest = json.loads((release_dir / "release.json").read_text())
    with LiveServer(release_dir) as server:  # the upgrade happens as it starts
        headers = {"Authorization": f"Bearer {manifest['token']}"}
        with httpx.Client(base_url=server.origin, headers=headers, timeout=30) as client:
            yield server, manifest, client


def _result(client: httpx.Client, blob_id: str) -> bytes | None:
    quoted = urllib.parse.quote(blob_id, safe="/")
    download = client.get(f"/catalog/v2/storage/download/{quoted}")
    if download.status_code == 404:
        return None
    assert download.status_code == 200, download.text
    return httpx.get(download.json()["data"]["attributes"]["resumable_url"], timeout=30).content


def test_a_release_data_dir_upgrades_in_place_with_nothing_lost(
    upgraded: tuple[LiveServer, dict[str, Any], httpx.Client],
) -> None:
    _server, manifest, client = upgraded
    compute = "/compute/v1"
    statuses = {f["id"]: f["status"] for f in client.get(f"{compute}/functions").json()["data"]}
    assert statuses == {
        manifest["ready"]: "ready",
        manifest["broken"]: "build_failed",
        manifest["stopped"]: "stopped",
    }
    plain, failed, attributed = (client.get(f"{compute}/jobs/{j}").json() for j in manifest["jobs"])
    assert (plain["status"], plain["execution_count"], plain["tags"]) == ("success", 1, ["release"])
    assert (failed["status"], failed["execution_count"]) == ("failure", 2)
    assert failed["error_reason"] == "ValueError: bad 2"
    log = client.get(f"{compute}/jobs/{plain['id']}/log").text.splitlines()
    assert [json.loads(line)["log"] for line in log] == ["release job 1"]

    prefix = f"compute/{manifest['namespace']}/{manifest['ready']}"
    assert _result(client, f"{prefix}/{plain['id']}") == b'{"double": 2}'
    assert _result(client, f"{prefix}/{failed['id']}") is None
    assert json.loads(_result(client, f"{prefix}/{attributed['id']}") or b"") == {"x": 3}
    storage = client.get(
        f"/catalog/v2/storage/{urllib.parse.quote(prefix, safe='/')}/{attributed['id']}"
    )
    attributes = storage.json()["data"]["attributes"]
    assert (attributes["description"], attributes["tags"]) == ("from the release", ["old"])
    assert client.get(f"{compute}/credentials").json()["client_id"] == "release-client"
    replay = client.post(
        f"{compute}/jobs/bulk",
        json={
            "function_id": manifest["ready"],
            "bulk_args": [[7]],
            "reference_id": "release-batch",
        },
    )
    assert [job["id"] for job in replay.json()] == manifest["jobs"]  # idempotency survived

    # The upgraded server runs old functions' jobs: a new one, and the one left waiting.
    new = client.post(f"{compute}/jobs", json={"function_id": manifest["ready"], "args": [21]})
    started = client.patch(f"{compute}/functions/{manifest['stopped']}", json={"status": "ready"})
    assert started.status_code == 200, started.text
    for job_id, value in ((new.json()["id"], 42), (manifest["waiting"], 18)):
        job = _wait_job(client, job_id)
        assert (job["status"], job["execution_count"]) == ("success", 1), job
        function_id = manifest["ready"] if value == 42 else manifest["stopped"]
        blob = _result(client, f"compute/{manifest['namespace']}/{function_id}/{job_id}")
        assert json.loads(blob or b"") == {"double": value}


def _wait_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"/compute/v1/jobs/{job_id}").json()
        if job["status"] in ("success", "failure", "timeout", "canceled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
