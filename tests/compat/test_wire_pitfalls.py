"""Every pitfall of wire-protocol.md §14 (items 1-16), once per genuine client.

Each ``test_pitfall_NN_*`` asserts on what the genuine client observed in ``scenarios/pitfalls.py``
(run once per client for this module, as a user whose token carries an ``org``) and, where the
client would hide a regression, on the same resources over raw HTTP (httpx, same token).
Item 17, running jobs for real, is what ``test_jobs_running.py`` covers.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from genuine_clients import ALLOWED_ERROR_STATUSES, FLAVOR_NAMES, expected_namespace, flavor_token

from support.compat import FLAVORS, CompatClient, compat_venv_python
from support.live_server import LiveServer

__all__ = [
    "test_pitfall_01_cursor_only_follow_up_pages",
    "test_pitfall_02_page_cursor_and_total_always_present",
    "test_pitfall_03_build_log_is_gzip_without_content_encoding",
    "test_pitfall_04_blob_data_raw_and_presigned",
    "test_pitfall_05_job_log_lines",
    "test_pitfall_06_namespace_consistency",
    "test_pitfall_07_every_job_has_function_id",
    "test_pitfall_08_job_statistics_is_an_object",
    "test_pitfall_09_jobs_delete_returns_json",
    "test_pitfall_10_status_codes_and_idempotent_bulk",
    "test_pitfall_11_bulk_operations_within_read_timeout",
    "test_pitfall_12_delete_results_spelling",
    "test_pitfall_13_filter_operators",
    "test_pitfall_14_datetimes",
    "test_pitfall_15_result_geometries",
    "test_pitfall_16_credentials",
]

ORG = "acme"
# Wire datetimes: explicit UTC offset, 0, 3 or 6 fractional digits (§3.4, §14.14).
WIRE_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?(Z|\+00:00)$")
LOG_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
FUNCTION_DATES = ("creation_date", "modified_date")
JOB_DATES = ("creation_date", "last_execution_date", "last_completion_date")


class Pitfalls:
    """One client's observations plus a raw HTTP client acting as the same user."""

    def __init__(self, flavor: str, obs: dict[str, Any], http: httpx.Client, sub: str) -> None:
        self.flavor = flavor
        self.obs = obs
        self.http = http
        self.namespace = expected_namespace(flavor, sub, ORG)

    def wait_job(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            job = self.http.get(f"/compute/v1/jobs/{job_id}").json()
            if job["status"] in {"success", "failure", "timeout", "canceled"}:
                return dict(job)
            assert time.monotonic() < end, job
            time.sleep(0.1)

    def blob_path(self, job_id: str, function_id: str | None = None) -> str:
        blob_id = f"compute/{self.namespace}/{function_id or self.obs['function_id']}/{job_id}"
        return urllib.parse.quote(blob_id, safe="/")


@pytest.fixture(scope="module", params=FLAVOR_NAMES)
def pitfalls(
    request: pytest.FixtureRequest,
    live_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pitfalls]:
    flavor = str(request.param)
    try:
        python = compat_venv_python(flavor)
    except Exception as error:  # same policy as conftest: skip when the venv can't be built
        pytest.skip(f"no {flavor} compat venv: {error}")
    sub = f"pitfalls-{uuid.uuid4().hex}@example.com"
    token = flavor_token(live_server, flavor, sub, ORG)
    runner = CompatClient(
        python=python,
        compute_url=live_server.compute_url,
        catalog_url=live_server.catalog_url,
        home=tmp_path_factory.mktemp(f"pitfalls-{flavor}"),
        flavor=FLAVORS[flavor],
        token=token,
    )
    obs = runner.observe("pitfalls.py")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server.origin, headers=headers, timeout=30) as http:
        yield Pitfalls(flavor, obs, http, sub)


def _pages(http: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a search, following the cursor exactly as the clients do."""
    pages = [http.get(path, params=params).json()]
    while pages[-1]["meta"]["page_cursor"]:
        pages.append(
            http.get(path, params={"page_cursor": pages[-1]["meta"]["page_cursor"]}).json()
        )
    return pages


def test_pitfall_01_cursor_only_follow_up_pages(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    # limit 5 over 7 matches with page_size 2: three pages, the later ones cursor-only.
    calls = obs["p01_limited_calls"]
    assert len(calls) == 3, calls
    assert set(calls[0]["query"]) == {"filter", "sort", "limit", "page_size"}
    assert calls[0]["query"]["limit"] == ["5"] and calls[0]["query"]["page_size"] == ["2"]
    assert all(set(call["query"]) == {"page_cursor"} for call in calls[1:]), calls
    newest_first = list(reversed(obs["paged_ids"]))
    assert obs["p01_limited_ids"] == newest_first[:5]
    # Job.list(page_size=3): every job of the user so far (4 single + 7 paged), in 4 pages.
    list_calls = obs["p01_list_calls"]
    assert obs["p01_list_count"] == 11
    assert len(list_calls) == 4
    assert all(set(call["query"]) == {"page_cursor"} for call in list_calls[1:])
    # Function.list(page_size=1, include=...): the include survives in the cursor.
    assert len(obs["p01_function_pages"]) == 2  # fn and idle (doomed was not created yet)
    assert all(isinstance(stats, dict) for stats in obs["p01_function_statistics"])

    # Raw: the cursor alone reproduces the query (filter, sort, page size, remaining limit).
    params = {
        "filter": json.dumps([{"name": "function_id", "op": "eq", "val": obs["function_id"]}]),
        "sort": "-creation_date",
        "page_size": 3,
        "limit": 7,
    }
    pages = _pages(pitfalls.http, "/compute/v1/jobs", params)
    assert [len(page["data"]) for page in pages] == [3, 3, 1]
    ids = [job["id"] for page in pages for job in page["data"]]
    assert len(set(ids)) == 7
    dates = [job["creation_date"] for page in pages for job in page["data"]]
    assert dates == sorted(dates, reverse=True)


def test_pitfall_02_page_cursor_and_total_always_present(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["p02_count"] == 7  # count() ignores the search's limit of 5
    (count_call,) = obs["p02_count_calls"]
    assert count_call["query"]["limit"] == ["0"]

    http = pitfalls.http
    for path in ("/compute/v1/jobs", "/compute/v1/functions"):
        pages = _pages(http, path, {"page_size": 4})
        for page in pages:
            assert "page_cursor" in page["meta"] and "total" in page["meta"], page["meta"]
        assert not pages[-1]["meta"]["page_cursor"]
        counted = http.get(path, params={"limit": 0}).json()
        assert counted["data"] == []
        assert counted["meta"]["total"] == sum(len(page["data"]) for page in pages)
        assert "page_cursor" in counted["meta"] and not counted["meta"]["page_cursor"]


def test_pitfall_03_build_log_is_gzip_without_content_encoding(pitfalls: Pitfalls) -> None:
    assert "Build succeeded" in pitfalls.obs["p03_build_log"]
    response = pitfalls.http.get(
        f"/compute/v1/functions/{pitfalls.obs['function_id']}/log",
        headers={"Accept-Encoding": "gzip, deflate"},
    )
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content[:2] == b"\x1f\x8b"
    assert "Build succeeded" in gzip.decompress(response.content).decode()


def test_pitfall_04_blob_data_raw_and_presigned(pitfalls: Pitfalls) -> None:
    assert pitfalls.obs["p04_big_result_ok"] is True
    http = pitfalls.http
    response = http.get(
        f"/catalog/v2/storage/download/{pitfalls.blob_path(pitfalls.obs['big_id'])}"
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["type"] == "storage_download"
    url = data["attributes"]["resumable_url"]
    assert url.startswith("http://")
    # Fetched as the client does: no Authorization, and it advertises gzip.
    raw = httpx.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert raw.status_code == 200
    assert "content-encoding" not in raw.headers
    assert json.loads(raw.content) == "x" * 5000
    tampered = httpx.get(url.replace("signature=", "signature=0"))
    assert tampered.status_code in ALLOWED_ERROR_STATUSES and tampered.status_code != 200


def test_pitfall_05_job_log_lines(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["p05_log"] == "first\n\n  indented\nlast"
    assert len(obs["p05_iter_log"]) == 4
    response = pitfalls.http.get(f"/compute/v1/jobs/{obs['printer_id']}/log")
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    body = response.text
    assert body.endswith("\n") and not body.endswith("\n\n")
    lines = body[:-1].split("\n")
    assert "" not in lines and all("\r" not in line for line in lines)
    records = [json.loads(line) for line in lines]
    assert [record["log"] for record in records] == ["first", "", "  indented", "last"]
    assert all(LOG_DATE.match(record["date"]) for record in records), records


def test_pitfall_06_namespace_consistency(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["namespace"] == pitfalls.namespace
    assert pitfalls.namespace.startswith(f"{ORG}:")
    assert obs["p06_result"] == "in a square"
    blob_id = f"compute/{pitfalls.namespace}/{obs['function_id']}/{obs['polygon_id']}"
    assert obs["p06_blob"] == {"id": blob_id, "namespace": pitfalls.namespace}
    path = pitfalls.blob_path(obs["polygon_id"])
    assert "%3A" in path
    response = pitfalls.http.get(f"/catalog/v2/storage/{path}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["id"] == blob_id


def test_pitfall_07_every_job_has_function_id(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    function_id = obs["function_id"]
    assert obs["p07_bulk_function_ids"] == [function_id]
    assert obs["p07_function_ids"] == {
        "save": function_id,
        "patch": ["saved", "patched"],
        "get": function_id,
        "search": [function_id],
        "cancel": function_id,
        "cancel_query": [function_id],
        "rerun": [function_id],
        "job_function": function_id,
    }

    http = pitfalls.http
    fn_path = f"/compute/v1/functions/{function_id}"
    assert http.patch(fn_path, json={"status": "stopped"}).status_code == 200
    created = http.post("/compute/v1/jobs", json={"function_id": function_id, "args": ["value"]})
    bulk = http.post(
        "/compute/v1/jobs/bulk",
        json={
            "function_id": function_id,
            "bulk_args": [["value"], ["value"]],
            "reference_id": "r7",
        },
    )
    job_id = created.json()["id"]
    answers: dict[str, Any] = {
        "create": [created.json()],
        "bulk": bulk.json(),
        "get": [http.get(f"/compute/v1/jobs/{job_id}").json()],
        "patch": [http.patch(f"/compute/v1/jobs/{job_id}", json={"tags": ["t"]}).json()],
        "cancel": [http.post(f"/compute/v1/jobs/{job_id}/cancel").json()],
        "cancel_query": http.post(
            "/compute/v1/jobs/cancel",
            json={"filter": [{"name": "id", "op": "eq", "val": bulk.json()[0]["id"]}]},
        ).json(),
        "rerun": http.post(
            "/compute/v1/jobs/rerun",
            json={"filter": [{"name": "id", "op": "eq", "val": job_id}]},
        ).json(),
        "search": http.get("/compute/v1/jobs", params={"include": "timings"}).json()["data"],
    }
    http.post(
        "/compute/v1/jobs/cancel",
        json={"filter": [{"name": "status", "op": "eq", "val": "pending"}]},
    )
    assert http.patch(fn_path, json={"status": "ready"}).status_code == 200
    for kind, jobs in answers.items():
        assert jobs, kind
        assert all(job.get("function_id") == function_id for job in jobs), (kind, jobs)


def test_pitfall_08_job_statistics_is_an_object(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["p08_wait_ready"] == "ready"
    assert all(call["query"].get("include") == ["job.statistics"] for call in obs["p08_wait_calls"])
    assert isinstance(obs["p08_statistics_ready"], dict)
    assert obs["p08_wait_stopped"]["raised"] is False
    assert isinstance(obs["p08_statistics_stopped"], dict)

    http = pitfalls.http
    idle = f"/compute/v1/functions/{obs['idle_function_id']}"  # stopped, no jobs left
    for path in (idle, f"/compute/v1/functions/{obs['function_id']}"):
        for spelling in ("job.statistics", "job_statistics"):
            body = http.get(path, params={"include": spelling}).json()
            assert isinstance(body["job_statistics"], dict), (path, spelling, body)
            assert {"pending", "running", "cancel", "canceling"} <= set(body["job_statistics"])
    listed = http.get("/compute/v1/functions", params={"include": "job.statistics"}).json()
    assert all(isinstance(item["job_statistics"], dict) for item in listed["data"])


def test_pitfall_09_jobs_delete_returns_json(pitfalls: Pitfalls) -> None:
    calls = pitfalls.obs["p09_delete_calls"]
    assert [(method, status) for method, _, status, _ in calls] == [("POST", 200), ("DELETE", 204)]
    assert calls[0][1] == ["jobs", "delete"]
    assert calls[0][3]["delete_results"] is False
    response = pitfalls.http.post(
        "/compute/v1/jobs/delete",
        json={"filter": [{"name": "id", "op": "eq", "val": "nothing"}], "delete_results": False},
    )
    assert response.status_code == 200
    assert response.json() == []


def test_pitfall_10_status_codes_and_idempotent_bulk(
    pitfalls: Pitfalls, live_server: LiveServer
) -> None:
    obs = pitfalls.obs
    assert set(obs["p10_statuses"]) - {200, 201, 204} == {400, 404}, obs["p10_statuses"]
    assert obs["p10_missing_function"]["type"] == "NotFoundError"
    assert obs["p10_missing_job_log"]["type"] == "NotFoundError"
    assert obs["p10_bad_filter_value"]["type"] == "BadRequestError"
    assert "runtime" in obs["p10_bad_filter_value"]["message"]

    http = pitfalls.http
    function_id = obs["function_id"]
    bad_requests = [
        http.get("/compute/v1/functions/missing"),
        http.get("/compute/v1/jobs/missing/log"),
        http.get("/compute/v1/jobs", params={"filter": "not json"}),
        http.get("/compute/v1/jobs", params={"filter": '[{"name": "nope", "op": "eq", "val": 1}]'}),
        http.get("/compute/v1/jobs", params={"sort": "args"}),
        http.get("/compute/v1/jobs", params={"page_cursor": "garbage"}),
        http.get("/compute/v1/jobs", params={"include": "everything"}),
        http.post(
            "/compute/v1/functions", json={"name": "x", "image": "python3.11:latest", "memory": 3}
        ),
        http.post("/compute/v1/functions", json={"name": "x", "image": "not-an-image"}),
        http.post("/compute/v1/jobs", json={"function_id": "missing"}),
        http.patch(f"/compute/v1/functions/{function_id}", json={"cpus": 3}),
        http.delete("/compute/v1/jobs/missing", params={"delete_results": "maybe"}),
        http.put(f"/compute/v1/functions/{function_id}"),
        http.post(f"/compute/v1/functions/{function_id}/bundle"),
        httpx.get(f"{live_server.compute_url}/functions"),
        httpx.get(
            f"{live_server.compute_url}/functions", headers={"Authorization": "Bearer x.y.z"}
        ),
    ]
    for response in bad_requests:
        request = f"{response.request.method} {response.request.url}"
        assert response.status_code in ALLOWED_ERROR_STATUSES, (request, response.text)
        body = response.json()
        assert isinstance(body.get("detail"), str) and body["detail"], (request, body)

    # POST is retried on 5xx: a replayed bulk body (same reference_id) creates nothing new.
    body = {"function_id": function_id, "bulk_args": [["value", 1]], "reference_id": "replay-10"}
    first = http.post("/compute/v1/jobs/bulk", json=body)
    again = http.post("/compute/v1/jobs/bulk", json=body)
    assert first.status_code < 300 and again.status_code < 300
    assert [job["id"] for job in again.json()] == [job["id"] for job in first.json()]
    assert len(set(obs["p10_bulk_reference_ids"])) == 3


def test_pitfall_11_bulk_operations_within_read_timeout(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["p11_map"] == {"count": 1000, "is_success": True}
    assert obs["p11_canceled"] == ["canceled", 1000]
    assert obs["p11_deleted"] == ["list", 1000, "str"]
    # Far inside the clients' 30 s read timeout, leaving room for slower machines.
    for key in ("p11_map_seconds", "p11_cancel_seconds", "p11_delete_seconds"):
        assert obs[key] < 10, (key, obs[key])


def test_pitfall_12_delete_results_spelling(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["p12_delete_queries"] == [
        {"delete_results": ["True"]},
        {"delete_results": ["False"]},
    ]
    assert obs["p12_results_after"] == [None, 1]

    http = pitfalls.http
    function_id = obs["function_id"]
    created = http.post(
        "/compute/v1/jobs/bulk",
        json={"function_id": function_id, "bulk_args": [["value", n] for n in range(5)]},
    ).json()
    ids = [job["id"] for job in created]
    for job_id in ids:
        assert pitfalls.wait_job(job_id)["status"] == "success"
    spellings = ["False", "True", "false", "true"]
    for job_id, spelling in zip(ids, spellings, strict=False):
        response = http.delete(f"/compute/v1/jobs/{job_id}", params={"delete_results": spelling})
        assert response.status_code in {200, 204}, (spelling, response.text)
    blobs = [
        http.get(f"/catalog/v2/storage/{pitfalls.blob_path(job_id)}").status_code for job_id in ids
    ]
    assert blobs == [200, 404, 200, 404, 200]
    # POST /jobs/delete takes a JSON boolean.
    deleted = http.post(
        "/compute/v1/jobs/delete",
        json={"filter": [{"name": "id", "op": "eq", "val": ids[4]}], "delete_results": True},
    )
    assert deleted.json() == [ids[4]]
    assert http.get(f"/catalog/v2/storage/{pitfalls.blob_path(ids[4])}").status_code == 404


def _leaves(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [leaf for item in node for leaf in _leaves(item)]
    if "and" in node or "or" in node:
        return _leaves(node.get("and", node.get("or")))
    return [node]


def test_pitfall_13_filter_operators(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    membership = obs["p13_in"]
    assert membership["count"] == 5  # the 7 paged jobs, less the 2 deleted for pitfall 12
    ops = {leaf["op"] for leaf in _leaves(membership["filter"])}
    assert ops == {"eq"}  # no "in" op: an "or" of "eq" nodes
    assert any("or" in node for node in membership["filter"])
    assert obs["p13_tags_eq"]["count"] == 5  # a scalar eq against the tags list
    assert obs["p13_isnull"]["filter"][-1] == {"name": "tags", "op": "isnull"}
    assert obs["p13_isnull"]["count"] > 0

    like = obs["p13_like"]
    (like_node,) = like["filter"]
    if pitfalls.flavor == "earthone":
        assert (like_node["op"], like["count"]) == ("like", 0)  # case-sensitive
    else:
        assert (like_node["op"], like["count"]) == ("ilike", 1)  # 3.2.2's .like() is ilike

    # Range conditions on one attribute may accumulate client-side; the counts stay right.
    assert obs["p13_range_first"]["count"] == obs["p13_range_second"]["count"]
    second_ops = sorted(leaf["op"] for leaf in _leaves(obs["p13_range_second"]["filter"]))
    assert "gt" in second_ops


def test_pitfall_14_datetimes(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    for name, (value, aware) in obs["p14_dates"].items():
        assert value and aware, name
    assert obs["p14_since_hour_ago"]["count"] > 0
    assert obs["p14_in_an_hour"]["count"] == 0
    sent = obs["p14_since_hour_ago"]["filter"][-1]["val"]
    assert WIRE_DATETIME.match(sent), sent

    http = pitfalls.http
    function = http.get(f"/compute/v1/functions/{obs['function_id']}").json()
    job = http.get(f"/compute/v1/jobs/{obs['printer_id']}").json()
    for body, names in ((function, FUNCTION_DATES), (job, JOB_DATES)):
        for name in names:
            assert WIRE_DATETIME.match(body[name]), (name, body[name])
    # Epoch seconds and a Z suffix are accepted as filter values too.
    for value in (0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000+00:00"):
        node = [{"name": "creation_date", "op": "gt", "val": value}]
        response = http.get("/compute/v1/jobs", params={"filter": json.dumps(node), "limit": 0})
        assert response.status_code == 200, (value, response.text)
        assert response.json()["meta"]["total"] > 0


def test_pitfall_15_result_geometries(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    assert obs["p15_polygon_blob"]["type"] == "Polygon"
    assert obs["p15_point_result"] == "at a point"
    point = obs["p15_point_blob"]
    if pitfalls.flavor == "earthone":
        assert point == {"raised": False, "result": {"type": "Point", "coordinates": [1.5, 2.5]}}
    else:  # the 3.2.2 client rejects zero-area bounds itself; the server stores what the job gave
        assert point["raised"] is True
        assert "minx" in point["message"], point


def test_pitfall_16_credentials(pitfalls: Pitfalls) -> None:
    obs = pitfalls.obs
    (call,) = obs["p16_update_credentials"]
    assert (call["method"], call["path"], call["status"]) == ("GET", "/compute/v1/credentials", 200)
    calls = obs["p16_save_calls"]
    assert calls[0] == ["GET", "/compute/v1/credentials"]
    assert ["POST", "/compute/v1/functions"] in calls
    http = pitfalls.http
    assert http.get("/compute/v1/credentials").status_code == 200
    posted = http.post("/compute/v1/credentials", json={"client_id": "a", "client_secret": "b"})
    assert posted.status_code == 200
