"""Ids and creation dates for new jobs, made for a whole batch in one go.

A 1,000-job bulk submission spent a fifth of its time in ``uuid.uuid4()`` and in reading and
formatting the clock per job, and its insert slowed down as the table grew: random ids land
on random pages of the primary-key index, so every batch rewrote hundreds of them. So:

- the clock is read once per batch; job ``i`` is stamped ``now + i`` microseconds, so within a
  batch creation-date order is input order, always. Batches are made under the database
  write lock and storing one takes far longer than its length in microseconds, so the next
  batch's dates still come after this one's;
- ids are UUIDv7 (RFC 9562): the stamp's milliseconds, its sub-millisecond part in the next
  12 bits (the RFC's "increased clock precision" method) and 62 random bits. They are as
  unique and opaque as UUID4s, but sort like their creation dates, so inserts append to the
  index instead of scattering over it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from ..kernel.timestamps import format_timestamp

__all__ = ["batch_stamps"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def batch_stamps(count: int, start: datetime | None = None) -> tuple[list[str], list[str]]:
    """``count`` (id, creation date) pairs as two lists, one microsecond apart from ``start``."""
    start = start or datetime.now(UTC)
    return _uuid7s(count, (start - _EPOCH) // _MICROSECOND), _timestamps(count, start)


def _uuid7s(count: int, first_micros: int) -> list[str]:
    random = os.urandom(8 * count).hex()
    ids = []
    for index in range(count):
        millis, micros = divmod(first_micros + index, 1000)
        head = f"{millis & 0xFFFF_FFFF_FFFF:012x}"
        sub_milli = micros * 4096 // 1000  # 12 bits, increasing with the microseconds
        tail = random[16 * index : 16 * index + 16]
        ids.append(
            f"{head[:8]}-{head[8:]}-7{sub_milli:03x}-{_VARIANT[tail[0]]}{tail[1:4]}-{tail[4:]}"
        )
    return ids


# A random hex digit with its top two bits set to the RFC 4122 variant (binary 10).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _timestamps(count: int, start: datetime) -> list[str]:
    first = start.microsecond
    if first + count <= 1_000_000:
        # All within one second (nearly always): format the second once.
        second = format_timestamp(start)[:20]  # "YYYY-MM-DDTHH:MM:SS."
        return [f"{second}{micro:06d}+00:00" for micro in range(first, first + count)]
    return [format_timestamp(start + index * _MICROSECOND) for index in range(count)]
