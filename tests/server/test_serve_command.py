"""``batch-compute serve`` as a user and CI start it: any free port, found from a file.

Real processes on loopback; the server is stopped with SIGTERM, as CI would stop it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVE = [sys.executable, "-m", "batch_compute_mock", "serve", "--host", "127.0.0.1"]


STALE = "8000\n"


def _read_new_port_file(path: Path, process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The port file's content once this run has written it (not the stale one)."""
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text() if path.exists() else ""
        if content and content != STALE:
            return content
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} was not written within {timeout} s"
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    port_file = tmp_path / "run" / "port"
    port_file.parent.mkdir()
    port_file.write_text(STALE)  # left over from an earlier run: must not be trusted
    process = subprocess.Popen(
        [*SERVE, "--port", "0", "--port-file", str(port_file), "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    try:
        yield process, port_file
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def test_port_zero_is_announced_as_the_bound_port_and_written_to_the_port_file(
    server: tuple[subprocess.Popen[str], Path],
) -> None:
    process, port_file = server
    content = _read_new_port_file(port_file, process)
    port = int(content)
    assert content == f"{port}\n" and port not in (0, 8000)

    # Written once the server answers: no retry loop is needed after reading it.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert json.load(response)["status"] == "ok"

    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    origin = f"http://127.0.0.1:{port}"
    assert f"Batch Compute listening on {origin}" in output
    exports = [line.strip() for line in output.splitlines() if "export " in line]
    assert len(exports) == 8
    for line in exports:
        if "_URL=" in line:
            assert line.split("=", 1)[1].startswith(origin), line
    assert ":0/" not in output and not output.rstrip().endswith(":0")
    assert "Ctrl+C" in output  # how to stop it
    assert not port_file.exists()  # a stopped server leaves no port behind


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [*SERVE, "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 1
    assert run.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1 port {port}: [Errno 98] Address already in use"
    )
