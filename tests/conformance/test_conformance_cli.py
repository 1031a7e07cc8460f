"""``batch-compute conformance`` as a user runs it: a real subprocess, exit statuses 0/1/2, the
reports, and the promise that it touches only what it created."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from broken_backends import BREAKAGES, BrokenProxy, CrossOwnerRead

from batch_compute_conformance import CATEGORIES, RULES
from support.inprocess import make_bundle
from support.live_server import LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"


def _kit(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Any:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_COMPUTE_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "batch_compute_mock", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def _owner_state(client: httpx.Client) -> dict[str, Any]:
    functions = client.get("/compute/v1/functions", params={"page_size": 1000}).json()["data"]
    jobs = client.get("/compute/v1/jobs", params={"page_size": 1000}).json()["data"]
    credentials = client.get("/compute/v1/credentials").json()
    return {
        "functions": {f["id"]: (f["name"], f["status"], f["modified_date"]) for f in functions},
        "jobs": {j["id"]: (j["status"], j["tags"], j["args"]) for j in jobs},
        "credentials": (credentials["stored"], credentials["client_id"]),
    }


def _own_things(server: LiveServer, token: str) -> httpx.Client:
    """A user's existing work: a built function with a finished and a waiting job, credentials."""
    client = httpx.Client(base_url=server.origin, headers={"Authorization": f"Bearer {token}"})
    assert (
        client.post(
            "/compute/v1/credentials", json={"client_id": "mine", "client_secret": "s3cret"}
        ).status_code
        == 200
    )
    for auto_start in (True, False):
        created = client.post(
            "/compute/v1/functions",
            json={"name": "my-precious", "image": "python3.11:latest", "auto_start": auto_start},
        ).json()
        fid = created["function"]["id"]
        assert httpx.put(created["bundle_upload_url"], content=make_bundle()).status_code == 200
        assert client.post(f"/compute/v1/functions/{fid}/bundle").status_code == 200
        while client.get(f"/compute/v1/functions/{fid}").json()["status"] == "building":
            time.sleep(0.05)
        job = client.post("/compute/v1/jobs", json={"function_id": fid, "args": [1, 2]}).json()
        while auto_start and client.get(f"/compute/v1/jobs/{job['id']}").json()["status"] in (
            "pending",
            "running",
        ):
            time.sleep(0.05)
    return client


def test_full_run_passes_touches_only_its_own_and_reports(
    kit_server: LiveServer, owners: tuple[str, str], tmp_path: Path
) -> None:
    client = _own_things(kit_server, owners[0])
    before = _owner_state(client)
    report = tmp_path / "report"

    run = _kit(
        kit_server.origin,
        "--token",
        owners[0],
        "--other-token",
        owners[1],
        "--seed",
        "3",
        "--report",
        str(report),
    )

    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    for category in CATEGORIES:
        assert f"\n{category} " in run.stdout
    assert "PASSED" in run.stdout
    # Nothing of the owner's was changed or deleted, and nothing of the kit's is left behind.
    assert _owner_state(client) == before

    suites = ET.parse(report / "junit.xml").getroot()
    names = {suite.get("name") for suite in suites}
    assert set(CATEGORIES) <= names
    assert all(suite.get("failures") == "0" for suite in suites)
    checked = {case.get("name") for case in suites.iter("testcase")}
    assert {rule for rule in RULES if not rule.startswith("every.")} <= checked
    page = (report / "report.html").read_text()
    assert "PASSED" in page
    assert owners[0] not in page and owners[1] not in page
    assert "<script" not in page and "<link" not in page and "src=" not in page


def test_violations_exit_1_with_rule_request_response_and_curl(
    kit_server: LiveServer, owners: tuple[str, str], tmp_path: Path
) -> None:
    with BrokenProxy(kit_server.origin, CrossOwnerRead()) as proxy:
        run = _kit(
            proxy.origin,
            "--only",
            "isolation",
            "--report",
            str(tmp_path),
            env={"BATCH_COMPUTE_TOKEN": owners[0], "BATCH_COMPUTE_OTHER_TOKEN": owners[1]},
        )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "isolation.not-found" in run.stdout and "FAILED" in run.stdout
    page = (tmp_path / "report.html").read_text()
    assert "isolation.not-found" in page
    assert "HTTP 200" in page  # the response that broke the rule
    assert "curl -i -X GET" in page and "$BATCH_COMPUTE_OTHER_TOKEN" in page
    assert owners[0] not in page and owners[1] not in page
    failed = [
        case.get("name")
        for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
        if case.find("failure") is not None
    ]
    assert failed == ["isolation.not-found"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--only", "everything"], "invalid choice"),
        (["--examples", "0"], "--examples"),
        (["--other-token", "same"], "different owners"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    kit_server: LiveServer, args: list[str], reason: str
) -> None:
    run = _kit(kit_server.origin, "--token", "same", "--other-token", "other", *args)
    assert run.returncode == 2
    assert reason in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_missing_tokens_and_unreachable_backend_exit_2(owners: tuple[str, str]) -> None:
    run = _kit("http://127.0.0.1:9")
    assert run.returncode == 2 and "--other-token" in run.stderr
    run = _kit("http://127.0.0.1:9", "--token", owners[0], "--other-token", owners[1])
    assert run.returncode == 2 and "cannot reach" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_refused_token_exits_2(kit_server: LiveServer, owners: tuple[str, str]) -> None:
    run = _kit(kit_server.origin, "--token", "not-a-token", "--other-token", owners[1])
    assert run.returncode == 2 and "refuses the --token" in run.stderr


def test_missing_extra_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from batch_compute_mock import cli

    monkeypatch.setitem(sys.modules, "batch_compute_conformance.cli", None)
    assert cli.main(["conformance", "http://127.0.0.1:9"]) == 2
    assert "pip install 'batch-compute[conformance]'" in capsys.readouterr().err


def test_cli_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, batch_compute_mock.cli; "
        "heavy = [m for m in ('schemathesis', 'hypothesis', 'batch_compute_conformance', "
        "'connexion', 'uvicorn') if m in sys.modules]; print(heavy); sys.exit(bool(heavy))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_kit_imports_neither_server_nor_sdk() -> None:
    code = (
        "import sys, batch_compute_conformance.runner, batch_compute_conformance.categories."
        "contract; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('batch_compute_mock', 'batch_compute', 'batch_compute_client')]; print(bad); "
        "sys.exit(bool(bad))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_readme_lists_every_rule_with_its_category() -> None:
    text = README.read_text()
    assert "## Test another backend" in text
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.category} | {rule.text} |" in text, rule.id
    for breakage in BREAKAGES:
        assert f"| {breakage.name} | {breakage.category} | `{breakage.rule}` |" in text
    for category in CATEGORIES:
        assert f"| `{category}` |" in text
