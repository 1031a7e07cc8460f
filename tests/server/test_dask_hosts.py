"""Jobs on a Dask cluster spread over separate hosts: network namespaces on one machine.

Host A (this namespace) runs PostgreSQL (on TCP), the S3 endpoint (moto's server), the
scheduling API server and the Dask scheduler; hosts B and C each run a ``batch-compute
worker``, which knows the blob URL (the bucket on host A) and nothing of the database; host D
runs a second API server on the same database and bucket, which serves the API but does not
schedule (``/healthz``: ``standby``). Every check goes through both servers in turn: what one
submits, the other reads (status, result, log) or cancels.

Then: a ``map`` of trivial jobs spreads over both workers and each runs exactly once; SIGKILL
of a worker mid-job and cutting a worker's link (``ip link set down``) each fail that attempt,
which is retried on the other host, and the job ends once; a timeout and a cancel kill the job
on its host, and ``maximum_concurrency`` holds over both. Without root (no namespaces), or with
``BATCH_COMPUTE_HOSTS_LOOPBACK=1``, the same topology runs on loopback ports, says so, and
freezes the worker (SIGSTOP) instead of cutting its link. ``BATCH_COMPUTE_HOSTS_JOBS`` sizes
the map (CI: the default 300; the issue's 2,000 by hand).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import test_dask_cluster as base

from support.hosts import Hosts
from support.postgres import PostgresCluster
from support.s3 import S3Endpoint

pytestmark = [pytest.mark.timeout(420), pytest.mark.slow]

JOBS = int(os.environ.get("BATCH_COMPUTE_HOSTS_JOBS", "300"))
#: Jobs per bulk submission; the submissions go to the two servers in turn.
CHUNK = 100
# The scheduler gives up on a silent worker after this (Dask's default is 5 minutes).
WORKER_TTL = "4s"
WORKERS = ["b", "c"]
STANDBY = "d"

WHERE = """\
import os
def main(x):
    print("ran in", os.getcwd())
    return [x + 1, os.getcwd()]
"""

# Notes each attempt's pid and working dir (which names its host's worker); while the marker
# is missing, makes it and sleeps (the first attempt is long).
HOPPER = """\
def main(marker, attempts):
    import os, time
    with open(attempts, "a") as handle:
        handle.write(f"{os.getpid()} {os.getcwd()}\\n")
    print("attempt started", flush=True)
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(120)
    return "finished"
"""


class Site:
    """The hosts' services: on A (here) PostgreSQL, S3, the Dask scheduler and the scheduling
    server; a worker on each of B and C; the standby server on D."""

    def __init__(self, root: Path, hosts: Hosts) -> None:
        self.root = root
        self.hosts = hosts
        self.postgres = PostgresCluster(host=hosts.here())
        self.s3 = S3Endpoint(host=hosts.here())
        self.cluster = base.Cluster(root)  # A's processes and its server
        self.standby = base.Cluster(root)  # D's server
        self.workers: dict[str, Any] = {}
        self.database = ""

    @property
    def servers(self) -> list[base.Cluster]:
        """The scheduling server (A) and the standby (D): tests use them in turn."""
        return [self.cluster, self.standby]

    def start(self) -> Site:
        here = self.hosts.here()
        self.postgres.start()
        self.s3.start()  # also puts the test credentials in our environment, for every process
        self.database = database = self.postgres.new_database()
        blobs = self.s3.new_bucket_url()
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": WORKER_TTL}
        env.pop("BATCH_COMPUTE_DATABASE_URL", None)
        scheduler_file = self.root / "scheduler.json"
        self.cluster.spawn(
            "scheduler", sys.executable, "-m", "distributed.cli.dask_scheduler",
            "--host", here, "--port", "0", "--no-dashboard",
            "--scheduler-file", str(scheduler_file), env=env,
        )  # fmt: skip
        self.cluster.address = self.standby.address = str(
            base.wait(
                lambda: (
                    scheduler_file.exists()
                    and base.json.loads(scheduler_file.read_text() or "{}").get("address")
                ),
                "the scheduler's address",
            )
        )
        for name in WORKERS:
            self.workers[name] = self.cluster.spawn(
                f"worker-{name}", *self.hosts.prefix(name), sys.executable, "-m",
                "batch_compute_mock", "worker", self.cluster.address,
                "--host", self.hosts.address(name), "--name", f"worker-{name}",
                "--cpus", "2", "--memory", "4G", "--data-dir",
                str(self.root / f"worker-{name}"), "--sandbox", "off", env=env,
            )  # fmt: skip
        serving = ("--workers", "16", "--blob-url", blobs)
        self.cluster.serve(
            self.root / "server-a", *serving,
            database_url=database, host=here, startup_timeout=60.0,
        )  # fmt: skip
        base.wait(lambda: role(self.cluster) == "active", "host A's server schedules", 30)
        self.standby.serve(
            self.root / "server-d", *serving,
            database_url=database, host=self.hosts.address(STANDBY),
            prefix=self.hosts.prefix(STANDBY), startup_timeout=60.0,
        )  # fmt: skip
        return self

    def host_of(self, attempt: str) -> str:
        """The host whose worker ran an attempt (a line of ``HOPPER``'s) or a job (its cwd)."""
        return next(name for name in WORKERS if f"/worker-{name}/" in attempt)

    def close(self) -> None:
        for closing in (self.standby.close, self.cluster.close, self.s3.stop, self.postgres.stop):
            with contextlib.suppress(Exception):  # each must get its turn
                closing()


def role(api: base.Cluster) -> str:
    """``active`` for the server that schedules, ``standby`` for one that only serves."""
    assert api.server is not None
    answer = httpx.get(f"{api.server.origin}/healthz", timeout=10.0)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["scheduler"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    names = [*WORKERS, STANDBY]
    if Hosts.possible() and not os.environ.get("BATCH_COMPUTE_HOSTS_LOOPBACK"):
        hosts = Hosts.create(names)
    else:
        warnings.warn(
            "no network namespaces (not root, or BATCH_COMPUTE_HOSTS_LOOPBACK): "
            "hosts B, C and D run on loopback ports",
            stacklevel=1,
        )
        hosts = Hosts.loopback(names)
    running = Site(tmp_path_factory.mktemp("hosts"), hosts)
    try:
        yield running.start()
    finally:
        running.close()
        hosts.remove()


def test_the_servers_share_the_database_and_one_schedules(site):
    a, d = site.servers
    assert (role(a), role(d)) == ("active", "standby")
    assert a.server.database_url == d.server.database_url == site.database
    assert d.server.origin.split("//")[1].split(":")[0] == site.hosts.address(STANDBY)
    engine = sa.create_engine(site.database)
    try:
        with engine.connect() as connection:
            clients = connection.execute(
                sa.text(
                    "SELECT DISTINCT host(client_addr) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND client_addr IS NOT NULL"
                )
            ).scalars()
            assert site.hosts.address(STANDBY) in set(clients), "D's server over its link"
    finally:
        engine.dispose()
    for worker in site.workers.values():  # they know the bucket, never the database
        environment = Path(f"/proc/{worker.pid}/environ").read_bytes()
        assert b"postgresql" not in environment and b"BATCH_COMPUTE_DATABASE" not in environment


def test_a_map_spreads_over_both_hosts(site):
    function = site.standby.function(WHERE, cpus=0.5)  # saved and built through the standby
    ids: list[str] = []
    for index, start in enumerate(range(0, JOBS, CHUNK)):
        bulk = {
            "function_id": function["id"],
            "bulk_args": [[n] for n in range(start, min(JOBS, start + CHUNK))],
        }
        api = site.servers[index % 2]
        ids += [job["id"] for job in api.ok(api.http.post("/jobs/bulk", json=bulk), 201)]
    done = [  # each read through the server it was not submitted to
        site.servers[(n // CHUNK + 1) % 2].wait_job(job_id, timeout=300)
        for n, job_id in enumerate(ids)
    ]
    assert all(job["status"] == "success" and job["execution_count"] == 1 for job in done)
    sampled = range(0, JOBS, max(1, JOBS // 40))
    places = []
    for n in sampled:
        reader = site.servers[(n // CHUNK + 1) % 2]
        number, place = base.json.loads(reader.result(function, ids[n]))
        assert number == n + 1
        assert site.servers[n % 2].log(ids[n]) == [f"ran in {place}"]
        places.append(place)
    assert {site.host_of(place) for place in places} == set(WORKERS)


def test_timeout_cancel_and_maximum_concurrency_hold_across_hosts(site, tmp_path):
    a, d = site.servers
    sleeper = a.function(base.SLEEPER, timeout=2)
    timed = d.submit(sleeper["id"], str(tmp_path / "t.marker"), str(tmp_path / "t.pid"))
    long = d.function(base.SLEEPER)
    canceled = a.submit(long["id"], str(tmp_path / "c.marker"), str(tmp_path / "c.pid"))
    spans = tmp_path / "spans"
    limited = a.function(base.SPAN, cpus=0.25, maximum_concurrency=2)
    limited_jobs = [site.servers[n % 2].submit(limited["id"], str(spans), 0.6) for n in range(8)]
    base.wait(lambda: base.written(tmp_path / "c.pid"), "the job to start")
    d.ok(d.http.post(f"/jobs/{canceled}/cancel"))  # the standby passes it on to A
    assert a.wait_job(canceled)["status"] == "canceled"
    assert a.wait_job(timed)["status"] == "timeout"
    for name in ("t.pid", "c.pid"):
        pid = int((tmp_path / name).read_text().split()[0])
        base.wait(lambda p=pid: not base.alive(p), "the job process to die", 10)
    assert all(
        site.servers[(n + 1) % 2].wait_job(job_id)["status"] == "success"
        for n, job_id in enumerate(limited_jobs)
    )
    most, _ = base.most_at_once(spans)
    assert most == 2, "the limit is reached and never passed"


def _lose_a_worker(site: Site, tmp_path: Path, lose) -> dict:
    a, d = site.servers
    hopper = d.function(HOPPER, retry_count=1)
    attempts = tmp_path / "attempts"
    job_id = d.submit(hopper["id"], str(tmp_path / "marker"), str(attempts))
    base.wait(lambda: base.written(attempts), "the job to start")
    pid, place = attempts.read_text().split()
    lost = site.host_of(place)
    lose(lost, int(pid))
    done = a.wait_job(job_id, timeout=120)
    hosts = [site.host_of(line) for line in attempts.read_text().splitlines()]
    assert hosts == [lost, *(set(WORKERS) - {lost})], "the retry ran on the other host"
    assert d.log(job_id) == ["attempt started"]  # the last attempt's
    return done


def test_a_killed_worker_fails_the_attempt_and_the_other_host_runs_it(site, tmp_path):
    def kill(_host: str, job_pid: int) -> None:
        os.kill(base.parent(base.parent(job_pid)), signal.SIGKILL)  # job -> supervisor -> worker

    job = _lose_a_worker(site, tmp_path, kill)
    assert job["status"] == "success" and job["execution_count"] == 2, job


def test_a_cut_link_fails_the_attempt_and_the_other_host_runs_it(site, tmp_path):
    frozen: list[int] = []

    def cut(host: str, job_pid: int) -> None:
        if site.hosts.real:
            site.hosts.cut(host)
        else:  # loopback: a frozen worker is as silent as one whose link is down
            worker = base.parent(base.parent(job_pid))
            os.kill(worker, signal.SIGSTOP)
            frozen.append(worker)

    try:
        job = _lose_a_worker(site, tmp_path, cut)
    finally:
        for host in WORKERS:
            if site.hosts.real:
                site.hosts.mend(host)
        for worker in frozen:
            with contextlib.suppress(ProcessLookupError):  # its nanny may have ended it
                os.kill(worker, signal.SIGCONT)
    assert job["status"] == "success" and job["execution_count"] == 2, job
