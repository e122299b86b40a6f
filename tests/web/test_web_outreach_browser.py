"""A dissuasion task walked in a real browser, over the live console of
tests/web/test_web_browser.py: a payment of the first bank's customer is warned on, the task
is raised (its warning SMS queued), and an analyst opens the dissuasion queue from the
navigation, sees the task counting down to its call, claims it, records that the payer was
dissuaded, and sees the payment cancelled on the task and on the transaction's page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from fundwall.auth import Actor, ActorKind, Role
from fundwall.domain.decisions import Action, Decision
from fundwall.outreach.dissuasion import raise_dissuasion_tasks
from fundwall.store.mapping import decision_row
from fundwall.store.outreach_tables import DissuasionTaskRow
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow

from .conftest import Console
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows


def _warned_task(console: Console) -> tuple[int, str]:
    """A warn decision on a payment from one of the first bank's accounts, made a task."""
    bank = console.region.first_bank
    with console.uow() as uow:
        tx = uow.session.scalars(
            select(TransactionRow)
            .join(AccountRow, AccountRow.account_no == TransactionRow.payer_account)
            .where(AccountRow.institution_code == bank, TransactionRow.payer_bank == bank)
            .order_by(TransactionRow.ts.desc())
            .limit(1)
        ).one()
        decided = uow.session.scalar(
            select(DecisionRow.decided_at).where(DecisionRow.tx_id == tx.tx_id)
        )
        warn = Decision(tx.tx_id, Action.WARN, 60, (), "browser-test")
        at = (decided or tx.ts) + timedelta(seconds=1)
        uow.session.add(decision_row(warn, decided_at=at))
        uow.commit()
        tx_id = tx.tx_id
    system = Actor(ActorKind.API_KEY, "outreach-browser", Role.MEMBER_SYSTEM, bank)
    with console.uow() as uow:
        raise_dissuasion_tasks(uow, system)
        task = uow.session.scalar(
            select(DissuasionTaskRow.id).where(DissuasionTaskRow.tx_id == tx_id)
        )
    assert task is not None
    return task, tx_id


def test_an_analyst_works_a_dissuasion_task_from_the_queue_to_its_outcome(
    browser: Any, live: tuple[str, Console]
) -> None:
    base, console = live
    task, tx_id = _warned_task(console)
    analyst = Session(browser, base, "analyst1")
    analyst.open("/")
    with analyst.page.expect_navigation():
        analyst.page.click("nav.main-nav a[href='/outreach']")
    row = analyst.page.locator(f"#task-{task}")
    assert "待外呼" in row.inner_text()
    timer = row.locator(".countdown")
    first = timer.inner_text()
    assert first.startswith("00:1")  # 15 minutes to call
    analyst.page.wait_for_timeout(1300)
    assert timer.inner_text() != first  # counting down in the browser
    with analyst.page.expect_navigation():
        row.locator(f"a[href='/outreach/tasks/{task}']").click()
    with analyst.page.expect_navigation():
        analyst.page.click("#claim")
    assert "外呼中" in analyst.page.locator("#task-status").inner_text()
    form = analyst.page.locator("#outcome-form")
    form.locator("input[name=outcome][value=dissuaded]").check()
    form.locator("textarea[name=note]").fill("冒充客服退款，付款人已放弃")
    with analyst.page.expect_navigation():
        analyst.page.click("#record")
    assert "已关闭" in analyst.page.locator("#task-status").inner_text()
    assert "劝阻成功" in analyst.page.locator("#outcome").inner_text()
    assert "已取消" in analyst.page.locator("#cancelled").inner_text()
    with analyst.page.expect_navigation():
        analyst.page.click(f"a[href='/transactions/{tx_id}']")
    assert "付款人已于" in analyst.page.locator("#cancelled").inner_text()
    assert analyst.errors == []
    analyst.close()
