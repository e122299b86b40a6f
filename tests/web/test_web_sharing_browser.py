"""The sharing hub in a real browser, over the live console of tests/web/test_web_browser.py:
a bank publishes an entry from the form, another bank's feed shows it as it happens, its list
shows it (masked, without the reporter's reference) and its bulk match finds it, and the
first bank retracts it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fundwall.domain.identity import mask_account

from .conftest import Console
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

ACCOUNT = "6222029999990041"
REFERENCE = "CASE-BR-41"
NOTE = "paid on within minutes"
LIVE_MS = 10_000
"""The feed polls the list every 2 s; a new row shows well within this."""


def test_a_bank_publishes_another_sees_and_matches_it_and_the_bank_retracts_it(
    browser: Any, live: tuple[str, Console], tmp_path: Path
) -> None:
    base, console = live
    first = console.region.first_bank
    watcher = Session(browser, base, "analyst2")
    watcher.open("/share/feed")
    watcher.page.wait_for_selector("#feed-state.live")

    bank = Session(browser, base, "analyst1")
    bank.open("/share/new")
    assert "fundwall share hash" in bank.page.locator("#hashing").inner_text()
    bank.page.select_option("select[name=kind]", "account")
    bank.page.fill("input[name=key]", ACCOUNT)
    bank.page.fill("input[name=bank]", first)
    bank.page.select_option("select[name=category]", "mule")
    bank.page.select_option("select[name=evidence]", "member_verified")
    bank.page.fill("input[name=reference]", REFERENCE)
    bank.page.fill("textarea[name=note]", NOTE)
    with bank.page.expect_navigation():
        bank.page.click("#publish-form button[type=submit]")
    entry_path = bank.page.url.removeprefix(base)
    assert re.fullmatch(r"/share/\d+", entry_path)
    assert "生效中" in bank.page.locator(".page-head").inner_text()
    assert REFERENCE in bank.page.content() and ACCOUNT in bank.page.content()

    # The other bank's feed gets the entry as it happens, masked and without the reference.
    row = watcher.page.locator(f"#feed tbody tr:has(a[href='{entry_path}'])")
    row.wait_for(timeout=LIVE_MS)
    assert mask_account(ACCOUNT) in row.inner_text() and "发布" in row.inner_text()
    watcher.open("/share")
    listed = watcher.page.locator(f"#entries tr:has(a[href='{entry_path}'])").inner_text()
    assert mask_account(ACCOUNT) in listed and "涉案过渡账户" in listed
    assert ACCOUNT not in watcher.page.content() and REFERENCE not in watcher.page.content()

    # Its bulk match of its customers finds the entry, and gives the hits file.
    watcher.open("/share/match")
    customers = f"kind,key,bank,ref\naccount,{ACCOUNT},{first},CUST-1\naccount,62220200,B9,CUST-2\n"
    watcher.page.set_input_files(
        "input[name=file]",
        {"name": "customers.csv", "mimeType": "text/csv", "buffer": customers.encode()},
    )
    with watcher.page.expect_navigation():
        watcher.page.click("#match-form button[value=page]")
    result = watcher.page.locator("#match-result")
    assert "2个标识中命中1条" in result.inner_text()
    assert result.locator(f"a[href='{entry_path}']").count() == 1
    with watcher.page.expect_download() as downloading:
        watcher.page.click("#match-download")
    hits = Path(downloading.value.path()).read_text("utf-8")
    assert "CUST-1" in hits and "CUST-2" not in hits and ACCOUNT in hits

    # The bank retracts it; the other bank's feed tells it.
    watcher.open("/share/feed")
    watcher.page.wait_for_selector("#feed-state.live")
    bank.open(entry_path)
    bank.page.fill("#retract input[name=reason]", "the account was cleared")
    bank.page.once("dialog", lambda dialog: dialog.accept())
    with bank.page.expect_navigation():
        bank.page.click("#retract button[type=submit]")
    assert "已撤销" in bank.page.locator(".page-head").inner_text()
    assert "the account was cleared" in bank.page.content()
    retraction = watcher.page.locator(f"#feed tbody tr.feed-retracted:has(a[href='{entry_path}'])")
    retraction.wait_for(timeout=LIVE_MS)
    assert "撤销" in retraction.inner_text()

    # The list as the bank sees it, and the hub's page.
    bank.open("/share")
    bank.page.screenshot(path=str(tmp_path / "share-list.png"), full_page=True)
    hub = Session(browser, base, "supervisor")
    hub.open("/share/hub")
    assert first in hub.page.locator("#by-member").inner_text()
    hub.page.screenshot(path=str(tmp_path / "share-hub.png"), full_page=True)
    for name in ("share-list.png", "share-hub.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG"), name
    assert bank.errors == [] and watcher.errors == [] and hub.errors == []
    for session in (hub, bank, watcher):
        session.close()
