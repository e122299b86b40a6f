"""Simplified opening in a real browser, over the live console of
tests/web/test_web_browser.py: an analyst fills the form for a person of the region whose
phone another member listed as a card dealer's, sees the decision (open restricted, medium
risk), opens the new account's page with its tier and the change that set it, and sets a
higher tier there.

With FUNDWALL_ONBOARDING_SCREENSHOTS=DIR the pages are also saved into DIR
(onboarding.png, account-tier.png) to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fundwall.auth import Actor
from fundwall.crypto import SharingKeys
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries
from fundwall.store.tables import AccountRow

from .conftest import Console
from .test_web_browser import Session, browser, live
from .test_web_onboarding import card, region_person

__all__ = ["browser", "live"]  # the fixtures this module borrows

SCREENSHOTS = os.environ.get("FUNDWALL_ONBOARDING_SCREENSHOTS")


def _keep(session: Session, name: str) -> None:
    if SCREENSHOTS:
        session.page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_an_analyst_opens_an_account_by_simplified_opening_and_sees_its_tier(
    browser: Any, live: tuple[str, Console]
) -> None:
    base, console = live
    person = region_person(console)
    keys = SharingKeys.load(console.region.keys, (1,))
    dealer = NewEntry(ListKind.PHONE_HASH, keys.hash("phone", person.phone),
                      RiskCategory.CARD_DEALER, Evidence.MEMBER_SUSPECTED)  # fmt: skip
    with console.uow() as uow:
        publish_entries(uow, Actor.operator("test"), [dealer], member=console.region.second_bank)
    number = card(90)
    analyst = Session(browser, base, "analyst1")
    analyst.open("/")
    with analyst.page.expect_navigation():
        analyst.page.click("nav.main-nav a[href='/onboarding']")
    form = analyst.page.locator("#onboarding-form")
    assert form.locator("input[name=applicant][value=flexible_worker]").is_checked()
    form.locator("input[name=id_number]").fill(person.id_number)
    form.locator("input[name=name]").fill(person.name)
    form.locator("input[name=phone]").fill(person.phone)
    form.locator("input[name=account_no]").fill(number)
    with analyst.page.expect_navigation():
        form.locator("button[type=submit]").click()
    decision = analyst.page.locator("#decision")
    assert "准予开户（受限）" in decision.locator("h2").inner_text()
    assert "中风险" in decision.inner_text() and "Ⅱ类户" in decision.inner_text()
    assert "共享风险名单" in decision.locator("tr.finding-shared_list").inner_text()
    counts = analyst.page.locator("#onboarding-counts").inner_text()
    assert "已开立账户\n1" in counts
    _keep(analyst, "onboarding.png")
    with analyst.page.expect_navigation():
        decision.locator(f"a[href='/accounts/{number}']").click()
    tier = analyst.page.locator("#risk-tier")
    assert "中风险" in tier.locator("h2").inner_text()
    assert "简易开户" in tier.locator("dl.facts").inner_text()
    assert "simplified opening: shared_list" in tier.locator("dl.facts").inner_text()
    assert tier.locator("#tier-history tbody tr").count() == 1
    tier.locator("select[name=tier]").select_option("high")
    tier.locator("input[name=reason]").fill("回访确认卡片已出借")
    with analyst.page.expect_navigation():
        tier.locator("#tier-form button[type=submit]").click()
    assert "#risk-tier" in analyst.page.url
    assert "风险等级已调整为高风险" in tier.locator("[role=status]").inner_text()
    assert tier.locator("#tier-history tbody tr").count() == 2
    _keep(analyst, "account-tier.png")
    with console.uow() as uow:
        opened = uow.session.get(AccountRow, number)
        assert opened is not None and (opened.account_class, opened.risk_tier) == ("II", "high")
    assert analyst.errors == []
    analyst.close()
