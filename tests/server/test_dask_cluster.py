"""``serve --executor dask`` against a real cluster on loopback: a ``dask scheduler`` process,
a ``batch-compute worker`` and a plain ``dask worker --preload`` (each one CPU), over HTTP.

Jobs keep their semantics on the cluster: results and logs through the blob store, retries
follow ``retry_count``, a timeout and a cancel of a running job kill its process, and a worker
SIGKILLed mid-job fails the attempt, which is retried on the other worker; a job no worker has
room for waits, says why, and runs when a worker with room joins; ``maximum_concurrency`` and
the server's cap hold across the cluster; a scheduler restart loses no job. Jobs run
unsandboxed (``--sandbox off``) so a job and the test share the file system.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.inprocess import make_bundle
from support.live_server import LiveServer
from support.processes import alive

pytestmark = pytest.mark.timeout(240)

TERMINAL = {"success", "failure", "timeout", "canceled"}

# Records its pid; while the marker is missing, makes it and sleeps (the first attempt is long).
SLEEPER = """\
def main(marker, pidfile, seconds=120):
    import os, time
    with open(pidfile, "a") as handle:
        handle.write(f"{os.getpid()}\\n")
    print("attempt started", flush=True)
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(seconds)
    return "finished"
"""


# Appends when it starts and ends, with its supervisor's pid (whose parent is the Dask worker).
SPAN = """\
def main(path, seconds):
    import os, time
    with open(path, "a") as handle:
        handle.write(f"start {time.time()} {os.getppid()}\\n")
    time.sleep(seconds)
    with open(path, "a") as handle:
        handle.write(f"end {time.time()} {os.getppid()}\\n")
"""


def most_at_once(path: Path) -> tuple[int, set[int]]:
    """The most jobs of ``SPAN`` that ran at once, and the Dask workers (pids) they ran on."""
    events = [line.split() for line in path.read_text().splitlines()]
    running = most = 0
    for kind, _, _ in sorted(events, key=lambda event: (float(event[1]), event[0] == "start")):
        running += 1 if kind == "start" else -1
        most = max(most, running)
    return most, {parent(int(supervisor)) for _, _, supervisor in events}


# Waits for a flag file (the test releases every job at once).
FLAGGED = """\
def main(flag):
    import os, time
    while not os.path.exists(flag):
        time.sleep(0.05)
    return "released"
"""


def wait(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"{what}: not reached within {timeout:g} s"
        time.sleep(0.05)
    return value


def written(path: Path) -> bool:
    """The job has written its pid there (the file exists before its line does)."""
    return path.exists() and path.read_text().endswith("\n")


def parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    with_group = os.getpgid(process.pid)
    os.killpg(with_group, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(with_group, signal.SIGKILL)
        process.wait(10)


class Cluster:
    """A scheduler, two workers and a server, all on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: list[subprocess.Popen[bytes]] = []
        self.server: LiveServer | None = None
        self.address = ""

    def spawn(
        self, name: str, *argv: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
                env=env,
            )
        self.processes.append(process)
        return process

    def start(self) -> Cluster:
        self.start_scheduler("scheduler", 0)
        self.start_worker("worker-a", "--cpus", "1")
        # A worker started the plain Dask way, as dask-jobqueue or dask-kubernetes would.
        self.spawn(
            "worker-b", sys.executable, "-m", "distributed.cli.dask_worker", self.address,
            "--host", "127.0.0.1", "--nthreads", "4", "--no-dashboard", "--name", "worker-b",
            "--preload", "batch_compute_mock.executors.dask.preload",
            "--resources", "cpus=1,memory=4e9",
            env={**os.environ, "BATCH_COMPUTE_SANDBOX": "off"},
        )  # fmt: skip
        self.serve(self.root / "server", "--workers", "8")
        return self

    def start_scheduler(self, name: str, port: int) -> subprocess.Popen[bytes]:
        """A ``dask scheduler`` on ``port`` (0: any free one); its address is ``address``."""
        scheduler_file = self.root / f"{name}.json"
        process = self.spawn(
            name, sys.executable, "-m", "distributed.cli.dask_scheduler",
            "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
            "--scheduler-file", str(scheduler_file),
        )  # fmt: skip
        wait(scheduler_file.exists, "the scheduler's address")
        address = wait(
            lambda: json.loads(scheduler_file.read_text() or "{}").get("address"), "address"
        )
        self.address = str(address)
        return process

    def start_worker(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        """A ``batch-compute worker`` with 4 GB and ``argv``."""
        return self.spawn(
            name, sys.executable, "-m", "batch_compute_mock", "worker", self.address,
            "--host", "127.0.0.1", "--memory", "4G", "--name", name,
            "--data-dir", str(self.root / name), "--sandbox", "off", *argv,
        )  # fmt: skip

    def another_server(self, name: str, *argv: str) -> Cluster:
        """A second server on the same cluster, with ``argv`` (close it to stop it)."""
        other = Cluster(self.root)
        other.address = self.address
        other.serve(self.root / name, *argv)
        return other

    def serve(self, data_dir: Path, *argv: str, **options: Any) -> None:
        """A server on this cluster with ``argv``; ``options`` go to ``LiveServer``."""
        self.server = LiveServer(
            data_dir,
            ["--executor", "dask", "--dask-scheduler", self.address, "--sandbox", "off",
             "--requirements", "check", *argv],
            **options,
        ).start()  # fmt: skip
        token = self.server.token("dask-user")
        self.http = httpx.Client(
            base_url=self.server.compute_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30.0,
        )

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        for process in reversed(self.processes):
            if process.poll() is None:
                stop(process)

    # HTTP ---------------------------------------------------------------------------------
    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, (response.request.url, response.text)
        return response.json()

    def function(self, source: str, **fields: Any) -> dict[str, Any]:
        body = {"name": "dask", "image": "python3.11:latest", "cpus": 1, "memory": 2048}
        created = self.ok(self.http.post("/functions", json={**body, **fields}), 201)
        upload = httpx.put(
            created["bundle_upload_url"],
            content=make_bundle(source),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert upload.status_code == 200, upload.text
        function_id = created["function"]["id"]
        self.ok(self.http.post(f"/functions/{function_id}/bundle"))
        return wait(
            lambda: (
                (f := self.ok(self.http.get(f"/functions/{function_id}")))["status"] == "ready"
                and f
            ),
            "function ready",
        )

    def submit(self, function_id: str, *args: Any) -> str:
        job = {"function_id": function_id, "args": list(args)}
        return str(self.ok(self.http.post("/jobs", json=job), 201)["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        return self.ok(self.http.get(f"/jobs/{job_id}"))  # type: ignore[no-any-return]

    def wait_job(
        self, job_id: str, statuses: set[str] = TERMINAL, timeout: float = 60.0
    ) -> dict[str, Any]:
        return wait(  # type: ignore[no-any-return]
            lambda: (j := self.job(job_id))["status"] in statuses and j, f"job {job_id}", timeout
        )

    def result(self, function: dict[str, Any], job_id: str) -> bytes:
        assert self.server is not None
        blob_id = f"compute/{function['namespace']}/{function['id']}/{job_id}"
        url = f"{self.server.catalog_url}/storage/download/{urllib.parse.quote(blob_id)}"
        download = self.ok(self.http.get(url))
        data = httpx.get(download["data"]["attributes"]["resumable_url"])
        assert data.status_code == 200, data.text
        return data.content

    def log(self, job_id: str) -> list[str]:
        text = self.http.get(f"/jobs/{job_id}/log").text
        return [json.loads(line)["log"] for line in text.splitlines()]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield running.start()
    finally:
        running.close()


def test_results_logs_and_retries_on_the_cluster(cluster):
    double = cluster.function("def main(x):\n    print('doubling', x)\n    return 2 * x\n")
    failing = cluster.function(
        "def main():\n    print('failing')\n    raise RuntimeError('always')\n", retry_count=2
    )
    jobs = [cluster.submit(double["id"], n) for n in range(6)]
    bad = cluster.submit(failing["id"])
    for n, job_id in enumerate(jobs):
        done = cluster.wait_job(job_id)
        assert done["status"] == "success", done
        assert cluster.log(job_id) == [f"doubling {n}"]
    assert json.loads(cluster.result(double, jobs[3])) == 6
    failed = cluster.wait_job(bad)
    assert failed["status"] == "failure" and failed["execution_count"] == 3
    assert failed["error_reason"] == "RuntimeError: always"


def test_timeout_and_cancel_kill_running_jobs(cluster, tmp_path):
    sleeper = cluster.function(SLEEPER, timeout=2)
    timed = cluster.submit(sleeper["id"], str(tmp_path / "t.marker"), str(tmp_path / "t.pid"))
    long = cluster.function(SLEEPER)
    canceled = cluster.submit(long["id"], str(tmp_path / "c.marker"), str(tmp_path / "c.pid"))
    wait(lambda: written(tmp_path / "c.pid"), "the job to start")
    cluster.ok(cluster.http.post(f"/jobs/{canceled}/cancel"))
    assert cluster.wait_job(canceled)["status"] == "canceled"
    assert cluster.wait_job(timed)["status"] == "timeout"
    for name in ("t.pid", "c.pid"):
        pid = int((tmp_path / name).read_text().split()[0])
        wait(lambda p=pid: not alive(p), "the job process to die", 10)


def test_a_killed_worker_fails_the_attempt_and_it_is_retried(cluster, tmp_path):
    sleeper = cluster.function(SLEEPER, retry_count=1)
    job_id = cluster.submit(sleeper["id"], str(tmp_path / "marker"), str(tmp_path / "pids"))
    wait(lambda: written(tmp_path / "pids"), "the job to start")
    first = int((tmp_path / "pids").read_text().split()[0])
    worker = parent(parent(first))  # job process -> supervisor -> Dask worker
    os.kill(worker, signal.SIGKILL)
    done = cluster.wait_job(job_id)
    assert done["status"] == "success" and done["execution_count"] == 2, done
    assert len((tmp_path / "pids").read_text().split()) == 2  # two attempts, two processes
    assert cluster.log(job_id) == ["attempt started"]  # the log is the last attempt's
    wait(lambda: not alive(first), "the lost attempt's job process to die", 10)


def test_maximum_concurrency_holds_across_the_cluster(cluster, tmp_path):
    spans = tmp_path / "spans"
    limited = cluster.function(SPAN, cpus=0.25, maximum_concurrency=2)
    jobs = [cluster.submit(limited["id"], str(spans), 0.6) for _ in range(8)]
    assert all(cluster.wait_job(job_id)["status"] == "success" for job_id in jobs)
    most, workers = most_at_once(spans)
    assert most == 2, "the limit is reached and never passed"
    assert len(workers) == 2, "the jobs ran on both workers"


def test_the_servers_cap_holds_across_the_cluster(cluster, tmp_path):
    """A second server on the same cluster with --workers 2: never more than 2 of its jobs
    run at once, though the workers have room for more."""
    other = cluster.another_server("server-capped", "--workers", "2")
    try:
        spans = tmp_path / "spans"
        free = other.function(SPAN, cpus=0.25)
        jobs = [other.submit(free["id"], str(spans), 0.6) for _ in range(8)]
        assert all(other.wait_job(job_id)["status"] == "success" for job_id in jobs)
        most, _ = most_at_once(spans)
        assert most == 2
    finally:
        other.close()


def test_a_job_no_worker_has_room_for_waits_and_says_why(cluster):
    big = cluster.function("def main():\n    return 'ran'\n", memory=8192)  # workers: 4 GB
    job_id = cluster.submit(big["id"])
    waiting = wait(lambda: (j := cluster.job(job_id))["error_reason"] and j, "a reason")
    assert waiting["status"] == "pending", waiting
    reason = waiting["error_reason"]
    assert reason.startswith("Waiting for a Dask worker with room: the job needs cpus=1, ")
    assert "memory=8192 MiB" in reason and "memory=4096 MiB" in reason, reason
    # A worker with room joins: the job runs there.
    roomy = cluster.start_worker("worker-roomy", "--cpus", "1", "--memory", "16G")
    try:
        done = cluster.wait_job(job_id)
        assert done["status"] == "success", done
        assert done["error_reason"] is None
    finally:
        stop(roomy)
        cluster.processes.remove(roomy)


def test_a_scheduler_restart_loses_no_job(tmp_path):
    """The scheduler is SIGKILLed while jobs run and wait, and started again on its port: the
    server reconnects, registers its worker plugin there again and submits again what the
    database says is unfinished. (Dask workers end when their scheduler goes; a new, plain one
    is started, as an orchestrator would.)"""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    own = Cluster(tmp_path)
    try:
        scheduler = own.start_scheduler("scheduler", port)
        own.start_worker("worker-a", "--cpus", "2")
        own.serve(tmp_path / "server", "--workers", "8")
        function = own.function(FLAGGED, retry_count=1)
        flag = tmp_path / "flag"
        jobs = [own.submit(function["id"], str(flag)) for _ in range(4)]
        wait(lambda: any(own.job(job_id)["status"] == "running" for job_id in jobs), "a start")
        os.killpg(os.getpgid(scheduler.pid), signal.SIGKILL)
        scheduler.wait()
        restarted = dt.datetime.now(dt.UTC)
        own.start_scheduler("scheduler-again", port)
        # A plain worker without our preload (its resources given, as the README says): the
        # server registers its plugin with the new scheduler again.
        own.spawn(
            "worker-plain", sys.executable, "-m", "distributed.cli.dask_worker", own.address,
            "--host", "127.0.0.1", "--nthreads", "2", "--no-dashboard",
            "--resources", "cpus=2,memory=4e9",
        )  # fmt: skip

        def started_anew() -> bool:  # the server hears the new scheduler's start events
            running = [own.job(job_id) for job_id in jobs]
            return any(
                job["status"] == "running"
                and dt.datetime.fromisoformat(job["last_execution_date"]) > restarted
                for job in running
            )

        wait(started_anew, "a job seen running on the new scheduler")
        flag.touch()
        done = [own.wait_job(job_id) for job_id in jobs]
        outcomes = [(j["status"], j["error_reason"], j["execution_count"]) for j in done]
        assert [job["status"] for job in done] == ["success"] * 4, outcomes
        # An attempt running at the kill failed (and was retried); none ran a third time.
        assert max(job["execution_count"] for job in done) == 2
    finally:
        own.close()


def test_the_dask_executor_needs_a_scheduler_address(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BATCH_COMPUTE_DASK_SCHEDULER"}
    done = subprocess.run(
        [sys.executable, "-m", "batch_compute_mock", "serve", "--port", "0",
         "--data-dir", str(tmp_path), "--executor", "dask"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode != 0
    assert "--executor dask needs the scheduler's address: --dask-scheduler" in done.stderr
