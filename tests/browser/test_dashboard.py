"""The dashboard in Chromium, against a live server doing real work.

One server per module; ``work`` runs a real ``map`` through our SDK as ``dana`` (60 jobs of
``square``, one of which fails) and saves a function whose build fails. Each test signs in
through the form, as a person would, in a fresh browser context, and checks what the page
shows against what the API says. Every test's final screenshot is kept (see conftest);
``--readme-screenshots docs/screenshots`` also writes the README's two pictures.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dashboard_work
import httpx
import pytest
from playwright.sync_api import Page, expect

from batch_compute import ComputeClient, Function, Job, JobStatus
from support.browser import BrowserPage
from support.live_server import LiveServer

IMAGE = "python3.11:latest"
FINISHED = {JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.TIMEOUT, JobStatus.CANCELED}


@dataclass
class Work:
    """What ``dana`` did before the tests look."""

    token: str
    client: ComputeClient
    square: Function
    broken: Function
    failed_job: Job


def _function(client: ComputeClient, code: Callable[..., object], **settings: object) -> Function:
    function = Function(code, image=IMAGE, cpus=1, memory="2GB", client=client, **settings)  # type: ignore[arg-type]
    function.save()
    return function


@pytest.fixture(scope="module")
def work(live_server: LiveServer) -> Iterator[Work]:
    token = live_server.token("dana")
    client = ComputeClient(url=live_server.origin, auth=token)
    square = _function(client, dashboard_work.square, name="square")
    broken = _function(
        client,
        dashboard_work.nap,
        name="broken",
        requirements=["definitely-not-installed-pkg==1.0"],
    )
    square.wait_for_completion(timeout=60, interval=0.2)
    jobs = square.map([[x] for x in range(60)], tags=["nightly"])
    square.wait_for_completion(timeout=120, interval=0.2)
    (failed,) = [job for job in jobs if (job.refresh() or job.status) == JobStatus.FAILURE]
    yield Work(token, client, square, broken, failed)
    client.close()


@pytest.fixture
def readme_screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """Saves one of the README's pictures when ``--readme-screenshots DIR`` is given."""
    directory = request.config.getoption("readme_screenshots")

    def take(page: Page, name: str) -> None:
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            bottom = page.evaluate("document.querySelector('main').getBoundingClientRect().bottom")
            size = page.viewport_size or {"width": 1280, "height": 900}
            clip = {"x": 0, "y": 0, "width": size["width"], "height": max(300, int(bottom))}
            page.screenshot(path=str(Path(directory) / f"{name}.png"), clip=clip, full_page=True)

    return take


def sign_in(browser_page: BrowserPage, token: str) -> Page:
    """Through the form: every page sends a stranger to it first."""
    page = browser_page.page
    browser_page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/signin\?next=/dashboard/$"))
    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{browser_page.origin}/dashboard/")
    return page


def _count(scope: object, status: str) -> object:
    return scope.locator(f'.count[data-status="{status}"] .n')  # type: ignore[attr-defined]


def _api(live_server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{live_server.compute_url}/", headers={"Authorization": f"Bearer {token}"}
    )


def test_sign_in_and_find_a_maps_job_counts(
    browser_page: BrowserPage, work: Work, live_server: LiveServer
) -> None:
    page = sign_in(browser_page, work.token)
    row = page.locator(f'tr[data-function-id="{work.square.id}"]')
    expect(row.get_by_role("link", name="square")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("ready")
    expect(_count(row, "success")).to_have_text("59")
    expect(_count(row, "failure")).to_have_text("1")
    with _api(live_server, work.token) as api:
        statistics = api.get(f"functions/{work.square.id}?include=job.statistics").json()
    assert statistics["job_statistics"]["success"] == 59
    assert statistics["job_statistics"]["failure"] == 1

    page.get_by_role("searchbox").fill("BROK")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f'tr[data-function-id="{work.broken.id}"] .badge')).to_have_text(
        "build failed"
    )

    (session,) = [c for c in page.context.cookies() if c["name"] == "batch_compute_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/dashboard"
    assert browser_page.outside_requests() == []
    assert browser_page.console_errors == []


def test_a_failed_jobs_error_and_log_with_html_shown_as_text(
    browser_page: BrowserPage, work: Work, readme_screenshot: Callable[[Page, str], None]
) -> None:
    page = sign_in(browser_page, work.token)
    page.get_by_role("link", name="square").click()
    page.get_by_label("Status", exact=True).select_option("failure")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()

    expect(page).to_have_url(f"{browser_page.origin}/dashboard/jobs/{work.failed_job.id}")
    expect(page.locator('#job-details [data-field="status"]')).to_have_text("failure")
    expect(page.locator('[data-field="error_reason"]')).to_contain_text(
        "ValueError: x must not be 7"
    )
    assert work.failed_job.error_reason and "x must not be 7" in work.failed_job.error_reason
    log = page.locator("#log-lines")
    expect(log).to_contain_text("<script>window.pwned = true</script><b>squaring</b> 7")
    expect(log).to_contain_text("Traceback (most recent call last):")
    assert log.locator("script, b").count() == 0  # the markup is text, not elements
    assert page.evaluate("window.pwned") is None
    expect(page.locator('[data-field="args"]')).to_have_text("[7]")
    readme_screenshot(page, "job")
    assert browser_page.console_errors == []


def test_a_running_jobs_log_grows_on_the_open_page(browser_page: BrowserPage, work: Work) -> None:
    ticker = _function(work.client, dashboard_work.ticker, name="ticker")
    ticker.wait_for_completion(timeout=60, interval=0.2)
    job = ticker(24, 0.4)
    _wait(lambda: (job.refresh() or job.status) == JobStatus.RUNNING and "tick 1" in job.log())

    page = sign_in(browser_page, work.token)
    browser_page.goto(f"/dashboard/jobs/{job.id}")
    page.evaluate("window.stillThisPage = true")  # a reload would forget it
    lines = page.locator("#log-lines .line")
    first = lines.count()
    assert first < 24
    expect(lines.nth(first + 2)).to_be_attached(timeout=20_000)  # three more, no reload
    expect(page.locator('#job-details [data-field="status"]')).to_have_text(
        "success", timeout=30_000
    )
    expect(lines).to_have_count(24)
    expect(lines.last).to_contain_text("tick 23")
    expect(page.locator('[data-field="result-preview"]')).to_contain_text('"ticks": 24')
    expect(page.locator('[data-field="result-preview"]')).to_contain_text('"<i>done</i>"')
    assert page.evaluate("window.stillThisPage") is True
    assert browser_page.console_errors == []


def test_cancel_jobs_matching_a_filter_from_the_page(
    browser_page: BrowserPage, work: Work, live_server: LiveServer
) -> None:
    nap = _function(work.client, dashboard_work.nap, name="nap", maximum_concurrency=1)
    nap.wait_for_completion(timeout=60, interval=0.2)
    batch = nap.map([[60]] * 4, tags=["batch"])
    _wait(lambda: (batch[0].refresh() or batch[0].status) == JobStatus.RUNNING)
    keep = nap(0, tags=["keep"])

    page = sign_in(browser_page, work.token)
    browser_page.goto(f"/dashboard/functions/{nap.id}")
    page.get_by_label("Tag").fill("batch")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.jobs tbody tr")).to_have_count(4)
    page.get_by_role("link", name="Cancel jobs…").click()
    expect(page.locator('[data-field="affected"]')).to_have_text("4")
    page.get_by_role("button", name="Cancel jobs (4)").click()

    expect(page.locator(".notice")).to_have_text("Canceled 4 job(s) (running ones stop shortly).")
    with _api(live_server, work.token) as api:

        def statuses() -> list[str]:
            return [api.get(f"jobs/{job.id}").json()["status"] for job in [*batch, keep]]

        _wait(lambda: statuses()[:4] == ["canceled"] * 4)
        assert statuses()[4] != "canceled"
    # The page is still open: it catches up by itself.
    expect(_count(page.locator("#function-summary"), "canceled")).to_have_text("4")
    expect(_count(page.locator("#function-summary"), "success")).to_have_text("1", timeout=20_000)
    assert browser_page.console_errors == []


def test_stop_and_start_a_function_from_its_page(
    browser_page: BrowserPage, work: Work, live_server: LiveServer
) -> None:
    page = sign_in(browser_page, work.token)
    browser_page.goto(f"/dashboard/functions/{work.square.id}")
    page.get_by_role("link", name="Stop…").click()
    expect(page.get_by_role("heading")).to_contain_text("Stop this function?")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator('#function-summary [data-field="status"]')).to_have_text("stopped")
    with _api(live_server, work.token) as api:
        assert api.get(f"functions/{work.square.id}").json()["status"] == "stopped"
        page.get_by_role("link", name="Start…").click()
        page.get_by_role("button", name="Start").click()
        expect(page.locator('#function-summary [data-field="status"]')).to_have_text("ready")
        assert api.get(f"functions/{work.square.id}").json()["status"] == "ready"


def test_a_failed_build_is_shown_first(browser_page: BrowserPage, work: Work) -> None:
    page = sign_in(browser_page, work.token)
    browser_page.goto(f"/dashboard/functions/{work.broken.id}")
    failure = page.locator(".build-failure")
    expect(failure).to_contain_text("The build failed:")
    # uv's own words (the server installs requirements: --requirements install).
    expect(failure).to_contain_text("installing the requirements failed")
    expect(failure).to_contain_text("definitely-not-installed-pkg was not found")
    expect(page.locator("#build-log")).to_have_attribute("open", "")
    expect(page.locator("#build-log pre")).to_contain_text("Step 2/3: building the environment")


def test_the_jobs_table_sorts_pages_and_the_charts_draw(
    browser_page: BrowserPage, work: Work
) -> None:
    page = sign_in(browser_page, work.token)
    browser_page.goto(f"/dashboard/functions/{work.square.id}")
    finished = page.locator('figure[data-chart^="Jobs finished per minute"] rect')
    expect(finished.first).to_be_attached()
    tooltips = " ".join(finished.locator("title").all_text_contents())
    assert re.search(r"\d\d:\d\d: \d+ success", tooltips) and "1 failure" in tooltips
    expect(page.locator('figure[data-chart^="Runtimes"] rect').first).to_be_attached()

    page.get_by_role("link", name="Runtime").click()
    expect(page).to_have_url(re.compile(r"sort=-runtime"))
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator("p.meta").last).to_have_text("60 jobs match all jobs")
    page.get_by_role("link", name="Next page »").click()
    expect(rows).to_have_count(10)
    page.get_by_role("link", name="« First page").click()
    expect(rows).to_have_count(50)


def test_another_owners_ids_answer_404_pages(
    browser_page: BrowserPage, work: Work, live_server: LiveServer
) -> None:
    page = sign_in(browser_page, live_server.token("eve"))
    expect(page.locator(".empty")).to_contain_text("No functions yet")
    for path in (f"/dashboard/functions/{work.square.id}", f"/dashboard/jobs/{work.failed_job.id}"):
        response = page.goto(browser_page.origin + path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading")).to_have_text("404 · Not Found")
    with _api(live_server, live_server.token("eve")) as api:
        assert api.get(f"functions/{work.square.id}").status_code == 404
        assert api.get(f"jobs/{work.failed_job.id}").status_code == 404


def test_the_banner_of_serve_leads_to_the_dashboard(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    """What ``serve`` printed is enough: its dashboard link, and its token pasted there."""
    banner = live_server.log_path.read_text()
    link = re.search(r"Dashboard: (\S+)", banner)
    printed = re.search(r"export BATCH_COMPUTE_TOKEN=(\S+)", banner)
    assert link and printed, banner
    assert link[1] == f"{live_server.origin}/dashboard/"
    page = browser_page.page
    page.goto(link[1])
    page.get_by_label("Bearer token").fill(printed[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(link[1])
    expect(page.locator(".who")).to_have_text("Signed in as local-user")


def test_the_ready_sign_in_link_of_serve_signs_in(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    """The banner's second dashboard line opens the dashboard signed in (the token rides in the
    link's fragment, which the page's script hands to the sign-in form)."""
    banner = live_server.log_path.read_text()
    ready = re.search(r"open it signed in: (\S+)", banner)
    assert ready, banner
    assert ready[1].startswith(f"{live_server.origin}/dashboard/signin#token=ey")
    page = browser_page.page
    page.goto(ready[1])
    expect(page).to_have_url(f"{live_server.origin}/dashboard/")
    expect(page.locator(".who")).to_have_text("Signed in as local-user")


def test_signing_out(browser_page: BrowserPage, work: Work) -> None:
    page = sign_in(browser_page, work.token)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".notice")).to_have_text("Signed out.")
    browser_page.goto(f"/dashboard/functions/{work.square.id}")
    expect(page).to_have_url(re.compile(r"/dashboard/signin\?next="))


def test_every_functions_counts_match_the_api(
    browser_page: BrowserPage,
    work: Work,
    live_server: LiveServer,
    readme_screenshot: Callable[[Page, str], None],
) -> None:
    """The functions page agrees with the API on every count of every function.

    Other tests of this module may run before it (or, under xdist, not in this worker at all)
    and may leave jobs moving: the page updates itself, so both sides are read again until
    they agree."""
    page = sign_in(browser_page, work.token)
    shown: dict[str, dict[str, str]] = {}
    expected: dict[str, dict[str, str]] = {}

    def agree() -> bool:
        nonlocal shown, expected
        with _api(live_server, work.token) as api:
            functions = api.get("functions?include=job.statistics").json()["data"]
        expected = {function["id"]: _expected_counts(function) for function in functions}
        shown = {function_id: _shown_counts(page, function_id) for function_id in expected}
        return {"square", "broken"} <= {f["name"] for f in functions} and shown == expected

    try:
        _wait(agree)
    except AssertionError:
        assert shown == expected
        raise
    readme_screenshot(page, "functions")


def _expected_counts(function: dict[str, Any]) -> dict[str, str]:
    """The counts a function's row should show: statuses with jobs, running folded in."""
    statistics = function["job_statistics"]
    counts = {
        status: str(statistics[status])
        for status in ("pending", "success", "failure", "timeout", "canceled")
        if statistics.get(status)
    }
    running = sum(statistics.get(s, 0) for s in ("running", "cancel", "canceling"))
    if running:
        counts["running"] = str(running)
    return counts


def _shown_counts(page: Page, function_id: str) -> dict[str, str]:
    row = page.locator(f'tr[data-function-id="{function_id}"]')
    counts = {}
    for status in ("pending", "running", "success", "failure", "timeout", "canceled"):
        texts = _count(row, status).all_text_contents()  # type: ignore[attr-defined]
        if texts:
            counts[status] = texts[0].strip()
    return counts


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)
