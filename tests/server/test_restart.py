"""Restarts of a real server process on the same data directory: crashes and graceful stops.

Each test drives ``batch_compute_mock serve`` (``support.live_server``) over HTTP with httpx.
Jobs run unsandboxed here (``--sandbox off``), so jobs and the test share the file system: a
job records its pid (and its supervisor's) in a file and sleeps only while a marker
file does not exist yet, which makes the first attempt long and any later one short.

- ``kill -9`` (``LiveServer.kill``: SIGKILL to the server's process group, as a crash would do)
  while jobs run: a crash is not the jobs' fault, so every running job runs again without using
  a retry (with or without retries left), and counts both attempts; a job being canceled ends
  ``canceled``; what finished before the crash (result, log) is intact; no job is left
  running/cancel/canceling; and the killed server's job processes do not keep running (worker
  processes live in their own sessions, so they must notice the loss of the server by
  themselves). A job the server dies under again and again fails once the bound is reached.
- ``kill -9`` in the middle of a stream of short jobs: every job's ``execution_count`` is
  exactly the number of times it ran.
- ``kill -9`` right after a bundle upload is completed: the function does not stay
  ``building``; it is built again on restart.
- SIGTERM while a job runs: the server re-queues it; the interrupted attempt counts, but uses
  no retry.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from batch_compute_mock.scheduler.rounds import MAX_INTERRUPTIONS
from support.inprocess import make_bundle, wait_until
from support.live_server import LiveServer

__all__ = [
    "test_a_job_the_server_keeps_dying_under_fails_at_the_bound",
    "test_graceful_stop_requeues_a_running_job_without_using_a_retry",
    "test_kill_during_build_builds_again_on_restart",
    "test_kill_never_counts_claimed_jobs_that_did_not_start",
    "test_kill_while_jobs_run_requeues_them_and_keeps_what_was_done",
    "test_kills_during_a_stream_of_jobs_count_every_attempt_exactly_once",
]

TERMINAL = {"success", "failure", "timeout", "canceled"}
ACTIVE = {"running", "cancel", "canceling"}

# First attempt: record pids, then sleep (long) unless the marker exists; later attempts return.
SLEEPER = """\
def main(marker, pidfile, seconds=120):
    import os
    import time

    with open(pidfile, "a") as handle:
        handle.write(f"{os.getpid()} {os.getppid()}\\n")
    print("attempt started", flush=True)
    if not os.path.exists(marker):
        if os.path.isdir(os.path.dirname(marker)):
            open(marker, "w").close()
        time.sleep(seconds)  # a marker that cannot be made: every attempt is long
    return "finished"
"""

QUICK = """\
def main(x):
    print(f"quick job {x}")
    return {"double": 2 * x}
"""


# -- HTTP helpers ----------------------------------------------------------------------------


class Api:
    """A user's view of the server over HTTP; survives restarts (same origin, same token)."""

    def __init__(self, server: LiveServer, user: str = "restart-user") -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=server.compute_url,
            headers={"Authorization": f"Bearer {server.token(user)}"},
            timeout=30.0,
        )

    def close(self) -> None:
        self.http.close()

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, (response.request.url, response.text)
        return response.json() if response.content else None

    def create_function(
        self, source: str, extra: dict[str, bytes] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Create, upload and complete the bundle; returns the function as POST .../bundle did."""
        body = {"name": "restart", "image": "python3.11:latest", "cpus": 1, "memory": 2048}
        created = self.ok(self.http.post("/functions", json={**body, **fields}), 201)
        upload = httpx.put(
            created["bundle_upload_url"],
            content=make_bundle(source, extra),
            headers={"Content-Type": "application/octet-stream"},
            timeout=60.0,
        )
        assert upload.status_code == 200, upload.text
        function_id = created["function"]["id"]
        return self.ok(self.http.post(f"/functions/{function_id}/bundle"))  # type: ignore[no-any-return]

    def function(self, function_id: str) -> dict[str, Any]:
        return self.ok(self.http.get(f"/functions/{function_id}"))  # type: ignore[no-any-return]

    def wait_built(self, function_id: str, timeout: float = 30.0) -> dict[str, Any]:
        def built() -> dict[str, Any] | None:
            current = self.function(function_id)
            return None if current["status"] in ("awaiting_bundle", "building") else current

        return wait_until(built, f"function {function_id} built", timeout)  # type: ignore[no-any-return]

    def submit(self, function_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        job = {"function_id": function_id, "args": list(args), "kwargs": kwargs}
        return self.ok(self.http.post("/jobs", json=job), 201)  # type: ignore[no-any-return]

    def job(self, job_id: str) -> dict[str, Any]:
        return self.ok(self.http.get(f"/jobs/{job_id}"))  # type: ignore[no-any-return]

    def wait_job(
        self, job_id: str, statuses: set[str] = TERMINAL, timeout: float = 30.0
    ) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            current = self.job(job_id)
            return current if current["status"] in statuses else None

        return wait_until(reached, f"job {job_id} in {sorted(statuses)}", timeout)  # type: ignore[no-any-return]

    def all_jobs(self) -> list[dict[str, Any]]:
        page = self.ok(self.http.get("/jobs", params={"limit": 1000}))
        return page["data"]  # type: ignore[no-any-return]

    def log_lines(self, job_id: str) -> list[str]:
        response = self.http.get(f"/jobs/{job_id}/log")
        assert response.status_code == 200, response.text
        return [json.loads(line)["log"] for line in response.text.splitlines()]

    def result(self, function: dict[str, Any], job_id: str) -> bytes | None:
        blob_id = f"compute/{function['namespace']}/{function['id']}/{job_id}"
        quoted = urllib.parse.quote(blob_id, safe="/")
        download = self.http.get(f"{self.server.catalog_url}/storage/download/{quoted}")
        if download.status_code == 404:
            return None
        assert download.status_code == 200, download.text
        data = httpx.get(download.json()["data"]["attributes"]["resumable_url"], timeout=30.0)
        assert data.status_code == 200, data.text
        return data.content


# -- processes -------------------------------------------------------------------------------


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks (None: no such live process); tells a pid's
    original owner from a later process that reused the number."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class Process:
    """A process identified by pid and start time, so pid reuse cannot fool ``alive``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.started = _start_time(pid)

    @property
    def alive(self) -> bool:
        return self.started is not None and _start_time(self.pid) == self.started

    def exited(self) -> bool:
        return not self.alive

    def __repr__(self) -> str:
        return f"<Process {self.pid} alive={self.alive}>"


def _pids(pidfile: Path) -> list[tuple[Process, Process]]:
    """(job process, supervisor process) per attempt recorded by ``SLEEPER``."""
    if not pidfile.exists():
        return []
    pairs = []
    for line in pidfile.read_text().splitlines():
        job, supervisor = line.split()
        pairs.append((Process(int(job)), Process(int(supervisor))))
    return pairs


def _stored_jobs(server: LiveServer) -> dict[str, dict[str, Any]]:
    """The jobs table as it is on disk while the server is down (read-only peek)."""
    path = server.data_dir / "batch-compute.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, status, execution_count, interruptions, error_reason FROM jobs"
        ).fetchall()
    return {row["id"]: dict(row) for row in rows}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    args = ["--workers", "4", "--shutdown-grace", "1", "--sandbox", "off"]
    with LiveServer(tmp_path / "data", args, stop_timeout=30.0) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.close()


# -- tests -----------------------------------------------------------------------------------


def test_kill_while_jobs_run_requeues_them_and_keeps_what_was_done(
    server: LiveServer, api: Api, tmp_path: Path
) -> None:
    # Done before the crash: a finished job with a result and a log.
    quick = api.wait_built(api.create_function(QUICK)["id"])
    done = api.wait_job(api.submit(quick["id"], 21)["id"])
    assert done["status"] == "success", done
    presigned_before = api.http.get(
        f"{server.catalog_url}/storage/download/"
        + urllib.parse.quote(f"compute/{quick['namespace']}/{quick['id']}/{done['id']}", safe="/")
    ).json()["data"]["attributes"]["resumable_url"]

    # Running at the crash: one job with a retry left, one without, one being canceled.
    retried_fn = api.wait_built(api.create_function(SLEEPER, retry_count=1)["id"])
    failed_fn = api.wait_built(api.create_function(SLEEPER, retry_count=0)["id"])
    files = {
        name: (tmp_path / f"{name}.marker", tmp_path / f"{name}.pids")
        for name in ("retried", "failed", "canceled")
    }
    jobs = {
        "retried": api.submit(retried_fn["id"], *map(str, files["retried"])),
        "failed": api.submit(failed_fn["id"], *map(str, files["failed"])),
        "canceled": api.submit(failed_fn["id"], *map(str, files["canceled"])),
    }
    for name, job in jobs.items():
        api.wait_job(job["id"], {"running"})
        wait_until(functools.partial(_pids, files[name][1]), f"{name} job wrote its pid")
    first_attempts = {name: _pids(pidfile)[0] for name, (_, pidfile) in files.items()}
    for name, (job_process, supervisor) in first_attempts.items():
        assert job_process.alive and supervisor.alive, name
    canceling = api.ok(api.http.post(f"/jobs/{jobs['canceled']['id']}/cancel"))
    assert canceling["status"] in {"cancel", "canceling", "canceled"}, canceling

    server.kill()
    server.start()

    # Both run again (the second attempt is short) and succeed: the crash used no retry, and
    # each counts the two attempts that began.
    for name, function in (("retried", retried_fn), ("failed", failed_fn)):
        rerun = api.wait_job(jobs[name]["id"])
        assert rerun["status"] == "success", rerun
        assert rerun["execution_count"] == 2, rerun
        assert (rerun["exit_code"], rerun["error_reason"]) == (0, None), rerun
        assert api.result(function, rerun["id"]) == b'"finished"'
        assert len(_pids(files[name][1])) == 2
        assert api.log_lines(rerun["id"]) == ["attempt started"]  # the last attempt's log

    canceled = api.wait_job(jobs["canceled"]["id"])
    assert canceled["status"] == "canceled", canceled

    # What finished before the crash is intact, and its pre-crash download URL still works.
    assert api.job(done["id"])["status"] == "success"
    assert api.result(quick, done["id"]) == b'{"double": 42}'
    assert api.log_lines(done["id"]) == ["quick job 21"]
    assert httpx.get(presigned_before, timeout=30.0).content == b'{"double": 42}'

    # Nothing is left active, and the killed server's job processes are gone.
    assert not [job for job in api.all_jobs() if job["status"] in ACTIVE | {"pending"}]
    for name, (job_process, supervisor) in first_attempts.items():
        wait_until(job_process.exited, f"old {name} job process {job_process} exited", 15)
        wait_until(supervisor.exited, f"old {name} supervisor {supervisor} exited", 15)

    # And the restarted server still runs new work.
    again = api.wait_job(api.submit(quick["id"], 5)["id"])
    assert (again["status"], api.result(quick, again["id"])) == ("success", b'{"double": 10}')


def test_kill_during_build_builds_again_on_restart(server: LiveServer, api: Api) -> None:
    # A bundle big enough (many files, 24 MiB) that its build takes a noticeable time, so the
    # kill right after completing the upload usually lands mid-build.
    extra = {f"data/part{index:04d}.bin": bytes(6 * 1024) for index in range(4000)}
    extra["data/blob.bin"] = bytes(range(256)) * (96 * 1024)
    function = api.create_function(QUICK, extra)
    assert function["status"] == "building"
    server.kill()
    path = server.data_dir / "batch-compute.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (status_at_kill,) = conn.execute(
            "SELECT status FROM functions WHERE id = ?", (function["id"],)
        ).fetchone()
    server.start()

    built = api.wait_built(function["id"], timeout=60)
    assert built["status"] == "ready", built
    build_log = api.http.get(f"/functions/{function['id']}/log")
    assert build_log.status_code == 200
    job = api.wait_job(api.submit(function["id"], 4)["id"])
    assert job["status"] == "success", job
    assert api.result(built, job["id"]) == b'{"double": 8}'
    if status_at_kill != "building":
        pytest.skip(
            f"the build finished before the kill (status {status_at_kill!r}): the restart "
            "was checked, but not the resumption of an interrupted build"
        )


def test_graceful_stop_requeues_a_running_job_without_using_a_retry(
    server: LiveServer, api: Api, tmp_path: Path
) -> None:
    function = api.wait_built(api.create_function(SLEEPER, retry_count=0)["id"])
    marker, pidfile = tmp_path / "graceful.marker", tmp_path / "graceful.pids"
    job = api.submit(function["id"], str(marker), str(pidfile))
    running = api.wait_job(job["id"], {"running"})
    assert running["execution_count"] == 1
    wait_until(lambda: _pids(pidfile), "the job wrote its pid")
    (job_process, supervisor), *_ = _pids(pidfile)

    server.stop()  # SIGTERM; the job outlives the grace period and is killed
    assert not job_process.alive
    wait_until(supervisor.exited, f"supervisor {supervisor} exited", 15)
    stored = _stored_jobs(server)[job["id"]]
    assert (stored["status"], stored["execution_count"]) == ("pending", 1), stored
    assert stored["interruptions"] == 1, stored

    server.start()
    finished = api.wait_job(job["id"])
    assert finished["status"] == "success", finished
    assert finished["execution_count"] == 2, finished
    assert finished["error_reason"] is None, finished
    assert api.result(function, job["id"]) == b'"finished"'
    assert len(_pids(pidfile)) == 2
    assert api.log_lines(job["id"]) == ["attempt started"]


def test_kill_never_counts_claimed_jobs_that_did_not_start(tmp_path: Path) -> None:
    # One slot: the scheduler claims ahead several jobs of the function, but starts one; the
    # crash must neither fail nor count an attempt of those that did not start.
    args = ["--workers", "1", "--sandbox", "off"]
    with LiveServer(tmp_path / "data", args, stop_timeout=30.0) as server:
        api = Api(server)
        function = api.wait_built(
            api.create_function(SLEEPER, retry_count=0, maximum_concurrency=8)["id"]
        )
        marker = tmp_path / "first.marker"
        jobs = [
            api.submit(function["id"], str(marker), str(tmp_path / f"{i}.pids"))["id"]
            for i in range(6)
        ]
        first = api.wait_job(jobs[0], {"running"})
        wait_until(lambda: marker.exists(), "the first job started")
        time.sleep(0.3)  # the jobs behind the first one are claimed ahead by now
        assert [api.job(job_id)["status"] for job_id in jobs] == ["running"] + ["pending"] * 5, (
            "jobs claimed ahead are held in memory only: pending until a worker starts them"
        )
        server.kill()
        stored = _stored_jobs(server)
        server.start()
        try:
            crashed = api.wait_job(first["id"])
            assert crashed["status"] == "success", crashed  # ran again: no retry used
            assert crashed["execution_count"] == 2, crashed  # both attempts began
            for job_id in jobs[1:]:
                finished = api.wait_job(job_id)
                assert finished["status"] == "success", finished
                assert finished["execution_count"] == 1, (stored[job_id], finished)
        finally:
            api.close()


def test_a_job_the_server_keeps_dying_under_fails_at_the_bound(
    server: LiveServer, api: Api, tmp_path: Path
) -> None:
    function = api.wait_built(api.create_function(SLEEPER, retry_count=3)["id"])
    pidfile = tmp_path / "doomed.pids"
    job = api.submit(function["id"], "/dev/null/never", str(pidfile), seconds=120)
    for attempt in range(1, MAX_INTERRUPTIONS + 2):
        wait_until(lambda a=attempt: len(_pids(pidfile)) >= a, f"attempt {attempt} began")
        server.kill()
        server.start()
    failed = api.wait_job(job["id"])
    assert failed["status"] == "failure", failed
    assert failed["execution_count"] == MAX_INTERRUPTIONS + 1, failed
    assert f"the server stopped {MAX_INTERRUPTIONS + 1} times" in failed["error_reason"], failed
    assert len(_pids(pidfile)) == MAX_INTERRUPTIONS + 1  # never run again after that


COUNTED = """\
def main(path):
    import time

    with open(path, "a") as handle:
        handle.write("ran\\n")
    time.sleep(0.05)
    return "ok"
"""


def test_kills_during_a_stream_of_jobs_count_every_attempt_exactly_once(
    server: LiveServer, api: Api, tmp_path: Path
) -> None:
    function = api.wait_built(api.create_function(COUNTED, maximum_concurrency=8)["id"])
    runs = [tmp_path / f"runs-{index}" for index in range(240)]
    bulk = {"function_id": function["id"], "bulk_args": [[str(path)] for path in runs]}
    job_ids = [job["id"] for job in api.ok(api.http.post("/jobs/bulk", json=bulk), 201)]
    for share in (60, 150):  # kill twice, mid-stream
        wait_until(lambda s=share: sum(path.exists() for path in runs) >= s, f"{share} jobs began")
        server.kill()
        server.start()
    for job_id, path in zip(job_ids, runs, strict=True):
        job = api.wait_job(job_id, timeout=60)
        assert job["status"] == "success", job
        ran = len(path.read_text().splitlines())
        assert job["execution_count"] == ran, (job, ran)
