"""OAuth client credentials a user hands the service so its jobs could act on their behalf.

Jobs here run on the server's machine and call nothing else, so the credentials are only
stored and reported; ``GET`` must still succeed for a JWT-only client, which checks it
before creating every function (wire-protocol.md §1.4). The secret is stored sealed
(``sealing``): a copy of the database does not give it away.
"""

from __future__ import annotations

from typing import Any

from ..kernel.timestamps import utc_now
from ..store import Row, Store
from .identity import Identity
from .sealing import SecretBox

__all__ = ["CredentialService"]


class CredentialService:
    def __init__(self, store: Store, box: SecretBox) -> None:
        self._store = store
        self._box = box

    def get(self, identity: Identity) -> dict[str, Any]:
        with self._store.read() as store:
            return _describe(store.credentials(identity.owner))

    def set(self, identity: Identity, client_id: str, client_secret: str) -> dict[str, Any]:
        row = {
            "owner": identity.owner,
            "client_id": client_id,
            "client_secret": self._box.seal(client_secret),
            "modified_date": utc_now(),
        }
        with self._store.write() as store:
            store.put_credentials(row)
        return _describe(row)

    def secret(self, owner: str) -> str | None:
        """The owner's secret, opened (what a job acting for its owner would be given)."""
        with self._store.read() as store:
            row = store.credentials(owner)
        return None if row is None else self._box.open(row["client_secret"])

    def seal_plaintext(self) -> int:
        """Seal the secrets an earlier release stored in plaintext; how many there were."""
        with self._store.write() as store:
            rows = store.all_credentials()
            plain = [row for row in rows if not self._box.is_sealed(row["client_secret"])]
            for row in plain:
                sealed = self._box.seal(row["client_secret"])
                store.put_credentials({**row, "client_secret": sealed})
        return len(plain)


def _describe(row: Row | None) -> dict[str, Any]:
    """Never echo the secret: say whether one is stored, and since when."""
    if row is None:
        return {"client_id": None, "stored": False, "modified_date": None}
    return {
        "client_id": row["client_id"],
        "stored": True,
        "modified_date": row["modified_date"],
    }
