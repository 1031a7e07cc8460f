"""A database that stops answering mid-run: requests that need it answer 503 (problem+json
with Retry-After, never 500) and /healthz says not ready; once it answers again, everything
works, on the connections the pools open anew."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from support.inprocess import FUNCTION, bearer


@contextmanager
def _refusing_connections(url: str) -> Iterator[None]:
    """The database refuses new connections and its open ones are cut, until the block ends."""
    parsed = sa.engine.make_url(url)
    name = parsed.database
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        try:
            yield
        finally:
            connection.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_outage_answers_503_until_the_database_is_back(
    client: TestClient, database_url: str
) -> None:
    alice = bearer("alice")
    created = client.post("/compute/v1/functions", json=FUNCTION, headers=alice)
    assert created.status_code == 201, created.text
    function_id = created.json()["function"]["id"]
    with _refusing_connections(database_url):
        for _ in range(2):  # a pooled connection found cut, then a new one refused
            response = client.get(f"/compute/v1/functions/{function_id}", headers=alice)
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) > 0
            assert "database is unavailable" in response.json()["detail"]
        health = client.get("/healthz")
        assert health.status_code == 503 and "database" in health.json()["problems"]
    assert client.get("/healthz").status_code == 200
    fetched = client.get(f"/compute/v1/functions/{function_id}", headers=alice)
    assert fetched.status_code == 200 and fetched.json()["id"] == function_id
