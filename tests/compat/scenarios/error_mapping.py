"""Server refusals surface as the genuine client's documented exceptions with useful messages."""

from __future__ import annotations

import uuid
from typing import Any

from _harness import Sdk, capture_error, run_scenario, unique_name

__all__ = ["add", "main"]


def add(a, b):
    return a + b


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job

    bad_name = unique_name("bad-memory")
    bad = Function(add, name=bad_name, image="python3.11:latest", cpus=1, memory=512)
    obs["bad_memory"] = capture_error(bad.save)
    obs["bad_memory_left_behind"] = Function.search().filter(Function.name == bad_name).count()

    bad_cpus = Function(add, name=unique_name("bad-cpus"), image="python3.11:latest", cpus=3)
    obs["bad_cpus"] = capture_error(bad_cpus.save)
    bad_image = Function(add, name=unique_name("bad-image"), image="ubuntu", cpus=1, memory=2048)
    obs["bad_image"] = capture_error(bad_image.save)

    missing = str(uuid.uuid4())
    obs["missing_job"] = capture_error(lambda: Job.get(missing))
    obs["missing_function"] = capture_error(lambda: Function.get(missing))
    obs["missing_function_jobs"] = capture_error(lambda: Job(function_id=missing, args=[1]).save())


if __name__ == "__main__":
    run_scenario(main)
