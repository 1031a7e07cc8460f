"""Searching functions and jobs with every filter operator, sorts, limits, paging and counts.

Three functions (one builds but stays stopped: ``auto_start=False``; one is disabled) and jobs
of the first that really ran: evens tagged ``even``, odds ``odd``, ``x == 5`` fails; one more
job without tags waits on the stopped function. A response hook counts the pages fetched.
Each ``count``/``ids`` entry pairs what was asked with what came back.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from _harness import Sdk, plain, run_scenario, unique_name

__all__ = ["built_status", "main", "square"]

WAIT = {"timeout": 60, "interval": 0.1}


def square(x):
    if x == 5:
        raise ValueError("five")
    return x * x


def built_status(function_class: Any, function_id: str, timeout: float = 120.0) -> str:
    """The function's status once its build has ended (builds queue behind others under load,
    and nothing in the client waits for a function that does not start)."""
    deadline = time.monotonic() + timeout
    while True:
        status = plain(function_class.get(function_id).status)
        if status not in ("awaiting_bundle", "building") or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.1)


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job
    FunctionStatus, JobStatus = sdk.FunctionStatus, sdk.JobStatus
    pages: list[str] = []

    def record(response: Any, *_args: Any, **_kwargs: Any) -> None:
        if response.request.method == "GET":
            pages.append(response.request.path_url)

    sdk.ComputeClient.get_default_client().session.hooks["response"].append(record)
    stem = unique_name("Query")
    obs["stem"] = stem
    image = "python3.11:latest"
    # One range operator per attribute: 3.x clients accumulate range conditions on an attribute
    # within a process (wire-protocol §4.4), which would make later queries narrower.
    common = {"image": image, "retry_count": 0}
    alpha = Function(
        square, name=f"{stem}-alpha", cpus=0.25, memory=512, maximum_concurrency=1, timeout=60,
        **common,
    )  # fmt: skip
    beta = Function(
        square, name=f"{stem}-beta", cpus=0.5, memory=2048, maximum_concurrency=2, timeout=120,
        auto_start=False, **common,
    )  # fmt: skip
    gamma = Function(
        square, name=f"{stem.lower()}-gamma", cpus=1, memory=4096, maximum_concurrency=3,
        timeout=180, **common,
    )  # fmt: skip
    for fn in (alpha, beta, gamma):
        fn.save()
    gamma.disable()
    obs["ids"] = {"alpha": alpha.id, "beta": beta.id, "gamma": gamma.id}
    names = {alpha.id: "alpha", beta.id: "beta", gamma.id: "gamma"}

    evens = alpha.map([[x] for x in (0, 2, 4)], tags=["even", "q"])
    odds = alpha.map([[x] for x in (1, 3, 5)], tags=["odd", "q"])
    alpha.wait_for_completion(**WAIT)
    waiting = beta(7)  # beta is stopped once built: this job stays pending
    obs["beta_status"] = built_status(Function, beta.id)
    job_names = {job.id: f"x{job.args[0]}" for job in [*evens, *odds, waiting]}

    def fn_names(search: Any) -> list[str]:
        return [names[item.id] for item in search]

    def job_ids(search: Any) -> list[str]:
        return [job_names[item.id] for item in search]

    F = Function
    obs["functions"] = {
        "eq": fn_names(F.search().filter(F.name == f"{stem}-alpha")),
        "ne": fn_names(F.search().filter(F.name != f"{stem}-alpha").sort(F.name)),
        "lt": fn_names(F.search().filter(F.memory < 2048)),
        "lte": fn_names(F.search().filter(F.maximum_concurrency <= 2).sort(F.memory)),
        "gt": fn_names(F.search().filter(F.cpus > 0.5)),
        "gte": fn_names(F.search().filter(F.timeout >= 120).sort(-F.timeout)),
        "in_": fn_names(F.search().filter(F.cpus.in_([0.25, 1])).sort(F.cpus)),
        "any_of": fn_names(F.search().filter(F.status.any_of([FunctionStatus.STOPPED]))),
        "isnull": fn_names(F.search().filter(F.name.isnull)),
        "isnotnull": fn_names(F.search().filter(F.modified_date.isnotnull).sort(F.creation_date)),
        "prefix": fn_names(F.search().filter(F.name.prefix(stem)).sort(F.name)),
        "like": fn_names(F.search().filter(F.name.like(f"{stem}-%")).sort(F.name)),
        "enabled_false": fn_names(F.search().filter(F.enabled == False)),  # noqa: E712
        "or": fn_names(F.search().filter((F.memory == 512) | (F.memory == 4096)).sort(-F.memory)),
        "and": fn_names(
            F.search().filter((F.retry_count == 0) & (F.enabled == True)).sort(F.name)  # noqa: E712
        ),
        "sort_name_desc": fn_names(F.search().sort(-F.name)),
        "sort_two_keys": fn_names(F.search().sort(F.enabled, -F.memory)),
        "limit": fn_names(F.search().sort(F.memory).limit(2)),
        "namespace": fn_names(F.search().filter(F.namespace == alpha.namespace).sort(F.memory)),
        "owner": fn_names(F.search().filter(F.owner == alpha.owner).limit(1)),
        "image": fn_names(F.search().filter(F.image == image).limit(1)),
    }
    if hasattr(F.name, "ilike"):
        obs["functions"]["ilike"] = fn_names(
            F.search().filter(F.name.ilike(f"{stem.upper()}-%")).sort(F.name)
        )
    obs["function_counts"] = {
        "all": F.search().count(),
        "limited": F.search().limit(1).count(),
        "stopped": F.search().filter(F.status == FunctionStatus.STOPPED).count(),
    }
    collected = F.search().sort(F.name).collect()
    obs["collect"] = [type(collected).__name__, len(collected)]

    J = Job
    mine = J.search().filter(J.function_id == alpha.id)
    early = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    obs["jobs"] = {
        "status_eq": job_ids(mine.filter(J.status == JobStatus.FAILURE)),
        "status_ne": sorted(job_ids(mine.filter(J.status != JobStatus.SUCCESS))),
        "exit_code_gt": job_ids(mine.filter(J.exit_code > 0)),
        "execution_count_gte": len(list(mine.filter(J.execution_count >= 1))),
        "runtime_lt": len(list(mine.filter(J.runtime < 3600))),
        "tags_eq": job_ids(mine.filter(J.tags == "even").sort(J.creation_date)),
        "tags_ne": sorted(job_ids(mine.filter(J.tags != "even"))),
        "tags_in": sorted(job_ids(J.search().filter(J.tags.in_(["odd", "none"])))),
        "tags_isnull": job_ids(J.search().filter(J.tags.isnull)),
        "tags_prefix": len(list(mine.filter(J.tags.prefix("ev")))),
        "last_completion_isnull": job_ids(J.search().filter(J.last_completion_date.isnull)),
        "runtime_isnotnull": len(list(J.search().filter(J.runtime.isnotnull))),
        "created_after": len(list(J.search().filter(J.creation_date > early))),
        "id_eq": job_ids(J.search().filter(J.id == waiting.id)),
        "function_in": sorted(job_ids(J.search().filter(J.function_id.in_([beta.id, gamma.id])))),
        "sort_desc": job_ids(mine.filter(J.tags == "odd").sort(-J.creation_date)),
        "limit": len(list(mine.limit(4))),
        "fn_jobs": sorted(job_ids(alpha.jobs)),
    }

    # Paging: page_size via param() and via list(); each page is one GET.
    before = len(pages)
    paged = list(J.search().filter(J.function_id == alpha.id).sort(J.id).param(page_size=2))
    obs["paging_search"] = [len(paged), len(pages) - before]
    before = len(pages)
    listed = list(J.list(page_size=3))
    obs["paging_list"] = [len(listed), len(pages) - before]
    before = len(pages)
    limited = list(J.search().param(page_size=2).limit(5))
    obs["paging_limit"] = [len(limited), len(pages) - before]
    before = len(pages)
    obs["paging_functions"] = [len(list(F.list(page_size=1))), len(pages) - before]
    ids_by_id = [job.id for job in paged]
    obs["paging_sorted_by_id"] = ids_by_id == sorted(ids_by_id)
    obs["job_counts"] = {
        "all": J.search().count(),
        "alpha": mine.count(),
        "alpha_limited": mine.limit(2).count(),
        "success": mine.filter(J.status == JobStatus.SUCCESS).count(),
    }

    waiting.cancel()
    for fn in (alpha, beta, gamma):
        fn.delete()


if __name__ == "__main__":
    run_scenario(main)
