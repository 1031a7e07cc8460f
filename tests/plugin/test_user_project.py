"""The pytest plugin as a user meets it: a project of theirs that depends on us, its own
tests using our fixtures with our SDK and with the genuine descarteslabs client, run by pytest
in a subprocess (also under pytest-xdist, and against a server started beforehand)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]

USER_TESTS = """
import time

from batch_compute import Function, Job

def double(x):
    return 2 * x

def test_our_sdk_runs_a_map(compute_client):
    function = Function(double, name="double", image="python3.11:latest", cpus=0.25, memory=512)
    function.save()
    function.wait_for_completion(interval=0.1)  # built
    jobs = function.map([[n] for n in range(5)])
    function.wait_for_completion(interval=0.1)
    assert sorted(job.result() for job in jobs) == [0, 2, 4, 6, 8]

def test_each_test_is_a_user_of_its_own(compute_client):
    assert list(Function.list()) == []  # the map of the other test is not here

def test_the_genuine_client_just_works(descarteslabs_env):
    from descarteslabs.compute import Function as GenuineFunction

    def triple(x):
        return 3 * x

    function = GenuineFunction(
        triple, name="triple", image="python3.11:latest", cpus=1, memory=2048
    )
    job = function(14)
    job.wait_for_completion(timeout=120, interval=0.1)
    assert job.result() == 42
    assert descarteslabs_env.sub

def test_faults_make_the_genuine_clients_retries_visible(compute_server, descarteslabs_env):
    from descarteslabs.compute import Function as GenuineFunction, Job as GenuineJob

    def one():
        return 1

    function = GenuineFunction(one, name="one", image="python3.11:latest", cpus=1, memory=2048)
    job = function()
    job.wait_for_completion(timeout=120, interval=0.1)
    compute_server.add_fault(operation="get_job", status=503, count=2)
    again = GenuineJob.get(job.id)  # the client retries a 503: the third try gets through
    assert again.status == "success"
    assert compute_server.faults() == []  # both 503s were used up by the client's retries

def test_the_journal_and_a_failing_attempt(compute_server, compute_client):
    function = Function(double, name="flaky", image="python3.11:latest", cpus=0.25, memory=512,
                        retry_count=1)
    function.save()
    function.wait_for_completion(interval=0.1)
    compute_server.add_fault(function_id=function.id, action="fail", attempts=[1])
    job = function(4)
    job.wait_for_completion(interval=0.1)
    events = [event["event"] for event in compute_server.journal(job_id=job.id)]
    assert events == ["submitted", "started", "attempt_failed", "retried", "started", "succeeded"]
    assert job.result() == 8
"""


@pytest.fixture(scope="module")
def user_python() -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "compat-venv"), "user-project"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text(USER_TESTS)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "users-app"\nversion = "1"\ndependencies = ["batch-compute[server]"]\n'
    )
    return tmp_path


def _pytest(python: str, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project)},
        check=False,
    )


def test_a_users_project_runs_its_tests_with_the_plugin(user_python: str, project: Path) -> None:
    done = _pytest(user_python, project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_under_xdist_each_worker_has_a_server(user_python: str, project: Path) -> None:
    done = _pytest(user_python, project, "-n", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_the_plugin_can_use_a_server_started_beforehand(
    user_python: str, project: Path, tmp_path: Path
) -> None:
    with LiveServer(tmp_path / "shared") as server:
        done = _pytest(user_python, project, "--batch-compute-url", server.origin)
        assert done.returncode == 0, done.stdout + done.stderr
        log = server.log_tail(2000)
    assert "5 passed" in done.stdout
    bundles = tmp_path / "shared" / "blobs" / "bundles"
    assert len(list(bundles.iterdir())) == 4  # the project's four functions were made here
    assert "Traceback" not in log
