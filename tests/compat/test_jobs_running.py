"""The unmodified genuine clients (descarteslabs 3.2.2, earthone 6.2.0) on functions that run.

Each test runs one scenario (``scenarios/execution_*.py``) in the client's own venv, configured
only by its environment variables, once per client, and asserts on what the client observed: job
outcomes, results (plain, ComputeResult-shaped, Serializable), result blobs, logs, failures,
reruns, timings, statistics, deletion with and without results, timeouts and cancels.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from support.compat import CompatClient

__all__ = [
    "test_jobs_run_end_to_end",
    "test_results_blobs_and_deletion",
    "test_smoke_flow_and_like_semantics",
    "test_timeout_cancel_live_log_and_refused_delete",
]

TERMINAL = {"success", "failure", "timeout", "canceled"}
STATISTICS_KEYS = {"cpu", "memory", "network"}
# ``Job.log()`` lines: "<local datetime> <text>" (the client converts the UTC date).
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d (?P<text>.*)$")


def _assert_ran(job: dict[str, Any], status: str = "success", attempts: int = 1) -> None:
    """The fields every executed job has."""
    assert job["status"] == status, job
    assert job["execution_count"] == attempts, job
    assert isinstance(job["runtime"], int) and job["runtime"] >= 0, job
    assert job["last_execution_date_aware"] and job["last_completion_date_aware"], job
    assert job["last_execution_date"] <= job["last_completion_date"], job
    assert job["creation_date"] <= job["last_execution_date"], job
    assert job["statistics"] is not None and set(job["statistics"]) >= STATISTICS_KEYS, job
    assert job["statistics"]["memory"]["peak_bytes"] > 0, job
    if status == "success":
        assert (job["exit_code"], job["error_reason"]) == (0, None), job


@pytest.mark.jobs_share_files
def test_jobs_run_end_to_end(client: CompatClient, namespace: str, tmp_path: Path) -> None:
    obs = client.observe("execution_flow.py", {"MARKER_DIR": str(tmp_path)})
    function_id = obs["function"]["id"]
    assert obs["function"]["namespace"] == namespace

    # fn(...): pending at submission, then run with the merged environment (job wins).
    submitted = obs["single_submitted"]
    assert submitted["status"] == "pending"
    assert (submitted["execution_count"] or 0) == 0
    assert submitted["runtime"] is None and submitted["statistics"] is None
    single = obs["single"]
    _assert_ran(single)
    assert (single["args"], single["kwargs"], single["tags"]) == ([2], {"y": 3}, ["single"])
    assert single["environment"] == {"JOB_ONLY": "job", "SHARED": "job"}
    assert obs["single_result"] == {
        "sum": 5,
        "env": {"FN_ONLY": "function", "SHARED": "job", "JOB_ONLY": "job"},
    }
    # Job.get(id, include=["timings"]): the timings appear only when asked for.
    assert single["provisioning_time"] is None and single["pull_time"] is None
    timings = obs["single_timings"]
    assert isinstance(timings["provisioning_time"], int) and timings["provisioning_time"] >= 0
    assert isinstance(timings["pull_time"], int) and timings["pull_time"] >= 0

    # map with batch_size=2: three bulk requests, each its own reference_id, tags on every one.
    bulk = obs["bulk_requests"]
    assert [request["bulk_args"] for request in bulk] == [[[0], [1]], [[2], [3]], [[4]]]
    assert [request["bulk_kwargs"] for request in bulk] == [
        [{"y": 0}, {"y": 10}],
        [{"y": 20}, {"y": 30}],
        [{"y": 40}],
    ]
    assert all(request["tags"] == ["mapped", "batch"] for request in bulk)
    assert len({request["reference_id"] for request in bulk}) == 3
    assert obs["map_is_success"] is True and obs["map_errors"] == []
    mapped = obs["map_submitted"]
    assert [job["args"] for job in mapped] == [[i] for i in range(5)]
    assert [job["kwargs"] for job in mapped] == [{"y": 10 * i} for i in range(5)]
    assert [job["environment"] for job in mapped] == [{"JOB_ONLY": f"env-{i}"} for i in range(5)]
    assert all(job["tags"] == ["mapped", "batch"] for job in mapped)
    assert {job["function_id"] for job in mapped} == {function_id}
    mapped_ids = [job["id"] for job in mapped]
    assert len(set(mapped_ids)) == 5

    # as_completed yields each job once, in a terminal status; then the function is idle.
    assert sorted(job_id for job_id, _ in obs["as_completed"]) == sorted(mapped_ids)
    assert {status for _, status in obs["as_completed"]} == {"success"}
    after_wait = obs["function_after_wait"]
    assert after_wait["status"] == "ready"
    statistics = after_wait["job_statistics"]
    assert statistics["success"] == 6
    assert all(statistics.get(key, 0) == 0 for key in ("pending", "running", "cancel", "canceling"))
    for job in obs["map_done"]:
        _assert_ran(job)
    function_env = {"FN_ONLY": "function", "SHARED": "function"}
    assert obs["map_results"] == [
        {"sum": 11 * i, "env": {**function_env, "JOB_ONLY": f"env-{i}"}} for i in range(5)
    ]
    assert obs["results_sorted"] == [0, 5, 11, 22, 33, 44]
    assert obs["count_success"] == 6
    assert obs["count_tag_mapped"] == 5

    # A job that prints: stdout and stderr lines, in order, with and without timestamps.
    _assert_ran(obs["printer"])
    assert obs["printer_result"] is None
    expected_lines = ["hello from job 7", "second line", "to stderr"]
    assert obs["printer_log_plain"] == "\n".join(expected_lines)
    assert obs["printer_iter_log_plain"] == expected_lines
    stamped = obs["printer_iter_log"]
    assert [LOG_LINE.match(line).group("text") for line in stamped] == expected_lines  # type: ignore[union-attr]
    assert obs["printer_log"] == "\n".join(stamped)

    # A failing job: failure, exit code 1, the exception as error_reason, traceback in the log.
    failing = obs["failing"]
    _assert_ran(failing, status="failure")
    assert failing["exit_code"] == 1
    assert failing["error_reason"] == "ValueError: boom 9"
    assert obs["failing_result"]["type"] == "ValueError"
    assert "has not completed successfully" in obs["failing_result"]["message"]
    assert "Traceback" in obs["failing_log_plain"]
    assert obs["failing_log_plain"].rstrip().endswith("ValueError: boom 9")

    # Rerun of failed jobs: the flaky job succeeds on its rerun (a fresh attempt budget).
    flaky_first = obs["flaky_first"]
    _assert_ran(flaky_first, status="failure")
    assert flaky_first["error_reason"] == "RuntimeError: first attempt fails"
    assert obs["rerun_returned"] == [[flaky_first["id"], "pending"]]
    flaky = obs["flaky_rerun"]
    _assert_ran(flaky)
    assert flaky["last_execution_date"] > flaky_first["last_completion_date"]
    assert obs["flaky_result"] == "recovered"
    # Rerunning everything reruns only the job still failed; it fails again.
    assert obs["rerun_all_returned"] == [[failing["id"], "pending"]]
    again = obs["failing_after_rerun_all"]
    _assert_ran(again, status="failure")
    assert again["last_completion_date"] > failing["last_completion_date"]

    # Function.get(id, include=["job.statistics"]): 6 + printer + flaky succeeded, 1 failed.
    final = obs["function_statistics"]
    assert final["success"] == 8
    assert final["failure"] == 1
    assert sum(final.values()) == 9


def test_results_blobs_and_deletion(client: CompatClient, namespace: str) -> None:
    obs = client.observe("execution_results.py")

    for name in ("value", "scalar", "bytes", "none", "attributes", "null_with_tags"):
        _assert_ran(obs[f"{name}_job"])

    # Plain values: JSON round trip; bytes that are not JSON come back as bytes.
    assert obs["value_result"] == {"nested": [1, 2.5, "three", None, True]}
    assert (obs["scalar_result"], obs["scalar_result_type"]) == (15.68, "float")
    assert obs["bytes_result_type"] == "bytes"
    assert obs["bytes_result_repr"] == repr(b"\x00raw\xffbytes")

    # None without attributes: no result at all.
    assert (obs["none_result"], obs["none_blob"]) == (None, None)

    # A plain value's blob: the expected id and bookkeeping, no attributes.
    value_job, value_blob = obs["value_job"], obs["value_blob"]
    data = json.dumps({"nested": [1, 2.5, "three", None, True]}).encode()
    assert value_blob["id"] == f"compute/{namespace}/{value_job['function_id']}/{value_job['id']}"
    assert value_blob["name"] == f"{value_job['function_id']}/{value_job['id']}"
    assert value_blob["namespace"] == namespace
    assert (value_blob["storage_type"], value_blob["storage_state"]) == ("compute", "available")
    assert value_blob["size_bytes"] == len(data)
    assert value_blob["hash"] == hashlib.md5(data).hexdigest()
    assert value_blob["description"] is None and value_blob["expires"] is None
    assert value_blob["geometry"] is None
    assert value_blob["tags"] == [] and value_blob["extra_properties"] == {}
    assert value_blob["created_aware"] is True

    # A ComputeResult-shaped return: the value plus every attribute on the blob.
    assert obs["attributes_result"] == {"answer": 42}
    blob = obs["attributes_blob"]
    assert blob["description"] == "the answer, with attributes"
    assert blob["expires_aware"] is True
    assert -31 * 86400 < blob["expires_age_seconds"] < -29 * 86400  # about 30 days ahead
    assert blob["extra_properties"] == {"source": "scenario", "score": 0.5, "count": 3}
    assert blob["geometry_type"] == "Polygon"
    assert blob["geometry"] == {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]]],
    }
    assert blob["tags"] == ["alpha", "beta"]
    assert blob["size_bytes"] == len(b'{"answer": 42}')

    # ComputeResult(None, tags=...): a stored null with the tags.
    assert obs["null_with_tags_result"] is None
    assert obs["null_with_tags_blob"]["tags"] == ["only-tags"]
    assert obs["null_with_tags_blob"]["size_bytes"] == len(b"null")

    # Serializable: raw bytes without a cast_type, the class with one.
    assert obs["point_raw"] == repr(b"point:1,2")
    assert obs["point_cast"] == ["Point", 1.0, 2.0]
    assert obs["points_iter_results"] == [["Point", x, x + 1.0] for x in (1.0, 3.0, 5.0)]
    assert obs["points_results"] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert obs["cast_type_not_serializable"]["type"] == "ValueError"

    # Deleting jobs: both are gone; the result survives only without delete_result.
    assert obs["deleted_job_get"] == ["NotFoundError", "NotFoundError"]
    assert obs["kept_result_after_job_delete"] == {"nested": [1, 2.5, "three", None, True]}
    assert obs["kept_blob_after_job_delete"] is True
    assert obs["dropped_result_after_job_delete"] is None
    assert obs["dropped_blob_after_job_delete"] is None

    # Deleting functions: results kept by default, gone with delete_results=True.
    assert obs["function_delete_kept"] == {"answer": 42}
    assert obs["function_delete_kept_blob_tags"] == ["alpha", "beta"]
    assert obs["function_delete_dropped"] == [None, None, None]
    assert obs["function_delete_dropped_blobs"] == [None, None, None]


def test_timeout_cancel_live_log_and_refused_delete(client: CompatClient) -> None:
    obs = client.observe("execution_stops.py")
    assert obs["live_log"] == "napping"  # served while the job still runs

    refused = obs["delete_while_running"]
    assert refused["raised"] is True and refused["type"] == "ConflictError", refused
    assert "running" in refused["message"]
    assert obs["function_exists_after_refused_delete"] is True

    assert obs["status_after_cancel_call"] in {"cancel", "canceling", "canceled"}
    canceled = obs["canceled"]
    assert canceled["status"] == "canceled", canceled
    assert canceled["last_completion_date_aware"] is True

    timed_out = obs["timed_out"]
    _assert_ran(timed_out, status="timeout")
    assert timed_out["runtime"] >= 2
    assert "Timed out" in timed_out["error_reason"]
    assert obs["timed_out_result"]["type"] == "ValueError"
    assert "has not completed successfully" in obs["timed_out_result"]["message"]


def test_smoke_flow_and_like_semantics(client: CompatClient, flavor: str, namespace: str) -> None:
    """The core flow; ``.like()`` is ``ilike`` on the wire in 3.2.2, ``like`` in earthone."""
    obs = client.observe("execution_smoke.py")
    function = obs["function"]
    assert function["namespace"] == namespace
    assert function["owner"] == f"user:{namespace}"

    job = obs["job"]
    _assert_ran(job)
    assert obs["result"] == "Hello, world! (function)"

    blob = obs["blob"]
    assert blob["id"] == f"compute/{namespace}/{function['id']}/{job['id']}"
    assert blob["namespace"] == namespace
    assert blob["description"] == "greeting for world"
    assert blob["extra_properties"] == {"length": 5}
    assert blob["tags"] == ["greeting"]
    assert blob["geometry_type"] == "Polygon"
    assert blob["geometry"]["coordinates"] == [
        [[10.0, 10.0], [11.0, 10.0], [11.0, 11.0], [10.0, 11.0], [10.0, 10.0]]
    ]
    assert blob["expires"] is None

    assert obs["log"] == "greeting world"
    match = LOG_LINE.match(obs["log_stamped"])
    assert match is not None and match.group("text") == "greeting world"

    assert obs["map_is_success"] is True
    statistics = obs["job_statistics"]
    assert statistics["success"] == 4
    assert all(statistics.get(key, 0) == 0 for key in ("pending", "running", "cancel", "canceling"))
    assert obs["map_results"] == ["Hello, a? (function)", "Hello, b! (job)", "Hello, c. (function)"]
    assert obs["map_tags"] == [["smoke"]] * 3
    assert obs["results_sorted"] == sorted([obs["result"], *obs["map_results"]])

    assert obs["like_exact_case"] == 1
    if flavor == "earthone":  # .like() is case-sensitive "like", .ilike() is "ilike"
        assert obs["like_other_case"] == 0
        assert obs["ilike_other_case"] == 1
    else:  # 3.2.2 sends "ilike" for .like() and has no .ilike()
        assert obs["like_other_case"] == 1
        assert "ilike_other_case" not in obs
    assert obs["job_tag_count"] == 3
    assert obs["function_deleted"] is True
