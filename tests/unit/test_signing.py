"""UrlSigner: pre-signed URLs round-trip, and every kind of tampering is Forbidden."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from batch_compute_mock.kernel.errors import Forbidden
from batch_compute_mock.service.signing import UrlSigner

NOW = 1_700_000_000.0
PUBLIC = "http://127.0.0.1:8000"


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(b"test-key", PUBLIC + "/")


def _parts(url: str) -> tuple[str, str, str]:
    """(decoded path, expires, signature), as the router would hand them to a handler."""
    split = urlsplit(url)
    query = parse_qs(split.query)
    return unquote(split.path), query["expires"][0], query["signature"][0]


def test_round_trip(signer: UrlSigner) -> None:
    url = signer.sign("PUT", "/presigned/bundles/fn1", 600, now=NOW)
    assert url.startswith(f"{PUBLIC}/presigned/bundles/fn1?expires={int(NOW) + 600}&signature=")
    path, expires, signature = _parts(url)
    assert len(signature) == 64
    signer.verify("PUT", path, expires, signature, now=NOW + 599)
    signer.verify("put", path, int(expires), signature, now=NOW)
    signer.verify_url("PUT", url, now=NOW)


def test_wrong_method(signer: UrlSigner) -> None:
    url = signer.sign("PUT", "/presigned/bundles/fn1", 600, now=NOW)
    path, expires, signature = _parts(url)
    with pytest.raises(Forbidden, match="signature does not match"):
        signer.verify("GET", path, expires, signature, now=NOW)


def test_tampered_path(signer: UrlSigner) -> None:
    path, expires, signature = _parts(signer.sign("GET", "/presigned/results/a/F/J1", 60, now=NOW))
    with pytest.raises(Forbidden, match="signature does not match"):
        signer.verify("GET", path.replace("J1", "J2"), expires, signature, now=NOW)


def test_tampered_expiry(signer: UrlSigner) -> None:
    path, expires, signature = _parts(signer.sign("GET", "/presigned/results/x", 60, now=NOW))
    with pytest.raises(Forbidden, match="signature does not match"):
        signer.verify("GET", path, int(expires) + 3600, signature, now=NOW)


def test_expired(signer: UrlSigner) -> None:
    path, expires, signature = _parts(signer.sign("GET", "/presigned/results/x", 60, now=NOW))
    with pytest.raises(Forbidden, match="expired"):
        signer.verify("GET", path, expires, signature, now=NOW + 60)


@pytest.mark.parametrize("signature", ["", "zz", "0" * 64, "é" * 64, "A" * 1000])
def test_garbage_signature(signer: UrlSigner, signature: str) -> None:
    with pytest.raises(Forbidden, match="signature does not match"):
        signer.verify("GET", "/presigned/results/x", int(NOW) + 60, signature, now=NOW)


@pytest.mark.parametrize("expires", ["", "soon", "1.5", None])
def test_garbage_expires(signer: UrlSigner, expires: object) -> None:
    with pytest.raises(Forbidden, match="signature does not match"):
        signer.verify("GET", "/presigned/results/x", expires, "0" * 64, now=NOW)  # type: ignore[arg-type]


def test_other_key_rejected(signer: UrlSigner) -> None:
    other = UrlSigner(b"another-key", PUBLIC)
    path, expires, signature = _parts(other.sign("GET", "/presigned/results/x", 60, now=NOW))
    with pytest.raises(Forbidden):
        signer.verify("GET", path, expires, signature, now=NOW)


def test_colon_is_quoted_and_decoded_path_verifies(signer: UrlSigner) -> None:
    decoded = "/presigned/results/compute/org:abc123/F/J"
    url = signer.sign("GET", decoded, 60, now=NOW)
    assert "/presigned/results/compute/org%3Aabc123/F/J?" in url
    path, expires, signature = _parts(url)
    assert path == decoded
    signer.verify("GET", decoded, expires, signature, now=NOW)
    # The raw (still-encoded) path is not what was signed.
    with pytest.raises(Forbidden):
        signer.verify("GET", urlsplit(url).path, expires, signature, now=NOW)
    # A client that sends ':' unencoded reaches the same decoded path.
    signer.verify_url("GET", url.replace("%3A", ":"), now=NOW)


def test_public_url_with_base_path() -> None:
    signer = UrlSigner(b"k", "https://example.test/api/")
    url = signer.sign("GET", "/presigned/results/x", 60, now=NOW)
    assert url.startswith("https://example.test/api/presigned/results/x?")
    signer.verify_url("GET", url, now=NOW)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        UrlSigner(b"", PUBLIC)
    signer = UrlSigner(b"k", PUBLIC)
    with pytest.raises(ValueError):
        signer.sign("GET", "no-leading-slash", 60)
    with pytest.raises(ValueError):
        signer.sign("GET", "/x", 0)
