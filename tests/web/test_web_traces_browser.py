"""A victim's report traced in a real browser: the officer types the payment in, sees the
chain drawn, stops every account still holding the money in one batch, and finds the orders
in force; over the live console of tests/web/test_web_browser.py."""

from __future__ import annotations

from typing import Any

from fundwall.region import read_table
from fundwall.web.params import LOCAL_ZONE

from .conftest import Console
from .region import Region
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows


def trace_and_stop(police: Session, line: dict[str, Any], prefix: str) -> str:
    """The officer types a report's payment into the trace form, sees the chain drawn and
    stops every account still holding the money in one batch numbered `prefix`; the
    trace's path."""
    paid_at = line["paid_at"].astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")
    amount = f"{line['amount_fen'] / 100:.2f}"
    police.open("/traces/new")
    police.page.fill(
        "textarea[name=starts]",
        f"{line['report_id']}, {line['payee_account']}, {paid_at}, {amount}",
    )
    with police.page.expect_navigation():
        police.page.click("#trace-form button[type=submit]")
    trace_path = str(police.page.url).removeprefix(police.base)
    assert trace_path.startswith("/traces/")
    police.page.wait_for_selector("#trace-chain canvas")  # ECharts drew the chain
    assert line["payee_account"] in police.page.content()

    police.page.fill("#batch-form input[name=document_prefix]", prefix)
    police.page.fill("#batch-form input[name=officers]", "王警官")
    police.page.fill("#batch-form input[name=police_case_no]", "A3502035100002024030500")
    police.page.fill("#batch-form input[name=legal_basis]", "《反电信网络诈骗法》第二十条")
    with police.page.expect_navigation():
        police.page.click("#batch-form button[type=submit]")
    assert police.page.url.removeprefix(police.base) == trace_path
    assert "#batch-form" not in police.page.content() or not police.page.is_visible("#batch-form")
    return trace_path


def largest_report_line(region: Region) -> dict[str, Any]:
    """The region's victim's payment of the largest amount."""
    reports = read_table(region.folder, "victim_reports").to_pylist()
    return max(reports, key=lambda row: row["amount_fen"])


def test_a_report_is_traced_drawn_and_stopped_in_one_batch(
    browser: Any, live: tuple[str, Console], region: Region
) -> None:
    base, _ = live
    police = Session(browser, base, "police")
    trace_and_stop(police, largest_report_line(region), "厦公反诈止字〔2024〕0500号")
    police.open("/orders")
    listed = police.page.locator("table").last.inner_text()
    assert "厦公反诈止字〔2024〕0500号-01" in listed
    assert police.errors == []
    police.close()
