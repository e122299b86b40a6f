"""Account-base screening in a real browser, over the live console of
tests/web/test_web_browser.py: an analyst starts a run, opens its work list on one check,
notifies the holders of that check's accounts in one step, and follows the action's
progress (carried out in the background) to its end.

With FUNDWALL_SCREENING_SCREENSHOTS=DIR the pages are also saved into DIR (screening.png,
screening-run.png, screening-action.png) to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fundwall.domain.screening import Outcome
from fundwall.store.screening_tables import ScreeningFindingRow, ScreeningTargetRow

from .conftest import Console
from .region import Region
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

SCREENSHOTS = os.environ.get("FUNDWALL_SCREENING_SCREENSHOTS")


def _keep(session: Session, name: str) -> None:
    if SCREENSHOTS:
        session.page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_an_analyst_screens_and_notifies_one_checks_accounts(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, console = live
    analyst = Session(browser, base, "analyst1")
    analyst.open("/")
    with analyst.page.expect_navigation():
        analyst.page.click("nav.main-nav a[href='/screening']")
    assert analyst.page.locator("#start-run input[type=checkbox]:checked").count() == 6
    with analyst.page.expect_navigation():
        analyst.page.click("#start-run button[type=submit]")
    found = re.search(r"/screening/runs/(\d+)$", analyst.page.url)
    assert found is not None, analyst.page.url
    run_id = int(found.group(1))
    assert analyst.page.locator("#work-list tbody tr").count() > 0
    with analyst.page.expect_navigation():
        analyst.page.click("#check-tabs a[href$='?check=shared_phone']")
    rows = analyst.page.locator("#work-list tbody tr")
    assert rows.count() > 0
    assert "一号多人" in rows.first.inner_text()
    assert analyst.page.locator("#bulk-action input[name='check:shared_phone']").is_checked()
    _keep(analyst, "screening-run.png")
    analyst.page.select_option("#bulk-action select[name=action]", "notify")
    analyst.page.fill("#bulk-action input[name=reason]", "存量账户排查：一号多人，请本人核实")
    with analyst.page.expect_navigation():
        analyst.page.click("#bulk-action button[type=submit]")
    assert re.search(r"/screening/actions/\d+$", analyst.page.url), analyst.page.url
    # Carried out in the background; the page follows it until it is finished.
    analyst.page.locator("#progress-state", has_text="已于").wait_for()
    with console.uow() as uow:
        shared = uow.session.scalar(
            select(func.count()).where(
                ScreeningFindingRow.run_id == run_id, ScreeningFindingRow.check == "shared_phone"
            )
        )
        outcomes = set(uow.session.scalars(select(ScreeningTargetRow.outcome)))
    done = int(analyst.page.locator("#outcome-counts .target-kpi-done .kpi-value").inner_text())
    assert shared is not None and done == shared > 0 and outcomes == {Outcome.DONE.value}
    assert analyst.page.locator("#targets tbody tr").count() == done
    _keep(analyst, "screening-action.png")
    analyst.open("/screening")
    assert analyst.page.locator(f"#run-{run_id}").count() == 1
    assert analyst.page.locator(f"#figures-{region.first_bank}").count() == 1
    _keep(analyst, "screening.png")
    assert analyst.errors == []
    analyst.close()
