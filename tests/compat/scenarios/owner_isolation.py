"""One user's functions and jobs are invisible to another user (``SECOND_TOKEN``).

The first user is the default (environment) token; the second one is an explicit
``ComputeClient`` built from ``SECOND_TOKEN``, as a multi-account program would do.
"""

from __future__ import annotations

import os
from typing import Any

from _harness import Sdk, capture_error, run_scenario, unique_name, wait_for_status

__all__ = ["add", "main"]


def add(a, b):
    return a + b


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job
    other = sdk.client_for(os.environ["SECOND_TOKEN"])
    name = unique_name("isolation")

    fn = Function(add, name=name, image="python3.11:latest", cpus=1, memory=2048)
    fn.save()
    obs["ready_status"] = wait_for_status(fn, {"ready", "build_failed"})
    fn.stop()
    job = fn(1, 2)

    obs["owner_get_function"] = Function.get(fn.id).id
    obs["owner_get_job"] = Job.get(job.id).id
    obs["other_get_function"] = capture_error(lambda: Function.get(fn.id, client=other))
    obs["other_get_job"] = capture_error(lambda: Job.get(job.id, client=other))
    obs["other_search_count"] = Function.search(client=other).filter(Function.name == name).count()
    obs["other_list_ids"] = [listed.id for listed in Function.list(client=other)]
    obs["other_job_count"] = Job.search(client=other).filter(Job.function_id == fn.id).count()
    obs["other_cancel_job"] = capture_error(lambda: other.session.post(f"/jobs/{job.id}/cancel"))
    obs["owner_job_status_after_other_cancel"] = Job.get(job.id).status.value
    obs["owner_function_ids"] = [listed.id for listed in Function.list()]

    job.cancel()
    fn.delete()


if __name__ == "__main__":
    run_scenario(main)
