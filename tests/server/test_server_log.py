"""A clean run logs nothing but real problems: after a normal session the server's log holds
its banner and nothing else (no warnings, errors, tracebacks or Python warnings)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from support.inprocess import create_ready_function, make_bundle, result_bytes, run_job
from support.live_server import LiveServer

SOURCE = "def main(n, tag=None):\n    print('working on', n)\n    return {'n': n}\n"
NOISE = re.compile(r"WARNING|ERROR|CRITICAL|Traceback|Warning:|Exception", re.IGNORECASE)


def _banner_line(line: str) -> bool:
    return (
        not line.strip()
        or line.startswith(("=== ", "Batch Compute listening on ", "Point "))
        or line.startswith("  ")  # the banner's indented lines
    )


def _normal_session(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {server.token('log-user')}"}
    with httpx.Client(base_url=server.origin, timeout=30) as client:
        function = create_ready_function(client, headers, bundle=make_bundle(SOURCE))
        job = run_job(client, headers, function["id"], 1)
        assert job["status"] == "success", job
        assert result_bytes(client, headers, function, job) == b'{"n": 1}'
        bulk = client.post(
            "/compute/v1/jobs/bulk",
            json={
                "function_id": function["id"],
                "bulk_args": [[n] for n in range(20)],
                "tags": ["batch"],
            },
            headers=headers,
        )
        assert bulk.status_code == 201, bulk.text
        assert client.get(f"/compute/v1/jobs/{job['id']}/log", headers=headers).status_code == 200
        done = [{"or": [{"name": "status", "op": "eq", "val": "success"},
                        {"name": "status", "op": "eq", "val": "failure"}]}]  # fmt: skip
        searches = [
            {"filter": json.dumps(done), "sort": "-creation_date", "page_size": "5"},
            {"filter": json.dumps([{"name": "tags", "op": "eq", "val": "batch"}]), "limit": "3"},
            {"function_id": function["id"], "status": "pending"},
            # The genuine clients' Job.list(**params) sends whatever it is given; the contract
            # ignores parameters it does not define, and that is not worth a log line.
            {"page_size": "2", "py1": "x", "filter[0]": "y"},
        ]
        for params in searches:
            page = client.get("/compute/v1/jobs", params=params, headers=headers)
            assert page.status_code == 200, page.text
        cursor = client.get("/compute/v1/jobs", params={"page_size": "2"}, headers=headers)
        next_page = cursor.json()["meta"]["page_cursor"]
        assert client.get(
            "/compute/v1/jobs", params={"page_cursor": next_page}, headers=headers
        ).is_success
        by_name = [{"name": "name", "op": "prefix", "val": "ad"}]
        functions = client.get(
            "/compute/v1/functions",
            params={"filter": json.dumps(by_name), "include": "job.statistics", "unknown": "1"},
            headers=headers,
        )
        assert functions.status_code == 200 and functions.json()["data"], functions.text
        assert client.get("/ui/").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        refused = client.get("/compute/v1/jobs/not-a-job", headers=headers)  # a 4xx is no problem
        assert refused.status_code in (400, 404)


def test_a_normal_session_leaves_only_the_banner_in_the_log(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server")
    with server:
        _normal_session(server)
    log = server.log_path.read_text()
    assert "Batch Compute listening on" in log
    noise = [line for line in log.splitlines() if NOISE.search(line) or not _banner_line(line)]
    assert noise == [], "\n".join(noise)
