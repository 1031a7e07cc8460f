"""Runaway job code through the whole server: each case ends as a failed or timed-out job with
a clear error_reason, and the server keeps serving (a healthy job runs right after)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from support.inprocess import ORIGIN, create_ready_function, make_bundle, wait_for

RUNAWAY = """
def main(case):
    import ctypes
    import os
    import sys
    import time

    if case == "segfault":
        ctypes.string_at(0)
    if case == "exit":
        os._exit(3)
    if case == "loop":
        while True:
            pass
    if case == "memory":
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
    if case == "fork":
        for _ in range(9):  # at most 2**9 processes: bounded, but over the 256-process cap
            os.fork()
        time.sleep(30)
    if case == "print":
        line = "x" * 1023
        for _ in range(100 * 1024):
            sys.stdout.write(line + "\\n")
        return "printed"
    return "healthy"
"""

CASES = [
    ("segfault", "failure", "SIGSEGV"),
    ("exit", "failure", "Exited with code 3"),
    ("loop", "timeout", "Timed out"),
    ("memory", "failure", "memory limit"),
    ("fork", "failure", "Fork bomb"),
]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    running = attrs.evolve(settings, execute_jobs=True)
    with TestClient(create_app(running), base_url=ORIGIN) as test_client:
        yield test_client


def finish(client: TestClient, headers: dict, function_id: str, case: str) -> dict:
    job = client.post(
        "/compute/v1/jobs", json={"function_id": function_id, "args": [case]}, headers=headers
    ).json()

    def ended() -> dict | None:
        current = client.get(f"/compute/v1/jobs/{job['id']}", headers=headers).json()
        return current if current["status"] in ("success", "failure", "timeout") else None

    return wait_for(ended, timeout=60)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("case", "status", "reason"), CASES)
def test_runaway_job_fails_clearly_and_the_server_keeps_serving(
    client: TestClient, alice: dict, case: str, status: str, reason: str
) -> None:
    # Only the endless loop needs the timeout; the others end on their own, however slowly
    # a loaded machine lets the memory hog fill its 512 MiB at a quarter of a CPU.
    timeout = 3 if status == "timeout" else 60
    function = create_ready_function(
        client, alice, bundle=make_bundle(RUNAWAY), timeout=timeout, cpus=0.25, memory=512
    )
    job = finish(client, alice, function["id"], case)
    assert job["status"] == status, job
    assert reason in job["error_reason"], job
    assert finish(client, alice, function["id"], "healthy")["status"] == "success"


def test_a_hundred_megabytes_of_printing_is_capped(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, bundle=make_bundle(RUNAWAY), timeout=60)
    job = finish(client, alice, function["id"], "print")
    assert job["status"] == "success", job
    log = client.get(f"/compute/v1/jobs/{job['id']}/log", headers=alice)
    assert len(log.content) < 12 * 1024 * 1024
    assert "truncated" in log.text.splitlines()[-1]
    assert finish(client, alice, function["id"], "healthy")["status"] == "success"
