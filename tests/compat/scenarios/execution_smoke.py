"""The core execution flow, small enough for every client flavor (earthone's in particular).

create → fn() → map → wait (job and function) → result / result_blob → log → name filters
with ``like`` (earthone: case-sensitive ``like``; descarteslabs 3.2.2 sends ``ilike`` for it) and
``ilike`` (earthone only) → delete.
"""

from __future__ import annotations

from typing import Any

from _harness import (
    Sdk,
    blob_fields,
    execution_fields,
    function_fields,
    plain,
    run_scenario,
    unique_name,
)

__all__ = ["greet", "main"]

WAIT = {"timeout": 60, "interval": 0.2}
SQUARE = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]}


def greet(name, punctuation="!", geometry=None):
    import os

    print(f"greeting {name}")

    class Result:
        def __init__(self, value):
            self.value = value
            self.description = f"greeting for {name}"
            self.expires = None
            self.extra_properties = {"length": len(name)}
            self.geometry = geometry
            self.tags = ["greeting"]

    return Result(f"Hello, {name}{punctuation} ({os.environ.get('GREETING_ENV', 'unset')})")


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job
    name = unique_name("Smoke")
    obs["name"] = name
    fn = Function(
        greet,
        name=name,
        image="python3.11:latest",
        cpus=0.25,
        memory=512,
        environment={"GREETING_ENV": "function"},
    )
    fn.save()
    obs["function"] = function_fields(fn)

    job = fn("world", geometry=SQUARE)
    job.wait_for_completion(**WAIT)
    obs["job"] = execution_fields(job)
    obs["result"] = job.result()
    obs["blob"] = blob_fields(job.result_blob())
    obs["log"] = job.log(timestamps=False)
    obs["log_stamped"] = job.log()

    mapped = fn.map(
        [["a"], ["b"], ["c"]],
        kwargs=[{"punctuation": "?"}, {}, {"punctuation": "."}],
        tags=["smoke"],
        batch_size=2,
        environments=[{}, {"GREETING_ENV": "job"}, {}],
    )
    obs["map_is_success"] = mapped.is_success
    fn.wait_for_completion(**WAIT)
    obs["job_statistics"] = plain(fn.job_statistics)
    obs["map_results"] = [item.result() for item in mapped]
    obs["map_tags"] = [plain(item.tags) for item in mapped]
    obs["results_sorted"] = sorted(fn.results())

    def count(expression: Any) -> int:
        return int(Function.search().filter(expression).count())

    obs["like_exact_case"] = count(Function.name.like("Smoke-%"))
    obs["like_other_case"] = count(Function.name.like("smoke-%"))
    if hasattr(Function.name, "ilike"):
        obs["ilike_other_case"] = count(Function.name.ilike("SMOKE-%"))
    obs["job_tag_count"] = int(Job.search().filter(Job.tags == "smoke").count())

    function_id = fn.id
    fn.delete()
    obs["function_deleted"] = Function.search().filter(Function.id == function_id).count() == 0


if __name__ == "__main__":
    run_scenario(main)
