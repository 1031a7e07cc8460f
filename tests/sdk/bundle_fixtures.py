"""Functions to bundle, at module level so inspect.getsource can read them."""

from __future__ import annotations

import json

__all__ = ["recursive", "uses_global", "uses_module", "well_behaved"]

LIMIT = 3


def well_behaved(a, b=1):  # type: ignore[no-untyped-def]
    import math

    def inner(x):  # type: ignore[no-untyped-def]
        return math.floor(x) + len([x])

    return inner(a) + b


def uses_global(x):  # type: ignore[no-untyped-def]
    return x + LIMIT


def uses_module(x):  # type: ignore[no-untyped-def]
    def inner():  # type: ignore[no-untyped-def]
        return json.dumps(x)

    return inner()


def recursive(n):  # type: ignore[no-untyped-def]
    return 1 if n <= 1 else n * recursive(n - 1)
