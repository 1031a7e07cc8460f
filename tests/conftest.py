"""Suite-wide settings: hypothesis profiles (ci / dev / long) chosen by HYPOTHESIS_PROFILE, and
the command-line options of the test packages (pytest only reads options from the root)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from support.postgres import PostgresCluster
    from support.s3 import S3Endpoint


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-artifacts",
        metavar="DIR",
        help="browser tests save their screenshots here (default: each test's tmp_path)",
    )
    parser.addoption(
        "--readme-screenshots",
        metavar="DIR",
        help="the dashboard's browser tests also save the README's screenshots here "
        "(docs/screenshots to refresh them)",
    )


settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# Databases ---------------------------------------------------------------------------------
# A test (or module) marked ``both_databases`` that asks for ``database_url`` runs twice: on
# SQLite (``database_url`` is None: the data dir's own file) and on a fresh database of a
# throwaway PostgreSQL cluster, one cluster per xdist worker, started on first use.


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not metafunc.definition.get_closest_marker("both_databases"):
        return
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
    if "module_database_url" in metafunc.fixturenames:
        metafunc.parametrize(
            "module_database_url", ["sqlite", "postgresql"], indirect=True, scope="module"
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """This worker's PostgreSQL cluster (its own dir and socket), removed at the end."""
    from support.postgres import PostgresCluster

    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite (the default), or the URL of a fresh, migrated PostgreSQL database."""
    yield from _database_url(request)


@pytest.fixture(scope="module")
def module_database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``database_url`` for a module's shared server (``LiveServer(database_url=...)``)."""
    yield from _database_url(request)


def _database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.new_database()
    yield url
    cluster.drop_database(url)


# Object storage ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """This worker's S3 endpoint (moto's server on a free loopback port), stopped at the end."""
    from support.s3 import S3Endpoint

    with S3Endpoint() as endpoint:
        yield endpoint
