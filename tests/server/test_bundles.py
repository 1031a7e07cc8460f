"""Bad bundles and bad JSON bodies, in-process: each is refused cleanly and the server goes on.

A bad bundle is accepted at upload (the pre-signed PUT only stores bytes) and refused by the
build: the function ends ``build_failed`` with the reason in its gzip build log, and jobs
submitted to it get 409. Bodies over the server's caps, and malformed JSON, get 400 before
anything is created.
"""

from __future__ import annotations

import gzip
import io
import stat
import zipfile
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.settings import Settings
from support.inprocess import (
    FUNCTION,
    create_ready_function,
    make_bundle,
    upload,
    wait_for,
)

pytestmark = pytest.mark.both_databases

FUNCTIONS = "/compute/v1/functions"
JOBS = "/compute/v1/jobs"
ENTRYPOINT = "__dlentrypoint__.py"
MAIN = "def main():\n    return 1\n"
#: Small caps so the oversized cases stay cheap; the bundle cap still fits 5,001 tiny entries.
MAX_BUNDLE_BYTES = 1024 * 1024
MAX_BODY_BYTES = 4096
#: The builder's entry cap (``builder.bundle.BundleLimits.max_files``; not a Setting).
MAX_BUNDLE_FILES = 5000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with caps small enough to cross in a test."""
    return attrs.evolve(settings, max_bundle_bytes=MAX_BUNDLE_BYTES, max_body_bytes=MAX_BODY_BYTES)


def _zip(*entries: tuple[zipfile.ZipInfo | str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return buffer.getvalue()


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def _many_files(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(ENTRYPOINT, MAIN)
        for index in range(count - 1):
            archive.writestr(f"d/{index}", b"")
    return buffer.getvalue()


#: name -> (bundle bytes, words the failure reason contains)
BAD_BUNDLES: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip-slip": (lambda: _zip((ENTRYPOINT, MAIN), ("../evil.py", "x = 1\n")), "'..'"),
    "absolute path": (
        lambda: _zip((ENTRYPOINT, MAIN), (zipfile.ZipInfo("/tmp/evil.py"), "x = 1\n")),
        "absolute path",
    ),
    "symlink": (lambda: _zip((ENTRYPOINT, MAIN), _symlink("passwd", "/etc/passwd")), "link"),
    "too many files": (
        lambda: _many_files(MAX_BUNDLE_FILES + 1),
        f"at most {MAX_BUNDLE_FILES} are allowed",
    ),
    "not a zip": (lambda: b"this is not a zip archive\x00\x01\x02" * 10, "not a valid zip"),
    "no entrypoint": (lambda: _zip(("main.py", MAIN)), f"no {ENTRYPOINT}"),
    "no main": (
        lambda: _zip((ENTRYPOINT, "def helper():\n    return 1\n")),
        "does not define a top-level 'main'",
    ),
    "expression nested too deeply": (
        lambda: _zip((ENTRYPOINT, "x = " + "1+" * 200_000 + "1\n" + MAIN)),
        "nested too deeply for the compiler",
    ),
    "nul in an entry name": (
        lambda: _zip((ENTRYPOINT, MAIN), ("aQQb.py", "x = 1\n")).replace(b"aQQb", b"a\x00Qb"),
        "contains a NUL character",
    ),
    "unsatisfied requirement": (
        lambda: make_bundle(MAIN, {"requirements.txt": "surely-not-installed-pkg-q7x==1.0"}),
        "requirements not satisfied",
    ),
}


def _create(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(FUNCTIONS, json=FUNCTION, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _build(client: TestClient, headers: dict[str, str], bundle: bytes) -> dict[str, Any]:
    """Create a function, upload ``bundle``, start the build and wait for its end."""
    created = _create(client, headers)
    function_id = created["function"]["id"]
    uploaded = upload(client, created["bundle_upload_url"], bundle)
    assert uploaded.status_code == 200, uploaded.text
    started = client.post(f"{FUNCTIONS}/{function_id}/bundle", headers=headers)
    assert started.status_code == 200, started.text

    def ended() -> dict[str, Any] | None:
        current = client.get(f"{FUNCTIONS}/{function_id}", headers=headers).json()
        return None if current["status"] == "building" else current

    return wait_for(ended)  # type: ignore[no-any-return]


def _build_log(client: TestClient, headers: dict[str, str], function_id: str) -> str:
    response = client.get(f"{FUNCTIONS}/{function_id}/log", headers=headers)
    assert response.status_code == 200, response.text
    assert "content-encoding" not in response.headers
    return gzip.decompress(response.content).decode("utf-8")


def _function_count(client: TestClient, headers: dict[str, str]) -> int:
    page = client.get(FUNCTIONS, params={"limit": 0}, headers=headers)
    assert page.status_code == 200, page.text
    return page.json()["meta"]["total"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_bad_bundle_fails_the_build_and_the_server_goes_on(
    client: TestClient, alice: dict[str, str], case: str
) -> None:
    make, reason = BAD_BUNDLES[case]
    function = _build(client, alice, make())
    assert function["status"] == "build_failed"

    log = _build_log(client, alice, function["id"])
    failure = [line for line in log.splitlines() if "Build failed:" in line]
    assert len(failure) == 1, log
    assert reason in failure[0], log

    job = client.post(JOBS, json={"function_id": function["id"], "args": [1]}, headers=alice)
    assert job.status_code == 409, job.text
    assert job.headers["content-type"] == "application/problem+json"
    assert isinstance(job.json()["detail"], str)

    # Still serving: a good bundle builds and takes jobs.
    assert client.get("/healthz").status_code == 200
    good = create_ready_function(client, alice)
    assert good["status"] == "ready"
    assert client.post(JOBS, json={"function_id": good["id"]}, headers=alice).status_code == 201


#: 4 MB of one list literal: inside every bundle limit, but compiling it takes seconds and
#: about 1.4 GB of memory. It must never be compiled inside the server.
HEAVY_ENTRYPOINT = "x = [" + "1," * 2_000_000 + "]\n" + MAIN


def _resident_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"build_memory_mib": 300}, "the build ran out of memory (its limit is 300 MiB)"),
        (
            {"build_memory_mib": 4096, "build_timeout_seconds": 1.0},
            "the build took longer than its limit of 1 s",
        ),
    ],
    ids=["memory", "time"],
)
def test_a_bundle_that_is_costly_to_build_is_stopped_outside_the_server(
    settings: Settings, alice: dict[str, str], limits: dict[str, Any], reason: str
) -> None:
    # The in-process server is this very process: its own memory shows where the build ran.
    from batch_compute_mock.app import create_app
    from support.inprocess import ORIGIN

    app = create_app(attrs.evolve(settings, max_bundle_bytes=64 * 1024 * 1024, **limits))
    with TestClient(app, base_url=ORIGIN) as client:
        before = _resident_mib()
        stored = zipfile.ZipInfo(ENTRYPOINT)  # uncompressed: 4 MB, a harmless ratio
        function = _build(client, alice, _zip((stored, HEAVY_ENTRYPOINT)))
        grown = _resident_mib() - before
        assert function["status"] == "build_failed"
        log = _build_log(client, alice, function["id"])
        assert reason in log, log
        assert grown < 100, f"the server grew by {grown:.0f} MiB while the bundle built"
        assert create_ready_function(client, alice)["status"] == "ready"


def test_bundle_over_the_upload_cap_is_refused_and_can_be_replaced(
    client: TestClient, alice: dict[str, str]
) -> None:
    created = _create(client, alice)
    function_id = created["function"]["id"]
    refused = upload(client, created["bundle_upload_url"], b"\0" * (MAX_BUNDLE_BYTES + 1))
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert str(MAX_BUNDLE_BYTES) in refused.json()["detail"]
    # Nothing was stored: the build cannot start yet, and a proper upload still works.
    not_yet = client.post(f"{FUNCTIONS}/{function_id}/bundle", headers=alice)
    assert not_yet.status_code == 409, not_yet.text
    assert upload(client, created["bundle_upload_url"], make_bundle()).status_code == 200
    assert client.post(f"{FUNCTIONS}/{function_id}/bundle", headers=alice).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b'{"name": "f", "image": ', "application/json", "not valid JSON"),
        (b'{"name": "f", "image": "python3.11:latest", "timeout": NaN}', "application/json", "NaN"),
        (b'\xff\xfe{"name": "f"}', "application/json", "not valid UTF-8 JSON"),
        (b"name=f&image=python3.11", "application/x-www-form-urlencoded", "application/json"),
    ],
)
def test_malformed_json_body_is_a_400_and_creates_nothing(
    client: TestClient, alice: dict[str, str], body: bytes, content_type: str, words: str
) -> None:
    response = client.post(FUNCTIONS, content=body, headers={**alice, "Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]
    assert _function_count(client, alice) == 0


def test_json_body_over_the_cap_is_a_400_and_creates_nothing(
    client: TestClient, alice: dict[str, str]
) -> None:
    oversized = {**FUNCTION, "environment": {"PADDING": "x" * MAX_BODY_BYTES}}
    response = client.post(FUNCTIONS, json=oversized, headers=alice)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "larger" in response.json()["detail"]
    assert _function_count(client, alice) == 0
    # A body within the cap still goes through.
    assert client.post(FUNCTIONS, json=FUNCTION, headers=alice).status_code == 201
