"""End-to-end tests that need the server to execute jobs (results, logs, waiting).

Kept in their own module so they can be enabled or deselected as one (``--deselect``/``-k``)
while the executor is being built; each waits with a timeout, so a missing executor fails
fast instead of hanging.
"""

from __future__ import annotations

import json

import pytest
from e2e_functions import add, echo, fail, with_attributes

from batch_compute import (
    ComputeClient,
    Function,
    Job,
    JobStatus,
    ResultBlob,
    WaitTimeoutError,
)

IMAGE = "python3.11:latest"
WAIT = 60


class Point:
    """A Serializable result type for cast_type."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def serialize(self) -> bytes:
        return json.dumps([self.x, self.y]).encode()

    @classmethod
    def deserialize(cls, data: bytes) -> Point:
        return cls(*json.loads(data))


def _ready(client: ComputeClient, fn: object, **kwargs: object) -> Function:
    function = Function(fn, image=IMAGE, client=client, **kwargs)  # type: ignore[arg-type]
    function.save()
    return function


def test_call_wait_result_and_logs(client: ComputeClient) -> None:
    function = _ready(client, add)
    job = function(2, b=3)
    job.wait_for_completion(timeout=WAIT, interval=0.2)
    assert job.status == JobStatus.SUCCESS
    assert job.result() == 5
    assert job.log(timestamps=False) == "adding 2 and 3"
    stamped = job.log()
    assert stamped.endswith(" adding 2 and 3") and stamped[:4].isdigit()
    assert list(job.iter_log(timestamps=False)) == ["adding 2 and 3"]
    assert job.execution_count == 1 and job.exit_code == 0


def test_cast_type_and_result_blob(client: ComputeClient) -> None:
    function = _ready(client, echo)
    job = function(1, 2)
    job.wait_for_completion(timeout=WAIT, interval=0.2)
    assert job.result() == {"args": [1, 2], "kwargs": {}}

    attributed = _ready(client, with_attributes)
    job = attributed("raw")
    job.wait_for_completion(timeout=WAIT, interval=0.2)
    assert job.result() == b"raw"
    blob = job.result_blob()
    assert isinstance(blob, ResultBlob)
    assert blob.description == "described" and blob.tags == ("t1",)
    assert blob.id == f"compute/{attributed.namespace}/{attributed.id}/{job.id}"


def test_cast_type_deserialises(client: ComputeClient) -> None:
    function = _ready(client, echo)
    job = function(4, 5)
    job.wait_for_completion(timeout=WAIT, interval=0.2)

    class Echo:
        @classmethod
        def deserialize(cls, data: bytes) -> dict[str, object]:
            return {"raw": data}

    assert job.result(cast_type=Echo) == {"raw": b'{"args": [4, 5], "kwargs": {}}'}
    with pytest.raises(ValueError, match="Serializable"):
        job.result(cast_type=int)
    pair = _ready(client, add)([1], [2])
    pair.wait_for_completion(timeout=WAIT, interval=0.2)
    point = pair.result(cast_type=Point)
    assert isinstance(point, Point) and (point.x, point.y) == (1, 2)


def test_map_wait_as_completed_and_results(client: ComputeClient) -> None:
    function = _ready(client, add)
    jobs = function.map([[i, i] for i in range(12)], batch_size=5, progress=False)
    assert jobs.is_success and len(jobs) == 12
    done = list(function.as_completed(jobs, timeout=WAIT, interval=0.2, progress=False))
    assert {job.id for job in done} == {job.id for job in jobs}
    function.wait_for_completion(timeout=WAIT, interval=0.2, progress=False)
    assert sorted(function.results()) == sorted(2 * i for i in range(12))
    assert sorted(function.iter_results()) == sorted(2 * i for i in range(12))
    stats = Function.get(function.id, include=["job.statistics"]).job_statistics or {}
    assert stats.get("success") == 12


def test_failure_rerun_and_delete(client: ComputeClient) -> None:
    function = _ready(client, fail)
    job = function("boom")
    job.wait_for_completion(timeout=WAIT, interval=0.2)
    assert job.status == JobStatus.FAILURE and "boom" in (job.error_reason or "")
    with pytest.raises(ValueError, match="completed successfully"):
        job.result()
    rerun = function.rerun()
    assert [j.id for j in rerun] == [job.id]
    Job.get(job.id).wait_for_completion(timeout=WAIT, interval=0.2)
    assert Job.search().filter(Job.function_id == function.id).filter(
        Job.status == JobStatus.FAILURE).count() == 1  # fmt: skip
    function.delete(delete_results=True)


def test_wait_times_out(client: ComputeClient) -> None:
    function = _ready(client, add, auto_start=False)
    job = function(1)
    with pytest.raises(WaitTimeoutError):
        job.wait_for_completion(timeout=0.5, interval=0.1)
    with pytest.raises(WaitTimeoutError):
        list(function.as_completed([job], timeout=0.5, interval=0.1))
