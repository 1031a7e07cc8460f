"""``from descarteslabs.compute import ComputeResult`` inside a job works without the client.

Code ported from the hosted service imports ``ComputeResult`` / ``Serializable`` from the
genuine client inside the function. The server's environment here (the project venv) has
neither ``descarteslabs`` nor ``earthdaily-earthone``, so jobs get the server's stand-ins; when
a real package is on the server's path it must win. Jobs are submitted through the API and
really run in worker processes.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from batch_compute_runtime.executor import CLIENT_SHIMS_DIR
from support.inprocess import (
    ORIGIN,
    create_ready_function,
    make_bundle,
    result_bytes,
    result_document,
    run_job,
)

PORTED = """
import json


def main(kind, n=1):
    if kind == "descarteslabs":
        import descarteslabs.compute as compute
        from descarteslabs.compute import ComputeResult, Serializable
    else:
        import earthdaily.earthone.compute as compute
        from earthdaily.earthone.compute import ComputeResult, Serializable

    class Pair(Serializable):
        def __init__(self, a, b):
            self.a, self.b = a, b

        def serialize(self):
            return json.dumps([self.a, self.b]).encode()

        @classmethod
        def deserialize(cls, data):
            return cls(*json.loads(data))

    where = {"module": compute.__file__}
    if n == 0:
        return ComputeResult(None)
    if n < 0:
        return ComputeResult(None, tags=["null-but-tagged"], extra_properties=where)
    return ComputeResult(
        Pair(n, n + 1), description="a pair", tags={"ported"}, extra_properties=where
    )
"""


@pytest.fixture
def running(settings: Settings) -> Settings:
    return attrs.evolve(settings, execute_jobs=True)


@pytest.fixture
def client(running: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(running), base_url=ORIGIN) as test_client:
        yield test_client


def test_the_server_environment_has_no_genuine_client() -> None:
    # The premise of the next test: what jobs import below can only be the stand-ins.
    assert importlib.util.find_spec("descarteslabs") is None
    assert importlib.util.find_spec("earthdaily") is None


@pytest.mark.parametrize("flavor", ["descarteslabs", "earthone"])
def test_ported_compute_result_works_without_the_client(
    client: TestClient, alice: dict[str, str], flavor: str
) -> None:
    function = create_ready_function(client, alice, bundle=make_bundle(PORTED))

    job = run_job(client, alice, function["id"], flavor, 1)
    assert job["status"] == "success", job["error_reason"]
    assert result_bytes(client, alice, function, job) == b"[1, 2]"
    attributes = result_document(client, alice, function, job)
    assert attributes is not None
    assert (attributes["description"], attributes["tags"]) == ("a pair", ["ported"])
    module = Path(attributes["extra_properties"]["module"])
    assert module.is_relative_to(CLIENT_SHIMS_DIR), module

    nothing = run_job(client, alice, function["id"], flavor, 0)
    assert nothing["status"] == "success", nothing["error_reason"]
    assert result_document(client, alice, function, nothing) is None  # isnull: nothing stored

    tagged = run_job(client, alice, function["id"], flavor, -1)
    assert result_bytes(client, alice, function, tagged) == b"null"
    tagged_attributes = result_document(client, alice, function, tagged)
    assert tagged_attributes is not None and tagged_attributes["tags"] == ["null-but-tagged"]


def test_other_client_names_fail_with_a_clear_message(
    client: TestClient, alice: dict[str, str]
) -> None:
    source = (
        "def main():\n    import descarteslabs.compute\n    return descarteslabs.compute.Function\n"
    )
    function = create_ready_function(client, alice, bundle=make_bundle(source))
    job = run_job(client, alice, function["id"])
    assert job["status"] == "failure"
    assert "has no attribute 'Function'" in job["error_reason"]
    assert "install descarteslabs" in job["error_reason"]


FAKE_CLIENT = '''
class ComputeResult:
    """The installed client's own class (a fake standing in for the genuine one)."""

    def __init__(self, value=None, description=None, expires=None, extra_properties=None,
                 geometry=None, tags=None):
        self.value = b"from the installed client"
        self.description, self.expires, self.geometry = description, expires, geometry
        self.extra_properties, self.tags = extra_properties, tags
        self.isnull = False


class Serializable:
    pass
'''


def test_an_installed_client_wins_over_the_stand_ins(
    running: Settings, alice: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    for package in ("descarteslabs/compute", "earthdaily/earthone/compute"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(FAKE_CLIENT)
    (site / "descarteslabs" / "__init__.py").write_text("")
    (site / "earthdaily" / "earthone" / "__init__.py").write_text("")  # earthdaily: namespace
    path = [str(site), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))  # the workers' environment

    with TestClient(create_app(running), base_url=ORIGIN) as client:
        function = create_ready_function(client, alice, bundle=make_bundle(PORTED))
        for flavor, package in [("descarteslabs", "descarteslabs"), ("earthone", "earthdaily")]:
            job = run_job(client, alice, function["id"], flavor, 1)
            assert job["status"] == "success", job["error_reason"]
            assert result_bytes(client, alice, function, job) == b"from the installed client"
            attributes = result_document(client, alice, function, job)
            assert attributes is not None
            module = Path(attributes["extra_properties"]["module"])
            assert module == site / package / module.relative_to(site / package), module
