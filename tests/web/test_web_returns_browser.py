"""From a victim's report to the return of the money, in a real browser: the officer traces
the report and stops its chain in one batch, freezes the account holding most, the holding
bank's analyst executes the freeze, the officer drafts the return plan from the trace's link
and publishes it, and the plan's objection period counts down; over the live console of
tests/web/test_web_browser.py, with no error in any page."""

from __future__ import annotations

from typing import Any, Final

from fundwall.auth import Role
from fundwall.members import add_user

from .conftest import Console
from .region import PASSWORD, Region
from .test_web_browser import Session, browser, live
from .test_web_orders_browser import seconds_shown
from .test_web_traces_browser import largest_report_line, trace_and_stop

__all__ = ["browser", "live"]  # the fixtures this module borrows

OBJECTION_SECONDS: Final = 30 * 86_400
"""The objection period (policy.fund_return_objection_days, 30)."""


def _fen(shown: str) -> int:
    """An amount as the console shows it (¥1,234.56) in fen."""
    return int(shown.strip().lstrip("¥").replace(",", "").replace(".", ""))


def _bank_user(console: Console, bank: str) -> str:
    """A user of `bank` who answers orders: the demo's analyst of that bank, or one added."""
    region = console.region
    demo = {region.first_bank: "analyst1", region.second_bank: "analyst2"}
    if bank in demo:
        return demo[bank]
    platform = console.platform
    with console.uow() as uow:
        add_user(uow, platform.operator, "analyst9", Role.MEMBER_ANALYST, bank, PASSWORD,
                 platform.passwords)  # fmt: skip
    return "analyst9"


def test_a_report_goes_from_trace_to_batch_stop_to_return_plan(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, console = live
    line = largest_report_line(region)
    police = Session(browser, base, "police")
    trace_path = trace_and_stop(police, line, "厦公反诈止字〔2024〕0600号")

    stops = police.page.locator("#trace-stops tbody tr")
    cells = [stops.nth(i).locator("td").all_inner_texts() for i in range(stops.count())]
    _, account, bank, _ = max(cells, key=lambda row: _fen(row[3]))
    police.open(f"/orders/new?kind=freeze&account_no={account}")
    police.page.fill("input[name=document_no]", "厦公反诈冻字〔2024〕0600号")
    police.page.fill("input[name=officers]", "王警官")
    police.page.fill("input[name=police_case_no]", "A3502035100002024030600")
    police.page.fill("input[name=legal_basis]", "《反电信网络诈骗法》第二十条")
    with police.page.expect_navigation():
        police.page.click("#order-form button[type=submit]")
    order_path = police.page.url.removeprefix(base)
    assert order_path.startswith("/orders/"), police.page.content()

    analyst = Session(browser, base, _bank_user(console, bank))
    analyst.open(order_path)
    with analyst.page.expect_navigation():
        analyst.page.click("#answer-form button[type=submit]")  # what the ledger holds
    assert "已执行" in analyst.page.locator(".page-head").inner_text()

    police.open(trace_path)
    with police.page.expect_navigation():
        police.page.click(f"#trace-accounts tr:has-text('{account}') a.plan-return")
    victims = police.page.locator("textarea[name=victims]")
    prefilled = victims.input_value()
    assert f"# {line['report_id']}" in prefilled and prefilled.startswith(", ")
    victims.fill(line["victim_account"] + prefilled)
    with police.page.expect_navigation():
        police.page.click("#return-form button[type=submit]")
    plan_path = police.page.url.removeprefix(base)
    assert plan_path.startswith("/returns/"), police.page.content()
    assert line["victim_account"] in police.page.locator("table.list").inner_text()

    with police.page.expect_navigation():
        police.page.click("form[action$='/publish'] button")
    timer = police.page.locator(".page-head .countdown")
    first = timer.inner_text()
    assert OBJECTION_SECONDS - 60 < seconds_shown(first) <= OBJECTION_SECONDS
    police.page.wait_for_function(
        "shown => document.querySelector('.page-head .countdown').textContent !== shown", arg=first
    )
    assert seconds_shown(timer.inner_text()) < seconds_shown(first)
    assert police.errors == [] and analyst.errors == []
    police.close()
    analyst.close()
