"""A server whose blobs live in S3 (``serve --blob-url s3://...``, moto's S3 server): bundles
upload through pre-signed URLs, jobs run on the local executor's workers (which open the
bucket themselves), a running job's log is read while it grows, results download through a
pre-signed URL with no S3 credentials, and deleting a function removes its objects. Two
servers on one database and one bucket serve the same logs and results."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from support.inprocess import (
    FINISHED,
    FUNCTION,
    ORIGIN,
    bearer,
    create_ready_function,
    make_bundle,
    result_blob_path,
    run_job,
    upload,
    wait_for,
)
from support.live_server import LiveServer
from support.s3 import S3Endpoint

JOBS = "/compute/v1/jobs"
# Prints (and whether it sees the server's S3 credentials: it must not), waits for the test's
# go-ahead file, prints again and returns a result.
SOURCE = """
import os, time

def main(go, n):
    print("started", n, "AWS_SECRET_ACCESS_KEY" in os.environ, flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)
    print("finished", n, flush=True)
    return {"double": 2 * n}
"""


@pytest.fixture
def bucket(s3_endpoint: S3Endpoint) -> str:
    return s3_endpoint.new_bucket()


@pytest.fixture
def server(tmp_path: Path, s3_endpoint: S3Endpoint, bucket: str) -> Iterator[LiveServer]:
    # The endpoint and credentials come from the AWS variables, as in production.
    env = {**os.environ, **s3_endpoint.environment}
    args = ["--sandbox", "off", "--workers", "2", "--blob-url", f"s3://{bucket}/blobs"]
    with LiveServer(tmp_path / "data", args, env=env) as live:
        yield live


def _objects(s3_endpoint: S3Endpoint, bucket: str) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint.endpoint_url, region_name="us-east-1")
    listing = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_a_server_keeps_bundles_logs_and_results_in_s3(
    server: LiveServer, s3_endpoint: S3Endpoint, bucket: str, tmp_path: Path
) -> None:
    client = httpx.Client(base_url=server.origin, timeout=30)
    alice = {"Authorization": f"Bearer {server.token('alice')}"}
    assert client.get("/healthz").status_code == 200
    function = create_ready_function(client, alice, make_bundle(SOURCE))
    assert function["status"] == "ready", function
    function_id = function["id"]
    go = tmp_path / "go"
    job = client.post(
        JOBS, json={"function_id": function_id, "args": [str(go), 21]}, headers=alice
    ).json()

    def log_lines() -> list[str]:
        response = client.get(f"{JOBS}/{job['id']}/log", headers=alice)
        assert response.status_code == 200, response.text
        return [json.loads(line)["log"] for line in response.text.splitlines()]

    assert wait_for(lambda: log_lines() == ["started 21 False"], timeout=30)  # read while it runs
    running = client.get(f"{JOBS}/{job['id']}", headers=alice).json()
    assert running["status"] == "running"
    assert any("@parts/" in key for key in _objects(s3_endpoint, bucket))
    go.touch()

    def finished() -> dict[str, Any] | None:
        current: dict[str, Any] = client.get(f"{JOBS}/{job['id']}", headers=alice).json()
        return current if current["status"] in FINISHED else None

    done = wait_for(finished, timeout=60)
    assert done["status"] == "success", done
    assert log_lines() == ["started 21 False", "finished 21"]

    blob_id = f"compute/{function['namespace']}/{function_id}/{job['id']}"
    download = client.get(f"/catalog/v2/storage/download/{blob_id}", headers=alice)
    assert download.status_code == 200, download.text
    url = download.json()["data"]["attributes"]["resumable_url"]
    assert url.startswith(server.origin)  # our server, not the bucket
    fetched = httpx.get(url, timeout=30)  # no token, no S3 credentials
    assert fetched.status_code == 200 and json.loads(fetched.content) == {"double": 42}
    assert fetched.headers["content-length"] == str(len(fetched.content))  # streamed, sized

    objects = _objects(s3_endpoint, bucket)
    assert f"blobs/bundles/{function_id}.zip" in objects
    assert f"blobs/build-logs/{function_id}.log" in objects
    assert f"blobs/job-logs/{job['id']}.ndjson" in objects
    assert any(key.startswith("blobs/results/") for key in objects)
    assert not any("@parts/" in key for key in objects)  # compacted when the job ended
    assert not (server.data_dir / "blobs").exists() or not any(
        p.is_file() for p in (server.data_dir / "blobs").rglob("*")
    )

    controls = httpx.Client(base_url=server.origin + "/_mock", timeout=120)
    snapshot = controls.post("/snapshot")  # the bucket's blobs go into the snapshot ...
    assert snapshot.status_code == 200
    assert controls.post("/reset").status_code == 204
    assert _objects(s3_endpoint, bucket) == []  # ... a reset empties the bucket ...
    assert controls.post("/restore", content=snapshot.content).status_code == 204
    assert _objects(s3_endpoint, bucket) == objects  # ... and a restore puts them back
    assert log_lines() == ["started 21 False", "finished 21"]

    deleted = client.delete(
        f"/compute/v1/functions/{function_id}", params={"delete_results": "true"}, headers=alice
    )
    assert deleted.status_code in (200, 204), deleted.text
    deadline = time.monotonic() + 30
    while _objects(s3_endpoint, bucket) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _objects(s3_endpoint, bucket) == []


def test_two_servers_on_one_bucket_serve_the_same_running_log_and_result(
    tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    """Server one runs the job; server two (which runs none) serves its log while it grows,
    its log once it ended and its result, from the shared bucket."""
    url = s3_endpoint.new_bucket_url()
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    with ExitStack() as stack:
        one, two = (
            stack.enter_context(
                TestClient(
                    create_app(
                        Settings(
                            data_dir=tmp_path / name,
                            database_url=database,
                            blob_url=url,
                            public_url=ORIGIN,
                            execute_jobs=name == "one",
                            workers=1,
                        )
                    ),
                    base_url=ORIGIN,
                )
            )
            for name in ("one", "two")
        )
        alice = bearer("alice")
        function = create_ready_function(two, alice, make_bundle(SOURCE))  # built by two
        go = tmp_path / "go"
        created = one.post(  # where the scheduler that runs it is woken at once
            JOBS, json={"function_id": function["id"], "args": [str(go), 4]}, headers=alice
        )
        job_id = created.json()["id"]

        def log_on(server: TestClient) -> list[str]:
            text = server.get(f"{JOBS}/{job_id}/log", headers=alice).text
            return [json.loads(line)["log"] for line in text.splitlines()]

        assert wait_for(lambda: log_on(two) == ["started 4 False"], timeout=30)
        assert two.get(f"{JOBS}/{job_id}", headers=alice).json()["status"] == "running"
        go.touch()

        def finished() -> dict[str, Any] | None:
            current: dict[str, Any] = two.get(f"{JOBS}/{job_id}", headers=alice).json()
            return current if current["status"] in FINISHED else None

        assert wait_for(finished, timeout=60)["status"] == "success"
        assert log_on(two) == log_on(one) == ["started 4 False", "finished 4"]
        blob_id = f"compute/{function['namespace']}/{function['id']}/{job_id}"
        download = one.get(f"/catalog/v2/storage/download/{blob_id}", headers=alice)
        resumable = download.json()["data"]["attributes"]["resumable_url"]
        fetched = two.get(resumable.removeprefix(ORIGIN))  # signed by one, served by two
        assert fetched.status_code == 200 and json.loads(fetched.content) == {"double": 8}


def test_healthz_is_unavailable_while_the_bucket_does_not_answer(
    tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    url = f"s3://bc-missing-bucket/blobs?endpoint_url={s3_endpoint.endpoint_url}"
    settings = Settings(data_dir=tmp_path / "data", blob_url=url, public_url=ORIGIN)
    with TestClient(create_app(settings), base_url=ORIGIN) as client:
        health = client.get("/healthz")
        assert health.status_code == 503
        assert set(health.json()["problems"]) == {"blobs"}
        assert "bc-missing-bucket" in health.json()["problems"]["blobs"]


def test_an_s3_outage_answers_503_and_writes_nothing_until_s3_is_back(
    tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    """While S3 refuses connections, reading a job's log or result, uploading a bundle and
    /healthz answer 503 (problem+json naming the blob store, Retry-After), not 500; a bundle
    sent then is not stored; once S3 answers again the same requests work."""
    url = s3_endpoint.new_bucket_url()
    bucket = url.removeprefix("s3://").partition("/")[0]
    settings = Settings(
        data_dir=tmp_path / "data", blob_url=url, public_url=ORIGIN, validate_responses=True
    )
    with TestClient(create_app(settings), base_url=ORIGIN) as client:
        alice = bearer("alice")
        function = create_ready_function(client, alice, make_bundle(SOURCE))
        go = tmp_path / "go"
        go.touch()
        job = run_job(client, alice, function["id"], str(go), 5)
        assert job["status"] == "success", job
        result = f"/catalog/v2/storage/download/{result_blob_path(function, job)}"
        data_url = client.get(result, headers=alice).json()["data"]["attributes"]["resumable_url"]
        waiting = client.post("/compute/v1/functions", json=FUNCTION, headers=alice).json()
        bundle_url = waiting["bundle_upload_url"]
        before = _objects(s3_endpoint, bucket)

        with s3_endpoint.outage():
            for response in (
                client.get(f"{JOBS}/{job['id']}/log", headers=alice),
                client.get(data_url.removeprefix(ORIGIN)),
                upload(client, bundle_url, make_bundle(SOURCE)),
            ):
                assert response.status_code == 503, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) > 0
                assert "blob store is unavailable" in response.json()["detail"]
            health = client.get("/healthz")
            assert health.status_code == 503 and set(health.json()["problems"]) == {"blobs"}
            # what does not touch the blob store is served as ever
            assert client.get(f"{JOBS}/{job['id']}", headers=alice).status_code == 200

        assert _objects(s3_endpoint, bucket) == before  # the refused bundle left nothing
        assert client.get("/healthz").status_code == 200
        log = client.get(f"{JOBS}/{job['id']}/log", headers=alice)
        assert [json.loads(line)["log"] for line in log.text.splitlines()] == [
            "started 5 False",
            "finished 5",
        ]
        assert json.loads(client.get(data_url.removeprefix(ORIGIN)).content) == {"double": 10}
        assert upload(client, bundle_url, make_bundle(SOURCE)).status_code == 200
