"""Job code for the end-to-end tests (module level, so its source can be bundled)."""

from __future__ import annotations

__all__ = ["add", "echo", "fail", "nap", "with_attributes"]


def add(a, b=0):  # type: ignore[no-untyped-def]
    print(f"adding {a} and {b}")
    return a + b


def echo(*args, **kwargs):  # type: ignore[no-untyped-def]
    return {"args": list(args), "kwargs": kwargs}


def nap(seconds):  # type: ignore[no-untyped-def]
    import time

    time.sleep(seconds)
    return seconds


def fail(message):  # type: ignore[no-untyped-def]
    raise RuntimeError(message)


def with_attributes(value):  # type: ignore[no-untyped-def]
    # The job's environment need not have the SDK: the server recognises the result by shape.
    class ComputeResult:
        def __init__(self, value, description=None, tags=None):  # type: ignore[no-untyped-def]
            self.value, self.description, self.tags = value, description, tags
            self.expires = self.extra_properties = self.geometry = None

    return ComputeResult(value.encode(), description="described", tags=["t1"])
