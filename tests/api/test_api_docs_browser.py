"""/docs in a real browser with no way out of this machine: Swagger UI must draw every operation.

Debian's Chromium driven by Playwright (as the console's browser tests do), against the app
served by uvicorn on a free loopback port. Every request to another host is refused, as on a
bank network without Internet access. Skipped, with the reason, without /usr/bin/chromium.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from fundwall.api import create_app
from fundwall.config import load_settings

from .service import RuleOfThumbService

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    open(CHROMIUM, "rb").close()
except OSError:
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's chromium package to run the browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is needed")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The API alone, served by uvicorn on a free port of this machine."""
    app = create_app(RuleOfThumbService(), load_settings(config_file=None))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_the_docs_draw_every_operation_offline(base_url: str) -> None:
    outside: list[str] = []
    errors: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(f"{base_url}/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.route("**/*", only_here)
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: message.type == "error" and errors.append(message.text),
            )
            page.goto(f"{base_url}/docs", wait_until="load")
            page.wait_for_selector(".opblock-summary-path")
            shown = {
                (
                    block.query_selector(".opblock-summary-method").inner_text(),
                    block.query_selector(".opblock-summary-path").get_attribute("data-path"),
                )
                for block in page.query_selector_all(".opblock-summary")
            }
            title = page.inner_text(".info .title")
        finally:
            browser.close()
    assert shown == {
        ("POST", "/v1/transactions"),
        ("POST", "/v1/transactions/batch"),
        ("POST", "/v1/iso20022/pacs.008"),
        ("POST", "/v1/logins"),
        ("GET", "/healthz"),
    }
    assert title.startswith("Fundwall risk engine")
    assert outside == []
    assert errors == []
