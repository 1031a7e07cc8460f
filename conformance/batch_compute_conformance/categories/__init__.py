"""The five categories, each a module with ``run(ctx)``."""

from __future__ import annotations

from collections.abc import Callable

from ..context import Context

__all__ = ["RUNNERS"]


def _runner(name: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        from importlib import import_module

        import_module(f"{__name__}.{name}").run(ctx)

    return run


# Imported lazily: ``contract`` pulls in schemathesis, which the other categories do not need.
RUNNERS: dict[str, Callable[[Context], None]] = {
    name: _runner(name) for name in ("contract", "lifecycle", "execution", "search", "isolation")
}
