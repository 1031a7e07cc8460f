"""BlobStore: key safety, atomic writes, size caps, appends and deletes on a real directory."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from batch_compute_mock.blobs.files import (
    BlobStore,
    build_log_key,
    bundle_key,
    job_log_key,
    result_key,
)
from batch_compute_mock.service.errors import PayloadTooLarge


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "data")


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


def test_write_read_round_trip(store: BlobStore) -> None:
    key = bundle_key("fn_123")
    assert not store.exists(key)
    assert store.write_bytes(key, b"zipdata") == 7
    assert store.exists(key)
    assert store.read_bytes(key) == b"zipdata"
    assert store.size(key) == 7
    assert store.path(key) == store.root / "bundles" / "fn_123.zip"
    with store.open(key) as handle:
        assert handle.read() == b"zipdata"


def test_write_replaces_existing(store: BlobStore) -> None:
    store.write_bytes("results/a", b"old")
    store.write_bytes("results/a", b"new!")
    assert store.read_bytes("results/a") == b"new!"
    assert _leftovers(store.root) == []


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
        store.path(key)
    with pytest.raises(ValueError):
        store.write_bytes(key, b"x")
    assert list(store.root.iterdir()) == []


def test_key_helpers_are_safe_keys(store: BlobStore) -> None:
    blob_id = "compute/org:abc123/F/J"
    key = result_key(blob_id)
    assert key.startswith("results/") and ":" not in key
    assert key == result_key(blob_id) != result_key(blob_id + "x")
    for k in (key, bundle_key("F"), build_log_key("F"), job_log_key(42)):
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
    assert _leftovers(store.root) == []


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
    assert _leftovers(store.root) == []


def test_write_stream_async(store: BlobStore) -> None:
    async def body() -> AsyncIterator[bytes]:
        for part in (b"as", b"ync"):
            yield part

    assert asyncio.run(store.write_stream_async("bundles/a.zip", body(), max_bytes=5)) == 5
    assert store.read_bytes("bundles/a.zip") == b"async"
    with pytest.raises(PayloadTooLarge):
        asyncio.run(store.write_stream_async("bundles/b.zip", body(), max_bytes=4))
    assert not store.exists("bundles/b.zip")
    assert _leftovers(store.root) == []


def test_append_text_concurrent_lines_do_not_interleave(store: BlobStore) -> None:
    key = job_log_key("J1")
    lines_per_thread = 200

    def writer(tag: str) -> None:
        for i in range(lines_per_thread):
            store.append_text(key, json.dumps({"tag": tag, "i": i, "pad": tag * 300}) + "\n")

    threads = [threading.Thread(target=writer, args=(t,)) for t in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [json.loads(line) for line in store.read_bytes(key).decode().splitlines()]
    assert len(records) == 4 * lines_per_thread
    assert all(r["pad"] == r["tag"] * 300 for r in records)
    for tag in "abcd":
        assert [r["i"] for r in records if r["tag"] == tag] == list(range(lines_per_thread))


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
