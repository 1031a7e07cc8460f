"""Who is calling: bearer JWT claims turned into an owner and a storage namespace.

The genuine clients derive the result-blob namespace from their token offline
(wire-protocol.md §1.3), so the server must derive exactly the same one:

- descarteslabs tokens: ``sha1(sub)`` as lowercase hex;
- earthone tokens: the ``userid`` claim verbatim (``earthdaily__dl__`` prefixes stripped);
- either one prefixed by ``{org}:`` when the token carries an ``org`` claim.

Signatures are not verified unless the server has a secret (HS256); ``exp`` must always be
in the future, as the clients themselves require.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from typing import Any

import attrs

from ..kernel.errors import InvalidInput, Unauthenticated
from .text import require_valid_text

__all__ = ["Identity", "client_claims", "identity_from_token", "make_token"]

_EARTHONE_PREFIX = "earthdaily__dl__"


@attrs.frozen
class Identity:
    """The caller: ``owner`` scopes every resource, ``namespace`` names its result blobs."""

    owner: str
    namespace: str


def identity_from_token(
    token: str, secret: str | None = None, now: float | None = None
) -> Identity:
    """Decode (and with a ``secret``, verify) a bearer JWT; raise ``Unauthenticated`` otherwise."""
    claims = _decode_claims(token, secret)
    claims = {key.removeprefix(_EARTHONE_PREFIX): value for key, value in claims.items()}
    expires = claims.get("exp")
    if (
        not isinstance(expires, int | float)
        or isinstance(expires, bool)
        or not math.isfinite(expires)
    ):
        raise Unauthenticated("The token has no numeric 'exp' claim.")
    if expires <= (time.time() if now is None else now):
        raise Unauthenticated("The token has expired; create a new one.")
    user = _user_id(claims)
    org = claims.get("org")
    namespace = f"{org}:{user}" if isinstance(org, str) and org else user
    return Identity(owner=f"user:{user}", namespace=namespace)


def make_token(claims: dict[str, Any], secret: str | None = None) -> str:
    """An HS256 JWT for ``claims`` (signed with ``secret``, or with a placeholder key)."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    key = (secret or "unverified").encode()
    signature = _b64encode(hmac.new(key, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def client_claims(
    sub: str, *, org: str | None = None, userid: str | None = None, days: float = 1.0
) -> dict[str, Any]:
    """Claims that both genuine clients accept and agree on.

    ``userid`` defaults to ``sha1(sub)``: descarteslabs derives the namespace from ``sub``
    and earthone reads ``userid``, so with both set one token gives one namespace.
    """
    claims: dict[str, Any] = {
        "sub": sub,
        "userid": userid or hashlib.sha1(sub.encode()).hexdigest(),
        "exp": int(time.time() + days * 86400),
    }
    if org:
        claims["org"] = org
    return claims


def _user_id(claims: dict[str, Any]) -> str:
    userid = claims.get("userid")
    if isinstance(userid, str) and userid:
        return userid
    sub = claims.get("sub")
    if isinstance(sub, str) and sub:
        return hashlib.sha1(sub.encode()).hexdigest()
    raise Unauthenticated("The token names no user: it needs a 'sub' (or earthone 'userid') claim.")


def _decode_claims(token: str, secret: str | None) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("The bearer token is not a JWT (expected three dot-separated parts).")
    if secret is not None:
        expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
        try:
            header = json.loads(_b64decode(parts[0]))
        except (ValueError, RecursionError):
            raise Unauthenticated("The bearer token's header is not base64url JSON.") from None
        try:
            given = _b64decode(parts[2])
        except ValueError:
            given = b""
        algorithm = header.get("alg") if isinstance(header, dict) else None
        if algorithm != "HS256" or not hmac.compare_digest(expected.digest(), given):
            raise Unauthenticated("The token's signature is not valid for this server.")
    try:
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, RecursionError):
        raise Unauthenticated("The bearer token's claims are not base64url-encoded JSON.") from None
    try:
        require_valid_text(claims, "The bearer token's claims")
    except InvalidInput as error:
        raise Unauthenticated(error.detail) from None
    if not isinstance(claims, dict):
        raise Unauthenticated("The bearer token's claims are not a JSON object.")
    return claims


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None
