"""OAuth client credentials a user hands the service so its jobs could act on their behalf.

Jobs here run on the server's machine and call nothing else, so the credentials are only
stored and reported; ``GET`` must still succeed for a JWT-only client, which checks it
before creating every function (wire-protocol.md §1.4).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..identity import Identity
from ..store.engine import Database
from ..store.tables import credentials
from ..timestamps import utc_now

__all__ = ["CredentialService"]


class CredentialService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, identity: Identity) -> dict[str, Any]:
        with self._db.read() as conn:
            row = (
                conn.execute(sa.select(credentials).where(credentials.c.owner == identity.owner))
                .mappings()
                .first()
            )
        return _describe(row)

    def set(self, identity: Identity, client_id: str, client_secret: str) -> dict[str, Any]:
        with self._db.write() as conn:
            conn.execute(credentials.delete().where(credentials.c.owner == identity.owner))
            conn.execute(
                credentials.insert().values(
                    owner=identity.owner,
                    client_id=client_id,
                    client_secret=client_secret,
                    modified_date=utc_now(),
                )
            )
            row = (
                conn.execute(sa.select(credentials).where(credentials.c.owner == identity.owner))
                .mappings()
                .first()
            )
        return _describe(row)


def _describe(row: sa.RowMapping | None) -> dict[str, Any]:
    """Never echo the secret: say whether one is stored, and since when."""
    if row is None:
        return {"client_id": None, "stored": False, "modified_date": None}
    return {
        "client_id": row["client_id"],
        "stored": True,
        "modified_date": row["modified_date"],
    }
