"""Secrets sealed at rest: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``).

The key never sits in the database, so a copy of the database file alone gives no secret
away: it comes from ``--credentials-key-file`` or ``BATCH_COMPUTE_CREDENTIALS_KEY``, or else
from a key file the server makes in its data dir (readable by its own user only, and out of
sandboxed jobs' sight). A sealed value carries a ``fernet:`` prefix, which tells it apart from
a plaintext one stored by a release before sealing existed.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["SecretBox", "check_key", "key_from_file"]

_PREFIX = "fernet:"


class SecretBox:
    """Seals and opens secrets with one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(check_key(key))

    def seal(self, secret: str) -> str:
        return _PREFIX + self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret; ``ValueError`` if it was sealed with another key or is not sealed."""
        if not self.is_sealed(sealed):
            raise ValueError("not a sealed secret")
        try:
            return self._fernet.decrypt(sealed[len(_PREFIX) :].encode("ascii")).decode()
        except InvalidToken:
            raise ValueError("sealed with another key, or altered") from None

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(_PREFIX)


def check_key(key: bytes) -> bytes:
    """``key`` if it is a Fernet key, else ``ValueError`` saying how to make one."""
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise ValueError(
            "the credentials key must be 32 url-safe base64-encoded bytes; make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'"
        ) from None
    return key


def key_from_file(path: Path) -> bytes:
    """The key in ``path``, made there first (mode 0600) when there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key())
        try:
            os.link(partial, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            partial.unlink(missing_ok=True)
    return check_key(path.read_bytes().strip())
