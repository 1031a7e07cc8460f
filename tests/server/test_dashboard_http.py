"""The dashboard over HTTP, in process: sessions and CSRF, the API's ownership rules, escaping,
the jobs table's search and cursors, and every action checked through the API.

The browser tests (``tests/browser/test_dashboard.py``) drive the same pages in Chromium
against a live server; these pin the HTTP behaviour of each page and form.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.blobs.keys import job_log_key
from batch_compute_mock.server import Server
from batch_compute_mock.service.identity import client_claims, make_token
from batch_compute_mock.settings import Settings
from support.inprocess import (
    FUNCTION,
    ORIGIN,
    create_ready_function,
    make_bundle,
    result_bytes,
    run_job,
)

pytestmark = pytest.mark.both_databases

API = "/compute/v1"


def token(sub: str, days: float = 1.0, **claims: Any) -> str:
    return make_token({**client_claims(sub, days=days), **claims})


def headers(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub)}"}


@pytest.fixture
def server(settings: Settings) -> Server:
    return Server.create(settings)


@pytest.fixture
def client(settings: Settings, server: Server) -> Iterator[TestClient]:
    with TestClient(create_app(settings, server), base_url=ORIGIN) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: TestClient, bearer: str, next_path: str = "/dashboard/") -> Any:
    form = client.get("/dashboard/signin")
    assert form.status_code == 200
    return client.post(
        "/dashboard/signin",
        data={"token": bearer, "csrf": _csrf(form.text), "next": next_path},
        follow_redirects=False,
    )


def _jobs(client: TestClient, sub: str, function_id: str, count: int, tags: list[str]) -> list:
    created = client.post(
        f"{API}/jobs/bulk",
        json={"function_id": function_id, "bulk_args": [[n] for n in range(count)], "tags": tags},
        headers=headers(sub),
    )
    assert created.status_code == 201, created.text
    return [job["id"] for job in created.json()]


def _statuses(client: TestClient, sub: str, job_ids: list[str]) -> list[str]:
    return [
        client.get(f"{API}/jobs/{job_id}", headers=headers(sub)).json()["status"]
        for job_id in job_ids
    ]


# Sessions -----------------------------------------------------------------------------------


def test_pages_ask_to_sign_in_first(client: TestClient) -> None:
    page = client.get("/dashboard/functions/abc?status=failure", follow_redirects=False)
    assert page.status_code == 303
    assert (
        page.headers["location"]
        == "/dashboard/signin?next=/dashboard/functions/abc%3Fstatus%3Dfailure"
    )
    assert client.get("/dashboard/?part=live").status_code == 401  # a page's script polling
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/"


def test_signing_in_sets_a_signed_httponly_cookie_scoped_to_the_dashboard(
    client: TestClient,
) -> None:
    answer = sign_in(client, token("dana", days=0.5), "/dashboard/functions/x")
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/functions/x"
    (header,) = [
        value
        for value in answer.headers.get_list("set-cookie")
        if value.startswith("batch_compute_session=")
    ]
    cookie = SimpleCookie(header)["batch_compute_session"]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/dashboard"
    assert 0 < int(cookie["max-age"]) <= 0.5 * 86400  # no longer than the token
    home = client.get("/dashboard/")
    assert home.status_code == 200 and "Signed in as <strong>dana</strong>" in home.text


def test_cookies_are_secure_when_people_use_https(settings: Settings) -> None:
    behind_a_proxy = attrs.evolve(settings, public_url="https://compute.example")
    with TestClient(create_app(behind_a_proxy), base_url=ORIGIN) as client:
        form = client.get("/dashboard/signin")
        assert "secure" in form.headers["set-cookie"].lower()
        nonce = _csrf(form.text)  # a Secure cookie: the client keeps it off plain HTTP
        answer = client.post(
            "/dashboard/signin",
            data={"token": token("dana"), "csrf": nonce},
            headers={"Cookie": f"batch_compute_signin={nonce}"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        session = [c for c in answer.headers.get_list("set-cookie") if "session=" in c]
        assert session and "secure" in session[0].lower()


def test_a_bad_token_a_stale_form_or_a_foreign_next_are_refused(client: TestClient) -> None:
    expired = sign_in(client, token("dana", exp=int(time.time()) - 10))
    assert expired.status_code == 401 and "expired" in expired.text
    garbage = sign_in(client, "not-a-jwt")
    assert garbage.status_code == 401 and "not a JWT" in garbage.text
    stale = client.post(
        "/dashboard/signin", data={"token": token("dana"), "csrf": "forged"}, follow_redirects=False
    )
    assert stale.status_code == 403 and "batch_compute_session" not in stale.headers.get(
        "set-cookie", ""
    )
    for elsewhere in ("//evil.example/", "https://evil.example/", "/ui/", "/dashboard/\\x"):
        client.cookies.clear()
        assert sign_in(client, token("dana"), elsewhere).headers["location"] == "/dashboard/"


def test_a_tampered_or_expired_session_is_signed_out(client: TestClient) -> None:
    expires = int(time.time()) + 5
    sign_in(client, token("dana", exp=expires))
    assert client.get("/dashboard/", follow_redirects=False).status_code == 200
    cookie = client.cookies.get("batch_compute_session")
    assert cookie
    client.cookies.set("batch_compute_session", cookie[:-3] + "xyz", path="/dashboard")
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303
    client.cookies.set("batch_compute_session", cookie, path="/dashboard")
    time.sleep(max(0.0, expires - time.time()) + 1.1)
    # the token has expired: so has the session, whatever the cookie says
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303


def test_signing_out_needs_the_forms_csrf_token(client: TestClient) -> None:
    sign_in(client, token("dana"))
    home = client.get("/dashboard/")
    refused = client.post("/dashboard/signout", data={"csrf": "nope"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/dashboard/", follow_redirects=False).status_code == 200
    out = client.post("/dashboard/signout", data={"csrf": _csrf(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303


# What a page shows ---------------------------------------------------------------------------


def test_another_owners_ids_are_404_pages_as_in_the_api(client: TestClient) -> None:
    function = create_ready_function(client, headers("dana"))
    (job_id,) = _jobs(client, "dana", function["id"], 1, [])
    sign_in(client, token("eve"))
    for path in (
        f"/dashboard/functions/{function['id']}",
        f"/dashboard/functions/{function['id']}?part=live",
        f"/dashboard/functions/{function['id']}/confirm/cancel",
        f"/dashboard/jobs/{job_id}",
        f"/dashboard/jobs/{job_id}/log.txt",
        f"/dashboard/jobs/{job_id}/result",
        "/dashboard/no/such/page",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "text/html" in page.headers["content-type"] and "Not Found" in page.text, path
    assert (
        client.get(f"{API}/functions/{function['id']}", headers=headers("eve")).status_code == 404
    )
    assert function["id"] not in client.get("/dashboard/").text
    csrf = _csrf(client.get("/dashboard/").text)
    for action in ("stop", "cancel", "delete"):
        posted = client.post(f"/dashboard/functions/{function['id']}/{action}", data={"csrf": csrf})
        assert posted.status_code == 404, action
    assert _statuses(client, "dana", [job_id]) == ["pending"]


def test_user_data_is_escaped_everywhere(client: TestClient, server: Server) -> None:
    function = create_ready_function(client, headers("dana"))
    html_name = "<img src=x onerror=alert(1)>"
    renamed = client.patch(
        f"{API}/functions/{function['id']}", json={"name": html_name}, headers=headers("dana")
    )
    assert renamed.status_code == 200
    (job_id,) = _jobs(client, "dana", function["id"], 1, ["<b>tag</b>"])
    line = {"date": "2024-05-01T12:00:00.000000Z", "log": "<script>alert('log')</script>"}
    server.blobs.write_bytes(job_log_key(job_id), (json.dumps(line) + "\n").encode())
    sign_in(client, token("dana"))
    pages = [
        client.get("/dashboard/").text,
        client.get(f"/dashboard/functions/{function['id']}").text,
        client.get(f"/dashboard/jobs/{job_id}").text,
        client.get(f"/dashboard/functions/{function['id']}?part=live").json()["parts"]["function-summary"],
    ]  # fmt: skip
    for html in pages:
        assert "<img src=x" not in html and "<b>tag</b>" not in html
        assert "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0]
    assert "&lt;b&gt;tag&lt;/b&gt;" in pages[1]
    assert "&lt;script&gt;alert(&#39;log&#39;)&lt;/script&gt;" in pages[2]
    text = client.get(f"/dashboard/jobs/{job_id}/log.txt")
    assert text.headers["content-type"].startswith("text/plain")
    assert "<script>alert('log')</script>" in text.text


def test_pages_forbid_inline_scripts_and_framing(client: TestClient) -> None:
    sign_in(client, token("dana"))
    page = client.get("/dashboard/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text
    script = client.get(re.search(r'src="(/dashboard/static/dashboard\.js\?v=\w+)"', page.text)[1])
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_functions_are_searched_by_name_literally(client: TestClient) -> None:
    for name in ("resize_tiles", "resize-tiles", "ingest"):
        create_ready_function(client, headers("dana"), name=name)
    sign_in(client, token("dana"))

    def names(query: str) -> list[str]:
        html = client.get("/dashboard/", params={"q": query}).text
        return re.findall(r'<td class="name"><a href="[^"]+">([^<]+)</a>', html)

    assert names("") == ["ingest", "resize-tiles", "resize_tiles"]  # newest first
    assert names("RESIZE") == ["resize-tiles", "resize_tiles"]
    assert names("resize_") == ["resize_tiles"]  # "_" is no wildcard here
    assert names("%") == []


def test_the_jobs_table_pages_with_the_apis_cursors(client: TestClient) -> None:
    function = create_ready_function(client, headers("dana"))
    _jobs(client, "dana", function["id"], 120, ["bulk"])
    _jobs(client, "dana", function["id"], 3, ["other"])
    sign_in(client, token("dana"))
    seen: list[str] = []
    url = f"/dashboard/functions/{function['id']}?tag=bulk&sort=creation_date"
    while url:
        html = client.get(url).text
        assert "120 jobs match tag = bulk" in html
        seen.extend(re.findall(r'<tr data-job-id="([^"]+)"', html))
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert len(seen) == 120 == len(set(seen))
    api = client.get(
        f"{API}/jobs",
        params={
            "function_id": function["id"],
            "sort": "creation_date",
            "page_size": 200,
            "filter": json.dumps([{"name": "tags", "op": "eq", "val": "bulk"}]),
        },
        headers=headers("dana"),
    ).json()
    assert seen == [job["id"] for job in api["data"]]
    bad = client.get(f"/dashboard/functions/{function['id']}?sort=tags")
    assert bad.status_code == 400 and "cannot sort jobs by" in bad.text
    forged = client.get(f"/dashboard/functions/{function['id']}?cursor=forged.cursor")
    assert forged.status_code == 400 and "page_cursor is not valid" in forged.text


# Actions ------------------------------------------------------------------------------------


def test_job_actions_confirm_then_act_on_the_filtered_jobs(client: TestClient) -> None:
    function = create_ready_function(client, headers("dana"))
    nightly = _jobs(client, "dana", function["id"], 4, ["nightly"])
    other = _jobs(client, "dana", function["id"], 2, ["adhoc"])
    sign_in(client, token("dana"))
    base = f"/dashboard/functions/{function['id']}"

    confirm = client.get(f"{base}/confirm/cancel?tag=nightly")
    assert re.search(r'data-field="affected">4<', confirm.text)
    csrf = _csrf(confirm.text)
    forged = client.post(f"{base}/cancel", data={"csrf": "forged", "tag": "nightly"})
    assert forged.status_code == 403
    assert _statuses(client, "dana", nightly) == ["pending"] * 4

    done = client.post(
        f"{base}/cancel", data={"csrf": csrf, "tag": "nightly"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{base}?tag=nightly&done=cancel&count=4"
    assert "Canceled 4 job(s)" in client.get(done.headers["location"]).text
    assert _statuses(client, "dana", nightly) == ["canceled"] * 4
    assert _statuses(client, "dana", other) == ["pending"] * 2

    rerun = client.get(f"{base}/confirm/rerun?status=canceled")
    assert re.search(r'data-field="affected">4<', rerun.text)
    client.post(f"{base}/rerun", data={"csrf": csrf, "status": "canceled"})
    assert _statuses(client, "dana", nightly) == ["pending"] * 4

    client.post(f"{base}/delete", data={"csrf": csrf, "tag": "adhoc"})
    remaining = client.get(
        f"{API}/jobs", params={"function_id": function["id"]}, headers=headers("dana")
    ).json()
    assert sorted(job["id"] for job in remaining["data"]) == sorted(nightly)
    nothing = client.get(f"{base}/confirm/rerun?tag=adhoc")
    assert "Nothing to do" in nothing.text and '<form method="post"' not in nothing.text


def test_function_actions_start_stop_enable_disable(client: TestClient) -> None:
    function = create_ready_function(client, headers("dana"))
    sign_in(client, token("dana"))
    base = f"/dashboard/functions/{function['id']}"
    page = client.get(base).text
    assert 'data-action="stop"' in page and 'data-action="start"' not in page
    csrf = _csrf(page)

    def current() -> dict[str, Any]:
        return client.get(f"{API}/functions/{function['id']}", headers=headers("dana")).json()  # type: ignore[no-any-return]

    for action, field, value in (
        ("stop", "status", "stopped"),
        ("start", "status", "ready"),
        ("disable", "enabled", False),
        ("enable", "enabled", True),
    ):
        assert client.get(f"{base}/confirm/{action}").status_code == 200
        answer = client.post(f"{base}/{action}", data={"csrf": csrf}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        assert current()[field] == value, action
    unbuilt = client.post(f"{API}/functions", json=FUNCTION, headers=headers("dana")).json()
    conflict = client.post(
        f"/dashboard/functions/{unbuilt['function']['id']}/stop", data={"csrf": csrf}
    )
    assert conflict.status_code == 409 and "only after a successful build" in conflict.text
    assert client.get(f"{base}/confirm/explode").status_code == 404


def test_a_live_update_carries_the_parts_and_new_log_lines(
    client: TestClient, server: Server
) -> None:
    function = create_ready_function(client, headers("dana"))
    (job_id,) = _jobs(client, "dana", function["id"], 1, [])
    sign_in(client, token("dana"))
    live = client.get(f"/dashboard/functions/{function['id']}?part=live").json()
    assert live["live"] is True  # a pending job: the page keeps polling
    assert set(live["parts"]) == {"function-summary", "function-jobs"}
    first = {"date": "2024-05-01T12:00:00.000000Z", "log": "one"}
    second = {"date": "2024-05-01T12:00:01.000000Z", "log": "two"}
    appender = server.blobs.open_appender(job_log_key(job_id))
    appender.write((json.dumps(first) + "\n").encode())
    page = client.get(f"/dashboard/jobs/{job_id}").text
    offset = int(re.search(r'data-offset="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert offset > 0 and ">one<" in page
    appender.write((json.dumps(second) + "\n").encode())
    appender.close()
    update = client.get(f"/dashboard/jobs/{job_id}?part=live&offset={offset}&attempt=0").json()
    assert update["live"] is True and not update["log"]["reset"]
    assert ">two<" in update["log"]["html"] and ">one<" not in update["log"]["html"]
    again = client.get(f"/dashboard/jobs/{job_id}?part=live&offset=0&attempt=5").json()
    assert again["log"]["reset"] and ">one<" in again["log"]["html"]  # another attempt: all


def test_a_finished_jobs_page_shows_its_result_and_error(settings: Settings) -> None:
    running = attrs.evolve(settings, execute_jobs=True)
    source = (
        "def main(x):\n"
        "    print('working on', x)\n"
        "    if x < 0:\n"
        "        raise ValueError('negative <x>')\n"
        "    return {'html': '<b>bold</b>', 'x': x}\n"
    )
    with TestClient(create_app(running), base_url=ORIGIN) as client:
        function = create_ready_function(client, headers("dana"), bundle=make_bundle(source))
        good = run_job(client, headers("dana"), function["id"], 3)
        bad = run_job(client, headers("dana"), function["id"], -1)
        sign_in(client, token("dana"))
        page = client.get(f"/dashboard/jobs/{good['id']}").text
        assert 'data-kind="json"' in page and "&lt;b&gt;bold&lt;/b&gt;" in page
        download = client.get(f"/dashboard/jobs/{good['id']}/result")
        assert download.content == result_bytes(client, headers("dana"), function, good)
        assert download.headers["content-disposition"].startswith("attachment;")
        failed = client.get(f"/dashboard/jobs/{bad['id']}").text
        reason = re.search(r'data-field="error_reason">([^<]*)<', failed)
        assert reason and "ValueError: negative &lt;x&gt;" in reason.group(1)
        assert ">working on -1<" in failed
        assert client.get(f"/dashboard/jobs/{bad['id']}/result").status_code == 404
        summary = client.get(f"/dashboard/functions/{function['id']}").text
        assert re.search(
            r'data-status="success"><span class="dot fill-success"></span><span class="n">1<',
            summary,
        )
        assert re.search(
            r'data-status="failure"><span class="dot fill-failure"></span><span class="n">1<',
            summary,
        )
        assert summary.count('class="fill-success" x=') >= 2  # the status bar and the chart
