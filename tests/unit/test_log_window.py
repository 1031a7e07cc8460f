"""A window of a growing job log: its tail, what was added since, whole lines only, and a log
that started again (a retry) read from its tail again."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_compute_mock.blobs import LocalBlobStore
from batch_compute_mock.blobs.keys import job_log_key
from batch_compute_mock.service.log_window import LogWindow, read_log_window

KEY = job_log_key("job1")


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def test_a_log_that_does_not_exist_yet_is_an_empty_window(blobs: LocalBlobStore) -> None:
    assert read_log_window(blobs, KEY, None, 100) == LogWindow(0, 0, 0, b"")
    assert read_log_window(blobs, KEY, 0, 100) == LogWindow(0, 0, 0, b"")


def test_the_tail_starts_at_a_whole_line(blobs: LocalBlobStore) -> None:
    blobs.write_bytes(KEY, b"first line\nsecond\nthird\n")
    assert read_log_window(blobs, KEY, None, 100).data == b"first line\nsecond\nthird\n"
    tail = read_log_window(blobs, KEY, None, 10)
    assert tail.data == b"third\n"
    assert (tail.start, tail.end, tail.size) == (18, 24, 24)


def test_reading_on_from_an_offset_takes_only_whole_lines(blobs: LocalBlobStore) -> None:
    appender = blobs.open_appender(KEY)
    appender.write(b"one\ntw")
    first = read_log_window(blobs, KEY, 0, 100)
    assert (first.data, first.end) == (b"one\n", 4)  # "tw" is still being written
    appender.write(b"o\nthree\n")
    appender.close()
    second = read_log_window(blobs, KEY, first.end, 100)
    assert (second.data, second.start, second.end) == (b"two\nthree\n", 4, 14)
    assert read_log_window(blobs, KEY, second.end, 100).data == b""


def test_a_window_holds_at_most_the_limit(blobs: LocalBlobStore) -> None:
    blobs.write_bytes(KEY, b"aaaa\nbbbb\ncccc\n")
    window = read_log_window(blobs, KEY, 0, 12)
    assert (window.data, window.end) == (b"aaaa\nbbbb\n", 10)
    assert read_log_window(blobs, KEY, window.end, 12).data == b"cccc\n"


def test_a_log_shorter_than_the_offset_started_again(blobs: LocalBlobStore) -> None:
    blobs.write_bytes(KEY, b"attempt 2\n")
    window = read_log_window(blobs, KEY, 500, 100)
    assert window.restarted
    assert (window.data, window.start) == (b"attempt 2\n", 0)
