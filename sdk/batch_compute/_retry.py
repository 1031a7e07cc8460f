"""How many times a request is tried again, and how long to wait in between.

The server is allowed to fail transiently (5xx, 429 with ``Retry-After``, dropped connections);
a capped number of retries with jittered backoff hides those blips without hiding real outages.
"""

from __future__ import annotations

import random

import attrs

__all__ = ["Retry"]


@attrs.frozen
class Retry:
    """Retry budget: ``total`` attempts after the first, split by cause (connect, read, status)."""

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

    def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to sleep before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.backoff_max)
            except ValueError:
                pass
        if attempt <= 1:
            return 0.0
        wait = self.backoff_factor * (2 ** (attempt - 1)) * random.uniform(1.0, 3.0)
        return float(min(wait, self.backoff_max))

    def __repr__(self) -> str:
        return (
            f"Retry(total={self.total}, connect={self.connect}, read={self.read}, "
            f"redirect={self.redirect}, status={self.status})"
        )
