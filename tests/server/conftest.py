"""Fixtures for in-process server tests: a fresh data dir (and database: see
``database_url`` in tests/conftest.py), the app with response
validation on, and an HTTP client that runs the app's lifespan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from support.inprocess import ORIGIN, bearer


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url=ORIGIN,
        validate_responses=True,
        execute_jobs=False,
        workers=2,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=ORIGIN) as test_client:
        yield test_client


@pytest.fixture
def alice() -> dict[str, str]:
    return bearer("alice")


@pytest.fixture
def bob() -> dict[str, str]:
    return bearer("bob")
