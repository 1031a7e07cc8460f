"""The local pool under a heartbeat (a server sharing its database): a worker kills its job
and exits once the heartbeat goes stale, and no job is handed to a worker while it is stale."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from batch_compute_mock.executors import OutcomeStatus, StopReason
from batch_compute_mock.executors.local.heartbeat import Heartbeat, heartbeat_age
from support.executor_lab import ExecutorLab
from support.processes import alive

LIMIT_SECONDS = 0.5

WAIT_FOREVER = """
    import os, time
    def main(pid_file):
        with open(pid_file + ".tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.replace(pid_file + ".tmp", pid_file)
        while True:
            time.sleep(0.01)
"""


@pytest.fixture
def lab(tmp_path: Path) -> ExecutorLab:
    return ExecutorLab(tmp_path)


def test_the_heartbeat_is_stale_until_the_first_beat_and_then_ages() -> None:
    heartbeat = Heartbeat(LIMIT_SECONDS)
    try:
        assert not heartbeat.fresh()
        assert heartbeat_age(heartbeat.fd) > 1000  # never beaten: as old as the machine's uptime
        heartbeat.beat(time.monotonic() - 0.2)
        assert heartbeat.fresh()
        assert 0.2 <= heartbeat_age(heartbeat.fd) < 0.2 + LIMIT_SECONDS
        heartbeat.beat(time.monotonic() - 5.0)  # an older proof never rolls it back
        assert heartbeat.fresh()
    finally:
        heartbeat.close()


def test_a_running_job_is_killed_once_the_heartbeat_goes_stale(
    lab: ExecutorLab, tmp_path: Path
) -> None:
    heartbeat = Heartbeat(LIMIT_SECONDS)
    pid_file = tmp_path / "job.pid"
    spec = lab.spec(lab.bundle(WAIT_FOREVER), str(pid_file), timeout_s=600)

    async def scenario(pool):  # type: ignore[no-untyped-def]
        heartbeat.beat(time.monotonic())
        running = asyncio.create_task(pool.run(spec))
        beating_until = time.monotonic() + 4 * LIMIT_SECONDS
        while time.monotonic() < beating_until:  # fresh: the job runs on
            heartbeat.beat(time.monotonic())
            await asyncio.sleep(0.05)
        assert pid_file.exists() and not running.done()
        job_pid = int(pid_file.read_text())
        silent_at = time.monotonic()
        outcome = await asyncio.wait_for(running, 10)
        waited = time.monotonic() - silent_at
        gone_by = time.monotonic() + 5
        while pool.stats().workers and time.monotonic() < gone_by:  # the worker leaves too
            await asyncio.sleep(0.02)
        return outcome, job_pid, waited, pool.stats()

    try:
        outcome, job_pid, waited, stats = lab.run(scenario, heartbeat=heartbeat)
    finally:
        heartbeat.close()
    assert outcome.stop_reason is StopReason.SHUTDOWN
    assert outcome.status is OutcomeStatus.CANCELED
    assert not alive(job_pid)
    assert waited < LIMIT_SECONDS + 2.0
    assert stats.workers == 0


def test_no_job_is_handed_to_a_worker_while_the_heartbeat_is_stale(lab: ExecutorLab) -> None:
    heartbeat = Heartbeat(LIMIT_SECONDS)
    spec = lab.spec(lab.bundle("def main():\n    return 1\n"))
    started: list[str] = []

    async def scenario(pool):  # type: ignore[no-untyped-def]
        stale = await pool.run(spec, lambda: started.append("stale"))

        async def beat() -> None:
            while True:
                heartbeat.beat(time.monotonic())
                await asyncio.sleep(0.05)

        heartbeat.beat(time.monotonic())
        beating = asyncio.create_task(beat())
        try:
            fresh = await pool.run(lab.spec("fn"), lambda: started.append("fresh"))
        finally:
            beating.cancel()
        return stale, fresh

    try:
        stale, fresh = lab.run(scenario, heartbeat=heartbeat)
    finally:
        heartbeat.close()
    assert stale.stop_reason is StopReason.SHUTDOWN and stale.started_at is None
    assert fresh.status is OutcomeStatus.SUCCESS
    assert started == ["fresh"]
