"""Submitting, finding and canceling jobs through the genuine client.

The function is stopped before any job is submitted, so the jobs stay ``pending`` whether or not
the server executes jobs: the observations are the same before and after job execution exists.
"""

from __future__ import annotations

from typing import Any

from _harness import (
    Sdk,
    capture_error,
    function_fields,
    job_fields,
    run_scenario,
    unique_name,
    wait_for_status,
)

__all__ = ["add", "main"]


def add(a, b=0):
    return a + b


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job, JobStatus = sdk.Function, sdk.Job, sdk.JobStatus
    fn = Function(add, name=unique_name("jobs"), image="python3.11:latest", cpus=1, memory=2048)
    fn.save()
    obs["ready_status"] = wait_for_status(fn, {"ready", "build_failed"})
    fn.stop()
    fn.refresh()
    obs["function"] = function_fields(fn)

    single = fn(1, 2)
    obs["single"] = job_fields(single)
    bulk = fn.map([[1], [2], [3]])
    obs["bulk"] = [job_fields(job) for job in bulk]
    obs["bulk_is_success"] = bulk.is_success
    obs["bulk_errors"] = [str(error) for error in bulk.errors]
    bulk_ids = [job.id for job in bulk]

    def count(*conditions: Any) -> int:
        search = Job.search().filter(Job.function_id == fn.id)
        for condition in conditions:
            search = search.filter(condition)
        return int(search.count())

    obs["count_all"] = count()
    obs["count_pending"] = count(Job.status == JobStatus.PENDING)
    obs["count_canceled"] = count(Job.status == JobStatus.CANCELED)
    obs["listed_ids"] = sorted(job.id for job in fn.jobs)
    obs["get_single"] = job_fields(Job.get(single.id))

    fn.disable()
    obs["submit_while_disabled"] = capture_error(lambda: fn(5, 6))
    fn.enable()
    obs["count_after_disabled_submit"] = count()

    single.cancel()
    obs["single_after_cancel"] = single.status.value
    obs["single_refetched_status"] = Job.get(single.id).status.value

    canceled = fn.cancel_jobs()
    obs["cancel_jobs_returned"] = sorted(
        (job.id, job.status.value) for job in canceled if job.id in bulk_ids
    )
    obs["cancel_jobs_returned_function_ids"] = sorted({job.function_id for job in canceled})
    obs["counts_after_cancel"] = {
        "all": count(),
        "pending": count(Job.status == JobStatus.PENDING),
        "canceled": count(Job.status == JobStatus.CANCELED),
    }
    obs["statuses_after_cancel"] = sorted(
        (job.id, job.status.value) for job in Job.search().filter(Job.function_id == fn.id)
    )

    job_ids = [single.id, *bulk_ids]
    function_id = fn.id
    fn.delete()
    obs["get_function_after_delete"] = capture_error(lambda: Function.get(function_id))
    obs["get_jobs_after_delete"] = [
        capture_error(lambda job_id=job_id: Job.get(job_id))["type"] for job_id in job_ids
    ]


if __name__ == "__main__":
    run_scenario(main)
