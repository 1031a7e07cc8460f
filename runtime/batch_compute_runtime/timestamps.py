"""The server's stored time form, for what the runtime writes (result ``expires``).

``2024-05-01T12:00:00.123456+00:00``: UTC, six fractional digits, fixed width. Parsing takes
ISO 8601 with ``Z`` or an offset and 0 to 6 fractional digits (naive means UTC), or epoch
seconds; it is written out here because ``datetime.fromisoformat`` before Python 3.11 does
not read ``Z`` or short fractions.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["format_timestamp", "parse_timestamp"]

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,6})\d*)?)?)?"
    r"\s*(Z|z|[+-]\d\d:?\d\d)?"
)


def format_timestamp(moment: datetime) -> str:
    """A datetime in the stored form; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    utc = moment.astimezone(timezone.utc)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}+00:00"
    )


def parse_timestamp(value: str | float | int) -> datetime:
    """An ISO 8601 string or epoch seconds as aware UTC; ``ValueError`` naming the forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected an ISO 8601 datetime or epoch seconds, got {value!r}")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    match = _ISO.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"expected an ISO 8601 datetime such as 2024-05-01T12:00:00Z, got {value!r}"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0").ljust(6, "0")),
        tzinfo=_zone(zone),
    )
    return moment.astimezone(timezone.utc)


def _zone(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
