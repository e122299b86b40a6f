"""A case in a real browser, from the bank's queue to a clue the police accept, over the live
console of tests/web/test_web_browser.py."""

from __future__ import annotations

from typing import Any

from .conftest import Console
from .region import Region
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

POLICE_CASE_NO = "A3502035100002024030077"


def test_a_case_goes_to_the_police_as_a_clue_and_is_accepted(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, _ = live
    bank = Session(browser, base, "analyst1")
    bank.open("/cases")
    bank.page.select_option("select[name=by]", "account")
    with bank.page.expect_navigation():
        bank.page.click("text=归并预警")
    with bank.page.expect_navigation():
        bank.page.locator("table a[href^='/cases/']").first.click()
    case_path = bank.page.url.removeprefix(base)
    bank.page.select_option("#clue-send select[name=police_unit]", region.police_unit)
    bank.page.fill(
        "#clue-send textarea[name=summary]",
        "Inflows from many unrelated payers, paid on within minutes: a suspected mule.",
    )
    with bank.page.expect_navigation():
        bank.page.click("#clue-send button[type=submit]")
    clue_path = bank.page.url.removeprefix(base)
    assert clue_path.startswith("/clues/")
    assert "已移送" in bank.page.locator(".page-head").inner_text()

    police = Session(browser, base, "police")
    police.open("/clues/inbox")
    with police.page.expect_navigation():
        police.page.click(f"a[href='{clue_path}']")
    police.page.select_option("select[name=status]", "accepted")
    police.page.fill("input[name=police_case_no]", POLICE_CASE_NO)
    with police.page.expect_navigation():
        police.page.click("form[action$='/answer'] button[type=submit]")
    assert "已立案" in police.page.locator(".page-head").inner_text()

    bank.open(clue_path)  # the bank sees the answer and its history
    assert "已立案" in bank.page.locator(".page-head").inner_text()
    assert POLICE_CASE_NO in bank.page.content()
    bank.open(case_path)
    assert clue_path in bank.page.locator("#clue-send").inner_html()
    assert police.errors == [] and bank.errors == []
    police.close()
    bank.close()
