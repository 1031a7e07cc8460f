"""Function environments (``--requirements install``): requirements really installed with uv,
one environment per requirement set and Python, the image's Python honoured.

One server (in process, jobs really run in worker processes) serves the whole module, so each
environment is built once; packages are small pure-Python ones from PyPI, and uv's cache makes
later runs quick. ``tomli-w`` is a package the server's own environment does not have.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.builder.environments import EnvironmentSpec, EnvironmentStore
from batch_compute_mock.builder.pythons import Interpreter, choose_python, server_python
from batch_compute_mock.settings import Settings
from support.inprocess import (
    FUNCTION,
    ORIGIN,
    bearer,
    make_bundle,
    result_bytes,
    run_job,
    upload,
    wait_for,
)

VERSIONS = """
import importlib, sys


def main(*names):
    found = {"python": list(sys.version_info[:2])}
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            found[name] = "missing: %s" % error
        else:
            found[name] = getattr(module, "__version__", None)
    return found
"""

CLIENTS = """
def main():
    from descarteslabs.compute import ComputeResult
    from earthdaily.earthone.compute import Serializable
    from batch_compute import ComputeResult as OurResult

    class Text(Serializable):
        def serialize(self):
            return b"text"

    assert OurResult is not None
    return ComputeResult(Text(), tags=["ported"])
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("envs") / "data",
        public_url=ORIGIN,
        execute_jobs=True,
        workers=2,
        requirements="install",
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=ORIGIN) as test_client:
        yield test_client


def start_build(
    client: TestClient,
    headers: dict[str, str],
    requirements: str | None,
    source: str = VERSIONS,
    image: str = "python3.11:latest",
) -> str:
    extra = {"requirements.txt": requirements} if requirements is not None else None
    created = client.post(
        "/compute/v1/functions", json={**FUNCTION, "image": image}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert upload(client, body["bundle_upload_url"], make_bundle(source, extra)).status_code == 200
    function_id: str = body["function"]["id"]
    done = client.post(f"/compute/v1/functions/{function_id}/bundle", headers=headers)
    assert done.status_code == 200, done.text
    return function_id


def wait_built(client: TestClient, headers: dict[str, str], function_id: str) -> dict[str, Any]:
    def built() -> dict[str, Any] | None:
        current = client.get(f"/compute/v1/functions/{function_id}", headers=headers).json()
        return None if current["status"] == "building" else current

    return wait_for(built, timeout=180)  # type: ignore[no-any-return]


def build(
    client: TestClient, headers: dict[str, str], requirements: str | None, **kwargs: Any
) -> dict[str, Any]:
    return wait_built(client, headers, start_build(client, headers, requirements, **kwargs))


def build_log(client: TestClient, headers: dict[str, str], function_id: str) -> str:
    response = client.get(f"/compute/v1/functions/{function_id}/log", headers=headers)
    assert response.status_code == 200
    return gzip.decompress(response.content).decode()


def versions(
    client: TestClient, headers: dict[str, str], function: dict[str, Any], *names: str
) -> dict[str, Any]:
    job = run_job(client, headers, function["id"], *names)
    assert job["status"] == "success", job["error_reason"]
    data = result_bytes(client, headers, function, job)
    assert data is not None
    return json.loads(data)  # type: ignore[no-any-return]


def test_requirements_are_installed_per_function(client: TestClient, alice: dict[str, str]) -> None:
    # The premises: the server lacks tomli-w and has another attrs than the one pinned.
    assert importlib.util.find_spec("tomli_w") is None
    assert importlib.metadata.version("attrs") != "23.1.0"

    old = build(client, alice, "tomli-w==1.0.0\nattrs==23.1.0\n")
    new = build(client, alice, "# the newer one\ntomli_w == 1.1.0\n")
    bare = build(client, alice, None)
    assert [f["status"] for f in (old, new, bare)] == ["ready"] * 3

    assert versions(client, alice, old, "tomli_w", "attrs") == {
        "python": [3, 11],
        "tomli_w": "1.0.0",
        "attrs": "23.1.0",
    }
    assert versions(client, alice, new, "tomli_w")["tomli_w"] == "1.1.0"
    # No requirements: an environment of its own too, without the server's packages.
    seen = versions(client, alice, bare, "tomli_w", "attrs")
    assert seen["tomli_w"].startswith("missing") and seen["attrs"].startswith("missing")

    log = build_log(client, alice, old["id"])
    assert "uv: Resolved" in log and "+ tomli-w==1.0.0" in log, log
    assert "Python 3.11" in log


def test_ported_code_imports_the_clients_without_listing_them(
    client: TestClient, alice: dict[str, str]
) -> None:
    function = build(client, alice, None, source=CLIENTS)
    job = run_job(client, alice, function["id"])
    assert job["status"] == "success", job["error_reason"]
    assert result_bytes(client, alice, function, job) == b"text"


@pytest.mark.parametrize("minor", [8, 13])
def test_the_image_chooses_the_python(
    client: TestClient, alice: dict[str, str], minor: int
) -> None:
    function = build(client, alice, "tomli-w==1.0.0\n", image=f"python3.{minor}:latest")
    assert function["status"] == "ready", build_log(client, alice, function["id"])
    seen = versions(client, alice, function, "tomli_w")
    assert seen == {"python": [3, minor], "tomli_w": "1.0.0"}


def test_a_python_not_installed_is_replaced_and_the_log_says_so(
    client: TestClient, alice: dict[str, str]
) -> None:
    function = build(client, alice, None, image="python3.99:latest")
    assert function["status"] == "ready"
    log = build_log(client, alice, function["id"])
    ours = server_python()
    assert f"Python {ours.version} ({ours.path}) instead of the image's" in log, log
    assert "Python 3.99 is not installed on this machine" in log
    assert "--allow-python-downloads" in log
    major, minor = (int(part) for part in ours.minor.split("."))
    assert versions(client, alice, function)["python"] == [major, minor]


@pytest.mark.parametrize(
    ("requirement", "said"),
    [
        ("no-such-package-batch-compute-i13==1.0", "not found in the package registry"),
        ("tomli-w==99.0.0", "no version of tomli-w==99.0.0"),
        ("six==1.16.0\nsix==1.15.0", "your requirements are unsatisfiable"),
    ],
)
def test_a_bad_requirement_fails_the_build_with_uvs_message(
    client: TestClient, alice: dict[str, str], requirement: str, said: str
) -> None:
    function_id = start_build(client, alice, requirement + "\n")
    waiting = client.post(
        "/compute/v1/jobs", json={"function_id": function_id, "args": []}, headers=alice
    )
    function = wait_built(client, alice, function_id)
    assert function["status"] == "build_failed"
    log = build_log(client, alice, function_id)
    assert said in log, log
    last = log.strip().splitlines()[-1]
    assert "Build failed: installing the requirements failed: " in last
    if waiting.status_code == 201:  # submitted while it built: failed with the short reason
        job = client.get(f"/compute/v1/jobs/{waiting.json()['id']}", headers=alice).json()
        assert job["status"] == "failure"
        assert "installing the requirements failed" in job["error_reason"]


def test_concurrent_builds_of_one_set_build_it_once(
    client: TestClient, settings: Settings, alice: dict[str, str]
) -> None:
    requirements = "six==1.16.0\n"
    ids: list[str] = []
    threads = [
        threading.Thread(target=lambda: ids.append(start_build(client, alice, requirements)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    functions = [wait_built(client, alice, function_id) for function_id in ids]
    assert [f["status"] for f in functions] == ["ready", "ready"]
    logs = [build_log(client, alice, function_id) for function_id in ids]
    assert sum("Creating environment" in log for log in logs) == 1, logs
    assert sum("is already built" in log for log in logs) == 1, logs
    spec = EnvironmentSpec.of(requirements, image_python())
    store = EnvironmentStore(settings.environments_dir)
    assert store.is_ready(spec.key)
    assert versions(client, alice, functions[1], "six")["six"] == "1.16.0"


def test_environments_survive_a_restart(
    settings: Settings, alice: dict[str, str], tmp_path: Path
) -> None:
    settings = attrs.evolve(settings, data_dir=tmp_path / "data")  # a server of its own
    requirements = "tomli-w==1.0.0\n"
    spec = EnvironmentSpec.of(requirements, image_python())
    ready = EnvironmentStore(settings.environments_dir).path(spec.key) / ".ready"
    with TestClient(create_app(settings), base_url=ORIGIN) as first:
        function = build(first, alice, requirements)
        assert function["status"] == "ready"
        built = ready.stat().st_ino
    with TestClient(create_app(settings), base_url=ORIGIN) as second:
        assert versions(second, alice, function, "tomli_w")["tomli_w"] == "1.0.0"
    assert ready.stat().st_ino == built  # used again, not rebuilt


def test_an_evicted_environment_is_rebuilt_when_a_job_needs_it(
    client: TestClient, settings: Settings, alice: dict[str, str]
) -> None:
    function = build(client, alice, "tomli-w==1.1.0\n")
    spec = EnvironmentSpec.of("tomli-w==1.1.0\n", image_python())
    store = EnvironmentStore(settings.environments_dir)
    # No job ran in it yet, so no worker holds it: a cap of 0 removes it.
    assert spec.key in store.evict(0, lambda line: None)
    job = run_job(client, alice, function["id"], "tomli_w")
    assert job["status"] == "success", job["error_reason"]
    assert json.loads(result_bytes(client, alice, function, job) or b"")["tomli_w"] == "1.1.0"
    assert store.is_ready(spec.key)
    log = client.get(f"/compute/v1/jobs/{job['id']}/log", headers=alice).text
    assert f"Building environment {spec.key} first" in log, log
    assert "+ tomli-w==1.1.0" in log  # uv's own output, in the job's log


def test_the_cache_cap_evicts_unused_environments_least_recently_used_first(
    tmp_path: Path,
) -> None:
    store = EnvironmentStore(tmp_path / "envs")
    python = image_python()
    specs = [EnvironmentSpec.of(f"six=={v}\n", python) for v in ("1.16.0", "1.15.0", "1.14.0")]
    lines: list[str] = []
    for spec in specs:
        assert store.ensure(spec, lines.append) is True
        assert store.ensure(spec, lines.append) is False  # built once
    oldest, held, newest = (spec.key for spec in specs)
    hold = store.hold(held)  # a job runs in it (and so used it last but one)
    store.touch(newest)
    try:
        assert store.evict(store.size(held) + store.size(newest), lines.append) == [oldest]
        assert not store.is_ready(oldest) and store.is_ready(held) and store.is_ready(newest)
        assert store.evict(0, lines.append) == [newest]  # the one in use stays, over the cap
    finally:
        store.release(hold)
    store.ensure(specs[2], lines.append)
    assert store.evict(store.size(newest), lines.append) == [held]  # no longer used
    assert store.ready_keys() == [newest]
    assert any("Removed unused environment" in line for line in lines)


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


def image_python() -> Interpreter:
    """The interpreter builds choose for ``python3.11:latest`` (what ``FUNCTION`` asks for)."""
    return choose_python("python3.11:latest", uv_bin()).interpreter


PYPROJECT = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "{name}"
version = "1.0"
"""


def sdist(root: Path, name: str, backend: str) -> str:
    """A requirement line naming a local source tree whose in-tree build backend is
    ``backend`` (no download needed: it requires nothing)."""
    tree = root / name
    tree.mkdir()
    (tree / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    (tree / "backend.py").write_text(backend)
    return f"{name} @ {tree.as_uri()}\n"


@pytest.fixture
def strict(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A server of its own whose builds have 5 s."""
    limited = attrs.evolve(settings, data_dir=tmp_path / "data", build_timeout_seconds=5)
    with TestClient(create_app(limited), base_url=ORIGIN) as test_client:
        yield test_client


def test_an_sdist_that_fails_to_build_fails_the_build(
    strict: TestClient, alice: dict[str, str], tmp_path: Path
) -> None:
    backend = "def build_wheel(*args, **kwargs):\n    raise RuntimeError('boom-from-setup')\n"
    function = build(strict, alice, sdist(tmp_path, "boompkg", backend))
    assert function["status"] == "build_failed"
    log = build_log(strict, alice, function["id"])
    assert "boom-from-setup" in log, log  # uv passes on the backend's own traceback
    assert "Build failed: installing the requirements failed" in log


def test_a_build_past_its_time_limit_is_stopped(
    strict: TestClient, alice: dict[str, str], tmp_path: Path
) -> None:
    backend = "import time\ntime.sleep(120)\n"
    function = build(strict, alice, sdist(tmp_path, "slowpkg", backend))
    assert function["status"] == "build_failed"
    log = build_log(strict, alice, function["id"])
    assert "the build took longer than its limit of 5 s and was stopped" in log, log
    assert "Installing 1 requirement line(s) with uv pip" in log  # what it did until then


def test_the_key_depends_on_the_requirement_set_not_its_spelling() -> None:
    python = Interpreter("/usr/bin/python3", "3.11.2", "linux-x86_64")
    one = EnvironmentSpec.of("Six == 1.16.0\n# a comment\ntomli_w>=1.0\n", python)
    same = EnvironmentSpec.of("tomli-w>=1.0  # inline\n\nsix==1.16.0\nsix==1.16.0\n", python)
    assert one.requirements == ("six==1.16.0", "tomli-w>=1.0")
    assert one.key == same.key
    assert EnvironmentSpec.of("six==1.15.0\n", python).key != one.key
    newer = Interpreter("/usr/bin/python3", "3.11.7", "linux-x86_64")
    assert EnvironmentSpec.of("six==1.16.0\ntomli-w>=1.0\n", newer).key != one.key
    assert EnvironmentSpec.from_json(one.to_json()) == one


def test_builds_do_not_see_the_servers_secrets() -> None:
    from batch_compute_mock.builder.environments import build_environment

    seen = build_environment(
        {
            "PATH": "/usr/bin",
            "BATCH_COMPUTE_JWT_SECRET": "s",
            "AWS_SECRET_ACCESS_KEY": "k",
            "GITHUB_TOKEN": "t",
            "UV_INDEX_PRIVATE_PASSWORD": "index-password",
            "UV_INDEX_URL": "https://example.invalid/simple",
        }
    )
    assert seen == {
        "PATH": "/usr/bin",
        "UV_INDEX_PRIVATE_PASSWORD": "index-password",
        "UV_INDEX_URL": "https://example.invalid/simple",
    }


def test_builds_run_in_the_sandbox_jobs_run_in(settings: Settings, tmp_path: Path) -> None:
    from batch_compute_mock.builder.sandbox import NOBODY, SandboxMode, probe

    sandboxed = attrs.evolve(settings, data_dir=tmp_path / "data", sandbox=probe(SandboxMode.BWRAP))
    alice = bearer("alice")
    with TestClient(create_app(sandboxed), base_url=ORIGIN) as client:
        function = build(client, alice, "tomli-w==1.0.0\n", image="python3.8:latest")
        log = build_log(client, alice, function["id"])
        assert function["status"] == "ready", log
        assert "with uv in the sandbox" in log
        assert versions(client, alice, function, "tomli_w") == {
            "python": [3, 8],
            "tomli_w": "1.0.0",
        }
    spec = EnvironmentSpec.of(
        "tomli-w==1.0.0\n", choose_python("python3.8:latest", uv_bin()).interpreter
    )
    installed = EnvironmentStore(sandboxed.environments_dir).path(spec.key) / "bin"
    if os.geteuid() == 0:  # as root, the build ran as the jobs' unprivileged user
        assert installed.stat().st_uid == NOBODY


def test_serve_takes_the_environment_options() -> None:
    from batch_compute_mock.cli import _parser

    parser = _parser()
    defaults = parser.parse_args(["serve"])
    assert (defaults.requirements, defaults.env_cache_max_bytes) == ("install", 10 * 1024**3)
    assert defaults.allow_python_downloads is False
    options = ["--requirements", "check", "--env-cache-max-bytes", "1.5G"]
    chosen = parser.parse_args(["serve", *options, "--allow-python-downloads"])
    assert chosen.requirements == "check"
    assert chosen.env_cache_max_bytes == int(1.5 * 1024**3)
    assert chosen.allow_python_downloads is True
    assert parser.parse_args(["serve", "--env-cache-max-bytes", "500MiB"]).env_cache_max_bytes == (
        500 * 1024**2
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--env-cache-max-bytes", "lots"])


WHERE = """
import os, sys


def main():
    return [os.getpid(), sys.executable]
"""


def test_jobs_of_a_function_reuse_its_warm_interpreter(
    client: TestClient, settings: Settings, alice: dict[str, str]
) -> None:
    function = build(client, alice, "tomli-w==1.0.0\n", source=WHERE)
    seen = []
    for _ in range(3):
        job = run_job(client, alice, function["id"])
        assert job["status"] == "success", job["error_reason"]
        seen.append(json.loads(result_bytes(client, alice, function, job) or b""))
    assert len({pid for pid, _ in seen}) == 1, seen  # one warm job process
    key = EnvironmentSpec.of("tomli-w==1.0.0\n", image_python()).key
    assert seen[0][1] == str(EnvironmentStore(settings.environments_dir).python(key))


def test_the_dashboard_says_where_a_function_runs(
    client: TestClient, alice: dict[str, str]
) -> None:
    function = build(client, alice, "tomli-w==1.0.0\n")
    form = client.get("/dashboard/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None, form.text
    token = alice["Authorization"].removeprefix("Bearer ")
    signed = client.post(
        "/dashboard/signin",
        data={"token": token, "csrf": csrf.group(1), "next": "/dashboard/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    page = client.get(f"/dashboard/functions/{function['id']}")
    assert page.status_code == 200
    wanted = f"Python {image_python().version} in an environment of its own (tomli-w==1.0.0)"
    assert wanted in page.text
