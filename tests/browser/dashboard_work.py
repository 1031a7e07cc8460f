"""The functions the dashboard's browser tests run as jobs (the SDK bundles each one's own
source, so each imports what it uses)."""

from __future__ import annotations


def square(x: int) -> int:
    """Prints a line with HTML in it (a page must show it as text); fails for 7."""
    print(f"<script>window.pwned = true</script><b>squaring</b> {x}", flush=True)
    if x == 7:
        raise ValueError("x must not be 7")
    return x * x


def nap(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def ticker(count: int, pause: float) -> dict:
    """Logs one line every ``pause`` seconds: a log to watch grow."""
    import time

    for index in range(count):
        print(f"tick {index}", flush=True)
        time.sleep(pause)
    return {"ticks": count, "note": "<i>done</i>"}
