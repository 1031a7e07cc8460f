"""Every status change goes through the transition table: watched at the database itself.

A listener on the store's engine sees every UPDATE the server issues while jobs and functions
go through every edge of their lifecycles (builds that pass and fail, runs, retries, cancels of
pending and running jobs, reruns, start/stop, a graceful stop and the recovery after it), and
checks that each UPDATE of ``status`` was issued from ``store/transitions.py``.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.server import Server
from batch_compute_mock.settings import Settings
from batch_compute_mock.store import SqlStore
from support.inprocess import ORIGIN, create_ready_function, make_bundle, wait_for
from support.store_moves import move_job

pytestmark = pytest.mark.both_databases

JOBS = "/compute/v1/jobs"
SOURCE = """
import os, time

def main(mode, flag=None):
    if mode == "fail":
        raise ValueError("failed on purpose")
    if mode == "wait":
        while not os.path.exists(flag):
            time.sleep(0.01)
    return mode
"""
TRANSITIONS = str(Path("store") / "transitions.py")


@contextmanager
def serving(settings: Settings, updates: list[tuple[str, str]]) -> Iterator[TestClient]:
    server = Server.create(settings)
    assert isinstance(server.store, SqlStore)

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            frames = [
                f.filename for f in traceback.extract_stack() if "batch_compute_mock" in f.filename
            ]
            updates.append((statement, frames[-1] if frames else "?"))

    sa.event.listen(server.store.database.writer_engine, "before_cursor_execute", watch)
    with TestClient(create_app(settings, server), base_url=ORIGIN) as client:
        yield client


def _job(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    return client.get(f"{JOBS}/{job_id}", headers=headers).json()  # type: ignore[no-any-return]


def _ended(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            (job := _job(client, headers, job_id))["status"]
            in ("success", "failure", "timeout", "canceled")
            and job
        )
    )


def test_every_status_update_comes_from_the_transitions_module(
    settings: Settings, alice: dict[str, str], tmp_path: Path
) -> None:
    settings = attrs.evolve(settings, execute_jobs=True, shutdown_grace_seconds=0.2)
    updates: list[tuple[str, str]] = []
    flag = tmp_path / "go"
    with serving(settings, updates) as client:
        function = create_ready_function(client, alice, make_bundle(SOURCE), retry_count=1)
        fid = function["id"]
        broken = create_ready_function(client, alice, make_bundle("def helper():\n    pass\n"))
        assert broken["status"] == "build_failed"

        ok = client.post(JOBS, json={"function_id": fid, "args": ["ok"]}, headers=alice).json()
        failed = client.post(JOBS, json={"function_id": fid, "args": ["fail"]}, headers=alice)
        assert _ended(client, alice, ok["id"])["status"] == "success"
        failed_job = _ended(client, alice, failed.json()["id"])
        assert (failed_job["status"], failed_job["execution_count"]) == ("failure", 2)

        waiting = client.post(
            JOBS, json={"function_id": fid, "args": ["wait", str(flag)]}, headers=alice
        ).json()
        wait_for(lambda: _job(client, alice, waiting["id"])["status"] == "running")
        client.post(f"{JOBS}/{waiting['id']}/cancel", headers=alice)
        assert _ended(client, alice, waiting["id"])["status"] == "canceled"

        stopped = client.patch(
            f"/compute/v1/functions/{fid}", json={"status": "stopped"}, headers=alice
        )
        assert stopped.json()["status"] == "stopped"
        pending = client.post(JOBS, json={"function_id": fid, "args": ["ok"]}, headers=alice).json()
        client.post(f"{JOBS}/{pending['id']}/cancel", headers=alice)
        assert _job(client, alice, pending["id"])["status"] == "canceled"
        rerun = client.post(
            f"{JOBS}/rerun",
            json={"filter": [{"name": "function_id", "op": "eq", "val": fid}]},
            headers=alice,
        )
        assert rerun.status_code == 200, rerun.text
        client.patch(f"/compute/v1/functions/{fid}", json={"status": "ready"}, headers=alice)
        assert _ended(client, alice, pending["id"])["status"] == "success"

        last = client.post(
            JOBS,
            json={"function_id": fid, "args": ["wait", str(tmp_path / "never")]},
            headers=alice,
        ).json()
        wait_for(lambda: _job(client, alice, last["id"])["status"] == "running")
    # Stopped with a job running (re-queued), then started again (recovery runs first).
    with serving(settings, updates) as client:
        flag.touch()
        (tmp_path / "never").touch()
        assert _ended(client, alice, last["id"])["status"] == "success"

    status_updates = [(sql, where) for sql, where in updates if "status=" in sql.replace(" ", "")]
    assert status_updates, "the scenario changed no status at all"
    outside = [(sql, where) for sql, where in status_updates if not where.endswith(TRANSITIONS)]
    assert outside == []
    assert len(updates) > len(status_updates)  # other updates were seen too (the check sees)


def test_rerun_leaves_running_jobs_alone(
    client: TestClient, settings: Settings, alice: dict[str, str]
) -> None:
    function = create_ready_function(client, alice)
    submitted = [
        client.post(JOBS, json={"function_id": function["id"], "args": [n]}, headers=alice).json()
        for n in range(3)
    ]
    running, failed, pending = (job["id"] for job in submitted)
    move_job(settings, running, "running")
    move_job(settings, failed, "failure")
    answer = client.post(
        f"{JOBS}/rerun",
        json={"filter": [{"name": "function_id", "op": "eq", "val": function["id"]}]},
        headers=alice,
    )
    assert answer.status_code == 200, answer.text
    assert [job["id"] for job in answer.json()] == [failed]
    assert _job(client, alice, running)["status"] == "running"
    assert _job(client, alice, failed)["status"] == "pending"
    assert _job(client, alice, pending)["status"] == "pending"
