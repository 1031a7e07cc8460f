"""Fixtures for the SDK tests: a live server and a client for one user, through the public SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from batch_compute import ComputeClient
from support.live_server import LiveServer


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("sdk-server")) as server:
        yield server


@pytest.fixture
def client(live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[ComputeClient]:
    """A client for a user of its own (so tests never see each other's objects), as default."""
    user = f"sdk-{request.node.name}"
    compute = ComputeClient(url=live_server.origin, auth=live_server.token(user))
    ComputeClient.set_default_client(compute)
    try:
        yield compute
    finally:
        ComputeClient.clear_all_default_clients()
        compute.close()
