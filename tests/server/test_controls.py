"""The /_mock/ test controls on a real server: faults, the journal, reset, snapshot and restore,
the switch that turns them off, and the ``batch-compute`` commands that drive them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.inprocess import make_bundle
from support.live_server import LiveServer

pytestmark = pytest.mark.both_databases

SOURCE = """
import time

def main(x=0, seconds=0):
    print(f"job {x}")
    time.sleep(seconds)
    return {"x": x}
"""
TERMINAL = {"success", "failure", "timeout", "canceled"}


class User:
    """One user of the server over HTTP (a fresh name each time)."""

    def __init__(self, server: LiveServer, name: str | None = None) -> None:
        self.server = server
        self.name = name or f"user-{uuid.uuid4().hex[:8]}"
        self.http = httpx.Client(
            base_url=server.compute_url,
            headers={"Authorization": f"Bearer {server.token(self.name)}"},
            timeout=60,
        )

    def function(self, name: str = "f", **fields: Any) -> dict[str, Any]:
        body = {"name": name, "image": "python3.11:latest", **fields}
        created = self.http.post("/functions", json=body)
        assert created.status_code == 201, created.text
        put = httpx.put(created.json()["bundle_upload_url"], content=make_bundle(SOURCE))
        assert put.status_code == 200
        function_id = created.json()["function"]["id"]
        assert self.http.post(f"/functions/{function_id}/bundle").status_code == 200
        return _until(lambda: (f := self.get_function(function_id))["status"] == "ready" and f)

    def get_function(self, function_id: str) -> dict[str, Any]:
        return self.http.get(f"/functions/{function_id}").json()  # type: ignore[no-any-return]

    def submit(self, function_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        job = {"function_id": function_id, "args": list(args), "kwargs": kwargs}
        created = self.http.post("/jobs", json=job)
        assert created.status_code == 201, created.text
        return created.json()  # type: ignore[no-any-return]

    def job(self, job_id: str) -> dict[str, Any]:
        return self.http.get(f"/jobs/{job_id}").json()  # type: ignore[no-any-return]

    def ended(self, job_id: str) -> dict[str, Any]:
        return _until(lambda: (j := self.job(job_id))["status"] in TERMINAL and j)

    def result(self, function: dict[str, Any], job_id: str) -> bytes | None:
        blob = f"compute/{function['namespace']}/{function['id']}/{job_id}"
        download = self.http.get(
            f"{self.server.catalog_url}/storage/download/{urllib.parse.quote(blob, safe='/')}"
        )
        if download.status_code == 404:
            return None
        return httpx.get(download.json()["data"]["attributes"]["resumable_url"]).content

    def log(self, job_id: str) -> list[str]:
        lines = self.http.get(f"/jobs/{job_id}/log").text.splitlines()
        return [json.loads(line)["log"] for line in lines]

    def listing(self) -> dict[str, Any]:
        functions = self.http.get("/functions", params={"page_size": 1000}).json()["data"]
        jobs = self.http.get("/jobs", params={"page_size": 1000}).json()["data"]
        return {"functions": functions, "jobs": jobs}


def _until(probe: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)
    return value


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("controls") / "data"
    with LiveServer(data, ["--workers", "2"], database_url=module_database_url) as live:
        yield live


@pytest.fixture
def control(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.origin + "/_mock", timeout=120) as client:
        yield client
        assert client.delete("/faults").status_code == 204


def _events(control: httpx.Client, job_id: str) -> list[tuple[int | None, str]]:
    return [
        (e["attempt"], e["event"])
        for e in control.get("/journal", params={"job_id": job_id}).json()
    ]


# Job faults -------------------------------------------------------------------------------


def test_a_failing_first_attempt_is_retried_as_the_policy_says(
    server: LiveServer, control: httpx.Client
) -> None:
    user = User(server)
    function = user.function("flaky", retry_count=1)
    added = control.post(
        "/faults", json={"function_name": "flaky", "action": "fail", "attempts": [1]}
    )
    assert added.status_code == 201, added.text
    assert added.json()["id"] in [fault["id"] for fault in control.get("/faults").json()]
    job = user.ended(user.submit(function["id"], 7)["id"])
    assert (job["status"], job["execution_count"]) == ("success", 2)
    assert user.result(function, job["id"]) == b'{"x": 7}'
    assert _events(control, job["id"]) == [
        (None, "submitted"),
        (1, "started"),
        (1, "attempt_failed"),
        (1, "retried"),
        (2, "started"),
        (2, "succeeded"),
    ]


@pytest.mark.parametrize(
    ("fault", "status", "exit_code", "reason"),
    [
        ({"action": "fail"}, "failure", 1, "InjectedFault: this attempt fails on purpose"),
        ({"action": "exit", "code": 3}, "failure", 3, "Exited with code 3"),
        ({"action": "signal", "signal": "SIGSEGV"}, "failure", 139, "SIGSEGV"),
        ({"action": "timeout"}, "timeout", 137, "Timed out after 2 s"),
    ],
    ids=["fail", "exit", "signal", "timeout"],
)
def test_job_faults_end_jobs_the_way_real_failures_do(
    server: LiveServer,
    control: httpx.Client,
    fault: dict[str, Any],
    status: str,
    exit_code: int,
    reason: str,
) -> None:
    user = User(server)
    function = user.function(timeout=2)
    added = control.post("/faults", json={"function_id": function["id"], **fault})
    assert added.status_code == 201, added.text
    job = user.ended(user.submit(function["id"], 1)["id"])
    assert (job["status"], job["exit_code"]) == (status, exit_code), job
    assert reason in job["error_reason"], job
    assert f"Injected fault: {fault['action']}" in user.log(job["id"])
    assert user.result(function, job["id"]) is None
    ending = {"failure": "failed", "timeout": "timed_out"}[status]
    assert _events(control, job["id"])[-1] == (1, ending)


def test_a_lost_result_leaves_a_success_without_a_result(
    server: LiveServer, control: httpx.Client
) -> None:
    user = User(server)
    function = user.function()
    control.post("/faults", json={"function_id": function["id"], "action": "lose_result"})
    job = user.ended(user.submit(function["id"], 3)["id"])
    assert job["status"] == "success"
    assert user.log(job["id"]) == ["job 3"]  # it really ran
    assert user.result(function, job["id"]) is None


def test_a_pending_fault_holds_jobs_back_then_lets_them_run(
    server: LiveServer, control: httpx.Client
) -> None:
    user = User(server)
    function = user.function()
    control.post("/faults", json={"function_id": function["id"], "action": "pending", "seconds": 2})
    job = user.submit(function["id"], 1)
    time.sleep(0.5)
    assert user.job(job["id"])["status"] == "pending"
    assert user.ended(job["id"])["status"] == "success"
    events = control.get("/journal", params={"job_id": job["id"]}).json()
    submitted, started = events[0]["time"], events[1]["time"]
    waited = _seconds(started) - _seconds(submitted)
    assert waited >= 2.0, events  # the hold itself, not a speed figure


def test_a_seeded_probability_picks_the_same_jobs_every_run(
    server: LiveServer, control: httpx.Client
) -> None:
    picked = []
    for _run in range(2):
        user = User(server)
        function = user.function("coin")
        spec = {"function_id": function["id"], "action": "fail", "probability": 0.5, "seed": 11}
        control.post("/faults", json=spec)
        jobs = [user.submit(function["id"], n)["id"] for n in range(12)]
        statuses = [user.ended(job_id)["status"] for job_id in jobs]
        picked.append([index for index, status in enumerate(statuses) if status == "failure"])
        control.delete("/faults")
    assert picked[0] == picked[1]
    assert 0 < len(picked[0]) < 12  # some, not all


def test_bad_faults_are_refused_and_change_nothing(control: httpx.Client) -> None:
    before = control.get("/faults").json()
    for body, status, words in [
        ({"function_name": "nope-no-such", "action": "fail"}, 404, "No function"),
        ({"function_name": "f", "action": "explode"}, 422, "not a fault action"),
        ({"operation": "no_such_operation", "status": 503}, 422, "not an operationId"),
        ({"operation": "get_job"}, 422, "say what to do"),
        ({"operation": "get_job", "status": 503, "count": 0}, 422, "positive integer"),
        ([1, 2], 400, "JSON object"),
    ]:
        answer = control.post("/faults", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.text
    assert control.get("/faults").json() == before


# HTTP faults -------------------------------------------------------------------------------


def test_http_faults_answer_delay_and_drop(server: LiveServer, control: httpx.Client) -> None:
    user = User(server)
    function = user.function()
    job = user.submit(function["id"], 1)
    control.post("/faults", json={"operation": "get_job", "status": 503, "count": 2})
    assert [user.http.get(f"/jobs/{job['id']}").status_code for _ in range(3)] == [503, 503, 200]
    assert control.get("/faults").json() == []  # used up

    control.post("/faults", json={"operation": "get_job", "latency_ms": 400, "count": 1})
    began = time.monotonic()
    assert user.http.get(f"/jobs/{job['id']}").status_code == 200
    assert time.monotonic() - began >= 0.4  # the delay itself, not a speed figure

    control.post("/faults", json={"operation": "get_job", "drop": True, "count": 1})
    with pytest.raises(httpx.TransportError):
        user.http.get(f"/jobs/{job['id']}")
    assert user.http.get(f"/jobs/{job['id']}").status_code == 200  # only that one


# Reset, snapshot and restore --------------------------------------------------------------


def _files(server: LiveServer) -> set[str]:
    blobs = server.data_dir / "blobs"
    return {str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file()}


def test_resetting_one_owner_stops_and_removes_everything_of_theirs(
    server: LiveServer, control: httpx.Client
) -> None:
    alice, bob = User(server), User(server)
    alice_fn, bob_fn = alice.function(), bob.function()
    done = alice.ended(alice.submit(alice_fn["id"], 1)["id"])
    running = alice.submit(alice_fn["id"], 2, seconds=60)
    _until(lambda: alice.job(running["id"])["status"] == "running")
    kept = bob.ended(bob.submit(bob_fn["id"], 5)["id"])
    before = _files(server)

    assert control.post("/reset", json={"owner": alice.name}).status_code == 204
    assert alice.listing() == {"functions": [], "jobs": []}
    assert alice.http.get(f"/jobs/{done['id']}").status_code == 404
    assert alice.result(alice_fn, done["id"]) is None
    gone = before - _files(server)
    assert any(alice_fn["id"] in name for name in gone)
    assert not any(alice_fn["id"] in name or done["id"] in name for name in _files(server))
    assert not any(running["id"] in name for name in _files(server))
    assert bob.result(bob_fn, kept["id"]) == b'{"x": 5}'
    assert bob.job(kept["id"])["status"] == "success"


def test_snapshot_reset_restore_gives_everything_back(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "one") as one, LiveServer(tmp_path / "two") as two:
        user = User(one, "saver")
        function = user.function(retry_count=1)
        jobs = [user.ended(user.submit(function["id"], n)["id"]) for n in range(3)]
        controls = httpx.Client(base_url=one.origin + "/_mock", timeout=120)
        before = user.listing()
        results = {job["id"]: user.result(function, job["id"]) for job in jobs}
        logs = {job["id"]: user.log(job["id"]) for job in jobs}
        journal = controls.get("/journal").json()

        snapshot = controls.post("/snapshot")
        assert snapshot.status_code == 200
        assert snapshot.headers["content-type"] == "application/zip"
        assert controls.post("/reset").status_code == 204
        assert user.listing() == {"functions": [], "jobs": []}
        assert controls.get("/journal").json() == []

        assert controls.post("/restore", content=snapshot.content).status_code == 204
        assert user.listing() == before
        assert {j: user.result(function, j) for j in results} == results
        assert {j: user.log(j) for j in logs} == logs
        assert controls.get("/journal").json() == journal
        again = user.ended(user.submit(function["id"], 9)["id"])  # and it keeps working
        assert user.result(function, again["id"]) == b'{"x": 9}'

        # The same file brings the world back on another server too.
        moved = User(two, "saver")
        restored = httpx.post(f"{two.origin}/_mock/restore", content=snapshot.content, timeout=120)
        assert restored.status_code == 204, restored.text
        assert moved.listing() == before
        assert moved.result(function, jobs[0]["id"]) == results[jobs[0]["id"]]
        assert moved.ended(moved.submit(function["id"], 4)["id"])["status"] == "success"


def test_a_bad_snapshot_is_refused_and_changes_nothing(
    server: LiveServer, control: httpx.Client
) -> None:
    user = User(server)
    function = user.function()
    user.ended(user.submit(function["id"], 1)["id"])
    before = user.listing()
    good = control.post("/snapshot").content

    def rezip(change: Any) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(good))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as target:
            for info in source.infolist():
                name, data = change(info.filename, source.read(info))
                if name is not None:
                    target.writestr(name, data)
        return buffer.getvalue()

    newer = rezip(
        lambda n, d: (n, json.dumps({**json.loads(d), "format": 99}) if n == "manifest.json" else d)
    )
    cases = {
        "not a zip": (b"not a zip at all", "not a snapshot"),
        "no manifest": (rezip(lambda n, d: (None if n == "manifest.json" else n, d)), "manifest"),
        "newer format": (newer, "newer server"),
        "bad row": (
            rezip(lambda n, d: (n, b"{not json\n" if n == "tables/jobs.jsonl" else d)),
            "not JSON",
        ),
        "unknown column": (
            rezip(
                lambda n, d: (
                    n,
                    b'{"id": "x", "nonsense": 1}\n' if n == "tables/functions.jsonl" else d,
                )
            ),
            "unknown columns",
        ),
        "unsafe blob": (
            rezip(
                lambda n, d: (
                    n.replace("job-logs/", "../") if n.startswith("blobs/job-logs/") else n,
                    d,
                )
            ),
            "bad key",
        ),
    }
    for name, (body, words) in cases.items():
        answer = control.post("/restore", content=body)
        assert answer.status_code == 400, (name, answer.text)
        assert words in answer.json()["detail"], (name, answer.text)
        assert user.listing() == before, name


def test_controls_are_off_with_no_test_controls(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data", ["--no-test-controls"]) as server:
        for method, path in [
            ("POST", "/_mock/reset"),
            ("POST", "/_mock/snapshot"),
            ("POST", "/_mock/restore"),
            ("GET", "/_mock/faults"),
            ("POST", "/_mock/faults"),
            ("GET", "/_mock/journal"),
        ]:
            assert httpx.request(method, server.origin + path).status_code == 404, path
        assert httpx.get(server.origin + "/healthz").status_code == 200


# The batch-compute commands ---------------------------------------------------------------


def _cli(
    server: LiveServer, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "batch_compute_mock", *args, "--url", server.origin],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_the_commands_drive_the_controls(server: LiveServer, tmp_path: Path) -> None:
    user = User(server)
    function = user.function("cli-f")
    added = _cli(server, "fault", "add", json.dumps({"function_name": "cli-f", "action": "fail"}))
    assert added.returncode == 0, added.stderr
    listed = json.loads(_cli(server, "fault", "list").stdout)
    assert [fault["function_name"] for fault in listed] == ["cli-f"]
    job = user.ended(user.submit(function["id"], 1)["id"])
    assert job["status"] == "failure"
    assert _cli(server, "fault", "clear").returncode == 0
    journal = _cli(server, "journal", "--job-id", job["id"]).stdout.decode().splitlines()
    assert [json.loads(line)["event"] for line in journal][-1] == "failed"

    snapshot = tmp_path / "world.zip"
    assert _cli(server, "snapshot", str(snapshot)).returncode == 0
    assert _cli(server, "reset", "--owner", user.name).returncode == 0
    assert user.listing()["jobs"] == []
    assert _cli(server, "restore", str(snapshot)).returncode == 0
    assert [j["id"] for j in user.listing()["jobs"]] == [job["id"]]

    refused = _cli(server, "fault", "add", '{"function_name": "cli-f", "action": "boom"}')
    assert refused.returncode != 0 and b"not a fault action" in refused.stderr


def _seconds(stored: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stored).timestamp()
