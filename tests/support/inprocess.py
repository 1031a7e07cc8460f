"""Helpers for server tests: tokens, bundles, the function set-up dance, jobs and results.

The HTTP helpers take any ``httpx.Client``: Starlette's in-process ``TestClient`` is one, and
so is a client of a live server (``httpx.Client(base_url=server.origin)``).
"""

from __future__ import annotations

import io
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from typing import Any

import httpx

from batch_compute_mock.service.identity import client_claims, make_token

ORIGIN = "http://testserver"


def bearer(sub: str = "alice", **claims: Any) -> dict[str, str]:
    token = make_token({**client_claims(sub), **claims})
    return {"Authorization": f"Bearer {token}"}


def make_bundle(
    source: str = "def main(x=0, y=0):\n    return x + y\n",
    extra: dict[str, bytes | str] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__dlentrypoint__.py", source)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


FUNCTION = {"name": "add", "image": "python3.11:latest", "cpus": 1, "memory": 2048}


def upload(client: httpx.Client, url: str, data: bytes) -> Any:
    return client.put(
        url.removeprefix(ORIGIN), content=data, headers={"Content-Type": "application/octet-stream"}
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    return wait_until(predicate, "condition", timeout)


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """``probe()``'s first truthy value, polled until ``timeout``; the failure names ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:g} s")
        time.sleep(0.02)


def create_ready_function(
    client: httpx.Client, headers: dict[str, str], bundle: bytes | None = None, **fields: Any
) -> dict[str, Any]:
    """Create, upload, complete, and wait until the build has ended."""
    created = client.post("/compute/v1/functions", json={**FUNCTION, **fields}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert upload(client, body["bundle_upload_url"], bundle or make_bundle()).status_code == 200
    function_id = body["function"]["id"]
    assert (
        client.post(f"/compute/v1/functions/{function_id}/bundle", headers=headers).status_code
        == 200
    )

    def built() -> dict[str, Any] | None:
        current = client.get(f"/compute/v1/functions/{function_id}", headers=headers).json()
        return None if current["status"] == "building" else current

    return wait_for(built)  # type: ignore[no-any-return]


FINISHED = ("success", "failure", "timeout", "canceled")


def run_job(
    client: httpx.Client, headers: dict[str, str], function_id: str, *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """Submit one job and wait until it has finished; returns the final job."""
    created = client.post(
        "/compute/v1/jobs",
        json={"function_id": function_id, "args": list(args), "kwargs": kwargs},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]

    def finished() -> dict[str, Any] | None:
        current: dict[str, Any] = client.get(f"/compute/v1/jobs/{job_id}", headers=headers).json()
        return current if current["status"] in FINISHED else None

    return wait_for(finished, timeout=30)  # type: ignore[no-any-return]


def result_blob_path(function: dict[str, Any], job: dict[str, Any]) -> str:
    """The catalog storage id of a job's result, quoted for a URL path."""
    blob_id = f"compute/{function['namespace']}/{function['id']}/{job['id']}"
    return urllib.parse.quote(blob_id, safe="/")


def result_document(
    client: httpx.Client, headers: dict[str, str], function: dict[str, Any], job: dict[str, Any]
) -> dict[str, Any] | None:
    """The catalog attributes of a job's result blob, or None when there is none."""
    response = client.get(f"/catalog/v2/storage/{result_blob_path(function, job)}", headers=headers)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()["data"]["attributes"]  # type: ignore[no-any-return]


def result_bytes(
    client: httpx.Client, headers: dict[str, str], function: dict[str, Any], job: dict[str, Any]
) -> bytes | None:
    """A job's stored result, downloaded the way the genuine clients do, or None."""
    download = client.get(
        f"/catalog/v2/storage/download/{result_blob_path(function, job)}", headers=headers
    )
    if download.status_code == 404:
        return None
    url = download.json()["data"]["attributes"]["resumable_url"]
    data = client.get(url.removeprefix(ORIGIN))
    assert data.status_code == 200, data.text
    return data.content
