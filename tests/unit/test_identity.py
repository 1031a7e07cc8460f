"""Bearer tokens to owner and namespace, exactly as the genuine clients derive them offline."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest

from batch_compute_mock.kernel.errors import Unauthenticated
from batch_compute_mock.service.identity import client_claims, identity_from_token, make_token

SHA1_ALICE = hashlib.sha1(b"alice").hexdigest()
LATER = int(time.time()) + 3600


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(claims: dict) -> str:
    return f"{_b64({'alg': 'none'})}.{_b64(claims)}.signature"


def test_descarteslabs_namespace_is_sha1_of_sub() -> None:
    identity = identity_from_token(unsigned({"sub": "alice", "exp": LATER}))
    assert identity.namespace == SHA1_ALICE
    assert identity.owner == f"user:{SHA1_ALICE}"


def test_org_prefixes_the_namespace() -> None:
    identity = identity_from_token(unsigned({"sub": "alice", "org": "acme", "exp": LATER}))
    assert identity.namespace == f"acme:{SHA1_ALICE}"


def test_earthone_userid_and_prefixed_claims() -> None:
    plain = identity_from_token(unsigned({"userid": "u-42", "exp": LATER}))
    assert plain.namespace == "u-42"
    prefixed = identity_from_token(
        unsigned({"earthdaily__dl__userid": "u-42", "earthdaily__dl__org": "eo", "exp": LATER})
    )
    assert prefixed.namespace == "eo:u-42"


def test_printed_tokens_agree_for_both_clients() -> None:
    claims = client_claims("alice")
    assert claims["userid"] == SHA1_ALICE  # earthone reads userid, descarteslabs sha1(sub)
    assert identity_from_token(make_token(claims)).namespace == SHA1_ALICE


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("not-a-jwt", "three dot-separated parts"),
        ("a.!!!.c", "base64url"),
        (unsigned({"sub": "alice"}), "'exp'"),
        (unsigned({"sub": "alice", "exp": 1}), "expired"),
        (unsigned({"exp": LATER}), "'sub'"),
        (unsigned(["not", "an", "object"]), "JSON object"),  # type: ignore[arg-type]
    ],
    ids=["not-a-jwt", "bad-base64", "no-exp", "expired", "no-sub", "not-an-object"],
)
def test_unusable_tokens_are_refused_with_a_reason(token: str, words: str) -> None:
    with pytest.raises(Unauthenticated, match=words):
        identity_from_token(token)


def test_with_a_secret_signatures_are_verified() -> None:
    claims = client_claims("alice")
    assert identity_from_token(make_token(claims, "s3cret"), secret="s3cret").namespace
    with pytest.raises(Unauthenticated, match="signature"):
        identity_from_token(make_token(claims, "other"), secret="s3cret")
    with pytest.raises(Unauthenticated, match="signature"):
        identity_from_token(unsigned(claims), secret="s3cret")
