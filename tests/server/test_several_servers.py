"""Two API servers on one PostgreSQL database and one S3 bucket (moto's S3 server), driven
with the SDK.

Both servers serve the same data; exactly one schedules (``/healthz`` says which). 2,000 jobs
go in through the two servers in turn while the scheduling server is killed with SIGKILL
(its process alone: its workers must die with it by themselves) and later the other, now
not scheduling, one too. The survivor takes over within seconds, and in the end every job
is ``success`` exactly once (the journal), with its result and its log readable through
either server (read for every job the kills interrupted and every tenth other one); no job
ran twice at once (each attempt holds an ``flock`` on a file of its job, and one that finds
it taken leaves a mark), and every job's ``execution_count`` is the number of attempts that
began: the attempts that noted themselves, plus at most the one the crash cut short before
its code ran.

A job submitted, canceled and rerun through the server that does not schedule starts, stops
and starts again at once (a cancel is not covered by the scheduler's poll for pending jobs:
only the signal passed on through PostgreSQL stops the hour-long job), and the log of the
running job reads through that server while the other runs it.

A graceful stop (SIGTERM) of the scheduling server re-queues the job it ran and hands over:
the other server runs it again, counting both attempts.

A server killed while it builds a function leaves no function ``building`` for good: the
scheduling server builds it (the killed one held the function's build lock, which went with
it). The build hangs on the killed server by design: its uv is pointed at a package index that
accepts connections and never answers.

A scheduling server whose lease connection breaks (its PostgreSQL session is terminated)
exits at once, since another may have taken over, and the other server takes over.

A scheduling server stopped with SIGSTOP while its jobs run (hung, but alive: its lease
session stays open) loses the lease within seconds: the other server takes over and every job
finishes once, with no two attempts of a job at once (the stopped server's workers kill their
jobs when its heartbeat goes stale, before the lease expires). Resumed with SIGCONT, it exits
with the lost-lease status and writes nothing more as scheduler.

On a Dask cluster, whose workers outlive the server that schedules, the same SIGSTOP ends
the same way: the server that takes over has the workers stop the stopped server's attempts,
and waits for them to end, before it runs those jobs again.

A restore or a reset through the server that does not schedule reaches the one that does: a
restored ``running`` job is recovered and runs again, and a reset stops the running job.

A second SQLite server on a data dir that a server uses refuses to start, with one line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from several_servers_jobs import guarded_square
from test_dask_cluster import Cluster  # the Dask tests' cluster, same dir

from batch_compute import ComputeClient, Function, Job, JobStatus
from batch_compute_mock.scheduler.leadership import LOST_LEASE_EXIT_STATUS
from batch_compute_mock.store.lease import SCHEDULER_LOCK_KEY
from support.inprocess import wait_until
from support.live_server import LiveServer
from support.postgres import PostgresCluster
from support.s3 import S3Endpoint

__all__ = [
    "test_a_build_left_by_a_killed_server_is_built_by_the_scheduler",
    "test_a_graceful_stop_of_the_scheduler_hands_its_jobs_over",
    "test_a_restore_and_a_reset_through_the_standby_reach_the_scheduler",
    "test_a_scheduler_that_loses_its_lease_exits_and_another_takes_over",
    "test_a_second_server_on_a_sqlite_data_dir_refuses_to_start",
    "test_a_stopped_scheduler_is_replaced_and_no_attempt_overlaps",
    "test_submit_cancel_and_rerun_through_the_standby_reach_the_scheduler",
    "test_two_servers_share_state_and_survive_the_death_of_either",
]

JOBS = 2000
BATCH = 100
TAKEOVER_LIMIT_SECONDS = 15.0
READ_BACK_EVERY = 10


def _scheduler_state(server: LiveServer) -> str:
    answer = httpx.get(f"{server.origin}/healthz", timeout=10.0)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["scheduler"])


def _start_scheduler_then_standby(a: LiveServer, b: LiveServer) -> None:
    """Start ``a`` and wait until it schedules, then ``b``, which stands by."""
    a.start()
    wait_until(lambda: _scheduler_state(a) == "active", "the first server schedules", 15.0)
    b.start()
    assert _scheduler_state(b) == "standby"


def _ready_function(client: ComputeClient, name: str, **options: Any) -> Function:
    """``guarded_square`` saved under ``name`` (with ``Function`` options besides the
    defaults here) and built."""
    function = Function(
        guarded_square, name=name, client=client,
        **{"image": "python3.11:latest", "cpus": 1, "memory": 2048, **options},
    )  # fmt: skip
    function.save()
    wait_until(lambda: Function.get(function.id, client=client).status == "ready", "built", 60)
    return function


def _sigkill_alone(server: LiveServer) -> None:
    """SIGKILL the server process only (its workers must notice by themselves), then reap."""
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    server.kill()


def _succeeded(client: ComputeClient, function_id: str) -> int:
    function = Function.get(function_id, client=client)
    return function.jobs.filter(Job.status == JobStatus.SUCCESS).count()


@pytest.fixture
def shared(
    tmp_path: Path, postgres: PostgresCluster, s3_endpoint: S3Endpoint
) -> Iterator[dict[str, Any]]:
    """A fresh PostgreSQL database and S3 bucket, and two servers on them (not started)."""
    url = postgres.new_database()
    marks = tmp_path / "marks"
    for name in ("runs", "locks", "overlaps"):
        (marks / name).mkdir(parents=True)
    blobs = s3_endpoint.new_bucket_url()
    args = ["--sandbox", "off", "--workers", "2", "--blob-url", str(blobs)]
    servers = [
        LiveServer(tmp_path / name, args, database_url=url, startup_timeout=60.0)
        for name in ("server-a", "server-b")
    ]
    try:
        yield {"servers": servers, "marks": marks, "url": url, "args": args, "root": tmp_path}
    finally:
        for server in servers:
            server.stop()
        postgres.drop_database(url)


@pytest.mark.timeout(600)  # 2,000 jobs on S3: about 2 minutes alone, more under xdist
def test_two_servers_share_state_and_survive_the_death_of_either(shared: dict[str, Any]) -> None:
    a, b = shared["servers"]
    marks: Path = shared["marks"]
    _start_scheduler_then_standby(a, b)
    user = "several-servers"
    clients = [ComputeClient(url=server.origin, auth=server.token(user)) for server in (a, b)]
    try:
        # Saved (and built) through the server that does not schedule.
        function = Function(
            guarded_square, name="guarded", image="python3.11:latest", cpus=1, memory=2048,
            maximum_concurrency=4, retry_count=0, client=clients[1],
        )  # fmt: skip
        function.save()
        wait_until(
            lambda: Function.get(function.id, client=clients[0]).status == "ready",
            "the function built on the standby is ready on the scheduler",
            60.0,
        )
        views = [Function.get(function.id, client=client) for client in clients]

        def submit(numbers: range) -> None:
            for index, start in enumerate(range(numbers.start, numbers.stop, BATCH)):
                chunk = range(start, min(start + BATCH, numbers.stop))
                slow = [0.5 if n % 97 == 0 else 0.0 for n in chunk]
                created = views[index % 2].map(
                    [[n, str(marks), seconds] for n, seconds in zip(chunk, slow, strict=True)]
                )
                assert not created.errors, created.errors

        begun = time.monotonic()
        submit(range(0, JOBS // 2))
        # Kill the scheduling server while jobs run.
        wait_until(
            lambda: _succeeded(clients[1], function.id) >= 50,
            "jobs run before the kill",
            120.0,
        )
        _sigkill_alone(a)
        killed_at = time.monotonic()
        wait_until(lambda: _scheduler_state(b) == "active", "the survivor takes over", 30.0)
        takeover = time.monotonic() - killed_at
        print(f"takeover after SIGKILL of the scheduling server: {takeover:.2f} s")
        assert takeover < TAKEOVER_LIMIT_SECONDS

        # The killed server comes back as a standby; jobs keep coming through both.
        a.start()
        assert _scheduler_state(a) == "standby"
        views = [Function.get(function.id, client=client) for client in clients]
        submit(range(JOBS // 2, JOBS))
        # Kill the server that does not schedule, mid-run, and bring it back.
        _sigkill_alone(a)
        assert _scheduler_state(b) == "active"
        a.start()
        assert _scheduler_state(a) == "standby"

        wait_until(
            lambda: _succeeded(clients[0], function.id) == JOBS,
            "every job succeeds",
            240.0,
        )
        print(f"{JOBS} jobs submitted and run in {time.monotonic() - begun:.1f} s")
        _check_every_job(clients, function.id, marks, a)
    finally:
        for client in clients:
            client.close()


def _check_every_job(
    clients: list[ComputeClient], function_id: str, marks: Path, server: LiveServer
) -> None:
    assert sorted(p.name for p in (marks / "overlaps").iterdir()) == [], "ran twice at once"
    journal = httpx.get(
        f"{server.origin}/_mock/journal", params={"function_id": function_id}, timeout=60.0
    ).json()
    succeeded = Counter(event["job_id"] for event in journal if event["event"] == "succeeded")
    jobs = list(Function.get(function_id, client=clients[0]).jobs)
    assert len(jobs) == JOBS
    assert {job.id for job in jobs} == set(succeeded)
    assert set(succeeded.values()) == {1}, "a job succeeded more than once"
    again = 0
    for job in jobs:
        assert job.status == "success"
        began = len((marks / "runs" / job.id).read_text().splitlines())
        # Every attempt that noted itself counts; one more may have been cut short by the
        # crash between its start and its first line.
        assert began <= job.execution_count <= began + 1, (job.id, began, job.execution_count)
        again += job.execution_count > 1

    def read_back(indexed: tuple[int, Job]) -> None:
        """The job's result and log, through the other server than the one it was listed by."""
        index, job = indexed
        other = Job.get(job.id, client=clients[(index + 1) % 2])
        n = job.args[0]
        assert other.result() == n * n
        assert f"job {n} done" in other.log()

    # Every job the kills interrupted and every tenth of the others (reading all 2,000 through
    # moto's S3 server takes over a minute: too long for CI; the journal and the counts above
    # cover every job).
    checked = [
        (index, job)
        for index, job in enumerate(jobs)
        if job.execution_count > 1 or index % READ_BACK_EVERY == 0
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read_back, checked))
    print(f"results and logs of {len(checked)} jobs read in {time.monotonic() - started:.1f} s")
    print(f"jobs run more than once after the kills: {again}")
    assert again >= 1, "the kill of the scheduling server interrupted no job"


def test_submit_cancel_and_rerun_through_the_standby_reach_the_scheduler(
    shared: dict[str, Any],
) -> None:
    a, b = shared["servers"]
    a.start()
    b.start()
    assert (_scheduler_state(a), _scheduler_state(b)) == ("active", "standby")
    client = ComputeClient(url=b.origin, auth=b.token("through-standby"))
    try:
        function = _ready_function(client, "long")
        job = function(7, str(shared["marks"]), 3600)

        def status() -> str:
            job.refresh()
            return str(job.status)

        wait_until(
            lambda: "job 7 started" in job.log(), "the running job's log, via the standby", 30
        )
        assert status() == "running"
        job.cancel()
        wait_until(lambda: status() == "canceled", "canceled through the standby", 30)
        rerun = Function.get(function.id, client=client).jobs.rerun()
        assert [again.id for again in rerun] == [job.id]
        wait_until(lambda: status() == "running", "rerun through the standby", 30)
        job.cancel()
        wait_until(lambda: status() == "canceled", "canceled again", 30)
    finally:
        client.close()


def test_a_graceful_stop_of_the_scheduler_hands_its_jobs_over(shared: dict[str, Any]) -> None:
    a, b = shared["servers"]
    marks: Path = shared["marks"]
    a.extra_args += ("--shutdown-grace", "0")
    a.start()
    b.start()
    assert (_scheduler_state(a), _scheduler_state(b)) == ("active", "standby")
    client = ComputeClient(url=b.origin, auth=b.token("graceful"))
    try:
        function = _ready_function(client, "handed-over")
        job = function(3, str(marks), 2)
        wait_until(lambda: "job 3 started" in job.log(), "the job runs on the scheduler", 30)
        a.stop()
        wait_until(lambda: _scheduler_state(b) == "active", "the other server takes over", 15.0)
        job.wait_for_completion(timeout=60, interval=0.1)
        assert job.status == "success"
        assert job.result() == 9
        assert job.execution_count == 2
        assert len((marks / "runs" / job.id).read_text().splitlines()) == 2
    finally:
        client.close()


def test_a_build_left_by_a_killed_server_is_built_by_the_scheduler(
    shared: dict[str, Any],
) -> None:
    servers: list[LiveServer] = shared["servers"]
    root: Path = shared["root"]
    black_hole = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    accepting = threading.Thread(target=_accept, args=(black_hole, held), daemon=True)
    accepting.start()
    index = f"http://127.0.0.1:{black_hole.getsockname()[1]}/simple"
    scheduler = LiveServer(
        root / "checks-requirements", [*shared["args"], "--requirements", "check"],
        database_url=shared["url"], startup_timeout=60.0,
    )  # fmt: skip
    builder = LiveServer(
        root / "installs-requirements", [*shared["args"], "--requirements", "install"],
        database_url=shared["url"], startup_timeout=60.0,
        env={**os.environ, "UV_INDEX_URL": index, "UV_NO_CACHE": "1", "UV_HTTP_TIMEOUT": "600"},
    )  # fmt: skip
    servers += [scheduler, builder]
    scheduler.start()
    builder.start()
    assert (_scheduler_state(scheduler), _scheduler_state(builder)) == ("active", "standby")
    client = ComputeClient(url=builder.origin, auth=builder.token("builds"))
    try:
        function = Function(
            guarded_square, name="needs-attrs", requirements=["attrs"],
            image="python3.11:latest", cpus=1, memory=2048, client=client,
        )  # fmt: skip
        function.save()
        wait_until(lambda: held, "the builder's uv reaches the package index", 60)
        assert Function.get(function.id, client=client).status == "building"
        _sigkill_alone(builder)
        other = ComputeClient(url=scheduler.origin, auth=scheduler.token("builds"))
        try:
            wait_until(
                lambda: Function.get(function.id, client=other).status == "ready",
                "the scheduling server builds what the killed one left",
                90,
            )
            job = Function.get(function.id, client=other)(5, str(shared["marks"]))
            job.wait_for_completion(timeout=60, interval=0.1)
            assert (job.status, job.result()) == ("success", 25)
        finally:
            other.close()
    finally:
        client.close()
        black_hole.close()
        for connection in held:
            connection.close()


def _accept(listener: socket.socket, held: list[socket.socket]) -> None:
    """Accept connections into ``held`` and never answer them, until the listener closes."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        held.append(connection)


def test_a_scheduler_that_loses_its_lease_exits_and_another_takes_over(
    shared: dict[str, Any],
) -> None:
    a, b = shared["servers"]
    _start_scheduler_then_standby(a, b)
    engine = sa.create_engine(shared["url"], poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            terminated = connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": SCHEDULER_LOCK_KEY >> 32, "low": SCHEDULER_LOCK_KEY & 0xFFFFFFFF},
            ).all()
    finally:
        engine.dispose()
    assert terminated == [(True,)]
    wait_until(lambda: not a.running, "the server that lost its lease exits", 15.0)
    assert a.exit_status == LOST_LEASE_EXIT_STATUS
    assert "the scheduler lease was lost" in a.log_tail()
    wait_until(lambda: _scheduler_state(b) == "active", "the other server takes over", 15.0)


STOPPED_JOBS = 4
STOPPED_JOB_SECONDS = 12.0


@pytest.mark.timeout(300)
def test_a_stopped_scheduler_is_replaced_and_no_attempt_overlaps(shared: dict[str, Any]) -> None:
    a, b = shared["servers"]
    marks: Path = shared["marks"]
    _start_scheduler_then_standby(a, b)
    client = ComputeClient(url=b.origin, auth=b.token("stopped"))
    try:
        function = _ready_function(client, "outlives", maximum_concurrency=4, retry_count=0)
        created = function.map([[n, str(marks), STOPPED_JOB_SECONDS] for n in range(STOPPED_JOBS)])
        assert not created.errors, created.errors
        jobs = list(Function.get(function.id, client=client).jobs)

        def running_on_a() -> int:
            return sum(1 for job in jobs if (marks / "runs" / job.id).exists())

        wait_until(lambda: running_on_a() == 2, "both workers of the scheduler run a job", 60)
        assert a.pid is not None
        os.kill(a.pid, signal.SIGSTOP)  # the server alone: its workers go on
        try:
            stopped_at = time.monotonic()
            wait_until(lambda: _scheduler_state(b) == "active", "the other server takes over", 30)
            takeover = time.monotonic() - stopped_at
            print(f"takeover after SIGSTOP of the scheduling server: {takeover:.2f} s")
            assert takeover < TAKEOVER_LIMIT_SECONDS
            wait_until(
                lambda: _succeeded(client, function.id) == STOPPED_JOBS,
                "every job succeeds on the server that took over",
                120,
            )
            before = _job_rows(shared["url"])
            journal = _journal(b, function.id)
        finally:
            os.kill(a.pid, signal.SIGCONT)
        wait_until(lambda: not a.running, "the resumed server exits", 30.0)
        assert a.exit_status == LOST_LEASE_EXIT_STATUS
        assert "the scheduler lease was lost" in a.log_tail()
        assert _job_rows(shared["url"]) == before, "the resumed server wrote as scheduler"
        assert _journal(b, function.id) == journal
        assert sorted(p.name for p in (marks / "overlaps").iterdir()) == [], "ran twice at once"
        succeeded = Counter(event["job_id"] for event in journal if event["event"] == "succeeded")
        assert succeeded == Counter({job.id: 1 for job in jobs})
        for job in jobs:
            job.refresh()
            attempts = len((marks / "runs" / job.id).read_text().splitlines())
            assert (job.status, job.execution_count) == ("success", attempts)
            assert job.result() == job.args[0] ** 2
        assert sum(job.execution_count for job in jobs) == STOPPED_JOBS + 2  # 2 cut short
    finally:
        client.close()


@pytest.mark.timeout(300)
def test_on_a_dask_cluster_the_attempts_of_a_stopped_scheduler_end_before_their_jobs_rerun(
    shared: dict[str, Any],
) -> None:
    marks: Path = shared["marks"]
    cluster = Cluster(shared["root"])
    cluster.start_scheduler("dask-scheduler", 0)
    # Room for the reruns beside the stopped server's attempts: only a takeover stops those.
    cluster.start_worker("dask-worker", "--cpus", "4", "--memory", "16G")
    args = [*shared["args"], "--executor", "dask", "--dask-scheduler", cluster.address]
    a, b = (
        LiveServer(shared["root"] / name, args, database_url=shared["url"], startup_timeout=60.0)
        for name in ("dask-server-a", "dask-server-b")
    )
    try:
        _start_scheduler_then_standby(a, b)
        client = ComputeClient(url=b.origin, auth=b.token("on-dask"))
        function = _ready_function(client, "on-dask", retry_count=0)
        created = function.map([[n, str(marks), STOPPED_JOB_SECONDS] for n in range(2)])
        assert not created.errors, created.errors
        jobs = list(Function.get(function.id, client=client).jobs)
        wait_until(
            lambda: all((marks / "runs" / job.id).exists() for job in jobs),
            "both jobs run on the worker",
            60,
        )
        assert a.pid is not None
        os.kill(a.pid, signal.SIGSTOP)  # hung: its Dask client stays connected
        try:
            wait_until(lambda: _scheduler_state(b) == "active", "the other server takes over", 30)
            wait_until(lambda: _all_ended(jobs), "every job ends after the takeover", 120)
        finally:
            os.kill(a.pid, signal.SIGCONT)
        assert sorted(p.name for p in (marks / "overlaps").iterdir()) == [], "ran twice at once"
        journal = _journal(b, function.id)
        succeeded = Counter(event["job_id"] for event in journal if event["event"] == "succeeded")
        assert succeeded == Counter({job.id: 1 for job in jobs})
        for job in jobs:
            job.refresh()
            assert len((marks / "runs" / job.id).read_text().splitlines()) == 2
            assert (job.status, job.execution_count) == ("success", 2)
            assert job.result() == job.args[0] ** 2
        wait_until(lambda: not a.running, "the resumed server exits", 30.0)
        assert a.exit_status == LOST_LEASE_EXIT_STATUS
        client.close()
    finally:
        for server in (a, b):
            server.stop()
        cluster.close()


def _all_ended(jobs: list[Job]) -> bool:
    for job in jobs:
        job.refresh()
    return all(job.status in ("success", "failure", "timeout", "canceled") for job in jobs)


def _job_rows(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(
                    sa.text(
                        "SELECT id, status, execution_count, interruptions, "
                        "last_completion_date FROM jobs ORDER BY id"
                    )
                )
            ]
    finally:
        engine.dispose()


def _journal(server: LiveServer, function_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server.origin}/_mock/journal", params={"function_id": function_id}, timeout=60.0
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _lock_is_free(path: Path) -> bool:
    """Whether nothing holds an exclusive ``flock`` on ``path`` (the job's attempt ended)."""
    import fcntl

    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


def test_a_restore_and_a_reset_through_the_standby_reach_the_scheduler(
    shared: dict[str, Any],
) -> None:
    a, b = shared["servers"]
    marks: Path = shared["marks"]
    _start_scheduler_then_standby(a, b)
    client = ComputeClient(url=b.origin, auth=b.token("controls"))
    try:
        function = _ready_function(client, "restored")
        job = function(4, str(marks), 2)
        wait_until(lambda: "job 4 started" in job.log(), "the job runs on the scheduler", 30)
        snapshot = httpx.post(f"{b.origin}/_mock/snapshot", timeout=60.0)
        assert snapshot.status_code == 200, snapshot.text
        job.wait_for_completion(timeout=60, interval=0.1)
        assert (job.status, job.execution_count) == ("success", 1)

        # The snapshot holds the job running: the scheduler must recover it and run it again.
        restored = httpx.post(f"{b.origin}/_mock/restore", content=snapshot.content, timeout=90)
        assert restored.status_code == 204, restored.text
        job.wait_for_completion(timeout=60, interval=0.1)
        assert (job.status, job.execution_count) == ("success", 2)
        assert len((marks / "runs" / job.id).read_text().splitlines()) == 2

        # A reset through the standby stops the job running on the scheduler before it answers.
        endless = Function.get(function.id, client=client)(5, str(marks), 3600)
        wait_until(lambda: "job 5 started" in endless.log(), "the endless job runs", 30)
        assert not _lock_is_free(marks / "locks" / endless.id)
        reset = httpx.post(f"{b.origin}/_mock/reset", json={}, timeout=90)
        assert reset.status_code == 204, reset.text
        assert _lock_is_free(marks / "locks" / endless.id), "the reset left the job running"
    finally:
        client.close()


def test_a_second_server_on_a_sqlite_data_dir_refuses_to_start(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data", ["--sandbox", "off"]) as first:
        second = subprocess.run(
            [
                sys.executable, "-m", "batch_compute_mock", "serve", "--host", "127.0.0.1",
                "--port", "0", "--data-dir", str(first.data_dir),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )  # fmt: skip
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {first.pid}" in lines[0]
        assert "--database-url" in lines[0]
        assert httpx.get(f"{first.origin}/healthz", timeout=10.0).status_code == 200
