"""Jobs stopped from outside, through the genuine client: a timeout (a function with
``timeout=2``), a cancel of a running job, its log read while it runs, and a function delete
refused while that job runs."""

from __future__ import annotations

from typing import Any

from _harness import Sdk, capture_error, execution_fields, run_scenario, unique_name, wait_until

__all__ = ["main", "nap"]

WAIT = {"timeout": 60, "interval": 0.2}


def nap(seconds):
    import time

    print("napping", flush=True)
    time.sleep(seconds)
    return seconds


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job
    image = "python3.11:latest"
    fn = Function(nap, name=unique_name("stops"), image=image, cpus=0.25, timeout=60)
    fn.save()
    short = Function(nap, name=unique_name("short"), image=image, cpus=0.25, timeout=2)
    short.save()

    slow = short(30)
    long_running = fn(30)
    wait_until(
        lambda: Job.get(long_running.id).status.value,
        lambda status: status == "running",
        timeout=30,
        what="the job running",
    )
    wait_until(
        lambda: long_running.log(timestamps=False),
        lambda text: text == "napping",
        timeout=10,
        what="the live log",
    )
    obs["live_log"] = long_running.log(timestamps=False)
    obs["delete_while_running"] = capture_error(fn.delete)
    obs["function_exists_after_refused_delete"] = Function.get(fn.id).id == fn.id

    long_running.cancel()
    obs["status_after_cancel_call"] = long_running.status.value
    long_running.wait_for_completion(**WAIT)
    obs["canceled"] = execution_fields(long_running)
    slow.wait_for_completion(**WAIT)
    obs["timed_out"] = execution_fields(slow)
    obs["timed_out_result"] = capture_error(slow.result)
    fn.delete()
    short.delete()


if __name__ == "__main__":
    run_scenario(main)
