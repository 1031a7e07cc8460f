"""Progress bars for long waits, with tqdm as an optional dependency.

A person at a terminal wants to see a wait moving; a CI log does not want bar redraws. So
``progress=None`` means "only when stderr is a terminal", and asking explicitly for a bar
without tqdm installed is an error that says how to fix it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Protocol

__all__ = ["NullProgress", "Progress", "make_progress"]


class Progress(Protocol):
    """The slice of ``tqdm`` the SDK uses."""

    def update(self, n: float = 1) -> Any: ...
    def close(self) -> None: ...


class NullProgress:
    """A progress bar that shows nothing."""

    def update(self, n: float = 1) -> None:
        return None

    def close(self) -> None:
        return None


def make_progress(progress: bool | None, total: int | None, description: str) -> Progress:
    """A tqdm bar when wanted (``None``: only on a terminal), else a silent stand-in."""
    wanted = sys.stderr.isatty() if progress is None else progress
    if not wanted:
        return NullProgress()
    try:
        tqdm = importlib.import_module("tqdm").tqdm  # optional: only needed for the bar
    except ImportError:
        if progress is None:
            return NullProgress()
        raise RuntimeError(
            "progress=True needs tqdm, which is not installed: pip install tqdm"
        ) from None
    bar: Progress = tqdm(total=total, desc=description, unit="job", file=sys.stderr)
    return bar
