"""What the server offers besides the contract's operations, and the CLI around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.cli import _banner
from batch_compute_mock.service.identity import client_claims, identity_from_token, make_token
from batch_compute_mock.settings import Settings
from support.inprocess import ORIGIN

if TYPE_CHECKING:
    from support.postgres import PostgresCluster

pytestmark = pytest.mark.both_databases


def test_health_docs_and_served_contract(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["sandbox"] == {
        "mode": "off",
        "active": False,
        "detail": health["sandbox"]["detail"],
    }
    assert client.get("/ui/").status_code == 200
    served = client.get("/openapi.json").json()
    assert "/compute/v1/jobs/bulk" in served["paths"]


def test_health_is_503_naming_the_blob_store_while_it_is_gone(
    client: TestClient, settings: Settings
) -> None:
    blobs = settings.data_dir / "blobs"
    blobs.rename(settings.data_dir / "moved")
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable"
    assert list(answer.json()["problems"]) == ["blobs"]
    (settings.data_dir / "moved").rename(blobs)
    assert client.get("/healthz").status_code == 200


def test_health_is_503_naming_the_database_while_it_is_gone(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    url = postgres.new_database()
    settings = Settings(data_dir=tmp_path / "data", database_url=url, execute_jobs=False)
    with TestClient(create_app(settings), base_url=ORIGIN) as client:
        assert client.get("/healthz").status_code == 200
        postgres.drop_database(url)  # ends its connections too
        answer = client.get("/healthz")
        assert answer.status_code == 503
        problems = answer.json()["problems"]
        assert list(problems) == ["database"] and "OperationalError" in problems["database"]


def test_jwt_secret_turns_on_signature_checks(settings: Settings) -> None:
    secured = attrs.evolve(settings, jwt_secret="s3cret")
    with TestClient(create_app(secured), base_url=ORIGIN) as client:
        good = make_token(client_claims("alice"), "s3cret")
        forged = make_token(client_claims("alice"), "guess")
        url = "/compute/v1/functions"
        assert client.get(url, headers={"Authorization": f"Bearer {good}"}).status_code == 200
        refused = client.get(url, headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401 and "signature" in refused.json()["detail"]


def test_catalog_errors_are_json_api(client: TestClient) -> None:
    response = client.get("/catalog/v2/storage/compute/x/y/z")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/vnd.api+json")
    assert response.json()["errors"][0]["status"] == "401"


def test_banner_prints_paste_ready_lines_for_both_clients() -> None:
    text = _banner("http://127.0.0.1:9", "TOKEN", Path("/data/dir"))
    assert "/data/dir" in text
    for line in (
        "export DESCARTESLABS_COMPUTE_URL=http://127.0.0.1:9/compute/v1",
        "export DESCARTESLABS_CATALOG_V2_URL=http://127.0.0.1:9/catalog/v2",
        "export DESCARTESLABS_TOKEN=TOKEN",
        "export EARTHONE_COMPUTE_URL=http://127.0.0.1:9/compute/v1",
        "export EARTHONE_CATALOG_V2_URL=http://127.0.0.1:9/catalog/v2",
        "export EARTHONE_TOKEN=TOKEN",
        "Dashboard: http://127.0.0.1:9/dashboard/\n",
        "open it signed in: http://127.0.0.1:9/dashboard/signin#token=TOKEN\n",
    ):
        assert line in text
    assert "/_mock/" not in text


def test_banner_names_the_test_controls_when_they_are_on() -> None:
    text = _banner("http://127.0.0.1:9", "TOKEN", Path("/data/dir"), test_controls=True)
    assert "Test controls: http://127.0.0.1:9/_mock/" in text


def test_token_command_prints_a_usable_token() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "batch_compute_mock", "token", "--sub", "alice", "--org", "acme"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    identity = identity_from_token(printed)
    assert identity.namespace.startswith("acme:")


def test_every_operation_resolves_to_a_handler() -> None:
    import importlib

    from batch_compute_mock.contract import load_contract

    methods = ("get", "put", "post", "delete", "patch")
    operations = [
        operation
        for item in load_contract()["paths"].values()
        for method, operation in item.items()
        if method in methods
    ]
    assert len(operations) == 24
    for operation in operations:
        module = importlib.import_module(operation["x-openapi-router-controller"])
        assert callable(getattr(module, operation["operationId"])), operation["operationId"]
