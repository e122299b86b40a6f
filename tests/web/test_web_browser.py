"""The console in a real browser: Debian's Chromium driven by Playwright against a live server.

Skipped, with the reason, when /usr/bin/chromium is absent (CI installs it, and turns skips
into failures). With FUNDWALL_SCREENSHOTS=DIR the tests also write the README's screenshots
into DIR (docs/screenshots): overview.png and decision.png.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.identity import mask_account
from fundwall.store.mapping import decision_row
from fundwall.store.tables import TransactionRow

from .conftest import Console, make_console
from .region import PASSWORD, Region

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = os.environ.get("FUNDWALL_SCREENSHOTS")
ANIMATION_MS = 1500
"""ECharts grows the bars for about a second after the first drawing."""

if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's chromium package to run the browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is needed")


@pytest.fixture(scope="module")
def live(region: Region, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Console]]:
    """The console served by uvicorn on a free port of this machine, polling every 2 s."""
    folder = tmp_path_factory.mktemp("browser")
    with make_console(region, folder, poll_seconds=2) as console:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(console.app, log_level="warning", lifespan="off", access_log=False)
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the console did not start"
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}", console
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Session:
    """One browser context signed in as a user, recording the page's errors."""

    def __init__(self, browser: Any, base: str, username: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda message: (
                message.type == "error"
                and self.errors.append(f"console: {message.text} at {self.page.url}")
            ),
        )
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")

    def open(self, path: str) -> Any:
        # "load", not "networkidle": the overview polls, so the network is never idle for long.
        return self.page.goto(self.base + path, wait_until="load")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def sessions(browser: Any, live: tuple[str, Console]) -> Iterator[dict[str, Session]]:
    opened: dict[str, Session] = {}
    yield opened
    for session in opened.values():
        session.close()


@pytest.fixture
def session_as(sessions: dict[str, Session], browser: Any, live: tuple[str, Console]) -> Any:
    """A user's browser session, signed in once per module and starting on the overview."""

    def start(username: str) -> Session:
        if username not in sessions:
            sessions[username] = Session(browser, live[0], username)
        else:
            sessions[username].open("/")
        sessions[username].errors.clear()
        return sessions[username]

    return start


def _charts_drawn(session: Session, selector: str) -> None:
    session.page.wait_for_selector(f"{selector} canvas")


def test_an_analyst_signs_in_and_opens_every_page(session_as: Any, region: Region) -> None:
    analyst = session_as("analyst1")
    assert analyst.page.url.endswith("/")
    _charts_drawn(analyst, '[data-chart="timeline"]')
    _charts_drawn(analyst, '[data-chart="rules"]')
    pages = {
        "/transactions": "交易",
        f"/accounts/{region.first_account}": "账户画像",
        "/alerts": "预警",
        "/packs": "规则包",
        f"/packs/compare?shadow={region.shadow_version}": "影子与生产对比",
        "/packs/backtests": "回测",
    }
    for path, heading in pages.items():
        response = analyst.open(path)
        assert response.status == 200, path
        assert heading in analyst.page.locator("h1").first.inner_text(), path
    analyst.open(f"/accounts/{region.first_account}")
    _charts_drawn(analyst, '[data-chart="graph"]')
    assert analyst.errors == []


def test_the_account_graph_draws_the_risk_from_a_listed_counterparty(
    session_as: Any, live: tuple[str, Console]
) -> None:
    mine, theirs = live[1].list_a_payer()
    analyst = session_as("analyst1")
    analyst.open(f"/accounts/{mine}")
    _charts_drawn(analyst, '[data-chart="graph"]')
    drawn = analyst.page.evaluate(
        """() => {
          const series = echarts.getInstanceByDom(
            document.querySelector('[data-chart="graph"]')).getOption().series[0];
          const red = series.links.filter(l => l.lineStyle.color === "#d64545").length;
          const fraud = series.data.filter(n => n.itemStyle.color === "#a61b1b");
          return {red: red, fraud: fraud.map(n => n.name), laid: series.data.every(
            n => Number.isFinite(n.x) && Number.isFinite(n.y))};
        }"""
    )
    assert drawn["fraud"] == [mask_account(theirs)] and drawn["red"] >= 1 and drawn["laid"]
    words = analyst.page.locator("#risk-flow").inner_text()
    assert words.startswith("传导至本账户的风险") and "交易对手中有1个涉诈账户" in words
    legend = analyst.page.locator("#counterparties .graph-legend").inner_text()
    assert "涉诈账户（共享风险名单或案件认定）" in legend and "与涉诈账户之间的资金" in legend
    assert analyst.errors == []


def test_a_blocked_transaction_is_explained(session_as: Any, region: Region) -> None:
    analyst = session_as("analyst1")
    analyst.open(f"/transactions/{region.blocked_tx}")
    verdict = analyst.page.locator(".verdict").inner_text()
    assert verdict.startswith("拦截：得分") and "拦截阈值100" in verdict
    assert analyst.page.locator("article.reason").count() >= 1
    assert analyst.page.locator("table.values td.num").first.inner_text()
    assert analyst.errors == []


def test_the_language_switch_is_remembered(session_as: Any) -> None:
    analyst = session_as("analyst1")
    assert analyst.page.locator("h1").first.inner_text() == "总览"
    with analyst.page.expect_navigation():
        analyst.page.click("text=English")
    assert analyst.page.locator("h1").first.inner_text() == "Overview"
    analyst.open("/alerts")
    assert analyst.page.locator("h1").first.inner_text() == "Alerts"
    with analyst.page.expect_navigation():
        analyst.page.click("text=中文")
    assert analyst.page.locator("h1").first.inner_text() == "预警"


def test_analyst1_cannot_open_analyst2s_account(session_as: Any, region: Region) -> None:
    analyst1 = session_as("analyst1")
    response = analyst1.open(f"/accounts/{region.second_account}")
    assert response.status == 404
    assert analyst1.page.locator("h1").inner_text() == "未找到"
    analyst2 = session_as("analyst2")
    assert analyst2.open(f"/accounts/{region.second_account}").status == 200


def test_unmasking_and_alert_work_swap_in_place(session_as: Any, region: Region) -> None:
    analyst = session_as("analyst1")
    analyst.open(f"/accounts/{region.first_account}")
    masked = analyst.page.locator("#holder dd.mono").first.inner_text()
    assert "*" in masked
    analyst.page.fill("input[name=purpose]", "call-back on a blocked payment")
    analyst.page.click("#holder button[type=submit]")
    analyst.page.wait_for_selector("#holder.unmasked")
    assert "*" not in analyst.page.locator("#holder dd.mono").first.inner_text()

    analyst.open(f"/transactions/{region.blocked_tx}")
    analyst.page.select_option("select[name=status]", "in_progress")
    analyst.page.click("#alert-work button[type=submit]")
    analyst.page.wait_for_selector("#alert-work h2:has-text('处理中')")
    assert analyst.page.url.endswith(f"/transactions/{region.blocked_tx}")
    assert analyst.errors == []


def test_the_readme_screenshots_are_taken_from_the_live_console(
    session_as: Any, region: Region, tmp_path: Path
) -> None:
    """The region's overview as the hub sees it, and a blocked payment explained; written to
    $FUNDWALL_SCREENSHOTS (docs/screenshots) when set."""
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    hub = session_as("supervisor")
    _charts_drawn(hub, '[data-chart="timeline"]')
    hub.page.wait_for_timeout(ANIMATION_MS)  # let the bars finish growing
    hub.page.screenshot(path=str(folder / "overview.png"), full_page=True)
    analyst = session_as("analyst1")
    analyst.open(f"/transactions/{region.blocked_tx}")
    analyst.page.screenshot(path=str(folder / "decision.png"), full_page=True)
    for name in ("overview.png", "decision.png"):
        assert (folder / name).read_bytes().startswith(b"\x89PNG"), name
    assert hub.errors == [] and analyst.errors == []


def test_the_overview_refreshes_itself_while_decisions_arrive(
    session_as: Any, live: tuple[str, Console], region: Region
) -> None:
    console = live[1]
    analyst = session_as("analyst1")
    shown = analyst.page.locator(".kpi-value").first
    before = int(shown.inner_text().replace(",", ""))
    with console.uow() as uow:
        tx = uow.session.get(TransactionRow, region.blocked_tx)
        assert tx is not None
        reason = Reason("R900", "测试", "test", {"amount": tx.amount_fen})
        for n in range(3):
            decision = Decision(region.blocked_tx, Action.ALERT, 40, (reason,), "2025.1:replay")
            row = decision_row(decision, decided_at=tx.ts + timedelta(minutes=n))
            uow.session.add(row)
        uow.commit()
    analyst.page.wait_for_function(
        "expected => Number(document.querySelector('.kpi-value').textContent.replace(/,/g, ''))"
        " === expected",
        arg=before + 3,
        timeout=8_000,
    )
    _charts_drawn(analyst, '[data-chart="timeline"]')
    assert analyst.errors == []
