"""``pip install batch-compute`` is the SDK alone; the server is the ``[server]`` extra.

A fresh venv gets the project without extras (built from a copy of the sources, as a wheel,
with its dependencies from the package index). In it, ``import batch_compute`` works and never
imports the server, the server's dependencies are absent, the SDK runs a job on a live server,
and ``batch-compute serve`` says in one line which extra to install.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ["batch_compute_mock", "connexion", "uvicorn", "sqlalchemy", "starlette", "yaml"]


def _copy_sources(target: Path) -> None:
    """What a wheel is built from, without build leftovers of the working tree."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("pyproject.toml", "README.md", "openapi.yaml"):
        shutil.copy2(ROOT / name, target / name)
    for name in ("mockserver", "sdk", "runtime"):
        shutil.copytree(ROOT / name, target / name, symlinks=True, ignore=ignore)


@pytest.fixture(scope="module")
def sdk_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("sdk-alone")
    source = base / "src"
    source.mkdir()
    _copy_sources(source)
    environment = base / "venv"
    venv.create(environment, with_pip=True)
    install = subprocess.run(
        [environment / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
         "--quiet", str(source)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    yield environment


def _python(environment: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(environment / "bin" / "python"), "-I", "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_sdk_imports_without_the_server(sdk_venv: Path) -> None:
    probe = """
import importlib.util, json, sys
import batch_compute
print(json.dumps({
    "loaded": sorted({name.partition(".")[0] for name in sys.modules}),
    "installed": {name: importlib.util.find_spec(name) is not None for name in sys.argv[1:]},
    "exports": len(batch_compute.__all__),
}))
"""
    run = _python(sdk_venv, probe, *SERVER_ONLY)
    assert run.returncode == 0, run.stderr
    observed = json.loads(run.stdout)
    assert observed["exports"] > 20
    assert [name for name in SERVER_ONLY if name in observed["loaded"]] == []
    # The base install brings none of the server's dependencies (its own code is there).
    assert observed["installed"] == {name: name == "batch_compute_mock" for name in SERVER_ONLY}


def test_the_installed_package_carries_the_docs_page_and_the_job_stand_ins(
    sdk_venv: Path,
) -> None:
    where = _python(
        sdk_venv,
        "import importlib.util; print(importlib.util.find_spec('batch_compute_mock').origin)",
    )
    package = Path(where.stdout.strip()).parent
    for name in ("index.j2", "swagger-ui-bundle.js", "swagger-ui.css", "package.json", "LICENSE"):
        assert (package / "swagger_ui" / name).is_file(), name
    runtime = _python(
        sdk_venv,
        "import importlib.util; print(importlib.util.find_spec('batch_compute_runtime').origin)",
    )
    shims = Path(runtime.stdout.strip()).parent / "client_shims"
    for name in ("_batch_compute_results.py", "descarteslabs/compute/__init__.py",
                 "earthdaily/earthone/compute/__init__.py"):  # fmt: skip
        assert (shims / name).is_file(), name


def test_serve_without_the_extra_says_what_to_install(sdk_venv: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [str(sdk_venv / "bin" / "batch-compute"), "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert "pip install 'batch-compute[server]'" in lines[0]
    token = subprocess.run(
        [str(sdk_venv / "bin" / "batch-compute"), "token", "--sub", "alice"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert token.returncode == 0 and token.stdout.count(".") == 2, token.stderr


SDK_SESSION = """
import sys
from batch_compute import ComputeClient, Function

def add(a, b):
    return a + b

client = ComputeClient(url=sys.argv[1], auth=sys.argv[2])
fn = Function(add, image="python3.11:latest", cpus=1, memory=2048, client=client)
fn.save()
job = fn(1, 2)
job.wait_for_completion(timeout=60, interval=0.2)
print(job.result())
"""


def test_the_sdk_alone_runs_a_job_on_a_server(sdk_venv: Path, tmp_path: Path) -> None:
    script = tmp_path / "session.py"  # a file: the SDK bundles the function from its source
    script.write_text(SDK_SESSION)
    with LiveServer(tmp_path / "server") as server:
        run = subprocess.run(
            [str(sdk_venv / "bin" / "python"), "-I", str(script), server.origin,
             server.token("sdk-alone")],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "3"
