"""LocalExecutor with real worker processes: results, logs, environment, stops, warm reuse."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batch_compute_mock.executors import JobOutcome, OutcomeStatus, StopReason
from support.executor_lab import ExecutorLab
from support.processes import alive

STORED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
LOG_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def lab(tmp_path: Path) -> ExecutorLab:
    return ExecutorLab(tmp_path)


def wait_until(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


async def until(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        await asyncio.sleep(0.01)


WAIT_FOR_FLAG = """
    import os, time
    def main(flag, pid_file=None):
        if pid_file:  # written whole, then renamed: a reader never sees it empty
            with open(pid_file + ".tmp", "w") as handle:
                handle.write(str(os.getpid()))
            os.replace(pid_file + ".tmp", pid_file)
        print("waiting", flush=True)
        while not os.path.exists(flag):
            time.sleep(0.01)
        return "released"
"""


# Results ----------------------------------------------------------------------------------
def test_json_result_and_outcome_fields(lab):
    bundle = lab.bundle("def add(a, b=1):\n    return {'sum': a + b}\n\n\nmain = add\n")
    spec = lab.spec(bundle, 2, kwargs={"b": 5})
    outcome: JobOutcome = lab.run(lambda pool: pool.run(spec))
    assert outcome.status is OutcomeStatus.SUCCESS and outcome.succeeded
    assert outcome.exit_code == 0 and outcome.error_reason is None
    assert outcome.result_written and json.loads(lab.result(spec)) == {"sum": 7}
    assert outcome.result_attributes == {
        "description": None,
        "expires": None,
        "extra_properties": {},
        "geometry": None,
        "tags": [],
    }
    assert STORED.match(outcome.started_at) and STORED.match(outcome.ended_at)
    assert outcome.started_at <= outcome.ended_at
    assert outcome.start_time <= outcome.end_time and outcome.runtime == 0
    assert set(outcome.statistics) == {"cpu", "memory", "network"}
    assert outcome.statistics["memory"]["peak_bytes"] > 1 << 20
    assert isinstance(outcome.statistics["cpu"]["time"], int)
    assert outcome.stop_reason is None and not outcome.log_truncated
    assert lab.leftover_work_dirs(spec) == []  # scratch is removed


def test_bytes_serialize_and_none_results(lab):
    raw = lab.bundle("def main():\n    return b'\\x00\\xffraw'\n", "raw")
    custom = lab.bundle(
        """
        class Blob:
            def serialize(self):
                return b"serialized!"
        def main():
            return Blob()
        """,
        "custom",
    )
    nothing = lab.bundle("def main():\n    print('side effect only')\n", "nothing")
    specs = [lab.spec(raw), lab.spec(custom), lab.spec(nothing)]

    async def scenario(pool):
        return [await pool.run(spec) for spec in specs]

    raw_out, custom_out, none_out = lab.run(scenario)
    assert lab.result(specs[0]) == b"\x00\xffraw"
    assert lab.result(specs[1]) == b"serialized!"
    assert raw_out.succeeded and custom_out.succeeded and none_out.succeeded
    assert not none_out.result_written and none_out.result_attributes is None
    assert not lab.has_result(specs[2])


def test_compute_result_shaped_class_with_attributes(lab):
    bundle = lab.bundle(
        """
        import datetime

        class ComputeResult:
            def __init__(self, value, description=None, expires=None, extra_properties=None,
                         geometry=None, tags=None):
                self.value = value
                self.description = description
                self.expires = expires
                self.extra_properties = extra_properties
                self.geometry = geometry
                self.tags = tags

        def main(kind):
            if kind == "full":
                return ComputeResult(
                    [1, 2, 3],
                    description="three numbers",
                    expires=datetime.datetime(2031, 5, 1, 12, tzinfo=datetime.timezone.utc),
                    extra_properties={"count": 3, "unit": "n"},
                    geometry="POLYGON ((0 0, 1 0, 1 1, 0 0))",
                    tags=["numbers", "demo"],
                )
            if kind == "null-with-tags":
                return ComputeResult(None, tags=["empty"])
            if kind == "bad":
                return ComputeResult(1, extra_properties={str(i): i for i in range(51)})
            return ComputeResult(None)
        """
    )
    specs = {kind: lab.spec(bundle, kind) for kind in ("full", "null-with-tags", "bad", "none")}

    async def scenario(pool):
        return {kind: await pool.run(spec) for kind, spec in specs.items()}

    outcomes = lab.run(scenario)
    full = outcomes["full"]
    assert full.succeeded and json.loads(lab.result(specs["full"])) == [1, 2, 3]
    assert full.result_attributes == {
        "description": "three numbers",
        "expires": "2031-05-01T12:00:00.000000+00:00",
        "extra_properties": {"count": 3, "unit": "n"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
        },
        "tags": ["numbers", "demo"],
    }
    assert lab.result(specs["null-with-tags"]) == b"null"
    assert outcomes["null-with-tags"].result_attributes["tags"] == ["empty"]
    bad = outcomes["bad"]
    assert bad.status is OutcomeStatus.FAILURE and bad.exit_code == 1
    assert bad.error_reason == "Invalid result extra_properties: 51 keys, at most 50 allowed"
    assert not lab.has_result(specs["bad"])
    assert outcomes["none"].succeeded and not outcomes["none"].result_written


def test_unserialisable_result_fails_with_message(lab):
    bundle = lab.bundle("def main():\n    return {'a': {1, 2}}\n")
    spec = lab.spec(bundle)
    outcome = lab.run(lambda pool: pool.run(spec))
    assert outcome.status is OutcomeStatus.FAILURE and outcome.exit_code == 1
    assert outcome.error_reason.startswith("Result is not JSON serializable: TypeError: ")
    assert "set" in outcome.error_reason
    assert not lab.has_result(spec)
    assert any("Result is not JSON serializable" in line for line in lab.log(spec))


def test_exception_fails_with_summary_and_traceback_in_log(lab):
    bundle = lab.bundle(
        """
        def helper(x):
            raise ValueError(f"bad input: {x}")

        def main(x):
            helper(x)
        """
    )
    spec = lab.spec(bundle, 7)
    outcome = lab.run(lambda pool: pool.run(spec))
    assert outcome.status is OutcomeStatus.FAILURE
    assert outcome.exit_code == 1
    assert outcome.error_reason == "ValueError: bad input: 7"
    lines = lab.log(spec)
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: bad input: 7"
    assert not any("batch_compute_runtime" in line for line in lines)  # our frame is hidden


def test_import_errors_and_sys_exit(lab):
    broken = lab.bundle("def main(:\n    pass\n", "broken")
    no_main = lab.bundle("x = 1\n", "nomain")
    exits = lab.bundle("import sys\ndef main(code):\n    sys.exit(code)\n", "exits")
    specs = [
        lab.spec(broken),
        lab.spec(no_main),
        lab.spec(exits, 4),
        lab.spec(exits, 0),
        lab.spec(exits, "fatal"),
    ]

    async def scenario(pool):
        return [await pool.run(spec) for spec in specs]

    broken_out, no_main_out, four, zero, text = lab.run(scenario)
    assert broken_out.status is OutcomeStatus.FAILURE
    assert broken_out.error_reason.startswith("SyntaxError: ")
    assert no_main_out.error_reason == (
        "AttributeError: __dlentrypoint__.py does not define a callable 'main'"
    )
    assert (four.status, four.exit_code, four.error_reason) == (
        OutcomeStatus.FAILURE,
        4,
        "Exited with code 4",
    )
    assert zero.succeeded and not zero.result_written
    assert (text.exit_code, text.error_reason) == (1, "SystemExit: fatal")


# Logs -------------------------------------------------------------------------------------
def test_logs_capture_every_kind_of_output(lab):
    bundle = lab.bundle(
        """
        import os, subprocess, sys
        def main():
            print("from print")
            os.write(1, b"from os.write\\n")
            subprocess.run(["echo", "from a subprocess"], check=True)
            print("from stderr", file=sys.stderr)
            os.write(2, b"raw stderr\\r\\n")
            subprocess.run(["sh", "-c", "echo shell stderr >&2"], check=True)
            print()
            sys.stdout.write("partial last line")
            return 1
        """
    )
    spec = lab.spec(bundle)
    outcome = lab.run(lambda pool: pool.run(spec))
    assert outcome.succeeded
    assert lab.log(spec) == [
        "from print",
        "from os.write",
        "from a subprocess",
        "from stderr",
        "raw stderr",
        "shell stderr",
        "",
        "partial last line",
    ]


def test_log_is_written_while_the_job_runs(lab):
    bundle = lab.bundle(WAIT_FOR_FLAG)
    flag = lab.flag("go")
    spec = lab.spec(bundle, str(flag))

    async def scenario(pool):
        task = asyncio.create_task(pool.run(spec))
        await until(
            lambda: lab.log_path(spec).exists() and "waiting" in lab.log_path(spec).read_text()
        )
        assert not task.done()
        flag.touch()
        return await task

    outcome = lab.run(scenario)
    assert outcome.succeeded and lab.log(spec) == ["waiting"]


def test_log_cap_truncates_with_a_marker(lab):
    bundle = lab.bundle(
        """
        def main():
            for i in range(20000):
                print(f"line {i:06d} " + "x" * 80)
            return "finished"
        """
    )
    spec = lab.spec(bundle)
    outcome = lab.run(lambda pool: pool.run(spec), log_cap_bytes=64 * 1024)
    assert outcome.succeeded and outcome.log_truncated
    assert lab.log_path(spec).stat().st_size <= 64 * 1024
    lines = lab.log(spec)
    assert lines[0].startswith("line 000000 ")
    assert lines[-1] == (
        "[log truncated: the job's output exceeded the log limit of 64 KiB; "
        "further output was discarded]"
    )


# Environment ------------------------------------------------------------------------------
def test_environment_merge_secrets_cwd_and_restore(lab):
    bundle = lab.bundle(
        """
        import os, subprocess, tempfile
        def main():
            names = ["SHARED", "JOB_ONLY", "BASE_ONLY", "MY_SECRET", "BATCH_COMPUTE_JWT_SECRET",
                     "DROP_ME", "TMPDIR", "LEAKED"]
            seen = {name: os.environ.get(name) for name in names}
            seen["shell"] = subprocess.run(["sh", "-c", "echo $SHARED"], capture_output=True,
                                           text=True).stdout.strip()
            seen["cwd"] = os.getcwd()
            seen["tempdir"] = tempfile.gettempdir()
            os.environ["LEAKED"] = "yes"
            return seen
        """
    )
    first = lab.spec(bundle, environment={"SHARED": "job", "JOB_ONLY": "1"})
    second = lab.spec(bundle)
    base = {
        "PATH": os.environ["PATH"],
        "SHARED": "base",
        "BASE_ONLY": "b",
        "MY_SECRET": "s",
        "BATCH_COMPUTE_JWT_SECRET": "jwt",
        "DROP_ME": "x",
    }

    async def scenario(pool):
        return await pool.run(first), await pool.run(second)

    one, two = lab.run(
        scenario, base_env=base, drop_env={"DROP_ME"}, job_env=["SHARED", "MY_SECRET"]
    )
    seen = json.loads(lab.result(first))
    work_dir = seen["cwd"]
    assert lab.is_work_dir(work_dir, first)
    assert seen == {
        "SHARED": "job",
        "JOB_ONLY": "1",
        "BASE_ONLY": None,  # jobs inherit only the server variables named in job_env
        "MY_SECRET": "s",  # named on purpose by the operator
        "BATCH_COMPUTE_JWT_SECRET": None,
        "DROP_ME": None,
        "TMPDIR": work_dir,
        "LEAKED": None,
        "shell": "job",
        "cwd": work_dir,
        "tempdir": work_dir,
    }
    again = json.loads(lab.result(second))
    assert one.worker_pid == two.worker_pid  # the same warm process ran both
    assert again["SHARED"] == "base" and again["JOB_ONLY"] is None
    assert lab.is_work_dir(again["TMPDIR"], second) and again["TMPDIR"] == again["cwd"]
    assert again["LEAKED"] is None  # what a job sets in os.environ does not persist


# Stops ------------------------------------------------------------------------------------
def test_timeout_kills_the_job_and_its_subprocesses(lab):
    bundle = lab.bundle(
        """
        import subprocess, time
        def main(pid_file):
            sleeper = subprocess.Popen(["sleep", "300"])
            open(pid_file, "w").write(str(sleeper.pid))
            escapee = subprocess.Popen(["sleep", "300"], start_new_session=True)
            open(pid_file + ".escaped", "w").write(str(escapee.pid))
            time.sleep(300)
        """
    )
    pid_file = lab.flag("grandchild.pid")
    spec = lab.spec(bundle, str(pid_file), timeout_s=1)
    started = time.monotonic()
    outcome = lab.run(lambda pool: pool.run(spec))
    assert time.monotonic() - started < 10
    assert outcome.status is OutcomeStatus.TIMEOUT
    assert outcome.error_reason == "Timed out after 1 s"
    assert outcome.exit_code == 137 and outcome.stop_reason is StopReason.TIMEOUT
    assert 1.0 <= outcome.end_time - outcome.start_time < 5
    assert wait_until(lambda: not alive(int(pid_file.read_text())))
    escaped = Path(str(pid_file) + ".escaped")
    assert wait_until(lambda: not alive(int(escaped.read_text())))  # left its group: killed too
    assert not alive(outcome.worker_pid)


def test_cancel_running_job_then_pool_keeps_working(lab):
    waiting = lab.bundle(WAIT_FOR_FLAG, "waiting")
    quick = lab.bundle("def main():\n    return 'ok'\n", "quick")
    pid_file = lab.flag("job.pid")
    spec = lab.spec(waiting, str(lab.flag("never")), str(pid_file))

    async def scenario(pool):
        task = asyncio.create_task(pool.run(spec))
        await until(pid_file.exists)
        assert pool.stats().busy == 1
        assert pool.cancel(spec.job_id) is True
        canceled = await task
        assert pool.cancel(spec.job_id) is False  # not here any more
        return canceled, await pool.run(lab.spec(quick))

    canceled, after = lab.run(scenario)
    assert canceled.status is OutcomeStatus.CANCELED and canceled.error_reason == "Canceled"
    assert canceled.stop_reason is StopReason.CANCEL and canceled.exit_code == 137
    assert not alive(int(pid_file.read_text()))
    assert after.succeeded


def test_cancel_after_completion_keeps_the_real_outcome(lab):
    bundle = lab.bundle("def main():\n    return 'finished first'\n")
    spec = lab.spec(bundle)

    async def scenario(pool):
        await pool.run(lab.spec(bundle))  # warm up, so the job below takes milliseconds
        task = asyncio.create_task(pool.run(spec))
        await asyncio.sleep(0)  # the task sends the job to the idle worker and awaits it
        assert pool.stats().busy == 1
        time.sleep(0.5)  # block the loop: the job ends, its outcome waits unread on the socket
        assert pool.cancel(spec.job_id) is True  # the pool still thinks it is running
        return await task

    outcome = lab.run(scenario)
    assert outcome.succeeded and outcome.stop_reason is None
    assert lab.result(spec) == b'"finished first"'


def test_cancel_queued_job_never_starts(lab):
    waiting = lab.bundle(WAIT_FOR_FLAG)
    flag = lab.flag("go")
    first = lab.spec(waiting, str(flag))
    queued = lab.spec(waiting, str(flag))

    async def scenario(pool):
        running = asyncio.create_task(pool.run(first))
        await until(lambda: pool.stats().busy == 1)
        waiting_task = asyncio.create_task(pool.run(queued))
        await until(lambda: pool.stats().queued == 1)
        assert pool.cancel(queued.job_id) is True
        never = await waiting_task
        flag.touch()
        return never, await running

    never, done = lab.run(scenario)
    assert never.status is OutcomeStatus.CANCELED and never.started_at is None
    assert never.exit_code is None and never.statistics is None
    assert not lab.log_path(queued).exists()
    assert done.succeeded


def test_cancelling_the_awaiting_task_kills_the_job(lab):
    bundle = lab.bundle(WAIT_FOR_FLAG)
    pid_file = lab.flag("job.pid")
    spec = lab.spec(bundle, str(lab.flag("never")), str(pid_file))

    async def scenario(pool):
        task = asyncio.create_task(pool.run(spec))
        await until(pid_file.exists)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: pool.stats().busy == 0)

    lab.run(scenario)
    assert wait_until(lambda: not alive(int(pid_file.read_text())))


def test_shutdown_kills_running_jobs(lab):
    bundle = lab.bundle(WAIT_FOR_FLAG)
    pid_files = [lab.flag(f"job{i}.pid") for i in range(2)]
    specs = [lab.spec(bundle, str(lab.flag("never")), str(p)) for p in pid_files]

    async def scenario(pool):
        tasks = [asyncio.create_task(pool.run(spec)) for spec in specs]
        await until(lambda: all(p.exists() for p in pid_files))
        await pool.shutdown(grace_s=2)
        assert pool.stats().workers == 0
        late = await pool.run(lab.spec(bundle, "x"))
        return await asyncio.gather(*tasks), late

    outcomes, late = lab.run(scenario, slots=2)
    for outcome in outcomes:
        assert outcome.status is OutcomeStatus.CANCELED
        assert outcome.stop_reason is StopReason.SHUTDOWN
        assert outcome.error_reason == "Canceled: the server is shutting down"
    assert all(not alive(int(p.read_text())) for p in pid_files)
    assert late.status is OutcomeStatus.CANCELED and late.started_at is None


# Warm reuse -------------------------------------------------------------------------------
def test_warm_worker_is_reused_until_stopped(lab):
    counter = lab.bundle(
        """
        import os, time
        calls = 0
        def main(sleep=0):
            global calls
            calls += 1
            time.sleep(sleep)
            return [os.getpid(), calls]
        """,
        "counter",
    )
    other = lab.bundle("import os\ndef main():\n    return os.getpid()\n", "other")

    async def scenario(pool):
        one = await pool.run(lab.spec(counter))
        two = await pool.run(lab.spec(counter))
        timed_out = await pool.run(lab.spec(counter, 30, timeout_s=0.5))
        three = await pool.run(lab.spec(counter))
        different = await pool.run(lab.spec(other))
        return one, two, timed_out, three, different

    one, two, timed_out, three, different = lab.run(scenario)
    assert one.worker_pid == two.worker_pid == timed_out.worker_pid
    assert timed_out.status is OutcomeStatus.TIMEOUT
    assert three.worker_pid != one.worker_pid  # a timed-out process is never reused
    assert different.worker_pid not in (one.worker_pid, three.worker_pid)
    assert one.supervisor_pid == three.supervisor_pid == different.supervisor_pid
    assert not alive(one.worker_pid)


def test_job_leaving_a_process_behind_gets_it_killed(lab):
    bundle = lab.bundle(
        """
        import os, subprocess
        def main(pid_file, escape):
            sleeper = subprocess.Popen(["sleep", "300"], start_new_session=escape)
            open(pid_file, "w").write(str(sleeper.pid))
            return os.getpid()
        """
    )
    pid_file, escaped = lab.flag("left.pid"), lab.flag("escaped.pid")

    async def scenario(pool):
        return await pool.run(lab.spec(bundle, str(pid_file), False)), await pool.run(
            lab.spec(bundle, str(escaped), True)  # even one in a session of its own
        )

    first, second = lab.run(scenario)
    assert first.succeeded and second.succeeded
    assert wait_until(lambda: not alive(int(pid_file.read_text())))
    assert wait_until(lambda: not alive(int(escaped.read_text())))
    assert second.worker_pid != first.worker_pid  # that process was not trusted again


def test_parallel_jobs_use_several_workers(lab):
    bundle = lab.bundle("import os, time\ndef main(i):\n    time.sleep(0.2)\n    return i\n")
    specs = [lab.spec(bundle, i) for i in range(4)]

    async def scenario(pool):
        started = time.monotonic()
        outcomes = await asyncio.gather(*(pool.run(spec) for spec in specs))
        return outcomes, time.monotonic() - started, pool.stats()

    outcomes, _elapsed, stats = lab.run(scenario, slots=2)
    assert all(o.succeeded for o in outcomes)
    assert [json.loads(lab.result(s)) for s in specs] == [0, 1, 2, 3]
    assert len({o.supervisor_pid for o in outcomes}) == 2
    assert stats.workers == 2 and stats.spawned == 2 and stats.idle == 2


def test_worker_death_fails_the_job_and_a_new_worker_takes_over(lab):
    killer = lab.bundle(
        """
        import os, time
        def main():
            print("last words")
            os.kill(os.getppid(), 9)  # the supervisor: the job's process dies with it
            time.sleep(30)
        """,
        "killer",
    )
    quick = lab.bundle("def main():\n    return 1\n", "quick")

    killed = lab.spec(killer)

    async def scenario(pool):
        return await pool.run(killed), await pool.run(lab.spec(quick)), pool.stats()

    lost, after, stats = lab.run(scenario)
    assert lab.log(killed) == ["last words"]  # printed before the supervisor died: kept
    assert lost.status is OutcomeStatus.FAILURE and lost.stop_reason is StopReason.WORKER_LOST
    assert lost.error_reason == "The worker process running the job died unexpectedly"
    assert after.succeeded and after.supervisor_pid != lost.supervisor_pid
    assert stats.spawned == 2 and stats.workers == 1
    assert wait_until(lambda: not alive(lost.supervisor_pid))


def test_unresponsive_worker_is_killed_by_the_backstop(lab):
    freezer = lab.bundle(
        """
        import os, signal, time
        def main():
            os.kill(os.getppid(), signal.SIGSTOP)  # freeze the supervisor
            time.sleep(30)
        """
    )
    spec = lab.spec(freezer, timeout_s=0.5)
    started = time.monotonic()
    outcome = lab.run(lambda pool: pool.run(spec), backstop_s=0.5)
    assert time.monotonic() - started < 10
    assert outcome.status is OutcomeStatus.TIMEOUT and outcome.stop_reason is StopReason.TIMEOUT
    assert outcome.error_reason == "Timed out after 0.5 s (the worker stopped responding)"
    assert wait_until(lambda: not alive(outcome.supervisor_pid))


def test_cancel_sent_right_behind_the_job_is_not_lost(lab):
    bundle = lab.bundle(WAIT_FOR_FLAG)
    spec = lab.spec(bundle, str(lab.flag("never")), timeout_s=30)

    async def scenario(pool):
        await pool.run(lab.spec(bundle, str(lab.root)))  # warm (its flag exists: returns)
        task = asyncio.create_task(pool.run(spec))
        await asyncio.sleep(0)  # the run frame is written; the cancel frame follows at once
        assert pool.cancel(spec.job_id) is True
        return await task

    started = time.monotonic()
    outcome = lab.run(scenario)
    assert outcome.status is OutcomeStatus.CANCELED and time.monotonic() - started < 10


ORPHAN_SCRIPT = """
import asyncio, os, pathlib, signal, sys, time
from batch_compute_mock.blobs import LocalBlobStore
from batch_compute_mock.blobs.keys import bundle_key, job_log_key, result_key
from batch_compute_mock.executors import JobSpec
from batch_compute_mock.executors.local.pool import LocalExecutor

async def main(root):
    root = pathlib.Path(root)
    pool = LocalExecutor(
        slots=1, blobs=LocalBlobStore(root / "blobs"), scratch_dir=root / "scratch",
        cache_dir=root / "cache",
    )
    spec = JobSpec(
        job_id="j", function_id="bundle", bundle_key=bundle_key("bundle"),
        log_key=job_log_key("j"), result_key=result_key("j"), args=[str(root / "pid")],
    )
    task = asyncio.create_task(pool.run(spec))
    while not (root / "pid").exists():
        await asyncio.sleep(0.01)
    time.sleep(1.0)  # the job ends and its outcome arrives, unread: the loop is blocked
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1]))
"""


def test_a_worker_whose_server_died_exits_quietly(lab, tmp_path):
    lab.bundle(
        """
        import os, time
        def main(pid_file):
            with open(pid_file + ".tmp", "w") as handle:
                handle.write(str(os.getppid()))  # the supervisor
            os.replace(pid_file + ".tmp", pid_file)
            time.sleep(0.3)  # the server is blocked by now: the outcome stays unread
            return 1
        """,
        "bundle",
    )
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as sink:
        server = subprocess.run(
            [sys.executable, "-c", ORPHAN_SCRIPT, str(lab.root)],
            stderr=sink,
            timeout=60,
            check=False,
        )
    assert server.returncode == -9
    supervisor = int((lab.root / "pid").read_text())
    assert wait_until(lambda: not alive(supervisor))
    assert stderr.read_text() == ""
