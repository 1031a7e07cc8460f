"""A function's whole life through the genuine client, without depending on job execution.

create (credentials → POST → bundle upload → bundle complete) → ready → search / list / get →
stop / start → disable / enable → build log → delete → gone.
"""

from __future__ import annotations

from typing import Any

from _harness import (
    Sdk,
    capture_error,
    function_fields,
    run_scenario,
    unique_name,
    wait_for_status,
)

__all__ = ["add", "main"]


def add(a, b):
    return a + b


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function = sdk.Function
    name = unique_name("lifecycle")
    obs["name"] = name

    fn = Function(add, name=name, image="python3.11:latest", cpus=1, memory=2048)
    fn.save()
    obs["after_save"] = function_fields(fn)

    obs["ready_status"] = wait_for_status(fn, {"ready", "build_failed"})
    obs["ready"] = function_fields(fn)

    obs["search_count"] = Function.search().filter(Function.name == name).count()
    obs["search_ids"] = [found.id for found in Function.search().filter(Function.name == name)]
    obs["list_ids"] = [listed.id for listed in Function.list()]
    obs["get"] = function_fields(Function.get(fn.id))

    fn.stop()
    obs["stop_returned_status"] = str(fn.status.value)
    fn.refresh()
    obs["after_stop"] = {"status": fn.status.value, "enabled": fn.enabled}
    fn.start()
    fn.refresh()
    obs["after_start"] = {"status": fn.status.value, "enabled": fn.enabled}

    fn.disable()
    fn.refresh()
    obs["after_disable"] = {"status": fn.status.value, "enabled": fn.enabled}
    obs["get_after_disable_enabled"] = Function.get(fn.id).enabled
    fn.enable()
    fn.refresh()
    obs["after_enable"] = {"status": fn.status.value, "enabled": fn.enabled}

    log = fn.build_log()
    obs["build_log_type"] = type(log).__name__
    obs["build_log"] = log

    function_id = fn.id
    fn.delete()
    obs["get_after_delete"] = capture_error(lambda: Function.get(function_id))
    obs["search_count_after_delete"] = Function.search().filter(Function.name == name).count()


if __name__ == "__main__":
    run_scenario(main)
