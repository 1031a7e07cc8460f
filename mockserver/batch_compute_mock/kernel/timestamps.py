"""UTC timestamps in the one text form the server stores and sends.

The form is ``2024-05-01T12:00:00.123456+00:00``: timezone-aware, always six fractional
digits, fixed width, so that text order is time order in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_timestamp", "parse_timestamp", "stored_from_epoch", "utc_now", "z_timestamp"]


def utc_now() -> str:
    """Now, in the stored form."""
    return format_timestamp(datetime.now(UTC))


def format_timestamp(moment: datetime) -> str:
    """A datetime in the stored form; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    # Not strftime: glibc's %Y does not pad years before 1000, which breaks text order.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}+00:00"
    )


def parse_timestamp(value: str | float | int) -> datetime:
    """An ISO 8601 string (``Z`` or an offset; naive means UTC) or epoch seconds, as aware UTC.

    Raises ``ValueError`` with a message naming the accepted forms.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected an ISO 8601 datetime or epoch seconds, got {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise ValueError(
            f"expected an ISO 8601 datetime such as 2024-05-01T12:00:00Z, got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def stored_from_epoch(epoch: float) -> str:
    """Epoch seconds (what processes measure) in the stored form."""
    return format_timestamp(parse_timestamp(epoch))


def z_timestamp(stored: str) -> str:
    """A stored timestamp ending in ``Z``: the form job logs, build logs and the catalog use."""
    return stored.removesuffix("+00:00") + "Z"
