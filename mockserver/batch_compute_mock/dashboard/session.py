"""The dashboard's session: a signed cookie holding the bearer token a person signed in with.

    sessions = SessionCodec(server.signing_key)
    cookie = sessions.encode(session)      # Session(token, expires, csrf)
    session = sessions.decode(cookie)      # None: absent, forged, or expired

The cookie is signed with HMAC-SHA256 under the server's signing key (a purpose prefix keeps
these signatures apart from cursors' and pre-signed URLs'), sent HttpOnly and SameSite=Lax on
``/dashboard`` only, and expires with the token (or after a day, whichever comes first). It is
not encrypted: it holds what the person pasted. Every request identifies the token again with
``Server.identify``, the API's own bearer check, so a session never grants what the API would
refuse.

CSRF: each session carries a random token; every form embeds it and every POST must send it
back. The sign-in form, which has no session yet, is protected the same way by a nonce in a
short-lived cookie of its own (double submit).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "SIGNIN_COOKIE",
    "Session",
    "SessionCodec",
    "new_session",
    "same_secret",
    "token_claims",
]

SESSION_COOKIE = "batch_compute_session"
SIGNIN_COOKIE = "batch_compute_signin"
#: The longest a session lasts, whatever the token's own expiry.
SESSION_SECONDS = 24 * 60 * 60
_PURPOSE = b"dashboard-session:"
_EARTHONE_PREFIX = "earthdaily__dl__"


@dataclass(frozen=True)
class Session:
    """Who signed in (their bearer ``token``), until when (epoch seconds), and the CSRF token
    their forms carry."""

    token: str
    expires: int
    csrf: str

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, int(self.expires - (time.time() if now is None else now)))


def new_session(token: str, now: float | None = None) -> Session:
    """A session for a token that ``Server.identify`` accepted: it ends when the token does
    (``exp``), or after ``SESSION_SECONDS``."""
    now = time.time() if now is None else now
    expires = int(now + SESSION_SECONDS)
    token_expiry = token_claims(token).get("exp")
    if isinstance(token_expiry, int | float) and not isinstance(token_expiry, bool):
        expires = min(expires, int(token_expiry))
    return Session(token=token, expires=expires, csrf=secrets.token_urlsafe(24))


class SessionCodec:
    """Turns a ``Session`` into a signed cookie value and back."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the session key must not be empty")
        self._key = key

    def encode(self, session: Session) -> str:
        payload = json.dumps(
            {"t": session.token, "e": session.expires, "c": session.csrf}, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session in ``cookie``, or None when it is missing, tampered with or expired."""
        if not cookie:
            return None
        body, _, signature = cookie.partition(".")
        try:
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(signature), self._sign(payload)):
                return None
            state = json.loads(payload)
            session = Session(token=state["t"], expires=state["e"], csrf=state["c"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not all(isinstance(v, str) for v in (session.token, session.csrf)):
            return None
        if not isinstance(session.expires, int) or session.seconds_left(now) <= 0:
            return None
        return session

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _PURPOSE + payload, hashlib.sha256).digest()


def same_secret(expected: str, given: str | None) -> bool:
    """Whether a form sent back the CSRF token (or sign-in nonce) it was given."""
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified: only read after ``Server.identify`` accepted it, for
    its expiry and the name to show (``sub``)."""
    try:
        claims = json.loads(_unb64(token.split(".")[1]))
    except (IndexError, ValueError, binascii.Error):
        return {}
    if not isinstance(claims, dict):
        return {}
    # earthone tokens may prefix their claims; the API's identity check strips it too.
    return {str(key).removeprefix(_EARTHONE_PREFIX): value for key, value in claims.items()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
