"""Phone investigations in a real browser, over the live console of
tests/web/test_web_browser.py: an analyst publishes a recycled number still bound to the
shared risk list from its row, and the hub reads the region's counts.

With FUNDWALL_PHONE_SCREENSHOTS=DIR the pages are also saved into DIR (phones.png,
phones-overview.png) to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fundwall.engine.controls.model import ListKind, RiskCategory
from fundwall.store.engine_tables import RiskListEntryRow

from .conftest import Console
from .region import Region
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

SCREENSHOTS = os.environ.get("FUNDWALL_PHONE_SCREENSHOTS")


def _keep(session: Session, name: str) -> None:
    if SCREENSHOTS:
        session.page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_an_analyst_publishes_a_recycled_number_from_the_investigations(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, console = live
    planted = region.phones[region.first_bank]
    analyst = Session(browser, base, "analyst1")
    analyst.open("/")
    with analyst.page.expect_navigation():
        analyst.page.click("nav.main-nav a[href='/phones']")
    _keep(analyst, "phones.png")
    with analyst.page.expect_navigation():
        analyst.page.click("nav.phone-tabs a[href='/phones?finding=recycled_phone']")
    row = analyst.page.locator(f"#phone-{planted.recycled_binding}")
    assert planted.recycled_account in row.inner_text()
    row.locator("button", has_text="发布到共享名单").click()
    answer = row.locator(".publish-outcome")
    answer.wait_for()
    assert "已发布到共享风险名单" in answer.inner_text()
    assert analyst.page.url == f"{base}/phones?finding=recycled_phone"  # no page change
    _keep(analyst, "phones-published.png")
    with console.uow() as uow:
        listed = uow.session.execute(
            select(RiskListEntryRow.id, RiskListEntryRow.kind, RiskListEntryRow.category).where(
                RiskListEntryRow.reporting_member == region.first_bank
            )
        ).all()
    assert [(kind, category) for _, kind, category in listed] == [
        (ListKind.PHONE_HASH.value, RiskCategory.RECYCLED_PHONE.value)
    ]
    assert f"编号 {listed[0][0]}" in answer.inner_text()
    assert analyst.errors == []
    analyst.page.reload()  # a second click says it is listed already (a 409, as it should)
    row.locator("button", has_text="发布到共享名单").click()
    row.locator(".publish-outcome").wait_for()
    assert "已在共享风险名单上" in row.locator(".publish-outcome").inner_text()
    assert [error for error in analyst.errors if "status of 409" not in error] == []
    analyst.close()


def test_the_hub_reads_the_counts_of_the_region(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, _ = live
    hub = Session(browser, base, "supervisor")
    hub.open("/")
    with hub.page.expect_navigation():
        hub.page.click("nav.main-nav a[href='/phones/overview']")
    assert hub.page.locator(".kpi").count() == 4
    assert region.first_bank in hub.page.locator("table.list").inner_text()
    _keep(hub, "phones-overview.png")
    assert hub.errors == []
    hub.close()
