"""BlobStore: key safety, atomic writes, size caps, appends and deletes, on both stores: a
real directory and a real S3 API (moto's server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from batch_compute_mock.blobs import BlobStore, LocalBlobStore, open_blobs
from batch_compute_mock.blobs.keys import build_log_key, bundle_key, job_log_key, result_key
from batch_compute_mock.blobs.s3 import S3BlobStore
from batch_compute_mock.kernel.errors import PayloadTooLarge


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "data")
    return open_blobs(request.getfixturevalue("s3_endpoint").new_bucket_url())


def _objects(store: BlobStore) -> list[str]:
    """Everything the store holds, temporary files and parts included."""
    if isinstance(store, LocalBlobStore):
        return sorted(
            p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()
        )
    assert isinstance(store, S3BlobStore)
    return sorted(name[len(store.root) + 1 :] for name in store.fs.find(store.root))


def _leftovers(store: BlobStore) -> list[str]:
    """Objects that are no blob: temporary files of unfinished writes, parts of a log."""
    return [name for name in _objects(store) if ".tmp-" in name or "@parts" in name]


def test_write_read_round_trip(store: BlobStore) -> None:
    key = bundle_key("fn_123")
    assert not store.exists(key)
    assert store.write_bytes(key, b"zipdata") == 7
    assert store.exists(key)
    assert store.read_bytes(key) == b"zipdata"
    assert store.size(key) == 7
    if isinstance(store, LocalBlobStore):
        assert store.path(key) == store.root / "bundles" / "fn_123.zip"
    with store.open(key) as handle:
        assert handle.read() == b"zipdata"


def test_write_replaces_existing(store: BlobStore) -> None:
    store.write_bytes("results/a", b"old")
    store.write_bytes("results/a", b"new!")
    assert store.read_bytes("results/a") == b"new!"
    assert _leftovers(store) == []


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../outside",
        "results/../../x",
        "results//x",
        "results/",
        "results/x\x00y",
        "results/.hidden",
        "results/.",
        "a\\b",
        "c:/x",
        "results/a b",
        "x" * 256,
    ],
)
def test_unsafe_keys_rejected(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.exists(key)
    with pytest.raises(ValueError):
        store.write_bytes(key, b"x")
    with pytest.raises(ValueError):
        store.open_appender(key)
    assert _objects(store) == []


def test_key_helpers_are_safe_keys(store: BlobStore) -> None:
    blob_id = "compute/org:abc123/F/J"
    key = result_key(blob_id)
    assert key.startswith("results/") and ":" not in key
    assert key == result_key(blob_id) != result_key(blob_id + "x")
    for k in (key, bundle_key("F"), build_log_key("F"), job_log_key("42")):
        store.write_bytes(k, b"1")
        assert store.exists(k)


def test_write_stream_counts_and_is_atomic(store: BlobStore) -> None:
    size = store.write_stream("bundles/f.zip", iter([b"ab", b"", b"cde"]), max_bytes=5)
    assert size == 5
    assert store.read_bytes("bundles/f.zip") == b"abcde"


def test_write_stream_over_cap_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(PayloadTooLarge, match="10 bytes"):
        store.write_stream("bundles/f.zip", iter([b"x" * 6, b"y" * 6]), max_bytes=10)
    assert not store.exists("bundles/f.zip")
    assert _leftovers(store) == []


def test_write_stream_over_cap_keeps_previous(store: BlobStore) -> None:
    store.write_bytes("bundles/f.zip", b"previous")
    with pytest.raises(PayloadTooLarge):
        store.write_stream("bundles/f.zip", [b"x" * 20], max_bytes=10)
    assert store.read_bytes("bundles/f.zip") == b"previous"


def test_write_stream_failure_midway_cleans_up(store: BlobStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"part"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.write_stream("bundles/f.zip", chunks())
    assert not store.exists("bundles/f.zip")
    assert _leftovers(store) == []


def test_write_stream_async(store: BlobStore) -> None:
    async def body() -> AsyncIterator[bytes]:
        for part in (b"as", b"ync"):
            yield part

    assert asyncio.run(store.write_stream_async("bundles/a.zip", body(), max_bytes=5)) == 5
    assert store.read_bytes("bundles/a.zip") == b"async"
    with pytest.raises(PayloadTooLarge):
        asyncio.run(store.write_stream_async("bundles/b.zip", body(), max_bytes=4))
    assert not store.exists("bundles/b.zip")
    assert _leftovers(store) == []


def test_an_appender_is_readable_while_it_grows(store: BlobStore) -> None:
    key = job_log_key("J1")
    store.write_bytes(key, b"an older attempt's log\n")
    log = store.open_appender(key)
    assert store.read_bytes(key) == b""  # a new log starts empty
    log.write(b"one\n")
    _visible(store, key, b"one\n")
    log.write(b"two\n")
    log.close()
    assert store.read_bytes(key) == b"one\ntwo\n"  # whole at once when closed
    again = store.open_appender(key, truncate=False)
    again.write(b"three\n")
    again.close()
    assert store.read_bytes(key) == b"one\ntwo\nthree\n"
    assert _leftovers(store) == []


def _visible(store: BlobStore, key: str, expected: bytes) -> None:
    """On a directory at once; on S3 once the appender's timer put it (about a second)."""
    if isinstance(store, LocalBlobStore):
        assert store.read_bytes(key) == expected
        return
    deadline = time.monotonic() + 10
    while (seen := store.read_bytes(key)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == expected


def test_an_appender_creates_its_blob_at_the_first_write(store: BlobStore) -> None:
    key = job_log_key("J2")
    silent = store.open_appender(key)
    assert not store.exists(key)  # most jobs print nothing: no blob for them
    silent.close()
    assert not store.exists(key)
    speaking = store.open_appender(key)
    speaking.write(b"")
    assert not store.exists(key)
    speaking.write(b"hello\n")
    speaking.close()
    assert store.read_bytes(key) == b"hello\n"


def test_put_file_moves_a_finished_file_in_and_fetch_file_copies_out(
    store: BlobStore, tmp_path: Path
) -> None:
    finished = tmp_path / "result.bin"
    finished.write_bytes(b"result")
    assert store.put_file("results/r1", finished) == 6
    assert not finished.exists() and store.read_bytes("results/r1") == b"result"
    copy = tmp_path / "copy.bin"
    store.fetch_file("results/r1", copy)
    assert copy.read_bytes() == b"result" and store.exists("results/r1")
    with pytest.raises(FileNotFoundError):
        store.fetch_file("results/none", tmp_path / "none")


def test_keys_lists_a_directory(store: BlobStore) -> None:
    for key in ("results/a", "results/b", "job-logs/c.ndjson"):
        store.write_bytes(key, b"x")
    assert sorted(store.keys("results/")) == ["results/a", "results/b"]
    assert list(store.keys("missing/")) == []


def test_missing_blob_reads(store: BlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.read_bytes("results/nope")
    with pytest.raises(FileNotFoundError):
        store.size("results/nope")
    assert store.delete("results/nope") is False


def test_delete_and_delete_prefix(store: BlobStore) -> None:
    for key in (
        "results/ab1",
        "results/ab2",
        "results/cd",
        "job-logs/1.ndjson",
        "job-logs/2.ndjson",
    ):
        store.write_bytes(key, b"x")
    assert store.delete("results/cd") is True
    assert not store.exists("results/cd")
    assert store.delete_prefix("results/ab") == 2
    assert not store.exists("results/ab1")
    assert store.delete_prefix("job-logs/") == 2
    assert store.delete_prefix("missing-dir/") == 0
    assert store.delete_prefix("results/zz") == 0
    with pytest.raises(ValueError):
        store.delete_prefix("")
    with pytest.raises(ValueError):
        store.delete_prefix("results")
    with pytest.raises(ValueError):
        store.delete_prefix("../")
