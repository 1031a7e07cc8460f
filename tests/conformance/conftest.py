"""One real server for the conformance-kit tests (the kit and its broken proxies share it)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from support.live_server import LiveServer

_owners = itertools.count()


@pytest.fixture(scope="session")
def kit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # More workers than any maximum_concurrency the kit sets, so ignoring it shows.
    with LiveServer(tmp_path_factory.mktemp("kit-server"), ["--workers", "4"]) as server:
        yield server


@pytest.fixture
def owners(kit_server: LiveServer) -> tuple[str, str]:
    """Tokens of two fresh owners (the kit's advice: throwaway owners)."""
    number = next(_owners)
    return kit_server.token(f"kit-first-{number}"), kit_server.token(f"kit-second-{number}")
