"""SQL for the ``server_keys`` table: secrets every server on the database shares (hex)."""

from __future__ import annotations

import sqlalchemy as sa

from ..kernel.timestamps import utc_now
from .schema import server_keys

__all__ = ["ensure_server_key", "get_server_key"]


def get_server_key(conn: sa.Connection, name: str) -> bytes | None:
    query = sa.select(server_keys.c.value).where(server_keys.c.name == name)
    value = conn.execute(query).scalar_one_or_none()
    return None if value is None else bytes.fromhex(value)


def ensure_server_key(conn: sa.Connection, name: str, candidate: bytes) -> bytes:
    """The stored key ``name``; ``candidate`` becomes it when there is none yet. Call it in a
    write transaction: the first server to start decides, the others read its key."""
    stored = get_server_key(conn, name)
    if stored is not None:
        return stored
    conn.execute(server_keys.insert().values(name=name, value=candidate.hex(), created=utc_now()))
    return candidate
