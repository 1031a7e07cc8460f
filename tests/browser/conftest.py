"""Browser tests: Playwright driving Debian's Chromium against a live server.

The harness every page test uses (the API docs now, the dashboard later):

- ``live_server``: one real server process per test module (``support.live_server``);
- ``browser``: headless Chromium at ``/usr/bin/chromium``, launched by Playwright's driver from
  its Python wheel, one per test module. Playwright never downloads a browser here
  (``playwright install`` is never run); ``scripts/test`` installs Debian's ``chromium``
  package when it is missing. Module scope, not session: while Playwright's sync API is open
  it holds an event loop on this thread, and ``asyncio.run`` in later tests would fail;
- ``browser_page``: a fresh browser context and page for one test, bound to the live server's
  origin, recording every request and console error, with a screenshot of the final state
  saved under ``--browser-artifacts DIR`` (when given) or the test's ``tmp_path``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request, sync_playwright

from support.browser import CHROMIUM, CHROMIUM_ARGS, BrowserPage
from support.live_server import LiveServer


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("browser-server")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}: run "
            "`apt-get install -y chromium` (./scripts/test does it when run as root)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(
    browser: Browser,
    live_server: LiveServer,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[BrowserPage]:
    option = request.config.getoption("browser_artifacts")
    artifacts = Path(option) if option else tmp_path
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    session = BrowserPage(page=page, origin=live_server.origin, artifacts=artifacts)

    def on_request(sent: Request) -> None:
        session.requests.append(sent.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            session.console_errors.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: session.console_errors.append(str(error)))
    try:
        yield session
    finally:
        try:
            session.screenshot(re.sub(r"[^\w.-]+", "_", request.node.name))
        finally:
            context.close()
