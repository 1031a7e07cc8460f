"""The jobs API in-process (no executor): submission, bulk, edits, cancel, rerun, delete."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from batch_compute_mock.settings import Settings
from support.inprocess import create_ready_function
from support.store_moves import move_job

pytestmark = pytest.mark.both_databases

JOBS = "/compute/v1/jobs"


@pytest.fixture
def function(client: TestClient, alice: dict) -> dict:
    return create_ready_function(client, alice)


def submit(client: TestClient, headers: dict, function_id: str, **fields: object) -> dict:
    response = client.post(
        JOBS,
        json={"function_id": function_id, "args": [1, 2], "kwargs": {}, "tags": [], **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_create_and_get(client: TestClient, alice: dict, function: dict) -> None:
    job = submit(client, alice, function["id"], environment={"X": "1"}, tags=["a"])
    assert job["status"] == "pending" and job["function_id"] == function["id"]
    assert (job["args"], job["kwargs"], job["environment"], job["tags"]) == (
        [1, 2],
        {},
        {"X": "1"},
        ["a"],
    )
    fetched = client.get(f"{JOBS}/{job['id']}", headers=alice).json()
    assert fetched == job
    timed = client.get(f"{JOBS}/{job['id']}", params={"include": "timings"}, headers=alice).json()
    assert "provisioning_time" in timed and "pull_time" in timed
    assert (
        client.get(f"{JOBS}/{job['id']}", params={"include": "nope"}, headers=alice).status_code
        == 400
    )


def test_jobs_accepted_while_building_or_awaiting_bundle(client: TestClient, alice: dict) -> None:
    created = client.post(
        "/compute/v1/functions", json={"name": "f", "image": "python3.11:x"}, headers=alice
    ).json()["function"]
    assert submit(client, alice, created["id"])["status"] == "pending"


def test_unknown_function_or_job_is_404(
    client: TestClient, alice: dict, bob: dict, function: dict
) -> None:
    assert client.post(JOBS, json={"function_id": "nope"}, headers=alice).status_code == 404
    assert client.post(JOBS, json={"function_id": function["id"]}, headers=bob).status_code == 404
    job = submit(client, alice, function["id"])
    assert client.get(f"{JOBS}/{job['id']}", headers=bob).status_code == 404
    assert client.get(f"{JOBS}/missing", headers=alice).json()["detail"] == "Job missing not found."


def test_bulk_create_aligned_and_idempotent(
    client: TestClient, alice: dict, function: dict
) -> None:
    body = {
        "function_id": function["id"],
        "bulk_args": [[i] for i in range(5)],
        "bulk_kwargs": [{"k": i} for i in range(5)],
        "bulk_environments": None,
        "reference_id": "ref-1",
        "tags": ["batch"],
    }
    first = client.post(f"{JOBS}/bulk", json=body, headers=alice)
    assert first.status_code == 201, first.text
    created = first.json()
    assert [job["args"] for job in created] == [[i] for i in range(5)]
    assert [job["kwargs"] for job in created] == [{"k": i} for i in range(5)]
    assert all(job["tags"] == ["batch"] for job in created)
    again = client.post(f"{JOBS}/bulk", json=body, headers=alice)
    assert [job["id"] for job in again.json()] == [job["id"] for job in created]
    total = client.get(JOBS, params={"limit": 0}, headers=alice).json()["meta"]["total"]
    assert total == 5


def test_bulk_rejects_misaligned_and_oversized(
    client: TestClient, alice: dict, function: dict
) -> None:
    misaligned = {"function_id": function["id"], "bulk_args": [[1], [2]], "bulk_kwargs": [{}]}
    response = client.post(f"{JOBS}/bulk", json=misaligned, headers=alice)
    assert response.status_code == 422
    assert "bulk_kwargs" in response.json()["errors"]
    too_many = {"function_id": function["id"], "bulk_args": [[i] for i in range(1001)]}
    assert client.post(f"{JOBS}/bulk", json=too_many, headers=alice).status_code == 400
    assert client.get(JOBS, params={"limit": 0}, headers=alice).json()["meta"]["total"] == 0


def test_patch_job_fields(client: TestClient, alice: dict, function: dict) -> None:
    job = submit(client, alice, function["id"])
    patched = client.patch(
        f"{JOBS}/{job['id']}", json={"tags": ["x", "y"], "args": [3]}, headers=alice
    )
    assert patched.status_code == 200
    assert patched.json()["tags"] == ["x", "y"] and patched.json()["args"] == [3]


def test_cancel_pending_and_terminal(
    client: TestClient, alice: dict, function: dict, settings: Settings
) -> None:
    job = submit(client, alice, function["id"])
    canceled = client.post(f"{JOBS}/{job['id']}/cancel", headers=alice).json()
    assert canceled["status"] == "canceled"
    done = submit(client, alice, function["id"])
    move_job(settings, done["id"], "success")
    assert client.post(f"{JOBS}/{done['id']}/cancel", headers=alice).json()["status"] == "success"
    running = submit(client, alice, function["id"])
    move_job(settings, running["id"], "running")
    assert client.post(f"{JOBS}/{running['id']}/cancel", headers=alice).json()["status"] == "cancel"


@pytest.mark.parametrize("spelling", ["True", "False", "true", "false"])
def test_delete_job_accepts_both_spellings(
    client: TestClient, alice: dict, function: dict, spelling: str
) -> None:
    job = submit(client, alice, function["id"])
    response = client.delete(
        f"{JOBS}/{job['id']}", params={"delete_results": spelling}, headers=alice
    )
    assert response.status_code == 204
    assert client.get(f"{JOBS}/{job['id']}", headers=alice).status_code == 404


def test_running_job_cannot_be_deleted(
    client: TestClient, alice: dict, function: dict, settings: Settings
) -> None:
    job = submit(client, alice, function["id"])
    move_job(settings, job["id"], "running")
    response = client.delete(
        f"{JOBS}/{job['id']}", params={"delete_results": "False"}, headers=alice
    )
    assert response.status_code == 409
    conflict = client.delete(f"/compute/v1/functions/{function['id']}", headers=alice)
    assert conflict.status_code == 409 and "running" in conflict.json()["detail"]


def test_log_is_empty_until_something_runs(client: TestClient, alice: dict, function: dict) -> None:
    job = submit(client, alice, function["id"])
    response = client.get(f"{JOBS}/{job['id']}/log", headers=alice)
    assert response.status_code == 200 and response.content == b""


def test_cancel_rerun_delete_by_query(
    client: TestClient, alice: dict, function: dict, settings: Settings
) -> None:
    ids = [submit(client, alice, function["id"], tags=[f"t{i % 2}"])["id"] for i in range(4)]
    flt = [
        {"name": "function_id", "op": "eq", "val": function["id"]},
        {"name": "tags", "op": "eq", "val": "t0"},
    ]
    canceled = client.post(f"{JOBS}/cancel", json={"filter": flt}, headers=alice).json()
    assert sorted(job["id"] for job in canceled) == sorted(ids[0::2])
    assert all(job["status"] == "canceled" for job in canceled)
    move_job(settings, ids[1], "failure")
    rerun = client.post(
        f"{JOBS}/rerun",
        json={"filter": [{"name": "function_id", "op": "eq", "val": function["id"]}]},
        headers=alice,
    ).json()
    assert sorted(job["id"] for job in rerun) == sorted([ids[0], ids[1], ids[2]])
    assert all(job["status"] == "pending" for job in rerun)
    move_job(settings, ids[3], "running")
    deleted = client.post(
        f"{JOBS}/delete",
        json={
            "filter": [{"name": "function_id", "op": "eq", "val": function["id"]}],
            "delete_results": True,
        },
        headers=alice,
    ).json()
    assert sorted(deleted) == sorted(ids[:3])  # the running one is skipped
    assert client.get(JOBS, params={"limit": 0}, headers=alice).json()["meta"]["total"] == 1


def test_bad_query_bodies_are_400(client: TestClient, alice: dict) -> None:
    bad = client.post(
        f"{JOBS}/cancel", json={"filter": [{"name": "bogus", "op": "eq", "val": 1}]}, headers=alice
    )
    assert bad.status_code == 400 and "bogus" in bad.json()["detail"]


def test_job_statistics_counts(
    client: TestClient, alice: dict, function: dict, settings: Settings
) -> None:
    ids = [submit(client, alice, function["id"])["id"] for _ in range(3)]
    move_job(settings, ids[0], "success")
    stats = client.get(
        f"/compute/v1/functions/{function['id']}",
        params={"include": "job.statistics"},
        headers=alice,
    ).json()
    assert stats["job_statistics"]["pending"] == 2
    assert stats["job_statistics"]["success"] == 1
    assert stats["job_statistics"]["running"] == 0


def test_empty_patch_changes_nothing(client: TestClient, alice: dict, function: dict) -> None:
    job = submit(client, alice, function["id"], tags=["keep"])
    patched = client.patch(f"{JOBS}/{job['id']}", json={}, headers=alice)
    assert patched.status_code == 200
    assert patched.json() == job


def test_inputs_of_a_finished_job_are_frozen(
    client: TestClient, alice: dict, function: dict, settings: Settings
) -> None:
    job = submit(client, alice, function["id"])
    move_job(settings, job["id"], "success")
    refused = client.patch(f"{JOBS}/{job['id']}", json={"args": [9]}, headers=alice)
    assert refused.status_code == 409 and "pending" in refused.json()["detail"]
    tagged = client.patch(f"{JOBS}/{job['id']}", json={"tags": ["late"]}, headers=alice)
    assert tagged.status_code == 200 and tagged.json()["tags"] == ["late"]
