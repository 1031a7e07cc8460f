"""Pre-signed URLs: the bundle upload and result download links carry no bearer token.

The client uses these URLs exactly as given and sends no ``Authorization`` header (wire
protocol 5.2, 8.2), so the URL itself is the credential: ``expires`` (epoch seconds) and
``signature`` = hex HMAC-SHA256 over ``METHOD\\npath\\nexpires``. The method is signed so
that a download link cannot be replayed as an upload and vice versa.

Paths are signed in their *decoded* form, exactly as the server routes them
(``/presigned/results/compute/org:abc/F/J``). ``sign`` puts
``urllib.parse.quote(path, safe="/")`` into the URL (so ``:`` travels as ``%3A``), and
``verify`` must be given the percent-decoded path the router saw. Both spellings of the URL
therefore verify.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from ..kernel.errors import Forbidden

__all__ = ["UrlSigner"]


class UrlSigner:
    """Signs and checks pre-signed URLs under ``public_url`` (the server's external origin)."""

    def __init__(self, key: bytes, public_url: str) -> None:
        if not key:
            raise ValueError("signing key must not be empty")
        self._key = bytes(key)
        self.public_url = public_url.rstrip("/")
        self._base_path = unquote(urlsplit(self.public_url).path)

    def signature(self, method: str, path: str, expires: int) -> str:
        """The hex signature of one (method, decoded path, expiry) triple."""
        message = f"{method.upper()}\n{path}\n{int(expires)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, method: str, path: str, ttl_seconds: int, now: float | None = None) -> str:
        """An absolute URL for ``method`` on the routed (decoded) ``path``, for ``ttl_seconds``.

        ``now`` (epoch seconds) is for tests.
        """
        if not path.startswith("/"):
            raise ValueError(f"path to sign must start with '/', got {path!r}")
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        expires = int(time.time() if now is None else now) + int(ttl_seconds)
        query = urlencode({"expires": expires, "signature": self.signature(method, path, expires)})
        return f"{self.public_url}{quote(path, safe='/')}?{query}"

    def verify(
        self,
        method: str,
        path: str,
        expires: int | str,
        signature: str,
        now: float | None = None,
    ) -> None:
        """Raise ``Forbidden`` unless ``signature`` is valid for the decoded ``path`` and unexpired.

        The signature is checked first, so "expired" is only ever said of a genuine URL.
        """
        try:
            expiry = int(expires)
        except (TypeError, ValueError):
            raise Forbidden("The URL signature does not match (bad expires value)") from None
        expected = self.signature(method, path, expiry).encode("ascii")
        given = str(signature).encode("utf-8", "backslashreplace")
        if not hmac.compare_digest(expected, given):
            raise Forbidden("The URL signature does not match the request")
        if (time.time() if now is None else now) >= expiry:
            raise Forbidden("The pre-signed URL has expired; request a new one")

    def verify_url(self, method: str, url: str, now: float | None = None) -> None:
        """``verify`` for a whole URL as a client would send it (handy in tests and tools)."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        query = parse_qs(parts.query)
        expires = query.get("expires", [""])[-1]
        signature = query.get("signature", [""])[-1]
        self.verify(method, path, expires, signature, now=now)
