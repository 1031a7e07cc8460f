"""Testing with a Batch Compute server: start one, mint tokens, drive its test controls.

    from batch_compute import testing

    server = testing.start_server()            # a server of our own, on a free loopback port
    client = server.client()                   # a ComputeClient for a fresh user
    server.add_fault(function_name="f", action="fail", attempts=[1])
    ...
    events = server.journal(job_id=job.id)
    server.stop()

The controls are also plain functions of a server URL (``reset(url)``, ``snapshot(url)``,
``restore(url, data)``, ``add_fault(url, ...)``, ``faults(url)``, ``clear_faults(url)``,
``journal(url)``), for a server started some other way; the server must have its test
controls on (they are, by default, on a server listening on loopback).

Starting a server needs the server installed next to the SDK (``batch-compute[server]``);
everything else here needs only the SDK. The pytest fixtures built on this are in
``batch_compute.pytest_plugin``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ._client import ComputeClient
from ._errors import ConfigurationError, error_for_status

__all__ = [
    "ComputeTestServer",
    "add_fault",
    "clear_faults",
    "faults",
    "journal",
    "make_token",
    "reset",
    "restore",
    "snapshot",
    "start_server",
]

_LOOPBACK = "127.0.0.1"
_SECRET_VARIABLE = "BATCH_COMPUTE_JWT_SECRET"


def make_token(
    sub: str, org: str | None = None, *, secret: str | None = None, days: float = 1.0
) -> str:
    """A bearer token for user ``sub`` that our server and both genuine clients accept.

    It carries ``sub``, ``userid`` (``sha1(sub)``, what earthone reads) and ``exp``; it is
    HS256-signed with ``secret`` (default: ``$BATCH_COMPUTE_JWT_SECRET``), which only a server
    started with that secret checks.
    """
    claims: dict[str, Any] = {
        "sub": sub,
        "userid": hashlib.sha1(sub.encode()).hexdigest(),
        "exp": int(time.time() + days * 86400),
    }
    if org:
        claims["org"] = org
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    key = (secret or os.environ.get(_SECRET_VARIABLE) or "unverified").encode()
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def reset(url: str, owner: str | None = None) -> None:
    """Remove everything from the server, or everything of user ``owner`` (a ``sub``)."""
    _control(url, "POST", "/_mock/reset", json={"owner": owner} if owner else {})


def snapshot(url: str) -> bytes:
    """The server's whole state (functions, bundles, jobs, results, logs) as one file."""
    return _control(url, "POST", "/_mock/snapshot").content


def restore(url: str, data: bytes) -> None:
    """Replace the server's state with a ``snapshot`` (of this server or another)."""
    _control(url, "POST", "/_mock/restore", content=data)


def add_fault(url: str, **fault: Any) -> dict[str, Any]:
    """Inject a fault; returns it with its ``id``. A job fault names a function and an action::

        add_fault(url, function_name="f", action="fail", attempts=[1])
        add_fault(url, function_id=fid, action="exit", code=3, probability=0.5, seed=7)

    (actions: ``fail``, ``timeout``, ``exit``, ``signal``, ``lose_result``, ``pending``); an
    HTTP fault names a contract operation::

        add_fault(url, operation="get_job", status=503, count=2)
    """
    return _control(url, "POST", "/_mock/faults", json=fault).json()  # type: ignore[no-any-return]


def faults(url: str) -> list[dict[str, Any]]:
    """The faults in force."""
    return _control(url, "GET", "/_mock/faults").json()  # type: ignore[no-any-return]


def clear_faults(url: str) -> None:
    _control(url, "DELETE", "/_mock/faults")


def journal(
    url: str, job_id: str | None = None, function_id: str | None = None
) -> list[dict[str, Any]]:
    """What happened to jobs, in order: ``{"time", "job_id", "function_id", "attempt",
    "event"}`` with ``event`` one of submitted, started, attempt_failed, retried, succeeded,
    failed, timed_out, canceled, deleted."""
    params = {k: v for k, v in (("job_id", job_id), ("function_id", function_id)) if v}
    return _control(url, "GET", "/_mock/journal", params=params).json()  # type: ignore[no-any-return]


class ComputeTestServer:
    """A Batch Compute server for tests: one this process started, or one already running.

    Its controls are the module's functions bound to its ``url``.
    """

    def __init__(self, url: str, *, secret: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.secret = secret
        self._process: subprocess.Popen[bytes] | None = None
        self._data_dir: Path | None = None

    @property
    def compute_url(self) -> str:
        return f"{self.url}/compute/v1"

    @property
    def catalog_url(self) -> str:
        return f"{self.url}/catalog/v2"

    def token(self, sub: str | None = None, org: str | None = None) -> str:
        """A token for user ``sub`` (a new user every call without one)."""
        return make_token(sub or f"test-{uuid.uuid4().hex[:12]}", org, secret=self.secret)

    def client(self, token: str | None = None) -> ComputeClient:
        """A ``ComputeClient`` for this server (a new user's unless ``token`` is given)."""
        return ComputeClient(url=self.url, auth=token or self.token())

    def reset(self, owner: str | None = None) -> None:
        reset(self.url, owner)

    def snapshot(self) -> bytes:
        return snapshot(self.url)

    def restore(self, data: bytes) -> None:
        restore(self.url, data)

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        return add_fault(self.url, **fault)

    def faults(self) -> list[dict[str, Any]]:
        return faults(self.url)

    def clear_faults(self) -> None:
        clear_faults(self.url)

    def journal(
        self, job_id: str | None = None, function_id: str | None = None
    ) -> list[dict[str, Any]]:
        return journal(self.url, job_id, function_id)

    @property
    def log(self) -> str:
        """What a server this process started has printed so far."""
        if self._data_dir is None:
            return ""
        path = self._data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop a server this process started (and remove its data); others are left alone."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def __enter__(self) -> ComputeTestServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ComputeTestServer {self.url}>"


def start_server(
    *,
    workers: int = 2,
    secret: str | None = None,
    args: list[str] | None = None,
    timeout: float = 60.0,
) -> ComputeTestServer:
    """Start a server of our own on a free loopback port, with a temporary data dir, and wait
    until it answers; ``stop()`` it afterwards (or use it as a context manager).

    ``args`` are more ``batch-compute serve`` options. Needs ``batch-compute[server]``.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="batch-compute-test-"))
    port_file = data_dir / "server.port"
    command = [
        sys.executable, "-m", "batch_compute_mock", "serve",
        "--host", _LOOPBACK, "--port", "0", "--port-file", str(port_file),
        "--data-dir", str(data_dir / "data"), "--workers", str(workers),
        *(args or []),
    ]  # fmt: skip
    env = dict(os.environ)
    env.pop(_SECRET_VARIABLE, None)
    if secret is not None:
        env[_SECRET_VARIABLE] = secret
    with (data_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = ComputeTestServer("http://placeholder", secret=secret)
    server._process, server._data_dir = process, data_dir
    try:
        port = _wait_for_port(process, port_file, timeout, server)
        server.url = f"http://{_LOOPBACK}:{port}"
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_port(
    process: subprocess.Popen[bytes], port_file: Path, timeout: float, server: ComputeTestServer
) -> int:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log = server.log
            if "batch-compute[server]" in log or "No module named 'batch_compute_mock" in log:
                raise ConfigurationError(
                    "starting a test server needs the server installed next to the SDK: "
                    "pip install 'batch-compute[server]'"
                )
            raise ConfigurationError(f"the test server exited before it was ready:\n{log[-3000:]}")
        if port_file.exists():
            text = port_file.read_text().strip()
            if text:
                return int(text)
        if time.monotonic() > deadline:
            raise ConfigurationError(f"the test server was not ready within {timeout:g} s")
        time.sleep(0.02)


def _control(url: str, method: str, path: str, **request: Any) -> httpx.Response:
    response = httpx.request(method, url.rstrip("/") + path, timeout=300.0, **request)
    if response.status_code == 404 and path.startswith("/_mock"):
        raise ConfigurationError(
            f"{url} has no test controls: start it on loopback, or with serve --test-controls"
        )
    if response.status_code >= 400:
        raise error_for_status(response.status_code, response.content, method, path)
    return response


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
