"""Which interpreter a function's image asks for, and where it is on this machine.

``image: python3.X:tag`` chose the Python version on the hosted service. Here it picks an
installed Python 3.X, found with ``uv python find`` (which looks on ``PATH``, in uv's own
installs and in the active environment); version managers whose ``PATH`` entries are shims
(pyenv) are searched through their real version directories instead, since a shim answers
only for the version selected in the current shell. Nothing is downloaded unless the
operator allows it (``serve --allow-python-downloads``); a version not found is replaced by
the server's own Python, and the caller logs which and why.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Interpreter", "PythonChoice", "choose_python", "image_version", "inspect_python"]

_IMAGE = re.compile(r"^python(3\.[0-9]{1,2}):")
_INSPECT = (
    "import json, platform, sys; print(json.dumps({'version': platform.python_version(), "
    "'platform': sys.platform + '-' + platform.machine(), 'executable': sys.executable}))"
)
#: Interpreters uv may use: 3.8 is the oldest our job runtime supports.
OLDEST = (3, 8)


@dataclass(frozen=True)
class Interpreter:
    """An installed Python: its path, full version (``3.8.18``) and platform (``linux-x86_64``)."""

    path: str
    version: str
    platform: str

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class PythonChoice:
    """The interpreter a build uses; ``note`` says why it is not the one asked for, if not."""

    interpreter: Interpreter
    asked: str | None
    note: str | None = None


def image_version(image: str | None) -> str | None:
    """``"3.8"`` for ``python3.8:latest``; None for anything else."""
    match = _IMAGE.match(image or "")
    return match.group(1) if match else None


def inspect_python(path: str) -> Interpreter:
    """Ask an interpreter its version and platform."""
    done = subprocess.run(
        [path, "-I", "-c", _INSPECT], capture_output=True, text=True, timeout=60, check=True
    )
    facts = json.loads(done.stdout)
    return Interpreter(path, str(facts["version"]), str(facts["platform"]))


def server_python() -> Interpreter:
    """The interpreter the server was installed with (outside its virtual environment)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return inspect_python(base)


def choose_python(image: str | None, uv: str, *, allow_downloads: bool = False) -> PythonChoice:
    """The interpreter for ``image``: Python 3.X when installed (or downloadable, if allowed),
    else the server's own with a note saying why."""
    asked = image_version(image)
    if asked is None:
        server = server_python()
        return PythonChoice(server, None, f"the image {image!r} names no Python version")
    if tuple(int(part) for part in asked.split(".")) < OLDEST:
        server = server_python()
        return PythonChoice(
            server, asked, f"Python {asked} is older than 3.8, which jobs need at least"
        )
    found = _uv_find(uv, asked, allow_downloads)
    if found is not None:
        return PythonChoice(inspect_python(found), asked)
    server = server_python()
    how = (
        "uv could neither find nor download it"
        if allow_downloads
        else "start the server with --allow-python-downloads to let uv download it"
    )
    return PythonChoice(server, asked, f"Python {asked} is not installed on this machine ({how})")


def _uv_find(uv: str, version: str, allow_downloads: bool) -> str | None:
    """The path of an installed Python ``version``, downloading it first if allowed."""
    env = {**os.environ, "PATH": search_path(os.environ.get("PATH", ""))}
    env.pop("VIRTUAL_ENV", None)  # the server's own venv must not answer for the image
    if allow_downloads:
        subprocess.run(
            [uv, "python", "install", version],
            capture_output=True,
            env=env,
            timeout=600,
            check=False,
            cwd="/",
        )
    done = subprocess.run(
        [uv, "python", "find", "--no-project", "--no-python-downloads", version],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd="/",
    )
    path = done.stdout.strip()
    return path if done.returncode == 0 and path else None


def search_path(path: str) -> str:
    """``path`` without version-manager shims or virtual environments, and with pyenv's
    real version directories added."""
    kept = [
        entry
        for entry in path.split(os.pathsep)
        if entry
        and "shims" not in Path(entry).parts
        and not (Path(entry).parent / "pyvenv.cfg").exists()  # a virtual environment's bin
    ]
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    for root in dict.fromkeys(r for r in roots if r):
        versions = Path(root) / "versions"
        if versions.is_dir():
            kept += sorted(str(v / "bin") for v in versions.iterdir() if (v / "bin").is_dir())
    return os.pathsep.join(dict.fromkeys(kept))
