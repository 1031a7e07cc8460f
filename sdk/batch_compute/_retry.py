"""How many times a request is tried again, and how long to wait in between.

The server is allowed to fail transiently (5xx, 429 with ``Retry-After``, dropped connections);
a capped number of retries with jittered backoff hides those blips without hiding real outages.

What is retried depends on whether repeating the request is safe:

- A failure to connect is always retried: the request never reached the server.
- GET, PUT, PATCH and DELETE are idempotent (a PATCH sends absolute values), so they are also
  retried on read errors and on the ``status_forcelist`` statuses (500, 502, 503, 504).
- POST is retried like that only where the operation is safe to repeat: ``Function.map``'s bulk
  batches (the server deduplicates by ``reference_id``), cancelling jobs, and storing
  credentials. Single creates (``Function.save``, ``Job.save``, calling a function), the bundle
  completion, reruns and bulk deletes carry no idempotency key, so a 5xx or a dropped answer
  is raised at once rather than risking a duplicate job or a spurious conflict.
- A 429 carrying ``Retry-After`` is retried for every method, POST included: a rate-limited
  request was refused, not processed. (The other ``retry_after_statuses`` are retried with
  ``Retry-After`` only where a 5xx would be.)
- Every wait honours the server's ``Retry-After`` when it sent one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

__all__ = ["Retry"]


@attrs.frozen
class Retry:
    """Retry budget: ``total`` attempts after the first, split by cause (connect, read, status).

    ``sleep`` is how the SDK waits between attempts (``time.sleep``); tests and callers with
    their own scheduling may pass another callable, e.g. one that records the waits.
    """

    total: int = 3
    connect: int = 2
    read: int = 2
    status: int = 2
    redirect: int | None = None
    #: Base of the exponential backoff in seconds; the real wait is jittered by 1x..3x.
    backoff_factor: float = 0.5
    #: Longest single wait, also the cap on a server's ``Retry-After``.
    backoff_max: float = 30.0
    status_forcelist: frozenset[int] = frozenset({500, 502, 503, 504})
    #: Statuses retried only when the server says when to come back (``Retry-After``).
    retry_after_statuses: frozenset[int] = frozenset({403, 413, 429, 503})
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False)

    def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based).

        A server's ``Retry-After`` (seconds or an HTTP date) wins, capped at ``backoff_max``;
        otherwise the first retry is immediate and later ones back off exponentially.
        """
        if retry_after is not None:
            wait = _retry_after_seconds(retry_after)
            if wait is not None:
                return min(wait, self.backoff_max)
        if attempt <= 1:
            return 0.0
        wait = self.backoff_factor * (2 ** (attempt - 1)) * random.uniform(1.0, 3.0)
        return float(min(wait, self.backoff_max))

    def __repr__(self) -> str:
        return (
            f"Retry(total={self.total}, connect={self.connect}, read={self.read}, "
            f"redirect={self.redirect}, status={self.status})"
        )


def _retry_after_seconds(value: str) -> float | None:
    """``Retry-After`` as seconds from now (never negative), or None when unreadable."""
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
