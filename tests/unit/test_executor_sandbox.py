"""The bubblewrap sandbox around job processes, on a real local executor.

Each job here runs real code in a real sandbox; what it may see and do is read back from its
result. (The runaway jobs of ``test_executor_runaway`` run sandboxed too; the whole server
with hostile jobs is ``tests/server/test_sandbox.py``.)
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from batch_compute_mock.builder.sandbox import (
    NOBODY,
    SandboxMode,
    SandboxPolicy,
    SandboxUnavailable,
    probe,
)
from support.executor_lab import ExecutorLab


@pytest.fixture(scope="module")
def policy() -> SandboxPolicy:
    status = probe(SandboxMode.BWRAP)  # raises, failing the tests, where bwrap cannot work
    assert status.policy is not None
    return status.policy


@pytest.fixture
def lab(tmp_path: Path) -> ExecutorLab:
    return ExecutorLab(tmp_path)


def run_one(lab: ExecutorLab, source: str, policy: SandboxPolicy, *args, **spec) -> dict:
    bundle = lab.bundle(source)
    job = lab.spec(bundle, *args, **spec)

    async def scenario(pool):
        return await pool.run(job)

    outcome = lab.run(scenario, sandbox=policy, base_env={**os.environ, "HOST_ONLY": "x"})
    assert outcome.succeeded, (outcome.error_reason, lab.log(job))
    return json.loads(lab.result(job))


PROBE_JOB = """
import json, os, sys, tempfile

def attempt(action):
    try:
        return repr(action())
    except Exception as error:
        return type(error).__name__

def main(host_paths):
    here = os.path.dirname(os.path.abspath(__file__))
    with open("note.txt", "w") as note:  # the working directory is writable
        note.write("mine")
    with open(os.path.join(tempfile.gettempdir(), "t"), "w") as temp:
        temp.write("mine")
    with open("/tmp/private", "w") as temp:
        temp.write("mine")
    return {
        "uid": os.getuid(),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "environment": dict(os.environ),
        "data": open(os.path.join(here, "data", "d.txt")).read(),
        "host": {path: attempt(lambda path=path: os.listdir(path)) for path in host_paths},
        "up": attempt(lambda: os.listdir(os.path.join(os.getcwd(), "..", "..", "..", ".."))),
        "writes": {
            path: attempt(lambda path=path: open(path, "w").close())
            for path in [os.path.join(here, "x.py"), "/usr/x", "/etc/x", "/x",
                         os.path.join(os.getcwd(), "..", "..", "x")]
        },
        "etc_shadow": attempt(lambda: open("/etc/shadow").read()),
        "pid1_environ": attempt(lambda: open("/proc/1/environ").read()),
        "kill_parent": attempt(lambda: os.kill(os.getppid(), 9)),
        "kill_host_process": attempt(lambda: os.kill(host_pid(), 9)),
    }

def host_pid():
    return int(os.environ["TEST_PROCESS"])
"""


def test_a_sandboxed_job_sees_its_bundle_environment_and_scratch_and_nothing_else(
    lab: ExecutorLab, policy: SandboxPolicy
) -> None:
    bundle = lab.bundle(PROBE_JOB)
    lab.blobs.write_bytes("unrelated/secret.txt", b"another owner's bytes")
    _add_data_file(lab, bundle)
    job = lab.spec(
        bundle,
        [str(lab.root), str(lab.root / "blobs"), "/root", str(Path.cwd())],
        environment={"MINE": "1", "TEST_PROCESS": str(os.getpid())},
    )

    async def scenario(pool):
        return await pool.run(job)

    outcome = lab.run(scenario, sandbox=policy, base_env={**os.environ, "HOST_ONLY": "x"})
    assert outcome.succeeded, (outcome.error_reason, lab.log(job))
    seen = json.loads(lab.result(job))

    assert seen["uid"] == (NOBODY if os.geteuid() == 0 else os.getuid())
    assert seen["pids"] == [1, 2]  # bwrap's init and the job: no process of the host
    environment = seen["environment"]
    assert environment["MINE"] == "1" and environment["BATCH_COMPUTE_JOB_ID"] == job.job_id
    assert "HOST_ONLY" not in environment and environment["PATH"] == "/usr/local/bin:/usr/bin:/bin"
    assert seen["data"] == "bundled data"
    assert seen["host"][str(lab.root / "blobs")] == "FileNotFoundError"
    project = seen["host"][str(Path.cwd())]  # only what the interpreter imports from, if any
    assert "tests" not in project and "mockserver" not in project and ".git" not in project
    assert seen["host"]["/root"] in ("FileNotFoundError", repr([".pyenv"]))  # pyenv's Python
    assert "scratch" in seen["up"] and "blobs" not in seen["up"]  # walking up finds nothing
    assert all(result != "None" for result in seen["writes"].values()), seen["writes"]
    assert seen["etc_shadow"] in ("FileNotFoundError", "PermissionError")
    assert seen["pid1_environ"] == "PermissionError"
    if os.geteuid() == 0:  # as nobody: bwrap, pid 1 of the job's namespace, is root's
        assert seen["kill_parent"] == "PermissionError"
    assert seen["kill_host_process"] == "ProcessLookupError"


def test_the_job_runs_again_warm_and_its_files_do_not_reach_the_next_job(
    lab: ExecutorLab, policy: SandboxPolicy
) -> None:
    bundle = lab.bundle(
        """
        import os
        def main():
            found = sorted(os.listdir(os.environ["HOME"]))
            open(os.path.join(os.environ["HOME"], "left-behind"), "w").close()
            return [os.getpid(), found]
        """
    )
    first, second = lab.spec(bundle), lab.spec(bundle)

    async def scenario(pool):
        return await pool.run(first), await pool.run(second)

    one, two = lab.run(scenario, sandbox=policy)
    home_one = json.loads(lab.result(first))[1]
    home_two = json.loads(lab.result(second))[1]
    assert one.worker_pid == two.worker_pid  # the same warm sandboxed process ran both
    assert home_one == [first.job_id]
    assert home_two == [second.job_id, "left-behind"]  # the same function's own HOME
    assert lab.leftover_work_dirs(first) == []


def test_with_the_network_off_a_job_reaches_only_its_own_loopback(
    lab: ExecutorLab, policy: SandboxPolicy
) -> None:
    with _listener() as port:
        source = """
            import socket
            def main(port):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=5).close()
                    return "connected"
                except OSError as error:
                    return type(error).__name__
            """
        on = run_one(lab, source, policy, port)
        off = run_one(lab, source, SandboxPolicy(**{**policy.to_json(), "network": False}), port)
    assert on == "connected"
    assert off == "ConnectionRefusedError"


def test_sandbox_modes() -> None:
    assert probe(SandboxMode.OFF).policy is None
    auto = probe(SandboxMode.AUTO)
    assert auto.active and "bubblewrap" in auto.detail
    assert probe(SandboxMode.AUTO, network=False).policy.network is False


def test_auto_says_why_it_cannot_sandbox_and_bwrap_refuses_to_start(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    auto = probe(SandboxMode.AUTO)
    assert not auto.active
    assert "bubblewrap is not installed" in auto.detail
    assert auto.describe() == {"mode": "auto", "active": False, "detail": auto.detail}
    with pytest.raises(SandboxUnavailable, match="--sandbox bwrap: bubblewrap is not installed"):
        probe(SandboxMode.BWRAP)


def _add_data_file(lab: ExecutorLab, function_id: str) -> None:
    import io
    import zipfile

    from batch_compute_mock.blobs.keys import bundle_key

    original = lab.blobs.read_bytes(bundle_key(function_id))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            out.writestr(info, source.read(info))
        out.writestr("data/d.txt", "bundled data")
    lab.blobs.write_bytes(bundle_key(function_id), buffer.getvalue())


class _listener:
    """A TCP listener on the host's loopback that accepts and closes connections."""

    def __enter__(self) -> int:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            connection.close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()
