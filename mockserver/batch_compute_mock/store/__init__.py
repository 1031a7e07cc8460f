"""The store: the database behind the ``Store`` protocol (the only package that uses SQL).

``protocol`` is the interface the services and the scheduler program against; ``sql`` is its
SQLAlchemy implementation (``schema``, ``database`` with Alembic ``migrations``, one module per
table, ``transitions`` for every status change, ``search`` and its ``dialects``).
"""

from __future__ import annotations

from .protocol import Page, Reader, Row, Start, Store, Writer
from .sql import SqlStore

__all__ = ["Page", "Reader", "Row", "SqlStore", "Start", "Store", "Writer", "open_store"]


def open_store(url: str) -> Store:
    """The store for a SQLAlchemy database URL, its schema brought up to date."""
    return SqlStore(url)
