"""Hostile jobs against a real server with ``--sandbox bwrap``: each attack is a job submitted
through the API by one owner, and each must fail while the server and the other owner's data
stay untouched. A normal job must still see what jobs are promised.

The server gets what an attacker wants: a secret in its environment (under a name no pattern
would drop), the JWT secret on its command line, another owner's credentials, result and log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.inprocess import make_bundle
from support.live_server import LiveServer

FUNCTIONS = "/compute/v1/functions"
JOBS = "/compute/v1/jobs"
JWT_SECRET = "jwt-secret-on-the-command-line"
ENV_SECRET = "postgresql://app:hunter2@db.internal/prod"
BOB_SECRET = "bob-client-secret-value"
BOB_RESULT = "bob-result-bytes-7f3a"
BOB_LOG = "bob-log-line-91c2"

ATTACK = r'''
import json, os, signal, socket

def attempt(action):
    try:
        return ["ok", repr(action())[:300]]
    except BaseException as error:
        return ["refused", type(error).__name__]

def read(path):
    with open(path, "rb") as handle:
        return handle.read(1 << 20)

def everything_readable(top, limit=20000):
    """Every file under ``top`` this job can read: (path, first bytes)."""
    found = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
        for name in files:
            path = os.path.join(root, name)
            try:
                found.append((path, read(path)))
            except OSError:
                pass
            if len(found) >= limit:
                return found
    return found

def main(data_dir, server_pid, hex_secrets):
    secrets = [bytes.fromhex(secret).decode() for secret in hex_secrets]
    report = {}
    # 1. Walk up from the working directory, then everything from "/".
    up = os.getcwd()
    while up != "/":
        up = os.path.dirname(up)
    readable = everything_readable("/")
    report["files_seen"] = len(readable)
    report["leaks"] = sorted({
        path for path, data in readable for secret in secrets if secret.encode() in data
    })
    report["stores_seen"] = sorted(
        path for path, _ in readable
        if os.path.basename(path) in ("batch-compute.sqlite3", "signing.key", "credentials.key")
    )
    # 2. The same files by absolute path.
    for name in ("batch-compute.sqlite3", "signing.key", "credentials.key", "blobs"):
        path = os.path.join(data_dir, name)
        look = os.listdir if name == "blobs" else read
        report["absolute:" + name] = attempt(lambda look=look, path=path: look(path))
    # 3. The server's command line and environment through /proc.
    report["proc_pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    for what in ("cmdline", "environ"):
        report["server_" + what] = attempt(lambda what=what: read(f"/proc/{server_pid}/{what}"))
        report["init_" + what] = attempt(lambda what=what: read(f"/proc/1/{what}"))
    # 4. A secret of the server's environment in our own.
    values = list(os.environ.values())
    report["own_environment_leaks"] = [s for s in secrets if any(s in v for v in values)]
    # 5. Signal the server and whatever else is visible.
    report["kill_server"] = attempt(lambda: os.kill(server_pid, signal.SIGKILL))
    report["kill_parent"] = attempt(lambda: os.kill(os.getppid(), signal.SIGKILL))
    # 6. Write outside the scratch dir.
    bundle = os.path.dirname(os.path.abspath(__file__))
    for target, directory in (("data_dir", data_dir), ("bundle", bundle), ("root", "/"),
                              ("scratch", os.getcwd())):
        path = os.path.join(directory, "owned")
        report["write_" + target] = attempt(lambda path=path: open(path, "w").close())
    return report
'''

NORMAL = r"""
import os, socket, tempfile, urllib.request

def main(origin):
    here = os.path.dirname(os.path.abspath(__file__))
    with open("scratch.txt", "w") as handle:
        handle.write("scratch")
    with tempfile.NamedTemporaryFile("w") as temporary:
        temporary.write("temporary")
        temporary.flush()
    with urllib.request.urlopen(origin + "/healthz", timeout=10) as answer:
        health = answer.status
    return {
        "data": open(os.path.join(here, "pkg", "data.txt")).read(),
        "environment": {
            name: os.environ.get(name)
            for name in ("FROM_FUNCTION", "FROM_JOB", "BATCH_COMPUTE_JOB_ID")
        },
        "scratch": open("scratch.txt").read(),
        "network": health,
    }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {**os.environ, "APP_DATABASE": ENV_SECRET}
    data_dir = tmp_path_factory.mktemp("sandbox") / "data"
    arguments = ["--sandbox", "bwrap", "--jwt-secret", JWT_SECRET, "--workers", "2"]
    with LiveServer(data_dir, arguments, env=env, token_secret=JWT_SECRET) as live:
        yield live


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with _client(server, "alice") as client:
        yield client


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> Iterator[httpx.Client]:
    with _client(server, "bob") as client:
        yield client


@pytest.fixture(scope="module")
def bobs_things(bob: httpx.Client) -> dict[str, Any]:
    """Bob's credentials, a finished job with a result and a log line."""
    stored = bob.post(
        "/compute/v1/credentials", json={"client_id": "bob", "client_secret": BOB_SECRET}
    )
    assert stored.status_code in (200, 201), stored.text
    source = f"def main():\n    print({BOB_LOG!r})\n    return {BOB_RESULT!r}\n"
    function = _deploy(bob, "bobs", source)
    job = _run(bob, function["id"], [])
    assert job["status"] == "success", job
    return {"function": function, "job": job}


def test_the_server_says_jobs_run_sandboxed(server: LiveServer) -> None:
    health = httpx.get(server.origin + "/healthz").json()
    assert health["sandbox"]["mode"] == "bwrap" and health["sandbox"]["active"] is True
    assert "Job sandbox: bubblewrap" in server.log_path.read_text()


def test_a_hostile_job_reaches_nothing_of_the_server_or_other_owners(
    server: LiveServer, alice: httpx.Client, bob: httpx.Client, bobs_things: dict[str, Any]
) -> None:
    secrets = [JWT_SECRET, ENV_SECRET, BOB_SECRET, BOB_RESULT, BOB_LOG]
    function = _deploy(alice, "attack", ATTACK)
    hex_secrets = [secret.encode().hex() for secret in secrets]  # the job's args are stored
    job = _run(alice, function["id"], [str(server.data_dir), server.pid, hex_secrets], timeout=120)
    assert job["status"] == "success", (job, _log(alice, job["id"]))
    report = _result(alice, job)

    assert report["files_seen"] > 100  # it did read the system it was shown
    assert report["leaks"] == [] and report["stores_seen"] == []
    for name in ("batch-compute.sqlite3", "signing.key", "credentials.key", "blobs"):
        assert report[f"absolute:{name}"] == ["refused", "FileNotFoundError"], name
    assert report["proc_pids"] == [1, 2]  # its own PID namespace: bwrap's init and itself
    assert report["server_cmdline"] == ["refused", "FileNotFoundError"]
    assert report["server_environ"] == ["refused", "FileNotFoundError"]
    assert report["init_environ"][0] == "refused"
    assert JWT_SECRET not in report["init_cmdline"][1]
    assert report["own_environment_leaks"] == []
    assert report["kill_server"] == ["refused", "ProcessLookupError"]
    assert report["kill_parent"] == ["refused", "PermissionError"]
    for target in ("write_data_dir", "write_bundle", "write_root"):
        assert report[target][0] == "refused", target
    assert report["write_scratch"][0] == "ok"

    assert server.running and httpx.get(server.origin + "/healthz").status_code == 200
    assert not (server.data_dir / "owned").exists()
    bobs = bob.get(f"{FUNCTIONS}/{bobs_things['function']['id']}").json()
    assert bobs["name"] == "bobs"


def test_a_job_that_signals_everything_it_can_finds_nothing_to_signal(
    server: LiveServer, alice: httpx.Client
) -> None:
    source = "import os, signal\ndef main():\n    os.kill(-1, signal.SIGKILL)\n    return 'alive'\n"
    function = _deploy(alice, "kill-all", source)
    job = _run(alice, function["id"], [])
    # kill(-1) reaches every process the caller may signal but itself: here there is none.
    assert job["status"] == "failure", job
    assert job["error_reason"] == "ProcessLookupError: [Errno 3] No such process", job
    assert server.running and httpx.get(server.origin + "/healthz").status_code == 200
    again = _run(alice, _deploy(alice, "after", "def main():\n    return 1\n")["id"], [])
    assert again["status"] == "success"


def test_a_normal_job_sees_its_bundle_environment_scratch_and_the_network(
    server: LiveServer, alice: httpx.Client
) -> None:
    function = _deploy(
        alice,
        "normal",
        NORMAL,
        extra={"pkg/__init__.py": "", "pkg/data.txt": "packaged data"},
        environment={"FROM_FUNCTION": "f"},
    )
    job = _run(alice, function["id"], [server.origin], environment={"FROM_JOB": "j"})
    assert job["status"] == "success", (job, _log(alice, job["id"]))
    seen = _result(alice, job)
    assert seen == {
        "data": "packaged data",
        "environment": {"FROM_FUNCTION": "f", "FROM_JOB": "j", "BATCH_COMPUTE_JOB_ID": job["id"]},
        "scratch": "scratch",
        "network": 200,
    }


def test_credentials_are_sealed_in_the_database(
    server: LiveServer, bobs_things: dict[str, Any]
) -> None:
    database = server.data_dir / "batch-compute.sqlite3"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (stored,) = connection.execute("SELECT client_secret FROM credentials").fetchone()
    assert stored.startswith("fernet:") and BOB_SECRET not in stored
    files = [database, *database.parent.glob(database.name + "-*")]  # the WAL too
    assert all(BOB_SECRET.encode() not in path.read_bytes() for path in files)
    key_file = server.data_dir / "credentials.key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_plaintext_credentials_of_an_earlier_release_are_sealed_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(data_dir, ["--sandbox", "off"]) as live, _client(live, "carol") as carol:
        body = {"client_id": "carol", "client_secret": "placeholder"}
        assert carol.post("/compute/v1/credentials", json=body).status_code in (200, 201)
    database = data_dir / "batch-compute.sqlite3"
    with sqlite3.connect(database) as connection:  # as a release before sealing left it
        connection.execute("UPDATE credentials SET client_secret = 'carol-plaintext'")
    with LiveServer(data_dir, ["--sandbox", "off"]):
        pass
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (stored,) = connection.execute("SELECT client_secret FROM credentials").fetchone()
    assert stored.startswith("fernet:")
    from batch_compute_mock.service.sealing import SecretBox

    box = SecretBox((data_dir / "credentials.key").read_bytes().strip())
    assert box.open(stored) == "carol-plaintext"


def test_the_jwt_secret_can_come_from_a_file_and_stays_off_the_command_line(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text("from-a-file\n")
    data_dir = tmp_path / "data"
    live = LiveServer(data_dir, ["--jwt-secret-file", str(secret_file)], token_secret="from-a-file")
    with live:
        signed = httpx.get(
            live.compute_url + "/functions", headers={"Authorization": f"Bearer {live.token('a')}"}
        )
        assert signed.status_code == 200
        forged = LiveServer(data_dir, token_secret="another").token("a")
        refused = httpx.get(
            live.compute_url + "/functions", headers={"Authorization": f"Bearer {forged}"}
        )
        assert refused.status_code == 401
        assert live.pid is not None
        assert b"from-a-file" not in Path(f"/proc/{live.pid}/cmdline").read_bytes()


def test_a_server_crash_takes_its_sandboxed_jobs_with_it_and_they_run_again(
    tmp_path: Path,
) -> None:
    source = "import time\ndef main(seconds):\n    time.sleep(seconds)\n    return 'done'\n"
    with LiveServer(tmp_path / "data", ["--sandbox", "bwrap"]) as live, _client(live, "d") as dave:
        function = _deploy(dave, "sleeper", source)
        created = dave.post(JOBS, json={"function_id": function["id"], "args": [3]})
        job_id = created.json()["id"]
        _until(lambda: dave.get(f"{JOBS}/{job_id}").json()["status"] == "running", 30)
        _until(lambda: _job_processes(live.data_dir) != [], 30)
        live.kill()  # SIGKILL to the server's group; workers live in sessions of their own
        _until(lambda: _job_processes(live.data_dir) == [], 30)
        live.start()
        _until(lambda: dave.get(f"{JOBS}/{job_id}").json()["status"] == "success", 60)
        job = dave.get(f"{JOBS}/{job_id}").json()
        assert job["execution_count"] == 2  # both attempts count; the crash used no retry


def _job_processes(data_dir: Path) -> list[int]:
    """The server's job processes (and their bwrap wrappers) still alive on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"batch_compute_runtime" in command and str(data_dir).encode() in command:
            found.append(int(entry.name))
    return found


def test_bwrap_mode_refuses_to_start_where_bubblewrap_cannot_run(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": "/nonexistent"}
    command = [sys.executable, "-m", "batch_compute_mock", "serve", "--port", "0"]
    command += ["--data-dir", str(tmp_path), "--sandbox", "bwrap"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "--sandbox bwrap: bubblewrap is not installed" in done.stderr


# Helpers ----------------------------------------------------------------------------------------
def _client(server: LiveServer, who: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.token(who)}"}
    return httpx.Client(base_url=server.origin, headers=headers, timeout=60)


def _deploy(
    client: httpx.Client,
    name: str,
    source: str,
    extra: dict[str, bytes | str] | None = None,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "image": "python3.11:latest", "timeout": 120}
    if environment:
        body["environment"] = environment
    created = client.post(FUNCTIONS, json=body)
    assert created.status_code == 201, created.text
    function = created.json()
    put = httpx.put(function["bundle_upload_url"], content=make_bundle(source, extra))
    assert put.status_code == 200, put.text
    function_id = function["function"]["id"]
    assert client.post(f"{FUNCTIONS}/{function_id}/bundle").status_code == 200
    _until(lambda: client.get(f"{FUNCTIONS}/{function_id}").json()["status"] == "ready", 60)
    return function["function"]  # type: ignore[no-any-return]


def _run(
    client: httpx.Client,
    function_id: str,
    args: list[Any],
    environment: dict[str, str] | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    body: dict[str, Any] = {"function_id": function_id, "args": args}
    if environment:
        body["environment"] = environment
    created = client.post(JOBS, json=body)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    final = ("success", "failure", "timeout", "canceled")
    _until(lambda: client.get(f"{JOBS}/{job_id}").json()["status"] in final, timeout)
    return client.get(f"{JOBS}/{job_id}").json()  # type: ignore[no-any-return]


def _result(client: httpx.Client, job: dict[str, Any]) -> Any:
    function = client.get(f"{FUNCTIONS}/{job['function_id']}").json()
    blob = f"compute/{function['namespace']}/{function['id']}/{job['id']}"
    download = client.get(f"/catalog/v2/storage/download/{urllib.parse.quote(blob, safe='/')}")
    assert download.status_code == 200, download.text
    return json.loads(httpx.get(download.json()["data"]["attributes"]["resumable_url"]).content)


def _log(client: httpx.Client, job_id: str) -> str:
    return client.get(f"{JOBS}/{job_id}/log").text


def _until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
