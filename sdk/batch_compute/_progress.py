"""Progress bars for long waits, with tqdm as an optional dependency.

A person at a terminal wants to see a wait moving; a CI log does not want bar redraws. So
``progress=None`` means "only when stderr is a terminal", ``True`` always draws a tqdm bar on
stderr, ``False`` never does, and a bar object (a ``tqdm`` instance, e.g. one writing to a file
of the caller's choosing) is advanced but left open for its owner. Asking explicitly for a bar
without tqdm installed is an ``ImportError`` that says how to fix it, raised before any request.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Protocol

__all__ = [
    "PROGRESS_POLL_SECONDS",
    "NullProgress",
    "Progress",
    "ProgressOption",
    "make_progress",
    "poll_interval",
    "set_total",
]

#: While a bar is drawn, a wait polls at least this often, so the bar moves as jobs finish
#: (at the default 10 s it sat at 0, then jumped to 100% with a made-up rate).
PROGRESS_POLL_SECONDS = 1.0


class Progress(Protocol):
    """The slice of ``tqdm`` the SDK uses."""

    def update(self, n: float = 1) -> Any: ...
    def close(self) -> None: ...


#: What ``progress=`` accepts: None (a bar only on a terminal), a bool, or a bar to advance.
ProgressOption = bool | Progress | None


class NullProgress:
    """A progress bar that shows nothing."""

    total: float | None = None

    def update(self, n: float = 1) -> None:
        return None

    def close(self) -> None:
        return None


class _Borrowed:
    """A caller's bar: advanced by the SDK, refreshed at the end, but never closed by it."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar

    @property
    def total(self) -> float | None:
        total = getattr(self.bar, "total", None)
        return float(total) if isinstance(total, int | float) else None

    @total.setter
    def total(self, value: float | None) -> None:
        self.bar.total = value  # type: ignore[attr-defined]

    def update(self, n: float = 1) -> Any:
        return self.bar.update(n)

    def close(self) -> None:
        refresh = getattr(self.bar, "refresh", None)
        if callable(refresh):
            refresh()


def make_progress(progress: ProgressOption, total: int | None, description: str) -> Progress:
    """A tqdm bar when wanted (``None``: only on a terminal), else a silent stand-in."""
    if progress is not None and not isinstance(progress, bool):
        borrowed = _Borrowed(progress)
        if total is not None and borrowed.total is None:
            borrowed.total = total
        return borrowed
    wanted = sys.stderr.isatty() if progress is None else progress
    if not wanted:
        return NullProgress()
    try:
        tqdm = importlib.import_module("tqdm").tqdm  # optional: only needed for the bar
    except ImportError:
        if progress is None:
            return NullProgress()
        raise ImportError(
            "progress=True draws a tqdm progress bar, but tqdm is not installed: "
            "pip install tqdm (or pass progress=False)",
            name="tqdm",
        ) from None
    bar: Progress = tqdm(total=total, desc=description, unit="job", file=sys.stderr)
    return bar


def poll_interval(bar: Progress, interval: float) -> float:
    """The caller's polling interval, shortened to ``PROGRESS_POLL_SECONDS`` while a bar is
    drawn (a silent wait keeps the interval it was given)."""
    return interval if isinstance(bar, NullProgress) else min(interval, PROGRESS_POLL_SECONDS)


def set_total(bar: Progress, total: int) -> None:
    """Tell a bar its total once it is known (a wait learns it from the first poll)."""
    if getattr(bar, "total", None) != total:
        try:
            bar.total = total  # type: ignore[attr-defined]
        except AttributeError:
            return
        refresh = getattr(bar, "refresh", None)
        if callable(refresh):
            refresh()
