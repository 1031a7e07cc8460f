"""A real ``batch_compute_mock serve`` process on a free loopback port, for tests that need sockets.

Genuine clients run in other processes, so they can only reach a server listening on a port.
The server runs in its own process group (so stopping it also stops its worker processes) and
writes its output to ``server.log`` in the data directory, whose tail is shown when it fails to
come up. The first start asks for ``--port 0`` and reads the bound port from ``--port-file``
(as CI would); that port is kept across :meth:`LiveServer.restart`, because clients and
pre-signed URLs hold on to the origin. ``host`` and ``prefix`` put it on another address, and
on another host (``prefix`` runs it there, e.g. ``ip netns exec NAME``: the pid stays the
server's own, since that command execs it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import batch_compute_mock
from batch_compute_mock.service.identity import make_token

__all__ = ["LiveServer", "ServerStartError"]

_HOST = "127.0.0.1"
_LOG_NAME = "server.log"
_PORT_FILE_NAME = "server.port"
_SECRET_VARIABLE = "BATCH_COMPUTE_JWT_SECRET"
_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60


class ServerStartError(RuntimeError):
    """The server did not answer ``/healthz`` in time (the message carries its log tail)."""


class LiveServer:
    """Context manager owning one server subprocess; ``with LiveServer(tmp) as server: ...``."""

    def __init__(
        self,
        data_dir: Path | str,
        extra_args: Sequence[str] = (),
        *,
        startup_timeout: float = 30.0,
        stop_timeout: float = 15.0,
        token_secret: str | None = None,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
        host: str = _HOST,
        prefix: Sequence[str] = (),
    ) -> None:
        """``token_secret``: the server verifies HS256 signatures with it (None: it trusts claims).
        ``env``: the server's environment (default: ours); ``extra_args`` go after ``serve``'s.
        ``database_url``: its database (in its environment; None: the data dir's SQLite).
        ``host``: the address it listens on; ``prefix``: what its command line starts with.
        """
        self.data_dir = Path(data_dir)
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.token_secret = token_secret
        self._env = env
        self.database_url = database_url
        self.host = host
        self.prefix = tuple(prefix)
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- addresses -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return self._port

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def compute_url(self) -> str:
        return f"{self.origin}/compute/v1"

    @property
    def catalog_url(self) -> str:
        return f"{self.origin}/catalog/v2"

    @property
    def log_path(self) -> Path:
        return self.data_dir / _LOG_NAME

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exit_status(self) -> int | None:
        """The server's exit status once it has exited by itself (None while it runs)."""
        return None if self._process is None else _exit_status(self._process.pid)

    @property
    def running(self) -> bool:
        return self._process is not None and _exit_status(self._process.pid) is None

    # -- credentials -----------------------------------------------------------------------------

    def token(self, sub: str, org: str | None = None, **claims: Any) -> str:
        """A bearer JWT for user ``sub`` valid for a day; ``claims`` add or override claims."""
        payload: dict[str, Any] = {"sub": sub, "exp": int(time.time()) + _TOKEN_LIFETIME_SECONDS}
        if org is not None:
            payload["org"] = org
        payload.update(claims)
        return str(make_token(payload, self.token_secret))

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LiveServer:
        """Launch the server and block until ``/healthz`` answers 200."""
        if self.running:
            raise RuntimeError("the server is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / _PORT_FILE_NAME
        self._log = self.log_path.open("ab")
        command = [
            *self.prefix, sys.executable, "-m", "batch_compute_mock", "serve",
            "--host", self.host, "--port", str(self._port or 0), "--port-file", str(port_file),
            "--data-dir", str(self.data_dir), *self.extra_args,
        ]  # fmt: skip
        self._log.write(f"\n=== {' '.join(command)}\n".encode())
        self._log.flush()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self._child_env(),
            start_new_session=True,
        )
        try:
            if self._port is None:
                self._port = self._wait_for_port(port_file)
            self._wait_until_healthy()
        except BaseException:
            self.kill()
            raise
        return self

    def stop(self) -> None:
        """Graceful stop: SIGTERM to the process group, then SIGKILL if it lingers."""
        process = self._process
        if process is None:
            return
        self._signal_group(signal.SIGTERM)
        _wait_exited_unreaped(process.pid, self.stop_timeout)
        # The leader is still unreaped here, so its pid (= the group id) cannot have been reused:
        # this kills whatever it left behind in its group, or the leader itself if it lingers.
        self._signal_group(signal.SIGKILL)
        process.wait()
        self._forget()

    def kill(self) -> None:
        """Abrupt stop (SIGKILL to the whole group), as a crash or power loss would do."""
        process = self._process
        if process is None:
            return
        self._signal_group(signal.SIGKILL)
        process.wait()
        self._forget()

    def restart(self, *, graceful: bool = True) -> LiveServer:
        """Stop (or kill) and start again on the same port and data directory."""
        if graceful:
            self.stop()
        else:
            self.kill()
        return self.start()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.origin if self._port is not None else "not started"
        state = "running" if self.running else "stopped"
        return f"<LiveServer {where} {state} data_dir={self.data_dir}>"

    # -- internals -------------------------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        """The caller's environment, with this very ``batch_compute_mock`` first on the path."""
        env = dict(os.environ if self._env is None else self._env)
        # The server verifies signatures iff it has a secret: keep it in step with token().
        env.pop(_SECRET_VARIABLE, None)
        if self.token_secret is not None:
            env[_SECRET_VARIABLE] = self.token_secret
        package_root = str(Path(batch_compute_mock.__file__).resolve().parent.parent)
        paths = [package_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env["PYTHONUNBUFFERED"] = "1"
        if self.database_url is not None:
            env["BATCH_COMPUTE_DATABASE_URL"] = self.database_url
        return env

    def _wait_for_port(self, port_file: Path) -> int:
        """The port the server bound, from ``--port-file`` (written once it answers)."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = _exit_status(self._process.pid)
            if code is not None:
                raise ServerStartError(
                    f"the server exited with code {code} before writing its port; "
                    f"log tail:\n{self.log_tail()}"
                )
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(port_file.read_text())
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"no port in {port_file} within {self.startup_timeout:g} s; "
                    f"log tail:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.origin}/healthz"
        while True:
            code = _exit_status(self._process.pid)
            if code is not None:
                raise ServerStartError(
                    f"the server exited with code {code} before becoming healthy; "
                    f"log tail:\n{self.log_tail()}"
                )
            if _healthy(url):
                return
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{url} did not answer 200 within {self.startup_timeout:g} s; "
                    f"log tail:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _signal_group(self, signum: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    def _forget(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _exit_status(pid: int) -> int | None:
    """The child's exit status if it has exited, else None; never reaps it (WNOWAIT).

    Leaving the zombie in place keeps its pid, which is also its process group id, from being
    reused, so signalling the group stays safe until ``Popen.wait`` reaps it.
    """
    try:
        result = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return -1
    return None if result is None else result.si_status


def _wait_exited_unreaped(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit, without reaping it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _exit_status(pid) is not None:
            return True
        time.sleep(0.02)
    return False


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False
