"""A police order in a real browser, from issue (the officer) to execution (the bank) to
expiry (the server's timer), over the live console of tests/web/test_web_browser.py; the
page's timer counts down by itself (static/app.js) and reads expired at zero."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Final

from fundwall.cli.serve import OrderExpiry

from .conftest import Console
from .region import Region
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

TIMER: Final = re.compile(r"(?:(\d+)d )?(\d\d):(\d\d):(\d\d)")
STOP_PAYMENT_SECONDS: Final = 48 * 3600


def seconds_shown(text: str) -> int:
    """The seconds a timer drawn as "1d 02:03:04" (or "02:03:04") shows."""
    shown = TIMER.fullmatch(text)
    assert shown is not None, text
    days, hours, minutes, seconds = (int(part or 0) for part in shown.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def test_an_order_walks_from_issue_to_execution_to_expiry(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, console = live
    police = Session(browser, base, "police")
    police.open("/orders")
    with police.page.expect_navigation():
        police.page.click("text=签发指令")
    police.page.select_option("select[name=kind]", "stop_payment")
    police.page.fill("input[name=document_no]", "厦公(思)止字〔2024〕0099号")
    police.page.fill("input[name=officers]", "王警官")
    police.page.fill("input[name=police_case_no]", "A3502032024030099")
    police.page.fill("input[name=legal_basis]", "《反电信网络诈骗法》第三十二条")
    police.page.fill("input[name=account_no]", region.second_account)
    with police.page.expect_navigation():
        police.page.click("#order-form button[type=submit]")
    order_path = police.page.url.removeprefix(base)
    assert order_path.startswith("/orders/")
    assert "已签发" in police.page.locator(".page-head").inner_text()
    timer = police.page.locator(".page-head .countdown")
    first = timer.inner_text()
    # The server's clock stands still in this test: only the page counts the time down.
    assert STOP_PAYMENT_SECONDS - 60 < seconds_shown(first) <= STOP_PAYMENT_SECONDS
    assert "soon" not in (timer.get_attribute("class") or "")
    police.page.wait_for_function(
        "shown => document.querySelector('.page-head .countdown').textContent !== shown", arg=first
    )
    assert seconds_shown(timer.inner_text()) < seconds_shown(first)

    bank = Session(browser, base, "analyst2")
    bank.open(order_path)
    bank.page.fill("#answer-form input[name=held]", "300.00")
    with bank.page.expect_navigation():
        bank.page.click("#answer-form button[type=submit]")
    assert "已执行" in bank.page.locator(".page-head").inner_text()
    assert "¥300.00" in bank.page.locator("dl.facts").inner_text()

    console.clock.advance(timedelta(hours=48, seconds=-2))
    police.close()
    police = Session(browser, base, "police")  # the first session has lapsed meanwhile
    police.open(order_path)
    timer = police.page.locator(".page-head .countdown")
    assert "soon" in (timer.get_attribute("class") or "")  # its last day
    police.page.wait_for_selector(".page-head .countdown.expired:has-text('已到期')")

    console.clock.advance(timedelta(seconds=3))
    assert OrderExpiry(console.platform, 60).sweep() != []
    police.open(order_path)
    assert "已到期" in police.page.locator(".page-head").inner_text()
    history = police.page.locator("ol.history").inner_text()
    assert "已签发" in history and "已执行" in history and "已到期" in history
    assert police.errors == [] and bank.errors == []
    police.close()
    bank.close()
