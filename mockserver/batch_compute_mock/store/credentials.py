"""SQL for the ``credentials`` table: one row per owner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from .schema import credentials

__all__ = ["all_credentials", "get_credentials", "put_credentials"]


def get_credentials(conn: sa.Connection, owner: str) -> sa.RowMapping | None:
    query = sa.select(credentials).where(credentials.c.owner == owner)
    return conn.execute(query).mappings().first()


def all_credentials(conn: sa.Connection) -> list[Mapping[str, Any]]:
    return [dict(row) for row in conn.execute(sa.select(credentials)).mappings()]


def put_credentials(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    """Replace the owner's row."""
    conn.execute(credentials.delete().where(credentials.c.owner == row["owner"]))
    conn.execute(credentials.insert().values(**row))
