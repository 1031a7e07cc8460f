"""Jobs really run, driven through the genuine client: calls, map, waiting, results, logs, failures.

One function whose entrypoint dispatches on ``mode``: ``add`` returns a dict (with the job's
environment), ``print`` writes to stdout and stderr, ``fail`` raises, ``flaky`` fails until its
marker file exists (so a rerun succeeds). ``MARKER_DIR`` is a directory the server's jobs can
write to (same machine).

fn(...) → wait → result / timings → map in batches (kwargs, tags, environments) → as_completed
→ function wait + job statistics → results → log / iter_log → failure → rerun → delete.
"""

from __future__ import annotations

import json
import os
from typing import Any

from _harness import (
    Sdk,
    capture_error,
    execution_fields,
    function_fields,
    plain,
    run_scenario,
    unique_name,
)

__all__ = ["main", "work"]

WAIT = {"timeout": 60, "interval": 0.2}


def work(x, y=0, mode="add", marker=None):
    import os
    import sys

    if mode == "print":
        print(f"hello from job {x}")
        print("second line")
        print("to stderr", file=sys.stderr)
        return None
    if mode == "fail":
        raise ValueError(f"boom {x}")
    if mode == "flaky":
        if not os.path.exists(marker):
            with open(marker, "w") as handle:
                handle.write(str(os.getpid()))
            raise RuntimeError("first attempt fails")
        return "recovered"
    names = ("FN_ONLY", "SHARED", "JOB_ONLY")
    return {"sum": x + y, "env": {name: os.environ.get(name) for name in names}}


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job, JobStatus = sdk.Function, sdk.Job, sdk.JobStatus
    marker_dir = os.environ["MARKER_DIR"]
    fn = Function(
        work,
        name=unique_name("execution"),
        image="python3.11:latest",
        cpus=0.5,
        memory=1024,
        maximum_concurrency=3,
        timeout=60,
        retry_count=0,
        environment={"FN_ONLY": "function", "SHARED": "function"},
    )
    fn.save()
    obs["function"] = function_fields(fn)

    # fn(...): submitted while the function may still be building; it runs once ready.
    single = fn(2, y=3, tags=["single"], environment={"JOB_ONLY": "job", "SHARED": "job"})
    obs["single_submitted"] = execution_fields(single)
    single.wait_for_completion(**WAIT)
    obs["single"] = execution_fields(single)
    obs["single_result"] = single.result()
    obs["single_timings"] = execution_fields(Job.get(single.id, include=["timings"]))

    # map: 5 jobs in batches of 2 (3 requests), with kwargs, tags and per-job environments.
    # A response hook on the client's own session shows the batches it sent.
    bulk_bodies: list[dict[str, Any]] = []

    def record_bulk(response: Any, *_args: Any, **_kwargs: Any) -> None:
        request = response.request
        if request.method == "POST" and request.path_url.endswith("/jobs/bulk"):
            bulk_bodies.append(json.loads(request.body))

    sdk.ComputeClient.get_default_client().session.hooks["response"].append(record_bulk)
    mapped = fn.map(
        [[index] for index in range(5)],
        kwargs=[{"y": 10 * index} for index in range(5)],
        tags=["mapped", "batch"],
        batch_size=2,
        environments=[{"JOB_ONLY": f"env-{index}"} for index in range(5)],
    )
    obs["bulk_requests"] = [
        {key: body.get(key) for key in ("bulk_args", "bulk_kwargs", "tags", "reference_id")}
        for body in bulk_bodies
    ]
    obs["map_is_success"] = mapped.is_success
    obs["map_errors"] = [str(error) for error in mapped.errors]
    obs["map_submitted"] = [execution_fields(job) for job in mapped]
    completed = list(fn.as_completed(mapped, **WAIT))
    obs["as_completed"] = sorted((job.id, plain(job.status)) for job in completed)
    fn.wait_for_completion(**WAIT)
    obs["function_after_wait"] = {
        "status": plain(fn.status),
        "job_statistics": plain(fn.job_statistics),
    }
    obs["map_done"] = [execution_fields(Job.get(job.id)) for job in mapped]
    obs["map_results"] = [job.result() for job in mapped]
    obs["results_sorted"] = sorted(
        (result["sum"] for result in fn.results()), key=lambda value: (value is None, value)
    )
    obs["count_success"] = (
        Job.search()
        .filter(Job.function_id == fn.id)
        .filter(Job.status == JobStatus.SUCCESS)
        .count()
    )
    obs["count_tag_mapped"] = (
        Job.search().filter(Job.function_id == fn.id).filter(Job.tags == "mapped").count()
    )

    # A job that prints: log with and without timestamps, iter_log.
    printer = fn(7, mode="print")
    printer.wait_for_completion(**WAIT)
    obs["printer"] = execution_fields(printer)
    obs["printer_result"] = printer.result()
    obs["printer_log"] = printer.log()
    obs["printer_log_plain"] = printer.log(timestamps=False)
    obs["printer_iter_log"] = list(printer.iter_log())
    obs["printer_iter_log_plain"] = list(printer.iter_log(timestamps=False))

    # A failing job.
    failing = fn(9, mode="fail")
    failing.wait_for_completion(**WAIT)
    obs["failing"] = execution_fields(failing)
    obs["failing_result"] = capture_error(failing.result)
    obs["failing_log_plain"] = failing.log(timestamps=False)

    # Rerun of failed jobs: the flaky job fails once, then succeeds when rerun.
    flaky = fn(0, mode="flaky", marker=os.path.join(marker_dir, "flaky.marker"))
    flaky.wait_for_completion(**WAIT)
    obs["flaky_first"] = execution_fields(flaky)
    rerun = fn.rerun(job_ids=[flaky.id])
    obs["rerun_returned"] = [(job.id, plain(job.status)) for job in rerun]
    flaky.wait_for_completion(**WAIT)
    obs["flaky_rerun"] = execution_fields(flaky)
    obs["flaky_result"] = flaky.result()
    obs["rerun_all_returned"] = sorted((job.id, plain(job.status)) for job in fn.rerun())
    fn.wait_for_completion(**WAIT)
    obs["failing_after_rerun_all"] = execution_fields(Job.get(failing.id))

    obs["function_statistics"] = plain(
        Function.get(fn.id, include=["job.statistics"]).job_statistics
    )
    fn.delete()


if __name__ == "__main__":
    run_scenario(main)
