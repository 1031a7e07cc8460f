"""The unmodified genuine clients (descarteslabs 3.2.2, earthone 6.2.0) manage functions and jobs.

Each test runs one scenario script (``scenarios/``) in the client's own venv, configured only by
its ``DESCARTESLABS_*`` / ``EARTHONE_*`` environment variables, and asserts on the observations it
prints. Every test runs once per client (the ``client`` fixture is parametrized).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from support.compat import CompatClient

__all__ = [
    "test_errors_map_to_client_exceptions",
    "test_function_lifecycle",
    "test_jobs_are_submitted_found_and_canceled",
    "test_other_users_cannot_see_or_touch_a_function",
]

DEFAULTS = {"maximum_concurrency": 10, "timeout": 900, "retry_count": 0, "auto_start": True}


def _assert_function(fields: dict[str, Any], *, name: str, namespace: str, status: str) -> None:
    assert fields["name"] == name
    assert fields["image"] == "python3.11:latest"
    assert fields["cpus"] == 1.0
    assert fields["memory"] == 2048
    assert fields["status"] == status
    assert fields["enabled"] is True
    assert fields["namespace"] == namespace
    assert fields["owner"] == f"user:{namespace}"
    for key, value in DEFAULTS.items():
        assert fields[key] == value, key
    assert fields["creation_date_aware"] is True
    assert fields["modified_date_aware"] is True
    assert -5 < fields["creation_date_age_seconds"] < 300


def test_function_lifecycle(client: CompatClient, namespace: str) -> None:
    obs = client.observe("function_lifecycle.py")
    name = obs["name"]

    _assert_function(obs["after_save"], name=name, namespace=namespace, status="building")
    function_id = obs["after_save"]["id"]
    assert function_id

    assert obs["ready_status"] == "ready"
    _assert_function(obs["ready"], name=name, namespace=namespace, status="ready")
    assert obs["search_count"] == 1
    assert obs["search_ids"] == [function_id]
    assert obs["list_ids"] == [function_id]
    assert obs["get"]["id"] == function_id
    _assert_function(obs["get"], name=name, namespace=namespace, status="ready")

    assert obs["stop_returned_status"] == "stopped"
    assert obs["after_stop"] == {"status": "stopped", "enabled": True}
    assert obs["after_start"] == {"status": "ready", "enabled": True}
    assert obs["after_disable"] == {"status": "ready", "enabled": False}
    assert obs["get_after_disable_enabled"] is False
    assert obs["after_enable"] == {"status": "ready", "enabled": True}

    assert obs["build_log_type"] == "str"
    assert "Build succeeded" in obs["build_log"]

    assert obs["get_after_delete"]["raised"] is True
    assert obs["get_after_delete"]["type"] == "NotFoundError"
    assert obs["search_count_after_delete"] == 0


def test_jobs_are_submitted_found_and_canceled(client: CompatClient) -> None:
    obs = client.observe("job_submission.py")
    function_id = obs["function"]["id"]
    assert obs["ready_status"] == "ready"
    assert obs["function"]["status"] == "stopped"

    single = obs["single"]
    assert single["function_id"] == function_id
    assert single["args"] == [1, 2]
    assert single["kwargs"] == {}
    assert single["tags"] == []
    assert single["status"] == "pending"
    assert single["creation_date_aware"] is True

    assert obs["bulk_is_success"] is True
    assert obs["bulk_errors"] == []
    assert [job["args"] for job in obs["bulk"]] == [[1], [2], [3]]
    assert {job["function_id"] for job in obs["bulk"]} == {function_id}
    assert {job["status"] for job in obs["bulk"]} == {"pending"}
    bulk_ids = [job["id"] for job in obs["bulk"]]
    all_ids = sorted([single["id"], *bulk_ids])
    assert len(set(all_ids)) == 4

    assert obs["count_all"] == 4
    assert obs["count_pending"] == 4
    assert obs["count_canceled"] == 0
    assert obs["listed_ids"] == all_ids
    assert obs["get_single"]["id"] == single["id"]
    assert obs["get_single"]["args"] == [1, 2]
    assert obs["get_single"]["status"] == "pending"

    refused = obs["submit_while_disabled"]
    assert refused["raised"] is True
    assert refused["type"] == "ConflictError"
    assert "disabled" in refused["message"]
    assert obs["count_after_disabled_submit"] == 4

    assert obs["single_after_cancel"] == "canceled"
    assert obs["single_refetched_status"] == "canceled"
    assert obs["cancel_jobs_returned"] == sorted([job_id, "canceled"] for job_id in bulk_ids)
    assert obs["cancel_jobs_returned_function_ids"] == [function_id]
    assert obs["counts_after_cancel"] == {"all": 4, "pending": 0, "canceled": 4}
    assert obs["statuses_after_cancel"] == [[job_id, "canceled"] for job_id in all_ids]

    assert obs["get_function_after_delete"]["type"] == "NotFoundError"
    assert obs["get_jobs_after_delete"] == ["NotFoundError"] * 4


def test_other_users_cannot_see_or_touch_a_function(
    client: CompatClient, user_token: Callable[..., str]
) -> None:
    second = user_token(f"someone-else-{uuid.uuid4().hex}@example.com")
    obs = client.observe("owner_isolation.py", {"SECOND_TOKEN": second})
    assert obs["ready_status"] == "ready"
    function_id, job_id = obs["owner_get_function"], obs["owner_get_job"]
    assert function_id and job_id

    for key in ("other_get_function", "other_get_job", "other_cancel_job"):
        assert obs[key]["raised"] is True, key
        assert obs[key]["type"] == "NotFoundError", key
    assert obs["other_search_count"] == 0
    assert function_id not in obs["other_list_ids"]
    assert obs["other_job_count"] == 0
    assert obs["owner_job_status_after_other_cancel"] == "pending"
    assert obs["owner_function_ids"] == [function_id]


def test_errors_map_to_client_exceptions(client: CompatClient) -> None:
    obs = client.observe("error_mapping.py")

    bad = obs["bad_memory"]
    assert bad["raised"] is True
    assert bad["type"] in {"ValidationError", "BadRequestError"}
    assert "BadRequestError" in bad["bases"]
    assert "memory" in bad["message"]
    assert "512" in bad["message"]
    assert obs["bad_memory_left_behind"] == 0

    for key in ("bad_cpus", "bad_image"):
        assert obs[key]["type"] in {"ValidationError", "BadRequestError"}, obs[key]
    assert "cpus" in obs["bad_cpus"]["message"]
    assert "image" in obs["bad_image"]["message"]

    for key in ("missing_job", "missing_function", "missing_function_jobs"):
        assert obs[key]["raised"] is True, key
        assert obs[key]["type"] == "NotFoundError", key
        assert obs[key]["message"].strip(), key


def test_dotted_path_requirements_modules_data_and_a_failed_build(client: CompatClient) -> None:
    obs = client.observe("function_packaging.py")
    assert obs["dotted_name"] == "run"
    job = obs["dotted_job"]
    assert job["status"] == "success", (job, obs["dotted_error_log"])
    assert obs["dotted_result"] == {
        "double": 42,
        "label": "dotted",
        "packaged": "packaged data",
        "top": "top-level data",
        "attrs": "attrs",
    }
    assert "Build succeeded" in obs["dotted_build_log"]
    assert "attrs" in obs["dotted_build_log"]

    # A requirement the server's environment lacks: BUILD_FAILED, and the log says why.
    assert obs["broken_status"] == "build_failed" and obs["broken_is_build_failed"] is True
    log = obs["broken_build_log"]
    assert "surely-not-installed-compat-pkg" in log
    assert log.rstrip().splitlines()[-1].split(" ", 1)[1].startswith("Build failed")
    waits = ("broken_wait", "broken_as_completed")
    for key in (key for key in waits if key in obs):  # the client's own RuntimeError
        assert obs[key]["type"] == "RuntimeError", obs[key]
        assert "failed to build" in obs[key]["message"]
    for key in ("broken_submit", "broken_map", "broken_start"):
        assert obs[key]["type"] == "ConflictError", obs[key]
        assert "build" in obs[key]["message"]
    # A job accepted while the build ran ends failed with it; once failed, submissions are
    # refused (which of the two the first submission meets depends on the build's speed).
    if "broken_early_refused" in obs:
        assert obs["broken_early_refused"] == "ConflictError"
    else:
        assert obs["broken_early_job"] == "failure"
        assert "broken_as_completed" in obs
