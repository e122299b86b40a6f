"""The official statistics in a real browser, over the live console of
tests/web/test_web_browser.py: the hub opens the statistics from the menu, picks March 2024,
every section's trend is drawn, a figure's value is the use case's, and nothing errs.

With FUNDWALL_SCREENSHOTS=DIR the page is also saved as DIR/reports.png (docs/screenshots,
the README's)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fundwall.auth import Actor
from fundwall.reports import official_figures

from .conftest import Console
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

SCREENSHOTS = os.environ.get("FUNDWALL_SCREENSHOTS")


def test_the_hub_reads_the_regions_statistics_with_their_trends_drawn(
    browser: Any, live: tuple[str, Console], tmp_path: Path
) -> None:
    base, console = live
    hub = Session(browser, base, "supervisor")
    hub.open("/")
    with hub.page.expect_navigation():
        hub.page.click("nav.main-nav a[href='/reports']")
    hub.page.fill("#report-form input[name=period]", "2024-03")
    with hub.page.expect_navigation():
        hub.page.click("#report-form button[type=submit]")
    sections = hub.page.locator("section.report-section")
    with console.uow() as uow:
        expected = official_figures(uow, Actor.operator("test"), "2024-03")
    assert sections.count() == len(expected.sections)
    for index in range(sections.count()):
        sections.nth(index).locator(".chart canvas").first.wait_for()
    blocked = hub.page.locator("#figure-interceptions-blocked .kpi-value").inner_text()
    assert blocked == f"{expected.value('interceptions', 'blocked'):,}"
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    hub.page.screenshot(path=str(folder / "reports.png"), full_page=True)
    assert hub.errors == []
    hub.close()
