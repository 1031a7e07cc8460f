"""The signing key of pre-signed URLs, cursors and dashboard sessions: one per database.

Every server on one database signs with the same key, so a URL, a cursor or a session made
by one is good on all of them, with no option to pass around. The first server to start
stores the key; a data dir from a release that kept it in a file (``signing.key``) hands that
key over, so what it signed stays valid after the upgrade.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from ..store import Store

__all__ = ["SIGNING_KEY_NAME", "shared_signing_key"]

SIGNING_KEY_NAME = "signing"


def shared_signing_key(store: Store, legacy_file: Path) -> bytes:
    """The database's signing key, stored now if it has none (the legacy file's, or new)."""
    with store.read() as reader:
        key = reader.server_key(SIGNING_KEY_NAME)
    if key is not None:
        return key
    candidate = legacy_file.read_bytes() if legacy_file.is_file() else secrets.token_bytes(32)
    with store.write() as writer:
        return writer.ensure_server_key(SIGNING_KEY_NAME, candidate)
