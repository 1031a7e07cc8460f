"""Errors that must not send a user hunting: where the SDK tried to connect, and URLs pasted
from the genuine clients' settings (``.../compute/v1``) accepted as they are."""

from __future__ import annotations

import socket

import httpx
import pytest
from mock_transport import Script, make_client

from batch_compute import (
    ComputeClient,
    ConfigurationError,
    Function,
    Job,
    Retry,
    TransportError,
)
from support.live_server import LiveServer


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_waits() -> Retry:
    return Retry(sleep=lambda _seconds: None)


def test_an_unreachable_server_is_named_in_the_error() -> None:
    origin = f"http://127.0.0.1:{_closed_port()}"
    client = ComputeClient(url=origin, auth="token", retries=_no_waits())
    with pytest.raises(TransportError) as caught:
        Function.get("fn-1", client=client)
    message = str(caught.value)
    assert message.startswith(f"GET {origin}/compute/v1/functions/fn-1: ")
    assert "Connection refused" in message
    assert message.endswith(f"(is the Batch Compute server running at {origin}?)")
    assert caught.value.url == f"{origin}/compute/v1/functions/fn-1"


def test_a_streamed_log_from_an_unreachable_server_is_a_transport_error_too() -> None:
    origin = f"http://127.0.0.1:{_closed_port()}"
    client = ComputeClient(url=origin, auth="token", retries=_no_waits())
    with pytest.raises(TransportError, match=f"GET {origin}/compute/v1/jobs/job-1/log: "):
        list(client.iter_log_lines("jobs/job-1/log"))


def test_a_pre_signed_url_is_named_without_its_signature() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    upload = "http://sdk-under-test.invalid/presigned/bundles/fn-1"
    script = Script().on("PUT /presigned/bundles/fn-1", unreachable)
    with make_client(script) as client, pytest.raises(TransportError) as caught:
        client.api.upload_bundle(f"{upload}?expires=1700000000&signature=s3cret", b"PK")
    assert str(caught.value) == f"PUT {upload}: connection reset"
    assert caught.value.url == upload


@pytest.mark.parametrize("suffix", ["", "/", "/compute/v1", "/compute/v1/", "/catalog/v2"])
def test_the_url_may_be_the_origin_or_end_in_an_api_prefix(
    live_server: LiveServer, suffix: str
) -> None:
    url = live_server.origin + suffix
    with ComputeClient(url=url, auth=live_server.token("prefix-user")) as client:
        assert client.url == live_server.origin
        assert client.check_credentials() is False  # a 200, not a 404 for a doubled prefix
        assert Job.search(client=client).count() == 0


def test_the_environment_variable_may_end_in_the_prefix_too(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_COMPUTE_URL", live_server.compute_url)
    monkeypatch.setenv("BATCH_COMPUTE_TOKEN", live_server.token("env-user"))
    with ComputeClient() as client:
        assert client.url == live_server.origin
        assert list(Function.search(client=client)) == []


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "localhost", "ftp://host"])
def test_a_url_without_http_is_refused_with_an_example(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"must start with http:// or https://"):
        ComputeClient(url=url, auth="token")
