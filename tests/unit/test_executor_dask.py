"""DaskExecutor on a real LocalCluster (two worker processes on 127.0.0.1): results and logs,
failure, timeout and cancel kill the job process, a SIGKILLed worker fails the attempt (and
its task, given to the other worker, does not run the job again)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from distributed import LocalCluster

from batch_compute_mock.executors import JobOutcome, OutcomeStatus, StopReason
from batch_compute_mock.executors.dask import DaskExecutor
from batch_compute_mock.kernel.terms import Term
from support.executor_lab import ExecutorLab
from support.processes import alive

pytestmark = pytest.mark.timeout(180)

WAIT_FOR_FLAG = """
    import os, time
    def main(flag, pid_file):
        with open(pid_file + ".tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.replace(pid_file + ".tmp", pid_file)
        print("waiting", flush=True)
        while not os.path.exists(flag):
            time.sleep(0.01)
        return "released"
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = tmp_path_factory.mktemp("dask")
    with LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        local_directory=str(local),
    ) as running:
        yield running


@pytest.fixture
def lab(tmp_path: Path) -> ExecutorLab:
    return ExecutorLab(tmp_path)


def run(
    lab: ExecutorLab,
    cluster: LocalCluster,
    scenario: Callable[[DaskExecutor], Awaitable[Any]],
    sandbox: str = "off",
):
    async def main() -> Any:
        executor = DaskExecutor(
            scheduler_address=cluster.scheduler_address,
            blobs=lab.blobs,
            slots=4,
            worker_sandbox=sandbox,
        )
        await executor.start()
        try:
            return await asyncio.wait_for(scenario(executor), 120)
        finally:
            await executor.shutdown(grace_s=0)

    return asyncio.run(main())


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        await asyncio.sleep(0.02)


def parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def test_success_and_failure_with_results_and_logs(lab, cluster):
    ok = lab.bundle("def main(a):\n    print('doubling', a)\n    return a * 2\n", "ok")
    bad = lab.bundle(
        "def main():\n    print('about to fail')\n    raise ValueError('bad input')\n", "bad"
    )
    specs = [lab.spec(ok, 21), lab.spec(bad), *(lab.spec(ok, n) for n in range(6))]
    starts: list[str] = []

    async def scenario(executor: DaskExecutor):
        return await asyncio.gather(
            *(executor.run(spec, lambda s=spec: starts.append(s.job_id)) for spec in specs)
        )

    outcomes = run(lab, cluster, scenario)
    assert sorted(starts) == sorted(spec.job_id for spec in specs)
    first, failed = outcomes[0], outcomes[1]
    assert first.status is OutcomeStatus.SUCCESS and lab.result(specs[0]) == b"42"
    assert lab.log(specs[0]) == ["doubling 21"]
    assert first.statistics["memory"]["peak_bytes"] > 1 << 20
    assert failed.status is OutcomeStatus.FAILURE and failed.exit_code == 1
    assert failed.error_reason == "ValueError: bad input"
    assert "about to fail" in lab.log(specs[1])
    assert not lab.has_result(specs[1])
    assert [lab.result(spec) for spec in specs[2:]] == [str(n * 2).encode() for n in range(6)]
    # Warm: the six jobs of one function ran on few job processes, not one each.
    assert len({o.worker_pid for o in outcomes[2:]}) < 6


def test_timeout_and_cancel_kill_the_running_job(lab, cluster):
    fn = lab.bundle(WAIT_FOR_FLAG)
    timed = lab.spec(fn, str(lab.flag("never")), str(lab.flag("timed.pid")), timeout_s=1)
    canceled = lab.spec(fn, str(lab.flag("never")), str(lab.flag("canceled.pid")))

    async def scenario(executor: DaskExecutor):
        timing = asyncio.ensure_future(executor.run(timed))
        running = asyncio.ensure_future(executor.run(canceled))
        await until(lab.flag("canceled.pid").exists)
        assert executor.cancel(canceled.job_id)
        return await timing, await running

    timeout, cancel = run(lab, cluster, scenario)
    assert timeout.status is OutcomeStatus.TIMEOUT and timeout.stop_reason is StopReason.TIMEOUT
    assert timeout.error_reason == "Timed out after 1 s"
    assert cancel.status is OutcomeStatus.CANCELED and cancel.stop_reason is StopReason.CANCEL
    for name in ("timed.pid", "canceled.pid"):
        pid = int(lab.flag(name).read_text())
        assert not alive(pid)
    assert lab.log(canceled) == ["waiting"]


def test_a_killed_worker_fails_the_attempt_and_its_job_dies(lab, cluster):
    fn = lab.bundle(WAIT_FOR_FLAG)
    spec = lab.spec(fn, str(lab.flag("never")), str(lab.flag("lost.pid")))

    async def scenario(executor: DaskExecutor):
        running = asyncio.ensure_future(executor.run(spec))
        await until(lab.flag("lost.pid").exists)
        job_pid = int(lab.flag("lost.pid").read_text())
        worker_pid = parent(parent(job_pid))  # job process -> supervisor -> Dask worker
        os.kill(worker_pid, signal.SIGKILL)
        return job_pid, await running

    job_pid, outcome = run(lab, cluster, scenario)
    assert outcome.status is OutcomeStatus.FAILURE
    assert outcome.stop_reason is StopReason.WORKER_LOST
    # The task the scheduler gave the other worker did not run the job a second time.
    time.sleep(0.5)
    assert int(lab.flag("lost.pid").read_text()) == job_pid
    # Either the task given again answered RERUN, or (the loss reached that worker late) it
    # began and was stopped at once, as the executor's docstring says; never a second success.
    assert outcome.error_reason in (
        "The Dask worker running the job was lost",
        "The Dask worker running the job was lost (its task began again on another worker and"
        " was stopped)",
    )
    assert outcome.started_at is not None
    assert "worker" in outcome.error_reason.lower()
    end = time.monotonic() + 10
    while alive(job_pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert not alive(job_pid)


def test_jobs_on_workers_run_in_the_sandbox(lab, cluster):
    fn = lab.bundle("import os\ndef main(path):\n    return os.path.exists(path)\n")
    spec = lab.spec(fn, str(lab.root))

    async def scenario(executor: DaskExecutor):
        return await executor.run(spec)

    outcome = run(lab, cluster, scenario, sandbox="bwrap")
    assert outcome.succeeded
    assert lab.result(spec) == b"false"  # the sandbox shows the job nothing of the test's dirs


def test_the_reason_a_job_waits_names_what_it_needs_and_what_the_cluster_has():
    from batch_compute_mock.executors.dask.room import no_room_reason

    small = {"resources": {"cpus": 2, "memory": 4 * 2**30}}
    large = {"resources": {"cpus": 8, "memory": 64 * 2**30}}
    assert no_room_reason(4, 8 * 2**30, [small, large]) is None
    reason = no_room_reason(4, 8 * 2**30, [small])
    assert reason is not None and "needs cpus=4, memory=8192 MiB" in reason
    assert "1 worker(s) has cpus=2, memory=4096 MiB" in reason
    assert "the cluster has none" in (no_room_reason(1, 2**20, []) or "")


def test_an_outcome_crosses_the_event_stream_whole():
    from batch_compute_mock.executors.dask.worker import outcome_from_text, outcome_text

    outcome = JobOutcome(
        job_id="job-1",
        status=OutcomeStatus.FAILURE,
        exit_code=-9,
        error_reason="Job timed out after 2 s",
        started_at="2026-12-06T01:00:00.000001Z",
        ended_at="2026-12-06T01:00:02.000001Z",
        runtime=2,
        statistics={"cpu": {"user_ns": 5}, "memory": {"peak_bytes": 1 << 20}},
        result_written=True,
        result_attributes={"tags": ["a", "b"], "extra_properties": {"k": [1, 2.5, None]}},
        result_size=12,
        result_hash="abc",
        start_time=1.5,
        end_time=3.5,
        worker_pid=10,
        supervisor_pid=9,
        log_truncated=True,
        stop_reason=StopReason.TIMEOUT,
    )
    text = outcome_text(outcome)
    assert isinstance(text, str)  # one string on Dask's stream, not data it walks
    back = outcome_from_text(text)
    assert back == outcome
    assert back.status is OutcomeStatus.FAILURE and back.stop_reason is StopReason.TIMEOUT
    ended_by_itself = attrs.evolve(outcome, stop_reason=None, status=OutcomeStatus.SUCCESS)
    assert outcome_from_text(outcome_text(ended_by_itself)) == ended_by_itself


def test_a_burst_goes_several_jobs_to_a_task_and_still_uses_every_worker(lab, cluster):
    from distributed import Client, get_task_stream

    from batch_compute_mock.executors.dask.worker import TASK_PREFIX

    fn = lab.bundle("def main(x):\n    return x + 1\n")
    specs = [lab.spec(fn, n) for n in range(40)]
    starts: list[str] = []

    async def scenario(executor: DaskExecutor):
        await _plugins_ready(executor)  # else one worker's tasks may all be stolen meanwhile
        return await asyncio.gather(
            *(executor.run(spec, lambda s=spec: starts.append(s.job_id)) for spec in specs)
        )

    with Client(cluster.scheduler_address) as client, get_task_stream(client) as stream:
        outcomes = run(lab, cluster, scenario)
    assert all(outcome.succeeded for outcome in outcomes)
    assert [lab.result(spec) for spec in specs] == [str(n + 1).encode() for n in range(40)]
    assert sorted(starts) == sorted(spec.job_id for spec in specs)  # each start, once
    ours = [task for task in stream.data if str(task["key"]).startswith(TASK_PREFIX)]
    assert len(ours) < len(specs)  # several jobs per task
    assert len({task["worker"] for task in ours}) == 2  # yet both workers had some


def test_a_cancel_ends_only_its_own_job_of_a_task_and_it_never_runs(lab, cluster):
    from distributed import Client

    from support.dask_faults import refused_here

    fn = lab.bundle(WAIT_FOR_FLAG)
    release = lab.flag("release")
    specs = [lab.spec(fn, str(release), str(lab.flag(f"{n}.pid"))) for n in range(24)]
    started: set[str] = set()

    async def scenario(executor: DaskExecutor):
        runs = [
            asyncio.ensure_future(executor.run(spec, lambda s=spec: started.add(s.job_id)))
            for spec in specs
        ]
        await until(lambda: len(started) == 4)  # both workers' slots are taken
        await asyncio.sleep(0.2)
        waiting = [spec for spec in specs if spec.job_id not in started]
        assert all(executor.cancel(spec.job_id) for spec in waiting)
        canceled = await asyncio.gather(*(runs[specs.index(spec)] for spec in waiting))
        # The cancels reach the workers (``Client.run``) before the running jobs end; a job
        # its task reaches before that starts and is stopped (not tested here).
        ids = [spec.job_id for spec in waiting]
        async with Client(cluster.scheduler_address, asynchronous=True) as client:
            for _ in range(500):
                heard = await client.run(refused_here, ids, 1)
                if len(heard) == 2 and all(heard.values()):
                    break
                await asyncio.sleep(0.02)
        release.write_text("go")
        return waiting, canceled, await asyncio.gather(*runs)

    waiting, canceled, outcomes = run(lab, cluster, scenario)
    assert len(waiting) == 20
    for spec, outcome in zip(waiting, canceled, strict=True):
        assert outcome.status is OutcomeStatus.CANCELED and outcome.stop_reason is StopReason.CANCEL
        assert outcome.started_at is None
        assert not lab.flag(f"{specs.index(spec)}.pid").exists()  # it never ran
    ran = [outcomes[specs.index(spec)] for spec in specs if spec not in waiting]
    assert [outcome.status for outcome in ran] == [OutcomeStatus.SUCCESS] * 4
    time.sleep(0.5)  # nothing of the canceled ones runs afterwards either
    assert not any(lab.flag(f"{specs.index(spec)}.pid").exists() for spec in waiting)


def test_a_cancel_reaches_a_worker_still_starting_its_pool(lab):

    fn = lab.bundle(WAIT_FOR_FLAG)
    spec = lab.spec(fn, str(lab.flag("never")), str(lab.flag("ran.pid")))

    async def main():
        async with _one_worker() as (_, worker), _plugged(worker, lab.root / "w") as plugin:
            running = asyncio.ensure_future(plugin.run(spec, lab.blobs.url, "server"))
            await asyncio.sleep(0)  # it waits for the pool to start
            assert not plugin._executors  # still starting
            plugin.cancel(spec.job_id, spec.attempt)
            return await asyncio.wait_for(running, 60)

    outcome = asyncio.run(main())
    assert outcome.status is OutcomeStatus.CANCELED and outcome.stop_reason is StopReason.CANCEL
    assert not lab.flag("ran.pid").exists()


def test_a_server_that_takes_over_stops_the_attempts_of_the_one_before(lab):
    """Workers outlive the server that schedules: the next one's ``take_over`` stops the
    attempts the one before began, returns once they ended, and its late tasks are refused;
    a worker that joins afterwards learns who schedules from the topic's history."""
    from distributed import Client

    from batch_compute_mock.executors.dask.worker import SCHEDULER_TOPIC, SUPERSEDED, take_over

    fn = lab.bundle(WAIT_FOR_FLAG)
    old = lab.spec(fn, str(lab.flag("never")), str(lab.flag("old.pid")))
    late = lab.spec(fn, str(lab.flag("never")), str(lab.flag("late.pid")))
    url = lab.blobs.url

    async def main():
        async with _one_worker() as (local, worker), _plugged(worker, lab.root / "w") as plugin:
            running = asyncio.ensure_future(plugin.run(old, url, "before"))
            await _until(lambda: lab.flag("old.pid").exists())
            async with Client(local.scheduler_address, asynchronous=True) as client:
                named = {"blob_url": url, "scheduler": "now", "term": ["pg:1", 2]}
                await client.log_event(SCHEDULER_TOPIC, named)
                left = await client.run(take_over, url, "now", Term("pg:1", 2))
                assert list(left.values()) == [[]]
                assert running.done()  # ended before take_over answered
                refused = await plugin.run(late, url, "before")
                async with _plugged(worker, lab.root / "w2", "joins-later") as other:
                    known = other.superseded(url, "before")
            return running.result(), refused, known

    stopped, refused, known_to_a_later_worker = asyncio.run(main())
    assert stopped.status is OutcomeStatus.CANCELED, stopped
    assert (refused.stop_reason, refused.error_reason) == (StopReason.SHUTDOWN, SUPERSEDED)
    assert not lab.flag("late.pid").exists()
    assert known_to_a_later_worker


def test_a_takeover_that_cannot_stop_an_attempt_refuses_to_schedule(lab, monkeypatch):
    """An attempt of the server before that does not end (its cancel never lands) keeps the
    new server from scheduling: its start fails, and closes its connection."""
    from batch_compute_mock.executors.dask import executor as server_side
    from batch_compute_mock.executors.dask import worker as worker_side
    from batch_compute_mock.executors.dask.executor import TakeoverIncomplete

    for module in (server_side, worker_side):
        monkeypatch.setattr(module, "TAKEOVER_WAIT_SECONDS", 0.5)
    spec = lab.spec(lab.bundle(WAIT_FOR_FLAG), str(lab.flag("go")), str(lab.flag("pid")))

    async def main():
        async with _one_worker() as (local, worker), _plugged(worker, lab.root / "w") as plugin:
            running = asyncio.ensure_future(plugin.run(spec, lab.blobs.url, "before"))
            await _until(lambda: lab.flag("pid").exists())
            monkeypatch.setattr(plugin._executors[lab.blobs.url], "cancel", lambda job_id: False)
            server = DaskExecutor(
                scheduler_address=local.scheduler_address, blobs=lab.blobs, slots=1
            )
            with pytest.raises(TakeoverIncomplete, match=spec.job_id):
                await server.start()
            assert server._client is None
            lab.flag("go").touch()
            return await asyncio.wait_for(running, 60)

    outcome = asyncio.run(main())
    assert outcome.status is OutcomeStatus.SUCCESS, outcome  # it ran on, alone


def test_a_server_that_takes_over_late_supersedes_nobody(lab):
    """A server that names itself after a later holder of the lease did (it was stopped, or
    cut off, since it took the lease) stops nothing and is refused: its start fails, the
    attempts and tasks of the later server go on, and a worker that joins afterwards follows
    the later server whatever order it reads the names in."""
    from distributed import Client

    from batch_compute_mock.executors.dask.executor import TakeoverIncomplete
    from batch_compute_mock.executors.dask.worker import SCHEDULER_TOPIC, take_over

    fn = lab.bundle(WAIT_FOR_FLAG)
    spec = lab.spec(fn, str(lab.flag("go")), str(lab.flag("pid")))
    url = lab.blobs.url

    async def main():
        async with (
            _one_worker() as (local, worker),
            _plugged(worker, lab.root / "w") as plugin,
            Client(local.scheduler_address, asynchronous=True) as client,
        ):
            named = {"blob_url": url, "scheduler": "later", "term": ["pg:1", 7]}
            await client.log_event(SCHEDULER_TOPIC, named)  # the history a joiner reads
            await client.run(take_over, url, "later", Term("pg:1", 7))
            running = asyncio.ensure_future(plugin.run(spec, url, "later"))
            await _until(lambda: lab.flag("pid").exists())
            late = DaskExecutor(scheduler_address=local.scheduler_address, blobs=lab.blobs, slots=1)
            with pytest.raises(TakeoverIncomplete, match=r"term 7, this server's is 3"):
                await late.start(Term("pg:1", 3))
            assert late._client is None
            await asyncio.sleep(0.3)
            assert not running.done()  # the later server's attempt runs on
            assert not plugin.superseded(url, "later")
            assert plugin.superseded(url, late._name)  # and the late one's are refused
            async with _plugged(worker, lab.root / "w2", "joins-later") as other:
                follows = not other.superseded(url, "later")
            lab.flag("go").touch()
            return await asyncio.wait_for(running, 60), follows

    outcome, a_later_worker_follows_the_later_server = asyncio.run(main())
    assert outcome.status is OutcomeStatus.SUCCESS, outcome
    assert a_later_worker_follows_the_later_server


def test_a_server_registering_the_plugin_on_plain_workers_kills_no_running_job(lab, monkeypatch):
    """Each server that starts registers the plugin for plain workers, which replaces the one
    they have: with the same settings the new one takes its pools over, running jobs and all
    (a late server's registration must not stop what the later server runs; the sandbox test
    shows other settings applying). Removed for good, the plugin's pools close a moment
    later, and their jobs with them."""
    from distributed import Client

    from batch_compute_mock.executors.dask import worker as worker_side
    from batch_compute_mock.executors.dask.executor import TakeoverIncomplete
    from batch_compute_mock.executors.dask.worker import FALLBACK_NAME

    monkeypatch.setattr(worker_side, "HANDOVER_SECONDS", 0.5)
    fn = lab.bundle(WAIT_FOR_FLAG)
    spec = lab.spec(fn, str(lab.flag("never")), str(lab.flag("pid")))

    async def main():
        async with _one_worker() as (local, _):  # a plain worker: no plugin of its own
            later = DaskExecutor(
                scheduler_address=local.scheduler_address,
                blobs=lab.blobs,
                slots=1,
                worker_sandbox="off",
            )
            await later.start(Term("pg:1", 7))
            try:
                running = asyncio.ensure_future(later.run(spec))
                await _until(lambda: lab.flag("pid").exists())
                job_pid = int(lab.flag("pid").read_text())
                late = DaskExecutor(  # with the same settings: the pools carry on
                    scheduler_address=local.scheduler_address,
                    blobs=lab.blobs,
                    slots=1,
                    worker_sandbox="off",
                )
                with pytest.raises(TakeoverIncomplete):
                    await late.start(Term("pg:1", 3))
                await asyncio.sleep(1.0)  # past HANDOVER_SECONDS
                assert not running.done() and alive(job_pid)
                async with Client(local.scheduler_address, asynchronous=True) as client:
                    await client.unregister_worker_plugin(FALLBACK_NAME)
                outcome = await asyncio.wait_for(running, 30)
            finally:
                await later.shutdown(grace_s=0)
            return outcome, job_pid

    outcome, job_pid = asyncio.run(main())
    assert outcome.status is OutcomeStatus.CANCELED, outcome
    assert outcome.stop_reason is StopReason.SHUTDOWN
    assert not alive(job_pid)


def test_a_task_on_a_worker_still_without_the_plugin_waits_for_it(lab):
    """A plain worker that joined a restarted scheduler gets the plugin a moment after tasks
    may reach it: they wait for it instead of failing like a lost worker."""
    import attrs
    from distributed import Client

    from batch_compute_mock.executors.dask.worker import run_jobs

    spec = lab.spec(lab.bundle("def main():\n    return 'ran'\n"))

    async def main():
        async with (
            _one_worker() as (local, worker),
            Client(local.scheduler_address, asynchronous=True) as client,
        ):
            task = client.submit(
                run_jobs, [attrs.asdict(spec)], lab.blobs.url, ["k"], "t", "server", pure=False
            )
            await asyncio.sleep(1.0)
            assert task.status == "pending"  # waiting on the worker, not failed
            async with _plugged(worker, lab.root / "late"):
                return await asyncio.wait_for(task, 60)

    [outcome] = asyncio.run(main())
    assert outcome.status is OutcomeStatus.SUCCESS, outcome


async def _plugins_ready(executor: DaskExecutor) -> None:
    """Until every worker's plugin is set up (a new registration sets it up again)."""
    from batch_compute_mock.executors.dask.worker import _plugin

    assert executor._client is not None
    deadline = time.monotonic() + 60
    while not all(
        (await executor._client.run(lambda dask_worker: bool(_plugin(dask_worker)))).values()
    ):
        assert time.monotonic() < deadline, "the workers' plugins are not set up"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _one_worker() -> AsyncIterator[tuple[LocalCluster, Any]]:
    """An in-process cluster of one worker, and that worker."""
    async with LocalCluster(
        n_workers=1, processes=False, asynchronous=True, dashboard_address=":0"
    ) as local:
        yield local, next(iter(local.workers.values()))


@contextlib.asynccontextmanager
async def _plugged(worker: Any, root: Path, name: str = "batch-compute") -> AsyncIterator[Any]:
    """Our plugin on ``worker`` (jobs unsandboxed, its files under ``root``), removed after."""
    from batch_compute_mock.executors.dask import BatchComputePlugin

    plugin = BatchComputePlugin(sandbox="off", data_dir=str(root))
    await worker.plugin_add(plugin, name=name)
    try:
        yield plugin
    finally:
        await worker.plugin_remove(name)


async def _until(probe, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not probe():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def test_a_job_whose_worker_dies_before_its_start_is_heard_fails_after_a_bound(lab, tmp_path):
    import dask
    from distributed import Client

    from batch_compute_mock.executors.dask.executor import MAX_UNHEARD_LOSSES
    from batch_compute_mock.executors.dask.worker import TASK_PREFIX
    from support.dask_faults import CrashOnOurTasks

    fn = lab.bundle("def main():\n    return 1\n")
    spec = lab.spec(fn)
    starts: list[int] = []

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            resources={"cpus": 1, "memory": 4e9},  # a restarted worker has them at once
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            local_directory=str(tmp_path),
        ) as local,
        Client(local.scheduler_address) as client,
    ):
        client.register_plugin(CrashOnOurTasks(TASK_PREFIX), name="crash")

        async def scenario(executor: DaskExecutor):
            outcomes = []
            for turn in range(MAX_UNHEARD_LOSSES + 2):  # as the scheduler does, while it may
                outcome = await executor.run(spec, lambda t=turn: starts.append(t))
                outcomes.append(outcome)
                if outcome.started_at is not None:
                    break
            return outcomes

        outcomes = run(lab, local, scenario)
    assert len(outcomes) == MAX_UNHEARD_LOSSES
    for early in outcomes[:-1]:  # never started: it runs again without using an attempt
        assert early.stop_reason is StopReason.WORKER_LOST and early.started_at is None
    last = outcomes[-1]
    assert last.status is OutcomeStatus.FAILURE and last.stop_reason is StopReason.WORKER_LOST
    assert f"lost {MAX_UNHEARD_LOSSES} times before the job was heard to start" in (
        last.error_reason or ""
    )
    assert starts == [MAX_UNHEARD_LOSSES - 1]  # the failed attempt counts (retry_count decides)


def test_a_result_that_cannot_be_read_spoils_only_its_own_task(cluster):
    from distributed import Client

    from batch_compute_mock.executors.dask.gathering import gather_each
    from support.dask_faults import add_one, unreadable_result

    async def main():
        async with Client(cluster.scheduler_address, asynchronous=True) as client:
            futures = [
                client.submit(add_one, 1, pure=False),
                client.submit(unreadable_result, pure=False),
                client.submit(add_one, 2, pure=False),
            ]
            await client.wait_for_workers(1)
            for future in futures:
                await future.exception()  # every one of them finished
            assert all(future.status == "finished" for future in futures)
            with pytest.raises(Exception, match="only_on_this_dask_worker"):
                await client.gather(futures)  # all at once fails as a whole
            return await gather_each(client, futures)

    first, bad, last = asyncio.run(main())
    assert (first, last) == (2, 3)
    assert isinstance(bad, Exception) and "only_on_this_dask_worker" in str(bad)
