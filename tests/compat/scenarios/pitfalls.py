"""What the genuine client needs for each pitfall of wire-protocol.md §14, observed from inside.

Runs as a user whose token carries an ``org`` claim (``PITFALL_ORG``), so the namespace is
``{org}:{user}`` and ``:`` travels as ``%3A`` (pitfall 6). A response hook on the client's own
compute session records every request (method, path, query, JSON body, status), so the pytest
side can count pages, read the wire form of filters and check the status codes.

The function ``fn`` and its jobs are left in place: ``test_wire_pitfalls.py`` inspects the same
resources over raw HTTP afterwards. Observations are keyed ``pNN_...`` by pitfall number.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
from typing import Any

from _harness import Sdk, capture_error, plain, run_scenario, unique_name

__all__ = ["main", "probe"]

WAIT = {"timeout": 60, "interval": 0.1}


def probe(mode, size=0):
    class Result:
        """Shaped like ComputeResult."""

        def __init__(self, value, geometry):
            self.value = value
            self.description = None
            self.expires = None
            self.extra_properties = None
            self.geometry = geometry
            self.tags = None

    if mode == "print":
        print("first")
        print()
        print("  indented")
        print("last", flush=True)
        return None
    if mode == "big":
        return "x" * size
    if mode == "point":
        return Result("at a point", {"type": "Point", "coordinates": [1.5, 2.5]})
    if mode == "polygon":
        square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
        return Result("in a square", {"type": "Polygon", "coordinates": square})
    return size


class Recorder:
    """Every compute request the client makes, with the response status."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, response: Any, *_args: Any, **_kwargs: Any) -> None:
        request = response.request
        split = urllib.parse.urlsplit(request.url)
        body = request.body
        if isinstance(body, bytes):
            body = body.decode(errors="replace")
        try:
            body = json.loads(body) if body else None
        except ValueError:
            body = "<not json>"
        self.seen.append(
            {
                "method": request.method,
                "path": split.path,
                "query": urllib.parse.parse_qs(split.query, keep_blank_values=True),
                "body": body,
                "status": response.status_code,
            }
        )

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int, method: str | None = None, suffix: str = "") -> list[dict]:
        return [
            call
            for call in self.seen[mark:]
            if (method is None or call["method"] == method) and call["path"].endswith(suffix)
        ]


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, Job = sdk.Function, sdk.Job
    recorder = Recorder()
    sdk.ComputeClient.get_default_client().session.hooks["response"].append(recorder)
    image = "python3.11:latest"

    # 16: credentials, explicitly and as the first step of creating a function.
    mark = recorder.mark()
    Function.update_credentials()
    obs["p16_update_credentials"] = recorder.since(mark)
    mark = recorder.mark()
    fn = Function(probe, name=unique_name("pitfalls"), image=image, cpus=0.25, memory=512)
    fn.save()
    obs["p16_save_calls"] = [(call["method"], call["path"]) for call in recorder.since(mark)]
    obs["function_id"] = fn.id
    obs["namespace"] = fn.namespace

    # 8: waiting on a function with no jobs reads job_statistics (an object), ready and stopped.
    mark = recorder.mark()
    fn.wait_for_completion(**WAIT)
    obs["p08_wait_ready"] = plain(fn.status)
    obs["p08_wait_calls"] = recorder.since(mark, "GET", f"/functions/{fn.id}")
    obs["p08_statistics_ready"] = plain(fn.job_statistics)
    fn.stop()
    obs["p08_wait_stopped"] = capture_error(lambda: fn.wait_for_completion(**WAIT))
    obs["p08_statistics_stopped"] = plain(fn.job_statistics)
    fn.start()

    # 11: a 1000-job batch, then cancel and delete of all of them, within the read timeout.
    idle = Function(probe, name=unique_name("idle"), image=image, cpus=0.25, auto_start=False)
    idle.save()
    started = time.monotonic()
    thousand = idle.map([["value", index] for index in range(1000)])
    obs["p11_map_seconds"] = time.monotonic() - started
    obs["p11_map"] = {"count": len(thousand), "is_success": thousand.is_success}
    started = time.monotonic()
    canceled = Job.search().filter(Job.function_id == idle.id).cancel()
    obs["p11_cancel_seconds"] = time.monotonic() - started
    obs["p11_canceled"] = [*sorted({plain(job.status) for job in canceled}), len(canceled)]
    started = time.monotonic()
    deleted = Job.search().filter(Job.function_id == idle.id).delete()
    obs["p11_delete_seconds"] = time.monotonic() - started
    obs["p11_deleted"] = [type(deleted).__name__, len(deleted), type(deleted[0]).__name__]
    obs["idle_function_id"] = idle.id

    # Jobs that run: a printer, a big compressible result, geometries, 7 paged values.
    printer = fn("print")
    big = fn("big", 5000)
    polygon = fn("polygon")
    point = fn("point")
    mark = recorder.mark()
    paged = fn.map([["value", index] for index in range(7)], tags=["paged"], batch_size=3)
    obs["p07_bulk_function_ids"] = sorted({job.function_id for job in paged})
    obs["p10_bulk_reference_ids"] = [
        call["body"]["reference_id"] for call in recorder.since(mark, "POST", "/jobs/bulk")
    ]
    fn.wait_for_completion(**WAIT)
    obs["printer_id"], obs["big_id"] = printer.id, big.id
    obs["polygon_id"], obs["point_id"] = polygon.id, point.id
    obs["paged_ids"] = [job.id for job in paged]

    # 1 and 2: paging with a limit, page_size, filter and sort; the follow-ups carry the cursor.
    mark = recorder.mark()
    search = (
        Job.search()
        .filter(Job.function_id == fn.id)
        .filter(Job.tags == "paged")
        .sort(-Job.creation_date)
        .param(page_size=2)
        .limit(5)
    )
    obs["p01_limited_ids"] = [job.id for job in search]
    obs["p01_limited_calls"] = recorder.since(mark, "GET", "/jobs")
    mark = recorder.mark()
    obs["p01_list_count"] = len(list(Job.list(page_size=3)))
    obs["p01_list_calls"] = recorder.since(mark, "GET", "/jobs")
    mark = recorder.mark()
    listed = list(Function.list(page_size=1, include=["job.statistics"]))
    obs["p01_function_pages"] = recorder.since(mark, "GET", "/functions")
    obs["p01_function_statistics"] = [plain(item.job_statistics) for item in listed]
    mark = recorder.mark()
    obs["p02_count"] = search.count()
    obs["p02_count_calls"] = recorder.since(mark, "GET", "/jobs")

    # 3: the build log, gunzipped by the client itself.
    obs["p03_build_log"] = fn.build_log()

    # 4: a result well above any compression threshold comes back byte-exact.
    obs["p04_big_result_ok"] = big.result() == "x" * 5000

    # 5: log lines, including an empty and an indented one.
    obs["p05_log"] = printer.log(timestamps=False)
    obs["p05_iter_log"] = list(printer.iter_log())

    # 6: result() (namespace verbatim) and result_blob() (namespace re-prefixed) agree.
    obs["p06_result"] = polygon.result()
    blob = polygon.result_blob()
    obs["p06_blob"] = None if blob is None else {"id": blob.id, "namespace": blob.namespace}

    # 7: every way of getting Job objects back hydrates (function_id present).
    single = Job(function_id=fn.id, args=["value", 99], tags=["saved"])
    single.save()
    single.wait_for_completion(**WAIT)
    single.tags = ["saved", "patched"]
    single.save()
    got = Job.get(single.id)
    listed_jobs = list(fn.jobs)
    fn.stop()  # two jobs that stay pending, to cancel (two ways) and then rerun
    first, second = fn("value", 1), fn("value", 2)
    canceled_one = Job.get(first.id)
    canceled_one.cancel()
    by_query = fn.cancel_jobs(job_ids=[second.id])
    rerun = fn.rerun(job_ids=[first.id, second.id])
    fn.start()
    obs["p07_function_ids"] = {
        "save": single.function_id,
        "patch": plain(single.tags),
        "get": got.function_id,
        "search": sorted({job.function_id for job in listed_jobs}),
        "cancel": canceled_one.function_id,
        "cancel_query": sorted({job.function_id for job in by_query}),
        "rerun": sorted({job.function_id for job in rerun}),
        "job_function": single.function.id,
    }
    fn.wait_for_completion(**WAIT)

    # 9: Function.delete() posts /jobs/delete first and needs its JSON answer.
    doomed = Function(probe, name=unique_name("doomed"), image=image, cpus=0.25)
    doomed.save()
    doomed("value", 1).wait_for_completion(**WAIT)
    mark = recorder.mark()
    doomed.delete()
    obs["p09_delete_calls"] = [
        (call["method"], call["path"].rsplit("/", 2)[-2:], call["status"], call["body"])
        for call in recorder.since(mark)
    ]

    # 12: DELETE /jobs/{id}?delete_results=True|False (capitalised) from Job.delete.
    drop, keep = paged[0], paged[1]
    drop_twin, keep_twin = Job.get(drop.id), Job.get(keep.id)
    mark = recorder.mark()
    drop.delete(delete_result=True)
    keep.delete()
    obs["p12_delete_queries"] = [call["query"] for call in recorder.since(mark, "DELETE")]
    obs["p12_results_after"] = [drop_twin.result(), keep_twin.result()]

    # 13: filter operators as this client puts them on the wire, and what they match.
    def wire_filter(search: Any) -> Any:
        mark = recorder.mark()
        count = search.count()
        return {
            "count": count,
            "filter": json.loads(recorder.since(mark)[-1]["query"]["filter"][0]),
        }

    jobs_of_fn = Job.search().filter(Job.function_id == fn.id)
    obs["p13_in"] = wire_filter(jobs_of_fn.filter(Job.tags.in_(["paged", "missing"])))
    obs["p13_tags_eq"] = wire_filter(jobs_of_fn.filter(Job.tags == "paged"))
    obs["p13_like"] = wire_filter(Function.search().filter(Function.name.like("PITFALLS-%")))
    obs["p13_range_first"] = wire_filter(jobs_of_fn.filter(Job.execution_count < 100))
    obs["p13_range_second"] = wire_filter(jobs_of_fn.filter(Job.execution_count > 0))
    obs["p13_isnull"] = wire_filter(jobs_of_fn.filter(Job.tags.isnull))

    # 14: datetimes are timezone-aware and usable as filter values.
    job = Job.get(printer.id)
    obs["p14_dates"] = {
        name: [plain(getattr(job, name)), getattr(job, name).utcoffset() is not None]
        for name in ("creation_date", "last_execution_date", "last_completion_date")
    }
    hour = dt.timedelta(hours=1)
    now = dt.datetime.now(dt.UTC)
    obs["p14_since_hour_ago"] = wire_filter(jobs_of_fn.filter(Job.creation_date >= now - hour))
    obs["p14_in_an_hour"] = wire_filter(jobs_of_fn.filter(Job.creation_date > now + hour))

    # 15: a Point on a result blob; result() is unaffected.
    obs["p15_point_result"] = point.result()
    obs["p15_point_blob"] = capture_error(lambda: point.result_blob().geometry.__geo_interface__)
    obs["p15_polygon_blob"] = plain(blob.geometry.__geo_interface__) if blob else None

    # 10: every error status the client saw in all of the above (none expected yet), then some.
    obs["p10_missing_function"] = capture_error(lambda: Function.get("no-such-function"))
    obs["p10_missing_job_log"] = capture_error(lambda: Job.get("no-such-job").log())
    obs["p10_bad_filter_value"] = capture_error(
        lambda: Job.search().filter(Job.runtime == "soon").count()
    )
    obs["p10_statuses"] = sorted({call["status"] for call in recorder.seen})


if __name__ == "__main__":
    run_scenario(main)
