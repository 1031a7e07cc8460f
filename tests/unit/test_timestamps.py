"""The stored timestamp form: fixed width, so text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_compute_mock.kernel.timestamps import format_timestamp, parse_timestamp, z_timestamp

moments = st.datetimes(timezones=st.just(UTC))


@given(moments, moments)
def test_text_order_is_time_order(a: datetime, b: datetime) -> None:
    assert (format_timestamp(a) < format_timestamp(b)) == (a < b)
    assert len(format_timestamp(a)) == len("2024-05-01T12:00:00.000000+00:00")


def test_early_years_are_padded() -> None:
    assert format_timestamp(datetime(7, 1, 2, tzinfo=UTC)) == "0007-01-02T00:00:00.000000+00:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000000+00:00"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00.000000+00:00"),
        ("2024-05-01T12:00:00", "2024-05-01T12:00:00.000000+00:00"),  # naive means UTC
        (0, "1970-01-01T00:00:00.000000+00:00"),
    ],
)
def test_parse_then_format(value: str | int, expected: str) -> None:
    assert format_timestamp(parse_timestamp(value)) == expected


def test_naive_and_offset_datetimes_convert_to_utc() -> None:
    plus_two = datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(plus_two) == "2024-05-01T12:00:00.000000+00:00"


@pytest.mark.parametrize("bad", ["yesterday", True, "2024-13-01"])
def test_bad_values_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_timestamp(bad)  # type: ignore[arg-type]


def test_log_form_ends_in_z() -> None:
    assert z_timestamp("2024-05-01T12:00:01.500000+00:00") == "2024-05-01T12:00:01.500000Z"
