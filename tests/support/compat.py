"""Run scenario scripts with a GENUINE client (descarteslabs / earthone) against a live server.

The genuine clients read their settings once per process from environment variables, keep a
token cache under ``~``, and must never see our test runner's packages, so every scenario runs
in a fresh interpreter of the client's own venv with a minimal environment: PATH, a private
HOME (no ``~/.descarteslabs`` / ``~/.earthone`` token cache from the machine), the client's URL
and token variables and nothing that could switch it to OAuth (no CLIENT_ID / CLIENT_SECRET).

A scenario prints one JSON object of observations as its last stdout line; the pytest side
asserts on it. The scenarios' own helpers (``tests/compat/scenarios/_harness.py``) are on the
scenario's ``PYTHONPATH``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "FLAVORS",
    "SCENARIOS_DIR",
    "CompatClient",
    "CompatError",
    "Flavor",
    "compat_venv_python",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = REPO_ROOT / "tests" / "compat" / "scenarios"
_COMPAT_VENV_SCRIPT = REPO_ROOT / "scripts" / "compat-venv"
_counter = itertools.count(1)


@attrs.frozen
class Flavor:
    """One genuine client: its ``scripts/compat-venv`` name and environment variable prefix."""

    name: str
    env_prefix: str

    def variable(self, suffix: str) -> str:
        return f"{self.env_prefix}_{suffix}"


FLAVORS: Mapping[str, Flavor] = {
    "descarteslabs": Flavor("descarteslabs", "DESCARTESLABS"),
    "earthone": Flavor("earthone", "EARTHONE"),
}


class CompatError(AssertionError):
    """A scenario exited non-zero, timed out or printed no observations (output included)."""


def compat_venv_python(flavor: str, timeout: float = 900.0) -> Path:
    """Build (once, cached) the flavor's venv with ``scripts/compat-venv``; return its python.

    Raises ``subprocess.CalledProcessError`` (with pip's output in ``stderr``) on failure.
    """
    completed = subprocess.run(
        [str(_COMPAT_VENV_SCRIPT), flavor],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return Path(completed.stdout.strip().splitlines()[-1])


@attrs.frozen
class CompatClient:
    """How to run scenarios: which venv python, which server URLs, as which user.

    ``token`` is the default bearer token; ``with_token`` makes a copy for another user.
    """

    python: Path
    compute_url: str
    catalog_url: str
    home: Path
    flavor: Flavor = FLAVORS["descarteslabs"]
    token: str | None = None
    timeout: float = 180.0

    def with_token(self, token: str | None) -> CompatClient:
        return attrs.evolve(self, token=token)

    def env(self, env_overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """The scenario's whole environment; an override of ``None`` removes a variable."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "PYTHONPATH": str(SCENARIOS_DIR),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "BATCH_COMPUTE_COMPAT_FLAVOR": self.flavor.name,
            self.flavor.variable("COMPUTE_URL"): self.compute_url,
            self.flavor.variable("CATALOG_V2_URL"): self.catalog_url,
        }
        if self.token is not None:
            env[self.flavor.variable("TOKEN")] = self.token
        for key, value in (env_overrides or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(
        self,
        script: Path | str,
        env_overrides: Mapping[str, str | None] | None = None,
        *,
        args: Sequence[str] = (),
        timeout: float | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run a scenario file or source text.

        A ``Path`` is a file; a one-line ``str`` ending in ``.py`` names a file (relative names
        are looked up in the scenarios directory); any other ``str`` is the script's source.

        With ``check`` (the default) a non-zero exit raises ``CompatError`` carrying the whole
        stdout and stderr; a timeout always does.
        """
        path = self._script_path(script)
        command = [str(self.python), str(path), *args]
        limit = self.timeout if timeout is None else timeout
        try:
            completed = subprocess.run(
                command,
                cwd=self.home,
                env=self.env(env_overrides),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise CompatError(
                _describe(f"{path.name} timed out after {limit:g} s", error.stdout, error.stderr)
            ) from None
        if check and completed.returncode != 0:
            raise CompatError(
                _describe(
                    f"{path.name} exited with code {completed.returncode}",
                    completed.stdout,
                    completed.stderr,
                )
            )
        return completed

    def observe(
        self,
        script: Path | str,
        env_overrides: Mapping[str, str | None] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Run a scenario and return the JSON object on its last non-empty stdout line."""
        completed = self.run(script, env_overrides, **kwargs)
        lines = [line for line in completed.stdout.splitlines() if line.strip()]
        try:
            observations = json.loads(lines[-1])
        except (IndexError, ValueError):
            observations = None
        if not isinstance(observations, dict):
            raise CompatError(
                _describe(
                    "the scenario printed no JSON observations as its last line",
                    completed.stdout,
                    completed.stderr,
                )
            )
        return observations

    def _script_path(self, script: Path | str) -> Path:
        if isinstance(script, Path):
            return script
        if "\n" not in script and script.endswith(".py"):
            candidate = Path(script)
            return candidate if candidate.is_absolute() else SCENARIOS_DIR / candidate
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / f"inline_scenario_{os.getpid()}_{next(_counter)}.py"
        path.write_text(script)
        return path


def _describe(headline: str, stdout: str | bytes | None, stderr: str | bytes | None) -> str:
    def text(stream: str | bytes | None) -> str:
        if isinstance(stream, bytes):
            return stream.decode(errors="replace")
        return stream or ""

    return f"{headline}\n--- stdout ---\n{text(stdout)}\n--- stderr ---\n{text(stderr)}"
