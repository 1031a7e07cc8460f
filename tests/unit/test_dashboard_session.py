"""The dashboard's signed session cookie: it round-trips, and anything forged, altered, signed
with another key or expired is no session at all; it never outlives its token."""

from __future__ import annotations

import time

import pytest

from batch_compute_mock.dashboard.session import (
    SESSION_SECONDS,
    Session,
    SessionCodec,
    new_session,
    same_secret,
    token_claims,
)
from batch_compute_mock.service.identity import client_claims, make_token

NOW = 1_700_000_000.0


def _token(days: float = 30, **extra: object) -> str:
    claims = {**client_claims("dana", days=days), **extra}
    return make_token(claims)


def test_a_session_round_trips() -> None:
    codec = SessionCodec(b"k" * 32)
    session = Session(token=_token(), expires=int(NOW) + 60, csrf="abc")
    assert codec.decode(codec.encode(session), now=NOW) == session


@pytest.mark.parametrize(
    "tamper",
    [
        lambda cookie: cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"),  # the signature
        lambda cookie: "X" + cookie[1:],  # the payload
        lambda cookie: cookie.replace(".", ""),
        lambda cookie: "",
        lambda cookie: "not a cookie",
        lambda cookie: "é.é",
    ],
)
def test_an_altered_cookie_is_no_session(tamper: object) -> None:
    codec = SessionCodec(b"k" * 32)
    cookie = codec.encode(Session(token=_token(), expires=int(NOW) + 60, csrf="abc"))
    assert codec.decode(tamper(cookie), now=NOW) is None  # type: ignore[operator]


def test_another_servers_key_or_an_expired_session_is_no_session() -> None:
    session = Session(token=_token(), expires=int(NOW) + 60, csrf="abc")
    cookie = SessionCodec(b"k" * 32).encode(session)
    assert SessionCodec(b"other key").decode(cookie, now=NOW) is None
    assert SessionCodec(b"k" * 32).decode(cookie, now=NOW + 61) is None


def test_a_session_ends_with_its_token_or_after_a_day() -> None:
    short = new_session(_token(days=0.01))
    assert short.expires <= time.time() + 0.01 * 86400 + 1
    long = new_session(_token(days=30))
    assert abs(long.expires - (time.time() + SESSION_SECONDS)) < 5
    earthone = new_session(make_token({"earthdaily__dl__exp": int(time.time()) + 100}))
    assert earthone.expires <= time.time() + 101
    assert new_session(_token()).csrf != new_session(_token()).csrf


def test_csrf_tokens_are_compared_exactly() -> None:
    assert same_secret("abc", "abc")
    assert not same_secret("abc", "abd")
    assert not same_secret("abc", None)
    assert not same_secret("", "")


def test_token_claims_are_read_for_display_only() -> None:
    assert token_claims(_token())["sub"] == "dana"
    assert token_claims("garbage") == {}
    assert token_claims("a.bm90IGpzb24.c") == {}
