"""What the dashboard's pages show, computed before any template: the jobs table's filter in
a URL and in the API's terms, result previews, log lines, build failures, chart geometry."""

from __future__ import annotations

import json

import pytest

from batch_compute_mock.dashboard import views
from batch_compute_mock.dashboard.charts import (
    HEIGHT,
    WIDTH,
    minutes_chart,
    runtimes_chart,
    status_bar,
)
from batch_compute_mock.dashboard.filters import JobFilter
from batch_compute_mock.kernel.errors import InvalidInput
from batch_compute_mock.service.activity import Minute, RuntimeBin
from batch_compute_mock.service.queries import parse_query_body, parse_search_params


def test_the_job_filter_reads_a_query_string_and_refuses_what_the_api_would() -> None:
    chosen = JobFilter.from_params({"status": "failure", "tag": " nightly ", "sort": "-runtime"})
    assert chosen == JobFilter(status="failure", tag="nightly", sort="-runtime")
    with pytest.raises(InvalidInput, match="not a job status"):
        JobFilter.from_params({"status": "exploded"})
    with pytest.raises(InvalidInput, match="cannot sort jobs by 'tags'"):
        JobFilter.from_params({"sort": "tags"})


def test_the_job_filter_speaks_the_apis_search_and_query_body() -> None:
    chosen = JobFilter(status="failure", tag="nightly", sort="-runtime")
    params = chosen.search_params("fn1", page_size=50)
    query = parse_search_params("jobs", **params)
    assert [str(key) for key in query.sort] == ["-runtime", "id"]
    assert query.page_size == 50
    assert {(node.field, node.value) for node in query.filter} == {  # type: ignore[union-attr]
        ("function_id", "fn1"), ("status", "failure"), ("tags", "nightly"),
    }  # fmt: skip
    body = parse_query_body("jobs", chosen.query_body("fn1", statuses=["pending", "running"]))
    assert len(body.filter) == 4
    assert JobFilter(cursor="abc").search_params("fn1", 50) == {"page_cursor": "abc"}
    assert json.loads(chosen.count_params("fn1")["filter"])[0]["val"] == "fn1"


def test_the_job_filter_makes_links() -> None:
    chosen = JobFilter(status="failure", tag="a b&c")
    assert chosen.query_string() == "?status=failure&tag=a+b%26c"
    assert JobFilter().query_string() == ""
    assert chosen.sorted_by("runtime") == "?status=failure&tag=a+b%26c&sort=-runtime"
    assert JobFilter(sort="-runtime", cursor="x").sorted_by("runtime") == "?sort=runtime"
    assert JobFilter(sort="runtime").direction("runtime") == "ascending"
    assert JobFilter().direction("creation_date") == "descending"
    assert chosen.description == "status = failure, tag = a b&c"
    assert JobFilter().description == "all jobs"


@pytest.mark.parametrize(
    ("data", "size", "kind", "text", "truncated"),
    [
        (b'{"a": [1, 2]}', 13, "json", '{"a": [1, 2]}', False),
        (b"plain <b>text</b>\n", 18, "text", "plain <b>text</b>\n", False),
        (b"\x89PNG\r\n\x1a\n", 8, "binary", "", False),
        (b"\x00\x01binary", 8, "binary", "", False),
        (b'{"a": "' + b"x" * 13, 1000, "text", '{"a": "' + "x" * 13, True),  # JSON, cut: text
        (("a" + "é" * 10).encode(), 1000, "text", "a" + "é" * 9, True),  # cut inside a character
    ],
)
def test_result_previews(data: bytes, size: int, kind: str, text: str, truncated: bool) -> None:
    shown = views.preview(data[:20], size, limit=20)
    assert (shown.kind, shown.text, shown.truncated) == (kind, text, truncated)


def test_log_lines_keep_their_text_as_data() -> None:
    data = (
        b'{"date": "2024-05-01T12:00:01.123456Z", "log": "<script>alert(1)</script>"}\nnot json\n\n'
    )
    lines = views.log_lines(data)
    assert lines[0] == views.LogLine("2024-05-01T12:00:01.123456Z", "<script>alert(1)</script>")
    assert lines[0].clock == "12:00:01.123"
    assert lines[1] == views.LogLine("", "not json")
    assert len(lines) == 2


def test_the_build_failure_is_the_last_build_failed_line() -> None:
    log = "2024Z Build started\n2024Z Build failed: requirements not satisfied: x (missing)\n"
    assert views.build_failure(log) == "requirements not satisfied: x (missing)"
    assert views.build_failure("2024Z Build succeeded\n") is None


def test_counts_are_grouped_as_people_read_them() -> None:
    statistics = {"pending": 1, "running": 2, "cancel": 1, "canceling": 1, "success": 5}
    assert views.group_counts(statistics) == [
        ("pending", 1), ("running", 4), ("success", 5), ("failure", 0), ("timeout", 0),
        ("canceled", 0),
    ]  # fmt: skip


def test_readable_values() -> None:
    assert views.when("2024-05-01T12:00:03.123456+00:00") == "2024-05-01 12:00:03"
    assert views.when(None) == "—"
    assert [views.seconds(v) for v in (5, 75, 3700, None)] == [
        "5 s",
        "1 min 15 s",
        "1 h 1 min",
        "—",
    ]
    assert [views.mebibytes(v) for v in (2048, 1536)] == ["2 GiB", "1,536 MiB"]
    assert [views.byte_size(v) for v in (10, 1536, 3 << 30)] == ["10 bytes", "1.5 KiB", "3.0 GiB"]
    assert views.short_id("01a24219-0964-7a76-91a1-2777ca8aaa80") == "…2777ca8aaa80"
    assert views.status_label("build_failed") == "build failed"
    assert views.pretty_json([7]) == "[7]"
    assert "\n" in views.pretty_json({"k": "v" * 100})


def test_the_minutes_chart_stacks_outcomes_inside_its_plot() -> None:
    minutes = [
        Minute("2024-05-01T12:00", {"success": 3, "failure": 1, "timeout": 0, "canceled": 0}),
        Minute("2024-05-01T12:01", {"success": 0, "failure": 0, "timeout": 0, "canceled": 0}),
        Minute("2024-05-01T12:02", {"success": 8, "failure": 0, "timeout": 0, "canceled": 0}),
    ]
    chart = minutes_chart(minutes)
    left, top, right, bottom = chart.plot
    assert chart.top == 8
    assert [bar.kind for bar in chart.bars] == ["success", "failure", "success"]
    for bar in chart.bars:
        assert left <= bar.x and bar.x + bar.width <= right
        assert top - 1e-9 <= bar.y and bar.y + bar.height <= bottom + 1e-9
    tallest = chart.bars[-1]
    assert tallest.y == pytest.approx(top) and tallest.height == pytest.approx(bottom - top)
    success, failure = chart.bars[0], chart.bars[1]
    assert failure.y + failure.height == pytest.approx(success.y)  # stacked
    assert success.height == pytest.approx(3 * failure.height)
    assert [label.text for label in chart.labels] == ["12:00", "12:01", "12:02"]
    assert chart.width == WIDTH and chart.height == HEIGHT
    assert minutes_chart([]).empty


def test_the_runtimes_chart_and_the_status_bar() -> None:
    chart = runtimes_chart([RuntimeBin(0, 5, 10), RuntimeBin(5, 10, 0), RuntimeBin(10, 15, 5)])
    assert [bar.label for bar in chart.bars] == ["0-5 s: 10 jobs", "10-15 s: 5 jobs"]
    assert chart.bars[0].height == pytest.approx(2 * chart.bars[1].height)
    assert runtimes_chart([]).empty
    bar = status_bar([("success", 3), ("failure", 0), ("timeout", 1)])
    assert [(b.kind, b.x, b.width) for b in bar] == [("success", 0, 75.0), ("timeout", 75.0, 25.0)]
    assert status_bar([("success", 0)]) == ()
