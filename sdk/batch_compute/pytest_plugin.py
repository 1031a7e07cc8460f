"""pytest fixtures for code that uses Batch Compute (installed with the package, as ``pytest11``).

- ``compute_server`` (session): a server on a free loopback port with a temporary data dir,
  started once and stopped at the end; or the running server named by
  ``--batch-compute-url URL`` / ``$BATCH_COMPUTE_URL``. A ``ComputeTestServer``: ``url``,
  ``compute_url``, ``catalog_url``, ``token(sub, org=None)``, ``client(token=None)``,
  ``reset()``, ``snapshot()``, ``restore(data)``, ``add_fault(...)``, ``faults()``,
  ``clear_faults()``, ``journal(...)``.
- ``compute_client`` (function): a ``ComputeClient`` for a user of its own, set as the default
  client for the test: tests are isolated without restarting or resetting anything.
- ``descarteslabs_env`` / ``earthone_env`` (function): the genuine client's environment
  variables set for a user of its own, and that client's cached settings and default clients
  cleared, so code under test that does ``from descarteslabs.compute import Function`` talks to
  the test server; everything is put back afterwards.

With pytest-xdist each worker process starts a server of its own (the fixture is per session,
and each worker is a session); pass ``--batch-compute-url`` to share one running server.
"""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ._client import ComputeClient
from .testing import ComputeTestServer, start_server

__all__ = [
    "GenuineClientEnv",
    "compute_client",
    "compute_server",
    "descarteslabs_env",
    "earthone_env",
    "pytest_addoption",
]

_URL_VARIABLE = "BATCH_COMPUTE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("batch-compute")
    group.addoption(
        "--batch-compute-url",
        default=None,
        help="use the Batch Compute server at this origin instead of starting one "
        f"(default: ${_URL_VARIABLE}, if set)",
    )


@pytest.fixture(scope="session")
def compute_server(request: pytest.FixtureRequest) -> Iterator[ComputeTestServer]:
    url = request.config.getoption("--batch-compute-url") or os.environ.get(_URL_VARIABLE)
    if url:
        yield ComputeTestServer(str(url))
        return
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def compute_client(compute_server: ComputeTestServer) -> Iterator[ComputeClient]:
    client = compute_server.client()
    previous = ComputeClient._defaults.get(ComputeClient)
    ComputeClient.set_default_client(client)
    try:
        yield client
    finally:
        ComputeClient.clear_all_default_clients()
        if previous is not None:
            ComputeClient.set_default_client(previous)


@dataclass(frozen=True)
class GenuineClientEnv:
    """The user a genuine-client fixture set up: its ``sub`` and ``token``."""

    sub: str
    token: str
    server: ComputeTestServer


@pytest.fixture
def descarteslabs_env(
    compute_server: ComputeTestServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GenuineClientEnv]:
    yield from _genuine_env(compute_server, monkeypatch, "DESCARTESLABS", "descarteslabs")


@pytest.fixture
def earthone_env(
    compute_server: ComputeTestServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GenuineClientEnv]:
    yield from _genuine_env(compute_server, monkeypatch, "EARTHONE", "earthdaily.earthone")


def _genuine_env(
    server: ComputeTestServer, monkeypatch: pytest.MonkeyPatch, prefix: str, package: str
) -> Iterator[GenuineClientEnv]:
    sub = f"test-{uuid.uuid4().hex[:12]}"
    token = server.token(sub)
    for name in (f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET", f"{prefix}_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("CLIENT_ID", "CLIENT_SECRET"):  # read by descarteslabs too
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(f"{prefix}_COMPUTE_URL", server.compute_url)
    monkeypatch.setenv(f"{prefix}_CATALOG_V2_URL", server.catalog_url)
    monkeypatch.setenv(f"{prefix}_TOKEN", token)
    _forget_client_state(package)
    try:
        yield GenuineClientEnv(sub=sub, token=token, server=server)
    finally:
        monkeypatch.undo()
        _forget_client_state(package)


def _forget_client_state(package: str) -> None:
    """Make an imported genuine client read its environment again: its settings (read once per
    process), its default Auth and its default service clients. A client not imported yet has
    nothing to forget."""
    if package not in sys.modules:
        return
    config = _module(f"{package}.config")
    settings = getattr(config, "Settings", None)
    if settings is not None and hasattr(settings, "_settings"):
        settings._settings = None
    auth = getattr(_module(f"{package}.auth"), "Auth", None)
    if auth is not None and hasattr(auth, "_instance"):
        auth._instance = None
    service = _module(f"{package}.core.common.http.service")
    mixin = getattr(service, "DefaultClientMixin", None)
    if mixin is not None:
        mixin.clear_all_default_clients()


def _module(name: str) -> object | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
