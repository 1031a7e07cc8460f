"""The API docs page (``/ui/``) renders our OpenAPI 3.1 contract in a real browser.

Swagger UI 4 (Connexion's bundle) showed "Unable to render this definition" for a 3.1 document;
the vendored Swagger UI 5 must list every operation of the contract, fetch nothing from the
internet, and "Try it out" must reach this server with the token given to "Authorize".
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from batch_compute_mock.contract import load_contract
from batch_compute_mock.swagger_ui import VERSION
from support.browser import BrowserPage
from support.live_server import LiveServer

METHODS = ("get", "put", "post", "delete", "patch")


def _contract_operations() -> set[str]:
    """``{tag}-{operationId}`` of every operation, as Swagger UI names their blocks."""
    operations = set()
    for path_item in load_contract()["paths"].values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is not None:
                operations.update(f"{tag}-{operation['operationId']}" for tag in operation["tags"])
    return operations


def test_the_vendored_swagger_ui_is_version_5() -> None:
    assert VERSION.split(".")[0] == "5", VERSION


def test_docs_page_lists_every_operation_of_the_31_contract(browser_page: BrowserPage) -> None:
    page = browser_page.page
    browser_page.goto("/ui/")
    page.wait_for_selector(".opblock, .errors-wrapper")  # rendered, or Swagger UI's complaint

    assert page.locator(".errors-wrapper").count() == 0, page.locator(
        ".errors-wrapper"
    ).inner_text()
    assert "Unable to render this definition" not in page.content()
    expect(page.locator(".info .title")).to_contain_text("Batch Compute API")
    expect(page.locator(".info .version-stamp")).to_have_text("OAS 3.1")
    blocks = page.eval_on_selector_all(
        ".opblock[id^='operations-']", "blocks => blocks.map(block => block.id)"
    )
    listed = {block.removeprefix("operations-") for block in blocks}
    assert listed == _contract_operations()
    expect(page.locator("#operations-jobs-create_jobs_bulk .opblock-summary-path")).to_have_text(
        re.compile(r"/compute/v1/jobs/bulk")
    )

    assert browser_page.outside_requests() == []
    assert browser_page.console_errors == []


def test_try_it_out_reaches_this_server_with_the_authorized_token(
    browser_page: BrowserPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    browser_page.goto("/ui/")
    expect(page.locator(".servers select")).to_have_value(live_server.origin)

    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").fill(live_server.token("docs-reader"))
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()

    operation = page.locator("#operations-functions-search_functions")
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table .microlight").first).to_contain_text('"data"')

    assert any(url.startswith(f"{live_server.origin}/compute/v1/functions") for url in
               browser_page.requests)  # fmt: skip
    assert browser_page.outside_requests() == []
    assert browser_page.console_errors == []
