"""The README's CI recipes, run as written: install the project, start the server in the
background, wait until it answers, and run a user's tests (using the plugin) against it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

USER_TEST = """
from batch_compute import Function

def square(x):
    return x * x

def test_against_the_ci_server(compute_server, compute_client):
    assert compute_server.url.startswith("http://127.0.0.1:")
    function = Function(square, image="python3.11:latest", cpus=0.25, memory=512)
    function.save()
    jobs = function.map([[n] for n in range(4)])
    function.wait_for_completion(interval=0.1)
    assert sorted(job.result() for job in jobs) == [0, 1, 4, 9]
"""


def _recipe(name: str) -> Any:
    """The YAML block under ``<!-- ci-recipe: name -->`` in the README."""
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- ci-recipe: {name} -->\s*```yaml\n(.*?)```", text, re.DOTALL)
    assert match, f"the README has no {name} CI recipe"
    return yaml.safe_load(match.group(1))


def _github_steps() -> list[str]:
    steps = _recipe("github")["jobs"]["test"]["steps"]
    return [line for line in steps[-1]["run"].splitlines() if line.strip()]


def _gitlab_steps() -> list[str]:
    return list(_recipe("gitlab")["test"]["script"])


def test_both_recipes_run_the_same_steps() -> None:
    assert _github_steps() == _gitlab_steps()
    assert any("batch-compute[server]" in step for step in _github_steps())


@pytest.mark.slow
def test_the_recipe_runs_as_written(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_ci.py").write_text(USER_TEST)
    env = {
        "PATH": f"{tmp_path / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BATCH_COMPUTE_SOURCE": ROOT.as_uri(),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    script = "set -e\n" + "\n".join(_github_steps()) + "\n"
    try:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        pid_file = project / "bc.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
    log = (project / "bc.log").read_text() if (project / "bc.log").exists() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:] + log[-2000:]
    assert "1 passed" in done.stdout
