"""What jobs return, as the genuine client reads it back: values, ComputeResults, Serializables.

Job code runs in the SERVER's Python, which need not have the client installed, so the
entrypoints define their own small classes: one shaped like ``ComputeResult`` (the server
recognises it by its attributes) and one with ``serialize()``. Client side, ``Point`` is the
``cast_type`` that deserializes the latter.

Then deletion: a job deleted with ``delete_result=False`` keeps its result, one deleted with
``True`` loses it (seen through a second handle on the same job, whose status is already
``success``, so ``result()`` goes straight to the catalog); the same for whole functions.
"""

from __future__ import annotations

import functools
from typing import Any

from _harness import (
    Sdk,
    blob_fields,
    capture_error,
    execution_fields,
    plain,
    run_scenario,
    unique_name,
)

__all__ = ["Point", "main", "point", "produce"]

WAIT = {"timeout": 60, "interval": 0.2}
POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]}


def produce(kind, payload=None):
    import datetime

    class Result:
        """Shaped like ComputeResult: value plus the blob attributes."""

        def __init__(self, value, **attributes):
            self.value = value
            self.description = attributes.get("description")
            self.expires = attributes.get("expires")
            self.extra_properties = attributes.get("extra_properties")
            self.geometry = attributes.get("geometry")
            self.tags = attributes.get("tags")

    if kind == "value":
        return payload
    if kind == "bytes":
        return b"\x00raw\xffbytes"
    if kind == "none":
        return None
    if kind == "attributes":
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
        return Result(
            {"answer": 42},
            description="the answer, with attributes",
            expires=expires.isoformat(),
            extra_properties={"source": "scenario", "score": 0.5, "count": 3},
            geometry=payload,
            tags=["alpha", "beta"],
        )
    if kind == "null_with_tags":
        return Result(None, tags=["only-tags"])
    raise ValueError(f"unknown kind {kind}")


def point(x, y):
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def serialize(self):
            return f"point:{self.x},{self.y}".encode()

    return Point(x, y)


class Point:
    """The client-side ``cast_type`` (descarteslabs' Serializable protocol)."""

    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def serialize(self) -> bytes:
        return f"point:{self.x},{self.y}".encode()

    @classmethod
    def deserialize(cls, data: bytes) -> Point:
        x, y = data.decode().removeprefix("point:").split(",")
        return cls(float(x), float(y))


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job

    fn = Function(produce, name=unique_name("results"), image="python3.11:latest", cpus=0.25)
    fn.save()
    jobs = {
        "value": fn("value", {"nested": [1, 2.5, "three", None, True]}),
        "scalar": fn("value", 15.68),
        "bytes": fn("bytes"),
        "none": fn("none"),
        "attributes": fn("attributes", POLYGON),
        "null_with_tags": fn("null_with_tags"),
    }
    fn.wait_for_completion(**WAIT)
    for name, job in jobs.items():
        job.refresh()
        obs[f"{name}_job"] = execution_fields(job)
        value = job.result()
        obs[f"{name}_result"] = value
        obs[f"{name}_result_type"] = type(value).__name__
        obs[f"{name}_blob"] = blob_fields(job.result_blob())
    obs["bytes_result_repr"] = repr(jobs["bytes"].result())

    # Serializable results: result(cast_type=...), iter_results(cast_type=...).
    points = Function(point, name=unique_name("points"), image="python3.11:latest", cpus=0.25)
    points.save()
    point_jobs = points.map([[1, 2], [3, 4], [5, 6]])
    points.wait_for_completion(**WAIT)
    for job in point_jobs:
        job.refresh()  # local status "success": result() then reads without a refresh
    first = point_jobs[0]
    obs["point_raw"] = repr(first.result())
    cast = first.result(cast_type=Point)
    obs["point_cast"] = [type(cast).__name__, cast.x, cast.y]
    obs["points_iter_results"] = sorted(
        [type(item).__name__, item.x, item.y] for item in points.iter_results(cast_type=Point)
    )
    obs["points_results"] = sorted((item.x, item.y) for item in points.results(cast_type=Point))
    obs["cast_type_not_serializable"] = capture_error(lambda: first.result(cast_type=int))

    # Deleting jobs with and without their results.
    keep, drop = jobs["value"], jobs["scalar"]
    keep_twin, drop_twin = Job.get(keep.id), Job.get(drop.id)
    keep.delete(delete_result=False)
    drop.delete(delete_result=True)
    obs["deleted_job_get"] = [
        capture_error(functools.partial(Job.get, job_id))["type"]
        for job_id in (keep_twin.id, drop_twin.id)
    ]
    obs["kept_result_after_job_delete"] = keep_twin.result()
    obs["kept_blob_after_job_delete"] = blob_fields(keep_twin.result_blob()) is not None
    obs["dropped_result_after_job_delete"] = drop_twin.result()
    obs["dropped_blob_after_job_delete"] = blob_fields(drop_twin.result_blob())

    # Deleting whole functions with and without results.
    attributes_job = jobs["attributes"]
    fn.delete(delete_results=False)
    obs["function_delete_kept"] = plain(attributes_job.result())
    obs["function_delete_kept_blob_tags"] = plain(attributes_job.result_blob().tags)
    points.delete(delete_results=True)
    obs["function_delete_dropped"] = [job.result() for job in point_jobs]
    obs["function_delete_dropped_blobs"] = [job.result_blob() for job in point_jobs]


if __name__ == "__main__":
    run_scenario(main)
