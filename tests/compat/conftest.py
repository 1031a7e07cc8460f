"""Fixtures for driving GENUINE clients (in their own cached venvs) against one live server.

Most tests take ``client`` (a runner acting as a fresh user), which is parametrized over both
genuine clients, ``descarteslabs`` 3.2.2 and ``earthone`` 6.2.0; ``namespace`` is the result
namespace both sides derive for that user and ``user_token`` makes tokens for other users in
the same client's style (earthone tokens carry a ``userid`` claim that differs from
``sha1(sub)``, so a server reading the wrong claim is caught).

Every test here is marked ``compat``. Building a client venv needs the package registry: without
it the tests are skipped, except under CI (``CI`` set), where a missing client is a failure.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from genuine_clients import FLAVOR_NAMES, expected_namespace, flavor_token

from support.compat import FLAVORS, CompatClient, compat_venv_python
from support.live_server import LiveServer

_HERE = Path(__file__).resolve().parent

__all__ = [
    "FLAVOR_NAMES",
    "client",
    "client_python",
    "compat_client",
    "compat_user",
    "descarteslabs_client",
    "descarteslabs_python",
    "earthone_client",
    "earthone_python",
    "earthone_userid",
    "flavor",
    "live_server",
    "namespace",
    "pytest_collection_modifyitems",
    "server",
    "unconfined_server",
    "user_token",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.compat)


def _client_python(flavor: str) -> Path:
    try:
        return compat_venv_python(flavor)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        output = getattr(error, "stderr", None) or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        reason = f"cannot build the {flavor} compat venv (scripts/compat-venv {flavor}): {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}\n{output}", pytrace=False)
        pytest.skip(f"{reason}; last output: {output.strip()[-300:]}")


@pytest.fixture(scope="session")
def descarteslabs_python() -> Path:
    """The python of the cached venv holding descarteslabs==3.2.2."""
    return _client_python("descarteslabs")


@pytest.fixture(scope="session")
def earthone_python() -> Path:
    """The python of the cached venv holding earthdaily-earthone==6.2.0."""
    return _client_python("earthone")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the whole compat session, as configured by default (jobs sandboxed where
    bubblewrap works); tests stay apart by using distinct users."""
    # Three slots: job_control keeps three jobs running at once.
    with LiveServer(tmp_path_factory.mktemp("compat-server"), ["--workers", "3"]) as server:
        yield server


@pytest.fixture(scope="session")
def unconfined_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose jobs see the host's files, for scenarios that signal their jobs through
    marker files: a sandboxed job cannot read them, by design."""
    args = ["--workers", "3", "--sandbox", "off"]
    with LiveServer(tmp_path_factory.mktemp("compat-unconfined"), args) as server:
        yield server


@pytest.fixture
def server(request: pytest.FixtureRequest) -> LiveServer:
    """The server this test drives: ``unconfined_server`` for tests marked
    ``jobs_share_files``, else ``live_server``."""
    shares_files = request.node.get_closest_marker("jobs_share_files") is not None
    name = "unconfined_server" if shares_files else "live_server"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def compat_client(
    server: LiveServer, tmp_path: Path
) -> Callable[[Path, str, str | None], CompatClient]:
    """Factory: ``compat_client(python, flavor, token)`` with a private HOME for this test."""

    def make(python: Path, flavor: str, token: str | None) -> CompatClient:
        return CompatClient(
            python=python,
            compute_url=server.compute_url,
            catalog_url=server.catalog_url,
            home=tmp_path / f"home-{flavor}",
            flavor=FLAVORS[flavor],
            token=token,
        )

    return make


@pytest.fixture
def compat_user() -> str:
    """A fresh user (token ``sub``) per test, so tests sharing the server never see each other."""
    return f"compat-{uuid.uuid4().hex}@example.com"


@pytest.fixture
def descarteslabs_client(
    descarteslabs_python: Path,
    server: LiveServer,
    compat_client: Callable[[Path, str, str | None], CompatClient],
    compat_user: str,
) -> CompatClient:
    """A descarteslabs 3.2.2 runner acting as ``compat_user``."""
    return compat_client(descarteslabs_python, "descarteslabs", server.token(compat_user))


@pytest.fixture
def earthone_userid() -> str:
    """The earthone ``userid`` claim of ``compat_user``: the client's (and server's) namespace."""
    return f"eo{uuid.uuid4().hex}"


@pytest.fixture
def earthone_client(
    earthone_python: Path,
    server: LiveServer,
    compat_client: Callable[[Path, str, str | None], CompatClient],
    compat_user: str,
    earthone_userid: str,
) -> CompatClient:
    """An earthone 6.2.0 runner acting as ``compat_user`` (token with a ``userid`` claim)."""
    token = server.token(compat_user, userid=earthone_userid)
    return compat_client(earthone_python, "earthone", token)


@pytest.fixture(params=FLAVOR_NAMES)
def flavor(request: pytest.FixtureRequest) -> str:
    """Which genuine client the test drives."""
    return str(request.param)


@pytest.fixture
def client_python(flavor: str, request: pytest.FixtureRequest) -> Path:
    return Path(request.getfixturevalue(f"{flavor}_python"))


@pytest.fixture
def user_token(server: LiveServer, flavor: str) -> Callable[..., str]:
    """Factory ``user_token(sub, org=None)``: a token in the current client's style."""

    def make(sub: str, org: str | None = None) -> str:
        return flavor_token(server, flavor, sub, org)

    return make


@pytest.fixture
def namespace(flavor: str, compat_user: str) -> str:
    """The result namespace of ``compat_user`` (what ``client`` and the server both derive)."""
    return expected_namespace(flavor, compat_user)


@pytest.fixture
def client(
    flavor: str,
    client_python: Path,
    user_token: Callable[..., str],
    compat_client: Callable[[Path, str, str | None], CompatClient],
    compat_user: str,
) -> CompatClient:
    """A runner of the current genuine client acting as ``compat_user``."""
    return compat_client(client_python, flavor, user_token(compat_user))
