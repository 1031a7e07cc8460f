"""``scripts/_venv.sh``: a venv that already has the extras a script needs is not reinstalled.

The scripts run from a copy of the project in a temporary directory, against a venv whose
``pip install`` only records what it was asked to install (the question here is when the
scripts decide to install, not whether pip works); everything else the venv's ``python`` is
asked to do, the real interpreter does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PYTHON_STUB = """#!/bin/sh
if [ "$1 $2 $3" = "-m pip install" ]; then
    echo "$*" >> "{log}"
    exit 0
fi
exec "{python}" "$@"
"""


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    for name in ("_venv.sh", "serve", "contract-test"):
        shutil.copy2(ROOT / "scripts" / name, root / "scripts" / name)
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    _write_executable(
        bin_dir / "python", PYTHON_STUB.format(log=tmp_path / "pip.log", python=sys.executable)
    )
    _write_executable(bin_dir / "batch-compute", '#!/bin/sh\necho "batch-compute $*"\n')
    return root


class Scripts:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root.parent / "venv"
        self.log = root.parent / "pip.log"
        self.env = {**os.environ, "BATCH_COMPUTE_VENV": str(self.venv)}

    def run(self, *command: str) -> str:
        done = subprocess.run(
            command, cwd=self.root, env=self.env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def serve(self) -> str:
        return self.run("scripts/serve", "--port", "0")

    def contract_test(self) -> str:
        return self.run("scripts/contract-test", "http://127.0.0.1:9", "TOKEN")

    def ensure(self, extras: str) -> None:
        """What scripts/test does first (``ensure_venv test``), without running the suite."""
        self.run("bash", "-c", 'source scripts/_venv.sh && ensure_venv "$1"', "-", extras)

    def installs(self) -> list[str]:
        if not self.log.exists():
            return []
        return [line.rsplit(" ", 1)[-1] for line in self.log.read_text().splitlines()]


def test_alternating_serve_test_and_contract_test_installs_once_per_extra(project: Path) -> None:
    scripts = Scripts(project)
    assert scripts.serve().strip() == "batch-compute serve --port 0"
    assert scripts.installs() == [f"{project}[server]"]

    scripts.ensure("test")  # test includes server: both are kept
    assert scripts.installs()[1:] == [f"{project}[server,test]"]

    for _ in range(2):
        scripts.serve()
        assert scripts.contract_test().startswith(
            "batch-compute conformance http://127.0.0.1:9 --token TOKEN --other-token "
        )
        scripts.ensure("test")
        scripts.ensure("server")
        scripts.ensure("")
    assert len(scripts.installs()) == 2

    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# changed\n")
    scripts.serve()
    assert scripts.installs()[2:] == [f"{project}[server]"]
    scripts.serve()
    assert len(scripts.installs()) == 3


def test_a_venv_with_the_test_extra_has_the_server_extra_too(project: Path) -> None:
    scripts = Scripts(project)
    scripts.ensure("test")
    assert scripts.installs() == [f"{project}[test]"]
    scripts.serve()  # test includes server, per pyproject.toml
    scripts.ensure("")
    assert scripts.installs() == [f"{project}[test]"]
