"""Executor building blocks without processes: results, logs, environment, framing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from batch_compute_mock.blobs import LocalBlobStore
from batch_compute_mock.executors.local.env import server_environment
from batch_compute_mock.executors.local.logs import LogWriter
from batch_compute_mock.executors.outcome import describe_signal, job_statistics
from batch_compute_runtime.frames import FrameDecoder, encode_frame
from batch_compute_runtime.serialize import (
    ResultError,
    geometry_to_geojson,
    is_compute_result,
    parse_wkt,
    serialize_return,
)


class Result:
    """Shaped like every SDK's ComputeResult, without importing one."""

    def __init__(
        self, value, description=None, expires=None, extra_properties=None, geometry=None, tags=None
    ):
        self.value = value
        self.description = description
        self.expires = expires
        self.extra_properties = extra_properties
        self.geometry = geometry
        self.tags = tags


class Serializable:
    def serialize(self):
        return b"\x00custom"


class Shapely:
    __geo_interface__ = {"type": "Point", "coordinates": (1.0, 2.0)}


# results ----------------------------------------------------------------------------------
def test_plain_values_are_json_with_default_attributes():
    data, attributes = serialize_return({"a": [1, 2.5, None]})
    assert json.loads(data) == {"a": [1, 2.5, None]}
    assert attributes == {
        "description": None,
        "expires": None,
        "extra_properties": {},
        "geometry": None,
        "tags": [],
    }


@pytest.mark.parametrize("value", [b"\x00\xff", bytearray(b"\x00\xff"), memoryview(b"\x00\xff")])
def test_bytes_like_values_are_stored_raw(value):
    assert serialize_return(value).data == b"\x00\xff"


def test_serialize_method_is_used():
    assert serialize_return(Serializable()).data == b"\x00custom"
    assert serialize_return(Result(Serializable(), tags=["x"])).data == b"\x00custom"


def test_none_without_attributes_means_no_result():
    assert serialize_return(None) == (None, None)
    assert serialize_return(Result(None)) == (None, None)
    assert serialize_return(Result(None, tags=[])) == (None, None)


def test_none_with_tags_stores_null():
    data, attributes = serialize_return(Result(None, tags=["a"]))
    assert data == b"null"
    assert attributes["tags"] == ["a"]


def test_unserialisable_value_says_so():
    with pytest.raises(ResultError, match=r"^Result is not JSON serializable: TypeError: .*set"):
        serialize_return({1, 2})


def test_compute_result_is_recognised_by_shape_only():
    assert is_compute_result(Result(1))
    assert not is_compute_result({"value": 1, "description": None})
    assert not is_compute_result(Result)  # the class itself is a value, not a result


def test_full_attributes_are_normalised():
    data, attributes = serialize_return(
        Result(
            {"x": 1},
            description="d",
            expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            extra_properties={"k": "v", "n": 1.5},
            geometry=Shapely(),
            tags={"b", "a"},
        )
    )
    assert json.loads(data) == {"x": 1}
    assert attributes == {
        "description": "d",
        "expires": "2030-01-02T01:04:05.000000+00:00",
        "extra_properties": {"k": "v", "n": 1.5},
        "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
        "tags": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("expires", "stored"),
    [
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000000+00:00"),
        (datetime(2030, 1, 1), "2030-01-01T00:00:00.000000+00:00"),
        (date(2030, 1, 1), "2030-01-01T00:00:00.000000+00:00"),
        (0, "1970-01-01T00:00:00.000000+00:00"),
    ],
)
def test_expires_forms(expires, stored):
    assert serialize_return(Result(1, expires=expires)).attributes["expires"] == stored


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"description": "x" * 80_001}, "description: 80,001 characters"),
        ({"description": 5}, "description: expected a string"),
        ({"expires": "soon"}, "expires: expected an ISO 8601"),
        ({"expires": True}, "expires"),
        ({"extra_properties": {f"k{i}": i for i in range(51)}}, "51 keys, at most 50"),
        ({"extra_properties": {"k": [1]}}, "value of 'k' must be a string or a number"),
        ({"extra_properties": {"k": True}}, "value of 'k'"),
        ({"extra_properties": {1: "v"}}, "key 1 is not a string"),
        ({"extra_properties": ["k"]}, "expected a dict"),
        ({"tags": "abc"}, "tags: expected a list of strings"),
        ({"tags": ["a", 1]}, "1 is not a string"),
        ({"geometry": 42}, "geometry: expected a GeoJSON dict"),
        ({"geometry": {"type": "Circle", "coordinates": [1, 2]}}, "unknown GeoJSON type"),
        ({"geometry": {"type": "Point", "coordinates": [1]}}, "bad Point position"),
        ({"geometry": "POINT (1)"}, "bad WKT"),
        ({"geometry": "CIRCLE (1 2)"}, "unsupported geometry type CIRCLE"),
    ],
)
def test_invalid_attributes_fail_with_a_clear_message(attributes, message):
    with pytest.raises(ResultError, match=r"^Invalid result ") as caught:
        serialize_return(Result(1, **attributes))
    assert message in str(caught.value)


def test_description_at_the_limit_is_accepted():
    assert serialize_return(Result(1, description="x" * 80_000)).attributes["description"]


@pytest.mark.parametrize(
    ("wkt", "geojson"),
    [
        ("POINT (30 10)", {"type": "Point", "coordinates": [30.0, 10.0]}),
        ("point z (1 2 3)", {"type": "Point", "coordinates": [1.0, 2.0, 3.0]}),
        ("POINT M (1 2 9)", {"type": "Point", "coordinates": [1.0, 2.0]}),
        ("SRID=4326;POINT(-1.5 2e1)", {"type": "Point", "coordinates": [-1.5, 20.0]}),
        (
            "LINESTRING (30 10, 10 30)",
            {"type": "LineString", "coordinates": [[30.0, 10.0], [10.0, 30.0]]},
        ),
        (
            "POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))",
            {
                "type": "Polygon",
                "coordinates": [
                    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                    [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.1]],
                ],
            },
        ),
        (
            "MULTIPOINT ((1 2), (3 4))",
            {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]},
        ),
        ("MULTIPOINT (1 2, 3 4)", {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}),
        (
            "MULTILINESTRING ((1 2, 3 4), (5 6, 7 8))",
            {
                "type": "MultiLineString",
                "coordinates": [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]],
            },
        ),
        (
            "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
            {
                "type": "MultiPolygon",
                "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]],
            },
        ),
        (
            "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
            {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Point", "coordinates": [1.0, 2.0]},
                    {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]},
                ],
            },
        ),
        ("POLYGON EMPTY", {"type": "Polygon", "coordinates": []}),
    ],
)
def test_wkt_is_parsed_to_geojson(wkt, geojson):
    assert parse_wkt(wkt) == geojson
    assert geometry_to_geojson(wkt) == geojson


def test_geojson_feature_and_string_forms():
    point = {"type": "Point", "coordinates": [1, 2]}
    assert geometry_to_geojson({"type": "Feature", "geometry": point, "properties": {}}) == point
    assert geometry_to_geojson(json.dumps(point)) == point
    assert geometry_to_geojson({"type": "Point", "coordinates": (1, 2)}) == point


# logs -------------------------------------------------------------------------------------
def _entries(path: Path) -> list[dict]:
    text = path.read_text()
    assert "\n\n" not in text and not text.startswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _log_writer(tmp_path, **options):
    """A LogWriter into a fresh job log blob, and the file that holds it."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    return LogWriter(blobs.open_appender("job-logs/job.ndjson"), **options), blobs.path(
        "job-logs/job.ndjson"
    )


def test_log_lines_are_stamped_split_and_flushed(tmp_path):
    writer, path = _log_writer(tmp_path, clock=lambda: 1714564801.0)
    writer.feed(b"hello\nwor")
    writer.feed(b"ld\r\n\n\xff\xfebad utf8\n")
    assert [e["log"] for e in _entries(path)] == ["hello", "world", "", "\ufffd\ufffdbad utf8"]
    writer.feed(b"no newline at the end")
    writer.close()
    entries = _entries(path)
    assert entries[-1] == {"date": "2024-05-01T12:00:01.000000Z", "log": "no newline at the end"}


def test_long_lines_are_split_on_character_boundaries(tmp_path):
    writer, path = _log_writer(tmp_path, max_line_bytes=10)
    writer.feed(("é" * 12).encode() + b"\n")
    writer.close()
    texts = [e["log"] for e in _entries(path)]
    assert "".join(texts) == "é" * 12
    assert all(len(t.encode()) <= 10 for t in texts) and "\ufffd" not in "".join(texts)


def test_log_cap_writes_a_marker_and_discards_the_rest(tmp_path):
    writer, path = _log_writer(tmp_path, cap_bytes=4096)
    for _ in range(1000):
        writer.feed(b"x" * 99 + b"\n")
    writer.feed(b"partial")
    writer.close()
    assert path.stat().st_size <= 4096
    entries = _entries(path)
    assert entries[-1]["log"].startswith("[log truncated: ")
    assert "4 KiB" in entries[-1]["log"]
    assert all(e["log"] == "x" * 99 for e in entries[:-1])
    assert writer.truncated and writer.discarded_bytes > 90_000


# environment, framing, outcome ------------------------------------------------------------
def test_server_environment_drops_secrets():
    base = {
        "PATH": "/bin",
        "BATCH_COMPUTE_JWT_SECRET": "s",
        "AWS_SECRET_ACCESS_KEY": "s",
        "GITHUB_TOKEN": "s",
        "DB_PASSWORD": "s",
        "MY_EXTRA": "s",
        "KEEP": "1",
    }
    assert server_environment(base, {"my_extra"}) == {"PATH": "/bin", "KEEP": "1"}


def test_server_environment_keeps_what_the_blob_store_reads():
    base = {
        "PATH": "/bin",
        "BATCH_COMPUTE_JWT_SECRET": "s",
        "AWS_SECRET_ACCESS_KEY": "k",
        "AWS_SESSION_TOKEN": "t",
        "GITHUB_TOKEN": "s",
    }
    assert server_environment(base, (), ("AWS_*",)) == {
        "PATH": "/bin",
        "AWS_SECRET_ACCESS_KEY": "k",
        "AWS_SESSION_TOKEN": "t",
    }
    kept = server_environment(base, {"AWS_SESSION_TOKEN"}, ("AWS_*",))
    assert "AWS_SESSION_TOKEN" not in kept and "AWS_SECRET_ACCESS_KEY" in kept


def test_frames_survive_arbitrary_splits():
    stream = encode_frame({"op": "run", "n": 1}) + encode_frame({"op": "done", "x": "é" * 100})
    decoder = FrameDecoder()
    got = []
    for index in range(0, len(stream), 7):
        got.extend(decoder.feed(stream[index : index + 7]))
    assert got == [{"op": "run", "n": 1}, {"op": "done", "x": "é" * 100}]


def test_statistics_follow_the_wire_shape():
    stats = job_statistics(
        cpu_ns=500_000_000, wall_s=1.0, peak_bytes=256 << 20, limit_bytes=512 << 20
    )
    assert stats["cpu"] == {"total": 50, "time": 500_000_000, "timeseries": [[50, 500_000_000]]}
    assert stats["memory"]["peak_bytes"] == 256 << 20 and stats["memory"]["peak_percentage"] == 50
    assert set(stats["network"]) == {
        "rx_bytes",
        "tx_bytes",
        "rx_dropped",
        "tx_dropped",
        "rx_errors",
        "tx_errors",
    }


def test_signal_description():
    assert describe_signal(11) == "Killed by signal SIGSEGV (segmentation fault)"
    assert datetime.now(UTC)  # keep the UTC import honest
