"""What browser tests share besides fixtures (``tests/browser/conftest.py``): where Chromium
is, how it is launched, and ``BrowserPage``, a page on the live server with what it did."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import attrs
from playwright.sync_api import Page

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "BrowserPage"]

CHROMIUM = Path(os.environ.get("BATCH_COMPUTE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@attrs.define
class BrowserPage:
    """A page on the live server, and what it did: its requests and console errors."""

    page: Page
    origin: str
    artifacts: Path
    requests: list[str] = attrs.field(factory=list)
    console_errors: list[str] = attrs.field(factory=list)

    def goto(self, path: str) -> None:
        """Open ``path`` on the live server and wait until the network is idle."""
        response = self.page.goto(self.origin + path, wait_until="networkidle")
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"

    def outside_requests(self) -> list[str]:
        """Requests that left the machine (a page must work offline)."""
        return [url for url in self.requests if urlsplit(url).hostname not in LOOPBACK_HOSTS]

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path
