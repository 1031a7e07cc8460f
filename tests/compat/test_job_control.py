"""Controlling jobs that really run, through the genuine clients (once per client).

Cancel of running and pending jobs (``job.cancel()``, ``fn.cancel_jobs()``, ``JobSearch.cancel()``),
stop / start, disable / enable, ``JobSearch.rerun()`` and ``.delete(delete_results=...)``,
``fn.delete_jobs``, ``Job(...).save()`` and PATCH, ``Job.function``, and the ``Document``
helpers ``update`` / ``to_dict`` / ``is_modified`` / ``state`` (``scenarios/job_control.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.compat import CompatClient

__all__ = ["test_cancel_stop_disable_rerun_delete_and_documents"]

STATISTICS = (
    "pending",
    "running",
    "cancel",
    "canceling",
    "success",
    "failure",
    "timeout",
    "canceled",
)


@pytest.mark.jobs_share_files
def test_cancel_stop_disable_rerun_delete_and_documents(
    client: CompatClient, tmp_path: Path
) -> None:
    obs = client.observe("job_control.py", {"MARKER_DIR": str(tmp_path)})

    # Document helpers on Function.
    assert obs["new_function_state"] == ["new", True]
    assert obs["saved_function_state"] == ["saved", False]
    assert obs["function_modified"] == [True, "modified"]
    assert obs["function_only_modified"] == {"timeout": 120, "environment": {"JOB_ENV": "function"}}
    after = obs["function_after_update"]
    assert (after["timeout"], after["environment"], after["is_modified"]) == (
        120,
        {"JOB_ENV": "function"},
        False,
    )
    assert after["job_statistics"] == dict.fromkeys(STATISTICS, 0)
    assert {"id", "namespace", "owner", "status", "job_statistics"} <= set(
        obs["function_to_dict_keys"]
    )
    assert not {"id", "namespace", "owner", "status"} & set(obs["function_to_dict_exclude"])
    assert obs["update_unknown"]["type"] == "KeyError"
    assert obs["update_unknown_ignored"] is False

    # Running jobs: "cancel" at once, then canceled (killed: exit code 137).
    snapshot = obs["running_snapshot"]
    assert snapshot["status"] == "running" and snapshot["last_execution_date_aware"] is True
    assert obs["cancel_running_job"] == "cancel"
    assert obs["cancel_running_fn"] == ["cancel"]
    assert obs["cancel_running_search"] == ["cancel"]
    for job in obs["canceled_running"]:
        assert job["status"] == "canceled", job
        assert job["last_completion_date_aware"] is True, job
        # It ran: the canceled attempt counts.
        assert job["execution_count"] == 1 and job["last_execution_date_aware"] is True, job

    # Pending jobs of a stopped function.
    assert obs["pending_while_stopped"] == ["pending"] * 4
    assert obs["cancel_query_and_ids"] == [[True, "canceled"]]  # query AND ids
    assert obs["cancel_search_untagged"] == [[True, "canceled"]]
    assert obs["after_two_cancels"] == ["canceled", "pending", "pending", "canceled"]
    assert obs["cancel_search_rest"] is True
    assert obs["after_pending_cancel"] == ["canceled"] * 4
    assert obs["late_while_stopped"] == "pending"
    assert obs["late_after_start"] == [
        "success",
        {"name": "late", "tag": "none", "env": "function"},
    ]

    # Disabled: refused with ConflictError naming the reason.
    for key in ("disabled_submit", "disabled_map", "disabled_rerun"):
        assert obs[key]["type"] == "ConflictError", obs[key]
        assert "disabled" in obs[key]["message"], obs[key]
    assert obs["rerun_search"] == ["pending", "pending"]
    assert obs["after_rerun"] == ["success", "success"]

    # Job as a document.
    assert obs["new_job_state"] == ["new", None]
    assert obs["saved_job_state"] == ["saved", False, "pending"]
    assert obs["job_modified"] == [True, {"tags": ["doc", "edited"], "kwargs": {"tag": "edited"}}]
    assert obs["job_after_patch"] == [["doc", "edited"], {"tag": "edited"}]
    assert {"id", "function_id", "status", "statistics"} <= set(obs["job_to_dict_keys"])
    assert obs["job_function"] == ["Function", True]
    assert obs["document_job"] == ["success", {"name": "doc", "tag": "edited", "env": "job"}]
    assert obs["tags_after_finish"] == ["late-tag"]
    assert obs["args_after_finish"]["type"] == "ConflictError"

    # Deleting by query and by ids; results survive only without delete_results.
    assert obs["deleted"] == [True, True, obs["deleted_ids"]]
    assert obs["results_after_delete"] == [True, False, False, False]
    final = obs["final_statistics"]
    assert (final["canceled"], final["success"], final["pending"]) == (5, 4, 0)
