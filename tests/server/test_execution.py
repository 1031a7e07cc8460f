"""Jobs really run: outcomes, results through the catalog slice, logs, retries, cancel."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from support.inprocess import ORIGIN, create_ready_function, make_bundle, wait_for

pytestmark = pytest.mark.both_databases

JOBS = "/compute/v1/jobs"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    running = attrs.evolve(settings, execute_jobs=True)
    with TestClient(create_app(running), base_url=ORIGIN) as test_client:
        yield test_client


def run_job(client: TestClient, headers: dict, function_id: str, *args: object, **kw: object):
    job = client.post(
        JOBS, json={"function_id": function_id, "args": list(args), "kwargs": kw}, headers=headers
    ).json()

    def finished() -> dict | None:
        current = client.get(f"{JOBS}/{job['id']}", headers=headers).json()
        return (
            current if current["status"] in ("success", "failure", "timeout", "canceled") else None
        )

    return wait_for(finished, timeout=30)


def result_bytes(client: TestClient, headers: dict, function: dict, job: dict) -> bytes | None:
    blob_id = f"compute/{function['namespace']}/{function['id']}/{job['id']}"
    quoted = urllib.parse.quote(blob_id, safe="/")
    download = client.get(f"/catalog/v2/storage/download/{quoted}", headers=headers)
    if download.status_code == 404:
        return None
    url = download.json()["data"]["attributes"]["resumable_url"]
    data = client.get(url.removeprefix(ORIGIN))
    assert data.status_code == 200 and "content-encoding" not in data.headers
    return data.content


def test_success_result_and_log(client: TestClient, alice: dict) -> None:
    source = "def main(a, b=0):\n    print('adding', a, b)\n    return {'sum': a + b}\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source))
    job = run_job(client, alice, function["id"], 2, b=3)
    assert job["status"] == "success", job
    assert (job["exit_code"], job["execution_count"]) == (0, 1)
    assert job["last_execution_date"] and job["last_completion_date"]
    assert json.loads(result_bytes(client, alice, function, job) or b"") == {"sum": 5}
    log = client.get(f"{JOBS}/{job['id']}/log", headers=alice).text.splitlines()
    assert [json.loads(line)["log"] for line in log] == ["adding 2 3"]
    assert all(json.loads(line)["date"].endswith("Z") for line in log)


def test_exception_fails_and_retries(client: TestClient, alice: dict) -> None:
    source = "def main():\n    raise ValueError('bad input')\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source), retry_count=2)
    job = run_job(client, alice, function["id"])
    assert job["status"] == "failure"
    assert job["execution_count"] == 3
    assert job["exit_code"] == 1
    assert "ValueError: bad input" in job["error_reason"]
    assert result_bytes(client, alice, function, job) is None


def test_timeout(client: TestClient, alice: dict) -> None:
    source = "import time\ndef main():\n    time.sleep(60)\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source), timeout=1)
    started = time.monotonic()
    job = run_job(client, alice, function["id"])
    assert job["status"] == "timeout"
    assert time.monotonic() - started < 15


def test_cancel_running_job(client: TestClient, alice: dict) -> None:
    source = "import time\ndef main():\n    time.sleep(60)\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source))
    job = client.post(JOBS, json={"function_id": function["id"]}, headers=alice).json()
    wait_for(lambda: client.get(f"{JOBS}/{job['id']}", headers=alice).json()["status"] == "running")
    assert client.post(f"{JOBS}/{job['id']}/cancel", headers=alice).json()["status"] in (
        "cancel",
        "canceling",
        "canceled",
    )
    final = wait_for(
        lambda: (
            (j := client.get(f"{JOBS}/{job['id']}", headers=alice).json())["status"] == "canceled"
            and j
        )
    )
    assert final["status"] == "canceled"


def test_stopped_function_holds_jobs_until_started(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, auto_start=False)
    job = client.post(
        JOBS, json={"function_id": function["id"], "args": [1, 1]}, headers=alice
    ).json()
    time.sleep(1.0)
    assert client.get(f"{JOBS}/{job['id']}", headers=alice).json()["status"] == "pending"
    client.patch(f"/compute/v1/functions/{function['id']}", json={"status": "ready"}, headers=alice)
    done = wait_for(
        lambda: (
            (j := client.get(f"{JOBS}/{job['id']}", headers=alice).json())["status"] == "success"
            and j
        )
    )
    assert done["status"] == "success"


def test_function_environment_and_job_environment(
    client: TestClient, alice: dict, tmp_path: Path
) -> None:
    source = "import os\ndef main():\n    return [os.environ.get('A'), os.environ.get('B')]\n"
    function = create_ready_function(
        client, alice, bundle=make_bundle(source), environment={"A": "fn", "B": "fn"}
    )
    job = client.post(
        JOBS, json={"function_id": function["id"], "environment": {"B": "job"}}, headers=alice
    ).json()
    done = wait_for(
        lambda: (
            (j := client.get(f"{JOBS}/{job['id']}", headers=alice).json())["status"] == "success"
            and j
        )
    )
    assert json.loads(result_bytes(client, alice, function, done) or b"") == ["fn", "job"]


RESULT_SHAPES = """
class Result:
    def __init__(self, value, **attributes):
        self.value = value
        self.description = attributes.get("description")
        self.expires = attributes.get("expires")
        self.extra_properties = attributes.get("extra_properties")
        self.geometry = attributes.get("geometry")
        self.tags = attributes.get("tags")


def main(kind):
    if kind == "attributes":
        return Result(
            b"raw-bytes",
            description="a tile",
            expires="2999-01-01T00:00:00Z",
            extra_properties={"cloud": 0.25, "sensor": "s2"},
            geometry="POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
            tags=["t1", "t2"],
        )
    if kind == "expired":
        return Result(1, expires="2001-01-01T00:00:00Z")
    if kind == "none":
        return None
    if kind == "null-with-tags":
        return Result(None, tags=["kept"])
    if kind == "unserialisable":
        return object()
"""


def storage(client: TestClient, headers: dict, function: dict, job: dict):
    blob_id = f"compute/{function['namespace']}/{function['id']}/{job['id']}"
    return client.get(
        f"/catalog/v2/storage/{urllib.parse.quote(blob_id, safe='/')}", headers=headers
    )


def test_compute_result_attributes_are_served(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, bundle=make_bundle(RESULT_SHAPES))
    job = run_job(client, alice, function["id"], "attributes")
    assert job["status"] == "success", job
    assert result_bytes(client, alice, function, job) == b"raw-bytes"
    document = storage(client, alice, function, job)
    assert document.status_code == 200
    attributes = document.json()["data"]["attributes"]
    assert attributes["description"] == "a tile"
    assert attributes["expires"] == "2999-01-01T00:00:00.000000Z"
    assert attributes["extra_properties"] == {"cloud": 0.25, "sensor": "s2"}
    assert attributes["geometry"]["type"] == "Polygon"
    assert attributes["tags"] == ["t1", "t2"]
    assert attributes["size_bytes"] == len(b"raw-bytes")
    assert attributes["name"] == f"{function['id']}/{job['id']}"


def test_expired_and_empty_results_are_absent(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, bundle=make_bundle(RESULT_SHAPES))
    expired = run_job(client, alice, function["id"], "expired")
    assert expired["status"] == "success"
    assert storage(client, alice, function, expired).status_code == 404
    assert result_bytes(client, alice, function, expired) is None
    nothing = run_job(client, alice, function["id"], "none")
    assert result_bytes(client, alice, function, nothing) is None
    tagged = run_job(client, alice, function["id"], "null-with-tags")
    assert result_bytes(client, alice, function, tagged) == b"null"
    assert storage(client, alice, function, tagged).json()["data"]["attributes"]["tags"] == ["kept"]


def test_unserialisable_result_fails_the_job(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, bundle=make_bundle(RESULT_SHAPES))
    job = run_job(client, alice, function["id"], "unserialisable")
    assert job["status"] == "failure"
    assert "serializ" in job["error_reason"].lower()


def test_results_belong_to_their_owner(client: TestClient, alice: dict, bob: dict) -> None:
    function = create_ready_function(client, alice)
    job = run_job(client, alice, function["id"], 1, 2)
    assert storage(client, bob, function, job).status_code == 404
    assert result_bytes(client, bob, function, job) is None


def test_delete_job_keeps_or_removes_the_result(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice)
    kept = run_job(client, alice, function["id"], 1, 2)
    gone = run_job(client, alice, function["id"], 3, 4)
    client.delete(f"{JOBS}/{kept['id']}", params={"delete_results": "False"}, headers=alice)
    client.delete(f"{JOBS}/{gone['id']}", params={"delete_results": "True"}, headers=alice)
    assert result_bytes(client, alice, function, kept) == b"3"
    assert result_bytes(client, alice, function, gone) is None
    assert client.get(f"{JOBS}/{kept['id']}/log", headers=alice).status_code == 404


def test_function_delete_keeps_results_unless_asked(client: TestClient, alice: dict) -> None:
    keeper = create_ready_function(client, alice)
    dropper = create_ready_function(client, alice)
    kept = run_job(client, alice, keeper["id"], 1, 1)
    dropped = run_job(client, alice, dropper["id"], 2, 2)
    url = "/compute/v1/functions"
    assert client.delete(f"{url}/{keeper['id']}", headers=alice).status_code == 204
    assert (
        client.delete(
            f"{url}/{dropper['id']}", params={"delete_results": "true"}, headers=alice
        ).status_code
        == 204
    )
    assert result_bytes(client, alice, keeper, kept) == b"2"
    assert result_bytes(client, alice, dropper, dropped) is None
