"""The S3 blob store's own behaviour on a real S3 API (moto's server): a running log read from
another server while it grows and is compacted, the URL and its errors, large uploads."""

from __future__ import annotations

import json
import threading
import time

import pytest

from batch_compute_mock.blobs import check_blob_url, open_blobs
from batch_compute_mock.blobs.keys import job_log_key
from batch_compute_mock.blobs.s3 import S3BlobStore
from batch_compute_mock.blobs.segments import Piece, part_key, pieces
from batch_compute_mock.service.log_window import read_log_window
from support.s3 import S3Endpoint


@pytest.fixture
def url(s3_endpoint: S3Endpoint) -> str:
    return s3_endpoint.new_bucket_url()


def _s3(url: str) -> S3BlobStore:
    store = open_blobs(url)
    assert isinstance(store, S3BlobStore)
    return store


def _objects(store: S3BlobStore) -> list[str]:
    return sorted(name[len(store.root) + 1 :] for name in store.fs.find(store.root))


def _until(check: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)
    assert check()  # type: ignore[operator]


def test_a_running_log_is_read_from_another_server_through_compactions(url: str) -> None:
    writer, reader = _s3(url), _s3(url)  # two servers on one bucket
    writer.flush_seconds, writer.compact_parts = 0.05, 3
    key = job_log_key("J1")
    log = writer.open_appender(key)
    expected = b""
    for n in range(13):  # compacted after parts 3, 6, 9 and 12
        line = f"line {n}\n".encode()
        log.write(line)
        expected += line
        _until(lambda e=expected: reader.read_bytes(key) == e)  # type: ignore[misc]
        assert reader.size(key) == len(expected)
    assert any("@parts/" in name for name in _objects(writer))  # still growing by parts
    log.close()
    assert _objects(writer) == [key]  # one object once the job ended
    assert reader.read_bytes(key) == expected


def test_a_log_window_reads_the_tail_across_base_and_parts(url: str) -> None:
    store = _s3(url)
    key = job_log_key("J2")
    store.write_bytes(key, b"a\nbb\n")
    store.fs.pipe_file(f"{store.root}/{part_key(key, 5)}", b"ccc\n")
    store.fs.pipe_file(f"{store.root}/{part_key(key, 9)}", b"dd\ne")
    store.fs.pipe_file(f"{store.root}/{part_key(key, 100)}", b"after a gap\n")  # not reached
    assert store.read_bytes(key) == b"a\nbb\nccc\ndd\ne"
    window = read_log_window(store, key, None, 10)
    assert (window.start, window.data) == (5, b"ccc\ndd\n")
    after = read_log_window(store, key, 2, 100)
    assert (after.start, after.data) == (2, b"bb\nccc\ndd\n")


def test_a_reader_open_across_a_compaction_reads_the_same_bytes(url: str) -> None:
    store = _s3(url)
    key = job_log_key("J3")
    log = store.open_appender(key)
    store.flush_bytes = 4  # every write is put as a part at once
    log.write(b"0123")
    log.write(b"4567")
    with store.open(key) as file:
        assert file.read(2) == b"01"
        store._compact(key)  # the parts it listed are gone now
        assert _objects(store) == [key]
        assert file.read() == b"234567"
    log.close()


def test_a_reader_open_while_a_retried_job_empties_its_log_ends_cleanly(url: str) -> None:
    store = _s3(url)
    key = job_log_key("J8")
    store.write_bytes(key, b"first attempt\n" * 10)
    with store.open(key) as file:
        store.open_appender(key).close()  # the next attempt empties it
        assert file.read() == b""
    with store.open(key) as file:
        assert file.read(6) == b""
    store.write_bytes(key, b"0123456789")
    with store.open(key) as file:
        store.delete(key)
        assert file.read() == b""


def test_continuing_a_log_and_replacing_one_that_grows(url: str) -> None:
    store, other = _s3(url), _s3(url)
    store.flush_bytes = 1
    key = job_log_key("J4")
    first = store.open_appender(key)
    first.write(b"first\n")
    first.close()
    more = store.open_appender(key, truncate=False)  # a lost worker's last output
    more.write(b"more\n")
    assert other.read_bytes(key) == b"first\nmore\n"  # base + part, before compaction
    more.close()
    assert _objects(store) == [key]
    grows = store.open_appender(key)  # a retried job starts its log again
    grows.write(b"x" * 20)
    assert other.read_bytes(key) == b"x" * 20
    store.write_bytes(key, b"whole")  # a whole write drops the parts: none continue it
    assert other.read_bytes(key) == b"whole" and _objects(store) == [key]
    assert store.delete(key) is True and _objects(store) == []


def test_a_short_log_is_put_whole_when_it_closes(url: str) -> None:
    store = _s3(url)
    store.flush_seconds = 60  # no part before the close
    key = job_log_key("J6")
    store.write_bytes(key, b"an older attempt's log\n")
    log = store.open_appender(key)
    log.write(b"quick\n")
    log.close()
    assert store.read_bytes(key) == b"quick\n" and _objects(store) == [key]
    silent = store.open_appender(job_log_key("J7"))
    silent.close()
    assert not store.exists(job_log_key("J7"))  # no PUT for a job that printed nothing
    store.write_bytes(job_log_key("J9"), b"an older attempt's log\n")
    retried = store.open_appender(job_log_key("J9"))
    assert store.read_bytes(job_log_key("J9")) == b""  # emptied at once
    retried.close()
    assert store.read_bytes(job_log_key("J9")) == b""


def test_appender_writes_from_threads_keep_their_order(url: str) -> None:
    store = _s3(url)
    store.flush_seconds = 0.01
    key = job_log_key("J5")
    log = store.open_appender(key)
    lock = threading.Lock()
    written = []

    def worker(name: str) -> None:
        for n in range(20):
            with lock:
                line = f"{name}{n}\n".encode()
                written.append(line)
                log.write(line)
            time.sleep(0.002)

    threads = [threading.Thread(target=worker, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    assert store.read_bytes(key) == b"".join(written)


def test_a_large_upload_is_whole_and_capped(url: str) -> None:
    store = _s3(url)
    chunk = bytes(range(256)) * 4096  # 1 MiB
    assert store.write_stream("bundles/big.zip", iter([chunk] * 12)) == 12 << 20
    assert store.size("bundles/big.zip") == 12 << 20
    with store.open("bundles/big.zip") as file:
        file.seek(11 << 20)
        assert file.read() == chunk
    with pytest.raises(Exception, match="maximum size"):
        store.write_stream("bundles/big.zip", iter([chunk] * 12), max_bytes=10 << 20)
    assert store.size("bundles/big.zip") == 12 << 20  # the old blob is untouched


def test_url_options_errors_and_ping(s3_endpoint: S3Endpoint, url: str) -> None:
    store = _s3(url)
    assert store.url == url and _s3(store.url).root == store.root  # enough for a supervisor
    store.ping()
    missing = _s3(f"s3://no-such-bucket-here/x?endpoint_url={s3_endpoint.endpoint_url}")
    with pytest.raises(OSError):
        missing.ping()
    with pytest.raises(ValueError, match=r"s3://bucket/prefix"):
        check_blob_url("gs://bucket/blobs")
    with pytest.raises(ValueError, match="no bucket"):
        check_blob_url("s3:///blobs")
    with pytest.raises(ValueError, match=r"unknown option.*colour"):
        open_blobs("s3://bucket/blobs?colour=blue")


def test_pieces_follow_the_base_without_gaps() -> None:
    key = "job-logs/J.ndjson"
    assert pieces(key, {}) is None
    assert pieces(key, {part_key(key, 4): 3}) is None  # no base, no part at 0
    assert pieces(key, {key: 0}) == [Piece(key, 0)]
    listing = {key: 4, part_key(key, 0): 4, part_key(key, 4): 3, part_key(key, 9): 1}
    assert pieces(key, listing) == [Piece(key, 4), Piece(part_key(key, 4), 3)]
    assert pieces("job-logs/J", {part_key("job-logs/J.ndjson", 0): 1}) is None


def _requests(store: S3BlobStore) -> list[str]:
    """Every request the store's S3 client sends from now on, as ``METHOD query``."""
    sent: list[str] = []

    def note(request: object, **_: object) -> None:
        method, url = getattr(request, "method", "?"), getattr(request, "url", "")
        sent.append(f"{method} {'list' if 'list-type=' in url else 'object'}")

    store.fs.s3.meta.events.register("before-send.s3", note)
    return sent


def test_a_whole_write_of_a_blob_that_cannot_grow_is_one_put(url: str) -> None:
    store = _s3(url)
    sent = _requests(store)
    store.write_bytes("results/r1", b"result")
    store.write_stream("bundles/f.zip", [b"zip", b"data"])
    assert sent == ["PUT object", "PUT object"]  # no LIST for parts they cannot have
    sent.clear()
    store.write_bytes(job_log_key("J10"), b"whole")  # a log may have parts: they are looked for
    assert sent == ["GET list", "PUT object"]
    assert store.read_bytes("results/r1") == b"result"
    assert store.read_bytes("bundles/f.zip") == b"zipdata"
    with pytest.raises(ValueError, match="cannot grow"):
        store.open_appender("results/r2")


def test_a_job_log_written_through_an_s3_outage_loses_text_not_the_writer(
    url: str, s3_endpoint: S3Endpoint
) -> None:
    """The log writer of a job whose S3 goes away neither raises nor stops: the text the store
    refused is counted lost, and the log says so once S3 takes writes again."""
    from batch_compute_mock.executors.local.logs import LogWriter

    store = _s3(url)
    store.flush_bytes = 1  # every line is put at once
    key = job_log_key("J11")
    log = LogWriter(store.open_appender(key))
    log.feed(b"before\n")
    with s3_endpoint.outage():
        log.feed(b"during\n")  # kept in the appender's buffer: put with the next write
    log.feed(b"after\n")
    log.close()
    lines = [json.loads(line)["log"] for line in store.read_bytes(key).splitlines()]
    assert lines == ["before", "during", "after"] and not log.incomplete
    closing = LogWriter(store.open_appender(job_log_key("J12")))
    with s3_endpoint.outage():
        closing.feed(b"last words\n")
        closing.close()  # the final put fails: logged, the job's outcome is not touched
    assert closing.incomplete


def test_a_log_whose_blob_cannot_be_opened_counts_its_text_lost_and_says_so(
    url: str, s3_endpoint: S3Endpoint
) -> None:
    from batch_compute_mock.executors.local.logs import LogWriter, UnopenedLog

    store = _s3(url)
    with s3_endpoint.outage(), pytest.raises(OSError) as opening:
        store.open_appender(job_log_key("J13"))
    log = LogWriter(UnopenedLog(opening.value))
    log.feed(b"lost\n")
    log.close()
    assert log.incomplete and log.lost_bytes > 0
