"""Careless and hostile input over real HTTP: each gets a clear 4xx, changes nothing, and
leaves no traceback in the server's log.

These reproduce what an outside probe found (oversize chunked bodies answered 500, small
chunked bodies refused, lone surrogates reaching the database, another owner's cursor leaking
a count, bad environment variables accepted, ``1e99999`` stored as Infinity). A live server is
used because chunked transfer and the log are properties of the real HTTP stack.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.inprocess import make_bundle
from support.live_server import LiveServer

pytestmark = pytest.mark.both_databases

FUNCTIONS = "/compute/v1/functions"
JOBS = "/compute/v1/jobs"
FUNCTION = {"name": "hostile", "image": "python3.11:latest"}
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("hostile") / "data"
    with LiveServer(data, database_url=module_database_url) as live:
        yield live
    log = live.log_path.read_text(errors="replace")
    assert "Traceback" not in log, f"the server logged a traceback:\n{log[-6000:]}"


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.token('alice')}"}
    with httpx.Client(base_url=server.origin, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.token('bob')}"}
    with httpx.Client(base_url=server.origin, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def ready_function(alice: httpx.Client) -> dict[str, Any]:
    created = alice.post(FUNCTIONS, json=FUNCTION)
    assert created.status_code == 201, created.text
    body = created.json()
    put = httpx.put(body["bundle_upload_url"], content=make_bundle())
    assert put.status_code == 200, put.text
    function_id = body["function"]["id"]
    assert alice.post(f"{FUNCTIONS}/{function_id}/bundle").status_code == 200
    return body["function"]  # type: ignore[no-any-return]


def _chunks(total: int, size: int = MIB) -> Iterator[bytes]:
    """A body of ``total`` bytes sent chunked (httpx sends no Content-Length for a generator)."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


def _raw_json(client: httpx.Client, method: str, url: str, text: str) -> httpx.Response:
    return client.request(
        method, url, content=text.encode(), headers={"Content-Type": "application/json"}
    )


def _count(client: httpx.Client, collection: str) -> int:
    page = client.get(collection, params={"limit": 0})
    assert page.status_code == 200, page.text
    return int(page.json()["meta"]["total"])


def _problem(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in response.text, response.text
    return detail


# 1, 2: chunked bodies -------------------------------------------------------------------------


def test_a_chunked_bundle_over_the_cap_is_a_400_and_stores_nothing(alice: httpx.Client) -> None:
    created = alice.post(FUNCTIONS, json=FUNCTION).json()
    response = httpx.put(created["bundle_upload_url"], content=_chunks(70 * MIB), timeout=60)
    _problem(response, 400, "larger than this server accepts")
    completed = alice.post(f"{FUNCTIONS}/{created['function']['id']}/bundle")
    _problem(completed, 409, "No bundle was uploaded")


def test_a_chunked_json_body_over_the_cap_is_a_400(alice: httpx.Client) -> None:
    before = _count(alice, FUNCTIONS)
    response = alice.post(
        FUNCTIONS, content=_chunks(40 * MIB), headers={"Content-Type": "application/json"}
    )
    _problem(response, 400, "larger than this server accepts")
    assert _count(alice, FUNCTIONS) == before


def test_a_small_chunked_json_body_is_accepted(
    alice: httpx.Client, ready_function: dict[str, Any]
) -> None:
    body = json.dumps({"function_id": ready_function["id"], "args": [1, 2]}).encode()
    response = alice.post(
        JOBS, content=iter([body[:10], body[10:]]), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 201, response.text
    assert response.json()["args"] == [1, 2]


def test_an_empty_chunked_body_is_still_missing(alice: httpx.Client) -> None:
    response = alice.post(JOBS, content=iter([b""]), headers={"Content-Type": "application/json"})
    _problem(response, 400, "RequestBody is required")


# 3: text that is not valid Unicode -------------------------------------------------------------

SURROGATE = "\\udfff"  # a JSON escape of a lone surrogate: valid JSON text, invalid Unicode


@pytest.mark.parametrize(
    ("method", "path", "template", "field"),
    [
        ("POST", FUNCTIONS, '{"name":"%s","image":"python3.11:latest"}', "name"),
        (
            "POST",
            FUNCTIONS,
            '{"name":"f","image":"python3.11:latest","environment":{"A":"%s"}}',
            "environment.A",
        ),
        (
            "POST",
            FUNCTIONS,
            '{"name":"f","image":"python3.11:latest","environment":{"%s":"1"}}',
            "environment",
        ),
        ("POST", JOBS, '{"function_id":"F","args":["%s"]}', "args[0]"),
        ("POST", JOBS, '{"function_id":"F","kwargs":{"k":["%s"]}}', "kwargs.k[0]"),
        ("POST", JOBS, '{"function_id":"F","tags":["%s"]}', "tags[0]"),
        ("POST", f"{JOBS}/bulk", '{"function_id":"F","bulk_args":[["%s"]]}', "bulk_args[0][0]"),
        (
            "POST",
            f"{JOBS}/cancel",
            '{"filter":[{"name":"tags","op":"eq","val":"%s"}]}',
            "filter[0].val",
        ),
    ],
)
def test_lone_surrogates_are_a_400_naming_the_field(
    alice: httpx.Client, method: str, path: str, template: str, field: str
) -> None:
    before = _count(alice, FUNCTIONS), _count(alice, JOBS)
    detail = _problem(
        _raw_json(alice, method, path, template.replace("%s", SURROGATE)), 400, "not valid Unicode"
    )
    assert field in detail
    assert (_count(alice, FUNCTIONS), _count(alice, JOBS)) == before


def test_a_lone_surrogate_in_a_function_update_is_a_400(
    alice: httpx.Client, ready_function: dict[str, Any]
) -> None:
    path = f"{FUNCTIONS}/{ready_function['id']}"
    response = _raw_json(alice, "PATCH", path, '{"name":"%s"}'.replace("%s", SURROGATE))
    _problem(response, 400, "name", "not valid Unicode")
    assert alice.get(path).json()["name"] == FUNCTION["name"]


def test_a_lone_surrogate_in_a_query_filter_is_a_400(alice: httpx.Client) -> None:
    text = '[{"name":"name","op":"eq","val":"%s"}]'.replace("%s", SURROGATE)
    _problem(alice.get(FUNCTIONS, params={"filter": text}), 400, "not valid Unicode")


def test_a_lone_surrogate_in_a_token_is_a_401(server: LiveServer) -> None:
    claims = '{"sub":"%s","exp":9999999999}'.replace("%s", SURROGATE)
    payload = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()
    response = httpx.get(
        server.origin + FUNCTIONS, headers={"Authorization": f"Bearer x.{payload}.y"}
    )
    _problem(response, 401, "sub", "not valid Unicode")


# 5: cursors belong to their owner -------------------------------------------------------------


def test_another_owners_cursor_is_a_400_that_tells_nothing(
    alice: httpx.Client, bob: httpx.Client, ready_function: dict[str, Any]
) -> None:
    submitted = alice.post(
        f"{JOBS}/bulk",
        json={"function_id": ready_function["id"], "bulk_args": [[n] for n in range(7)]},
    )
    assert submitted.status_code == 201, submitted.text
    first = alice.get(JOBS, params={"page_size": 2}).json()
    cursor = first["meta"]["page_cursor"]
    assert cursor
    assert alice.get(JOBS, params={"page_cursor": cursor}).status_code == 200
    stolen = bob.get(JOBS, params={"page_cursor": cursor})
    detail = _problem(stolen, 400, "page_cursor is not valid")
    assert str(first["meta"]["total"]) not in stolen.text
    assert "total" not in stolen.json() and "data" not in stolen.json()
    # A tampered cursor reads the same. (A middle character: the last ones of unpadded base64
    # carry bits that decoding drops, so changing them may change nothing.)
    middle = len(cursor) // 2
    tampered = cursor[:middle] + ("B" if cursor[middle] == "A" else "A") + cursor[middle + 1 :]
    assert detail == _problem(alice.get(JOBS, params={"page_cursor": tampered}), 400)


# 6: environment variables ---------------------------------------------------------------------

BAD_NAMES = ["A=B", "", "1ABC", "A-B", "A" * 257]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_environment_names_are_refused_on_functions(alice: httpx.Client, name: str) -> None:
    before = _count(alice, FUNCTIONS)
    response = alice.post(FUNCTIONS, json={**FUNCTION, "environment": {name: "1"}})
    assert response.status_code == 422, response.text
    assert repr(name) in " ".join(response.json()["errors"]["environment"])
    assert _count(alice, FUNCTIONS) == before


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_environment_names_are_refused_on_jobs(
    alice: httpx.Client, ready_function: dict[str, Any], name: str
) -> None:
    before = _count(alice, JOBS)
    single = alice.post(
        JOBS, json={"function_id": ready_function["id"], "environment": {name: "1"}}
    )
    assert single.status_code == 422, single.text
    assert repr(name) in " ".join(single.json()["errors"]["environment"])
    bulk = alice.post(
        f"{JOBS}/bulk",
        json={
            "function_id": ready_function["id"],
            "bulk_args": [[1], [2]],
            "bulk_environments": [{"OK": "1"}, {name: "1"}],
        },
    )
    assert bulk.status_code == 422, bulk.text
    assert "bulk_environments[1]" in " ".join(bulk.json()["errors"]["bulk_environments"])
    assert _count(alice, JOBS) == before


def test_bad_environments_are_refused_on_updates(
    alice: httpx.Client, ready_function: dict[str, Any]
) -> None:
    path = f"{FUNCTIONS}/{ready_function['id']}"
    response = alice.patch(path, json={"environment": {"A=B": "1"}})
    assert response.status_code == 422, response.text
    job = alice.post(JOBS, json={"function_id": ready_function["id"], "args": [1]}).json()
    edit = alice.patch(f"{JOBS}/{job['id']}", json={"environment": {"": "1"}})
    assert edit.status_code in (409, 422), edit.text  # 409 if it started meanwhile
    assert alice.get(path).json()["environment"] is None


@pytest.mark.parametrize(
    ("path", "template"),
    [
        (FUNCTIONS, '{"name":"f","image":"python3.11:latest","environment":{"A":"1\\u0000"}}'),
        (JOBS, '{"function_id":"%s","environment":{"A":"x\\u0000y"}}'),
    ],
)
def test_nul_in_an_environment_value_is_refused(
    alice: httpx.Client, ready_function: dict[str, Any], path: str, template: str
) -> None:
    before = _count(alice, JOBS)
    text = template.replace("%s", ready_function["id"])
    response = _raw_json(alice, "POST", path, text)
    assert response.status_code in (400, 422), response.text
    assert "environment" in response.text and "A" in response.text
    assert _count(alice, JOBS) == before


# 7: numbers that are not JSON -----------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e99999", "-1e99999", "NaN", "Infinity"])
def test_non_finite_numbers_are_refused(
    alice: httpx.Client, ready_function: dict[str, Any], number: str
) -> None:
    before = _count(alice, JOBS)
    text = json.dumps({"function_id": ready_function["id"], "args": ["N"]}).replace('"N"', number)
    _problem(_raw_json(alice, "POST", JOBS, text), 400, "not valid JSON")
    assert _count(alice, JOBS) == before


def test_the_log_holds_no_traceback_so_far(server: LiveServer) -> None:
    # The module fixture checks again after every test here; this names the moment.
    assert "Traceback" not in Path(server.log_path).read_text(errors="replace")
