"""The functions API in-process, with response validation on: happy paths and bad input."""

from __future__ import annotations

import gzip
import time

import pytest
from starlette.testclient import TestClient

from support.inprocess import (
    FUNCTION,
    ORIGIN,
    bearer,
    create_ready_function,
    make_bundle,
    upload,
    wait_for,
)

pytestmark = pytest.mark.both_databases

FUNCTIONS = "/compute/v1/functions"


def create(client: TestClient, headers: dict[str, str], **fields: object) -> dict:
    response = client.post(FUNCTIONS, json={**FUNCTION, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_fills_documented_defaults_and_namespace(client: TestClient) -> None:
    headers = bearer("alice", org="acme")
    body = client.post(
        FUNCTIONS, json={"name": "f", "image": "python3.11:latest"}, headers=headers
    ).json()
    function = body["function"]
    assert function["status"] == "awaiting_bundle"
    assert (function["cpus"], function["memory"]) == (0.25, 512)
    assert (function["maximum_concurrency"], function["timeout"], function["retry_count"]) == (
        10,
        900,
        0,
    )
    assert function["enabled"] is True and function["auto_start"] is True
    # namespace is {org}:{sha1(sub)}, exactly what the genuine client computes offline
    assert function["namespace"] == "acme:522b276a356bdf39013dfabea2cd43e141ecc9e8"
    assert body["bundle_upload_url"].startswith(f"{ORIGIN}/presigned/bundles/{function['id']}?")
    assert function["creation_date"].endswith("+00:00")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"cpus": 1, "memory": 512}, "memory", "2048 to 8192"),
        ({"cpus": 3, "memory": 2048}, "cpus", None),
        ({"cpus": 0.25, "memory": 1536}, "memory", "512, 1024, 2048"),
        ({"image": "ubuntu:latest"}, "image", "python3"),
        ({"timeout": 0}, "timeout", None),
        ({"maximum_concurrency": -1}, "maximum_concurrency", None),
        ({"retry_count": -1}, "retry_count", None),
    ],
)
def test_create_rejects_broken_rules(
    client: TestClient, alice: dict, fields: dict, field: str, words: str | None
) -> None:
    response = client.post(FUNCTIONS, json={**FUNCTION, **fields}, headers=alice)
    assert response.status_code in (400, 422), response.text
    problem = response.json()
    assert isinstance(problem["detail"], str)
    text = response.text
    assert field in text
    if words:
        assert words in text
    assert client.get(FUNCTIONS, headers=alice).json()["meta"]["total"] == 0


def test_create_requires_image(client: TestClient, alice: dict) -> None:
    response = client.post(FUNCTIONS, json={"name": "f"}, headers=alice)
    assert response.status_code == 400
    assert "image" in response.json()["detail"]


def test_auth_is_required_and_checked(client: TestClient) -> None:
    assert client.get(FUNCTIONS).status_code == 401
    assert client.get(FUNCTIONS, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    expired = bearer("alice", exp=int(time.time()) - 10)
    response = client.get(FUNCTIONS, headers=expired)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_bundle_upload_build_and_ready(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice)
    assert function["status"] == "ready"
    log = client.get(f"{FUNCTIONS}/{function['id']}/log", headers=alice)
    assert log.status_code == 200
    assert "content-encoding" not in log.headers
    assert "Build succeeded" in gzip.decompress(log.content).decode()


def test_auto_start_false_ends_stopped(client: TestClient, alice: dict) -> None:
    assert create_ready_function(client, alice, auto_start=False)["status"] == "stopped"


def test_broken_bundle_fails_build_with_reason(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, bundle=make_bundle("def nope(:\n"))
    assert function["status"] == "build_failed"
    log = gzip.decompress(client.get(f"{FUNCTIONS}/{function['id']}/log", headers=alice).content)
    assert b"SyntaxError" in log or b"syntax" in log.lower()
    job = client.post(
        "/compute/v1/jobs", json={"function_id": function["id"], "args": []}, headers=alice
    )
    assert job.status_code == 409
    assert "build" in job.json()["detail"]


def test_upload_signature_is_checked(client: TestClient, alice: dict) -> None:
    body = create(client, alice)
    url: str = body["bundle_upload_url"]
    tampered = url.replace("signature=", "signature=00")
    assert upload(client, tampered, make_bundle()).status_code == 403
    other = url.replace(body["function"]["id"], create(client, alice)["function"]["id"])
    assert upload(client, other, make_bundle()).status_code == 403
    expired = url.split("?")[0] + "?expires=1&signature=" + url.split("signature=")[1]
    assert upload(client, expired, make_bundle()).status_code == 403


def test_upload_over_the_size_cap_is_refused(client: TestClient, alice: dict, settings) -> None:
    body = create(client, alice)
    response = upload(client, body["bundle_upload_url"], b"x" * (settings.max_bundle_bytes + 1))
    assert response.status_code == 400
    assert "larger" in response.json()["detail"]


def test_bundle_completion_without_upload_is_a_conflict(client: TestClient, alice: dict) -> None:
    function_id = create(client, alice)["function"]["id"]
    response = client.post(f"{FUNCTIONS}/{function_id}/bundle", headers=alice)
    assert response.status_code == 409
    assert "PUT" in response.json()["detail"]


def test_patch_edits_validates_and_keeps_image(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice)
    url = f"{FUNCTIONS}/{function['id']}"
    patched = client.patch(
        url, json={"cpus": 2, "memory": 4096, "environment": {"A": "B"}}, headers=alice
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["cpus"], patched.json()["memory"]) == (2, 4096)
    assert patched.json()["environment"] == {"A": "B"}
    assert client.patch(url, json={"memory": 512}, headers=alice).status_code == 422
    assert client.patch(url, json={"image": "python3.12:latest"}, headers=alice).status_code == 400
    assert client.get(url, headers=alice).json()["image"] == "python3.11:latest"


def test_start_stop_enable_disable(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice)
    url = f"{FUNCTIONS}/{function['id']}"
    assert (
        client.patch(url, json={"status": "stopped"}, headers=alice).json()["status"] == "stopped"
    )
    assert client.patch(url, json={"status": "ready"}, headers=alice).json()["status"] == "ready"
    assert client.patch(url, json={"enabled": False}, headers=alice).json()["enabled"] is False
    refused = client.post("/compute/v1/jobs", json={"function_id": function["id"]}, headers=alice)
    assert refused.status_code == 409 and "disabled" in refused.json()["detail"]
    assert client.patch(url, json={"enabled": True}, headers=alice).json()["enabled"] is True


def test_start_before_build_is_a_conflict(client: TestClient, alice: dict) -> None:
    function_id = create(client, alice)["function"]["id"]
    response = client.patch(f"{FUNCTIONS}/{function_id}", json={"status": "ready"}, headers=alice)
    assert response.status_code == 409


def test_job_statistics_included_on_request(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice)
    url = f"{FUNCTIONS}/{function['id']}"
    assert "job_statistics" not in client.get(url, headers=alice).json()
    for include in ("job.statistics", "job_statistics"):
        stats = client.get(url, params={"include": include}, headers=alice).json()
        assert stats["job_statistics"]["pending"] == 0
    assert client.get(url, params={"include": "bogus"}, headers=alice).status_code == 400


def test_other_owner_sees_404(client: TestClient, alice: dict, bob: dict) -> None:
    function_id = create(client, alice)["function"]["id"]
    url = f"{FUNCTIONS}/{function_id}"
    assert client.get(url, headers=bob).status_code == 404
    assert client.patch(url, json={"timeout": 5}, headers=bob).status_code == 404
    assert client.delete(url, headers=bob).status_code == 404
    assert client.get(FUNCTIONS, headers=bob).json()["meta"]["total"] == 0
    assert client.get(url, headers=alice).status_code == 200


def test_delete_removes_function_and_jobs(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice)
    client.patch(f"{FUNCTIONS}/{function['id']}", json={"status": "stopped"}, headers=alice)
    job = client.post("/compute/v1/jobs", json={"function_id": function["id"]}, headers=alice)
    assert job.status_code == 201
    assert client.delete(f"{FUNCTIONS}/{function['id']}", headers=alice).status_code == 204
    assert client.get(f"{FUNCTIONS}/{function['id']}", headers=alice).status_code == 404
    assert client.get(f"/compute/v1/jobs/{job.json()['id']}", headers=alice).status_code == 404


def test_state_survives_restart(settings, alice: dict) -> None:
    from batch_compute_mock.app import create_app

    with TestClient(create_app(settings), base_url=ORIGIN) as first:
        function = create_ready_function(first, alice)
    with TestClient(create_app(settings), base_url=ORIGIN) as second:
        again = second.get(f"{FUNCTIONS}/{function['id']}", headers=alice).json()
    assert again == function


def test_build_log_before_the_build_says_so(client: TestClient, alice: dict) -> None:
    function_id = create(client, alice)["function"]["id"]
    log = client.get(f"{FUNCTIONS}/{function_id}/log", headers=alice)
    assert log.status_code == 200
    assert gzip.decompress(log.content) == (
        b"The build has not finished yet: the function is awaiting_bundle.\n"
    )
    assert client.get(f"{FUNCTIONS}/missing/log", headers=alice).status_code == 404


@pytest.mark.parametrize("image", ["python3.11:latest\n", "python3.\u0661\u0661:x", "py:3"])
def test_image_must_match_exactly(client: TestClient, alice: dict, image: str) -> None:
    response = client.post(FUNCTIONS, json={**FUNCTION, "image": image}, headers=alice)
    assert response.status_code in (400, 422)


def test_jobs_waiting_on_a_failed_build_fail_too(client: TestClient, alice: dict) -> None:
    body = create(client, alice)
    function_id = body["function"]["id"]
    job = client.post("/compute/v1/jobs", json={"function_id": function_id}, headers=alice)
    assert job.status_code == 201 and job.json()["status"] == "pending"
    assert (
        upload(client, body["bundle_upload_url"], make_bundle("syntax error(")).status_code == 200
    )
    client.post(f"{FUNCTIONS}/{function_id}/bundle", headers=alice)

    def failed() -> dict | None:
        current = client.get(f"/compute/v1/jobs/{job.json()['id']}", headers=alice).json()
        return current if current["status"] != "pending" else None

    ended = wait_for(failed)
    assert ended["status"] == "failure"
    assert "failed to build" in ended["error_reason"]
