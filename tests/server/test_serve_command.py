"""``batch-compute serve`` as a user and CI start it: any free port, found from a file.

Real processes on loopback; the server is stopped with SIGTERM, as CI would stop it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from support.inprocess import create_ready_function, make_bundle
from support.live_server import LiveServer

if TYPE_CHECKING:
    from support.postgres import PostgresCluster

JOBS = "/compute/v1/jobs"
DOUBLE = "def main(x):\n    return x * 2\n"
SERVE = [sys.executable, "-m", "batch_compute_mock", "serve", "--host", "127.0.0.1"]


STALE = "8000\n"


def _read_new_port_file(path: Path, process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The port file's content once this run has written it (not the stale one)."""
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text() if path.exists() else ""
        if content and content != STALE:
            return content
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} was not written within {timeout} s"
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    port_file = tmp_path / "run" / "port"
    port_file.parent.mkdir()
    port_file.write_text(STALE)  # left over from an earlier run: must not be trusted
    process = subprocess.Popen(
        [*SERVE, "--port", "0", "--port-file", str(port_file), "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    try:
        yield process, port_file
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def test_port_zero_is_announced_as_the_bound_port_and_written_to_the_port_file(
    server: tuple[subprocess.Popen[str], Path],
) -> None:
    process, port_file = server
    content = _read_new_port_file(port_file, process)
    port = int(content)
    assert content == f"{port}\n" and port not in (0, 8000)

    # Written once the server answers: no retry loop is needed after reading it.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert json.load(response)["status"] == "ok"

    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    origin = f"http://127.0.0.1:{port}"
    assert f"Batch Compute listening on {origin}" in output
    exports = [line.strip() for line in output.splitlines() if "export " in line]
    assert len(exports) == 8
    for line in exports:
        if "_URL=" in line:
            assert line.split("=", 1)[1].startswith(origin), line
    assert ":0/" not in output and not output.rstrip().endswith(":0")
    assert "Ctrl+C" in output  # how to stop it
    assert not port_file.exists()  # a stopped server leaves no port behind


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [*SERVE, "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 1
    assert run.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1 port {port}: [Errno 98] Address already in use"
    )


def test_serve_keeps_its_state_in_the_database_named_by_its_url(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    """BATCH_COMPUTE_DATABASE_URL (--database-url): functions and jobs live in PostgreSQL (no
    SQLite file is made), a restart finds them there, and the banner names the database
    without its password."""
    url = postgres.new_database(migrated=False)  # the server migrates it as it starts
    with_password = url.replace("postgres@", "postgres:hunter2@")  # trust auth ignores it
    data = tmp_path / "data"
    env = {**os.environ, "BATCH_COMPUTE_DATABASE_URL": with_password}  # not in `ps`
    server = LiveServer(data, ["--sandbox", "off"], env=env)
    with server:
        client = httpx.Client(base_url=server.origin, timeout=30)
        function = create_ready_function(client, _auth(server), make_bundle(DOUBLE))
        job = client.post(
            JOBS, json={"function_id": function["id"], "args": [21]}, headers=_auth(server)
        ).json()
        done = _wait(client, _auth(server), job["id"])
        assert done["status"] == "success", done
        server.restart()
        client = httpx.Client(base_url=server.origin, timeout=30)
        again = client.get(f"{JOBS}/{job['id']}", headers=_auth(server)).json()
        assert again["status"] == "success"
    assert not (data / "batch-compute.sqlite3").exists()
    log = server.log_path.read_text()
    assert "Database: postgresql+psycopg://postgres:***@/" in log
    assert "hunter2" not in log
    postgres.drop_database(url)


def test_serve_says_why_it_cannot_open_its_database(tmp_path: Path) -> None:
    url = "postgresql://nobody:s3cret@/nothing?host=/nonexistent"
    done = subprocess.run(
        [*SERVE, "--port", "0", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BATCH_COMPUTE_DATABASE_URL": url},
    )
    assert done.returncode == 1
    assert "error: cannot open postgresql+psycopg://nobody:***@/nothing" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def _auth(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('alice')}"}


def _wait(client: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"{JOBS}/{job_id}", headers=headers).json()
        if job["status"] in ("success", "failure", "timeout", "canceled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_an_unknown_blob_store_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--port", "0", "--data-dir", str(tmp_path / "d"), "--blob-url", "gs://b/x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: unsupported blob store URL 'gs://b/x' (gs://); "
        "use a directory, file:///path or s3://bucket/prefix"
    )
