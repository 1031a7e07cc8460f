"""Controlling jobs that really run: cancel (pending and running, three ways), stop / start,
disable / enable, rerun and delete by query, ``Job`` created and edited as a document, and the
``Document`` helpers (``to_dict``, ``update``, ``is_modified``, ``state``) on both classes.

``hold`` naps until its marker file exists (``MARKER_DIR``, shared with the server's jobs) or
30 s pass, so a job can be kept running and then released.
"""

from __future__ import annotations

import os
from typing import Any

from _harness import (
    Sdk,
    capture_error,
    execution_fields,
    plain,
    run_scenario,
    unique_name,
    wait_until,
)

__all__ = ["hold", "main"]

WAIT = {"timeout": 60, "interval": 0.1}


def hold(name, marker_dir, tag="none"):
    import os
    import time

    print(f"holding {name}", flush=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(marker_dir, name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"name": name, "tag": tag, "env": os.environ.get("JOB_ENV")}


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job, JobStatus = sdk.Function, sdk.Job, sdk.JobStatus
    markers = os.environ["MARKER_DIR"]

    def release(name: str) -> None:
        with open(os.path.join(markers, name), "w") as handle:
            handle.write("go")

    def status(job: Any) -> str:
        return str(plain(Job.get(job.id).status))

    def running(*jobs: Any) -> None:
        for job in jobs:
            wait_until(lambda job=job: status(job), "running".__eq__, timeout=30, what=job.id)

    fn = Function(
        hold, name=unique_name("control"), image="python3.11:latest", cpus=0.25, memory=512,
        maximum_concurrency=3,
    )  # fmt: skip
    obs["new_function_state"] = [plain(fn.state), fn.is_modified]
    fn.save()
    obs["saved_function_state"] = [plain(fn.state), fn.is_modified]

    # Document helpers on Function: update() + save() is a PATCH; to_dict; refresh(includes).
    fn.update(timeout=120, environment={"JOB_ENV": "function"})
    obs["function_modified"] = [fn.is_modified, plain(fn.state)]
    obs["function_only_modified"] = fn.to_dict(only_modified=True)
    fn.save()
    fn.refresh(includes="job.statistics")
    obs["function_after_update"] = {
        "timeout": fn.timeout, "environment": plain(fn.environment),
        "is_modified": fn.is_modified, "job_statistics": plain(fn.job_statistics),
    }  # fmt: skip
    whole = fn.to_dict()
    obs["function_to_dict_keys"] = sorted(whole)
    obs["function_to_dict_exclude"] = sorted(fn.to_dict(exclude_readonly=True, exclude_none=True))
    obs["update_unknown"] = capture_error(lambda: fn.update(colour="blue"))
    fn.update(ignore_missing=True, colour="blue")
    obs["update_unknown_ignored"] = fn.is_modified

    # Running jobs canceled three ways: job.cancel(), fn.cancel_jobs(job_ids), JobSearch.cancel().
    a, b, c = (fn(name, markers) for name in ("a", "b", "c"))
    running(a, b, c)
    obs["running_snapshot"] = execution_fields(Job.get(c.id))
    a.cancel()
    obs["cancel_running_job"] = plain(a.status)
    obs["cancel_running_fn"] = [plain(job.status) for job in fn.cancel_jobs(job_ids=[b.id])]
    obs["cancel_running_search"] = [
        plain(job.status) for job in Job.search().filter(Job.id == c.id).cancel()
    ]
    for job in (a, b, c):
        job.wait_for_completion(**WAIT)
    obs["canceled_running"] = [execution_fields(job) for job in (a, b, c)]

    # Pending jobs (stopped function): canceled by query + ids, and by JobSearch.cancel().
    fn.stop()
    tags = (["x"], ["x"], ["y"], None)
    pending = [fn(f"p{index}", markers, tags=tag) for index, tag in enumerate(tags)]
    for name in ("p0", "p1", "p2", "p3"):
        release(name)
    obs["pending_while_stopped"] = [status(job) for job in pending]
    # query AND job_ids: only p0 is both tagged x and listed.
    both = fn.cancel_jobs(
        query=fn.jobs.filter(Job.tags == "x"), job_ids=[pending[0].id, pending[2].id]
    )
    obs["cancel_query_and_ids"] = [(job.id == pending[0].id, plain(job.status)) for job in both]
    untagged = fn.jobs.filter(Job.status == JobStatus.PENDING).filter(Job.tags.isnull).cancel()
    obs["cancel_search_untagged"] = [
        (job.id == pending[3].id, plain(job.status)) for job in untagged
    ]
    obs["after_two_cancels"] = [status(job) for job in pending]
    rest = fn.jobs.filter(Job.status == JobStatus.PENDING).cancel()
    obs["cancel_search_rest"] = sorted(job.id for job in rest) == sorted(
        job.id for job in pending[1:3]
    )
    obs["after_pending_cancel"] = [status(job) for job in pending]

    # A stopped function keeps new jobs pending until started.
    late = fn("late", markers)
    release("late")
    obs["late_while_stopped"] = status(late)
    fn.start()
    late.wait_for_completion(**WAIT)
    obs["late_after_start"] = [plain(late.status), late.result()]

    # Disabled: submissions and reruns refused (ConflictError); enabled again, reruns work.
    fn.disable()
    obs["disabled_submit"] = capture_error(lambda: fn("d", markers))
    obs["disabled_map"] = capture_error(lambda: fn.map([["d", markers]]))
    obs["disabled_rerun"] = capture_error(lambda: fn.rerun())
    fn.enable()
    for name in ("a", "b", "c"):
        release(name)
    rerun = fn.jobs.filter(Job.status == JobStatus.CANCELED).filter(Job.tags == "x").rerun()
    obs["rerun_search"] = sorted(plain(job.status) for job in rerun)
    fn.wait_for_completion(**WAIT)
    obs["after_rerun"] = sorted(plain(Job.get(job.id).status) for job in pending[:2])

    # Job as a document: new Job(...).save() is a POST; update + save a PATCH; Job.function.
    job = Job(function_id=fn.id, args=["doc", markers], kwargs={"tag": "made"},
              environment={"JOB_ENV": "job"}, tags=["doc"])  # fmt: skip
    obs["new_job_state"] = [plain(job.state), job.id]
    fn.stop()
    job.save()
    obs["saved_job_state"] = [plain(job.state), job.is_modified, plain(job.status)]
    job.update(tags=["doc", "edited"], kwargs={"tag": "edited"})
    obs["job_modified"] = [job.is_modified, job.to_dict(only_modified=True)]
    job.save()
    obs["job_after_patch"] = [plain(Job.get(job.id).tags), plain(Job.get(job.id).kwargs)]
    obs["job_to_dict_keys"] = sorted(job.to_dict())
    obs["job_function"] = [type(job.function).__name__, job.function.id == fn.id]
    release("doc")
    fn.start()
    job.wait_for_completion(**WAIT)
    obs["document_job"] = [plain(job.status), job.result()]
    finished = Job.get(job.id)
    finished.tags = ["late-tag"]
    finished.save()
    obs["tags_after_finish"] = plain(Job.get(job.id).tags)
    finished.args = ["other"]
    obs["args_after_finish"] = capture_error(finished.save)

    # Delete by query, with and without results; delete_jobs by ids.
    done = [fn(f"r{index}", markers) for index in range(4)]
    for index in range(4):
        release(f"r{index}")
    fn.wait_for_completion(**WAIT)
    twins = [Job.get(job.id) for job in done]
    kept = Job.search().filter(Job.id == done[0].id).delete()
    dropped = Job.search().filter(Job.id == done[1].id).delete(delete_results=True)
    by_ids = fn.delete_jobs(job_ids=[done[2].id, done[3].id], delete_results=True)
    obs["deleted"] = [kept == [done[0].id], dropped == [done[1].id], sorted(by_ids)]
    obs["deleted_ids"] = sorted(job.id for job in done[2:])
    obs["results_after_delete"] = [twin.result() is not None for twin in twins]
    fn.refresh(includes="job.statistics")
    obs["final_statistics"] = plain(fn.job_statistics)
    fn.delete()


if __name__ == "__main__":
    run_scenario(main)
