"""Dissuasion tasks (预警劝阻) and the cancellation of warned payments, in the two-bank world:
T4 (B1 → B2 at B002, ¥4,000) was warned, T3 (B1 → A2, ¥3,000) delayed, T1 blocked, T5
passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auth import world
from fundwall.accounts.queries import settled_balance
from fundwall.bootstrap import Platform
from fundwall.cli.serve import OutboxDispatch
from fundwall.clock import FixedClock
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.monitoring.transactions import transaction_view
from fundwall.outreach import DispatchCounts, LocalGateway, delivered_to, dispatch_outbox
from fundwall.outreach.dissuasion import (
    cancel_payment,
    claim_dissuasion_task,
    dissuasion_figures,
    dissuasion_queue,
    get_dissuasion_task,
    raise_dissuasion_tasks,
    record_dissuasion_outcome,
)
from fundwall.outreach.model import DissuasionOutcome, SmsPurpose, SmsStatus, TaskStatus
from fundwall.outreach.queries import queue_sms
from fundwall.phones.queries import bind
from fundwall.rulepacks.library import PackLibrary
from fundwall.store.mapping import decision_row, transaction_row
from fundwall.store.outreach_tables import DissuasionTaskRow
from fundwall.store.tables import AccountRow
from outreach.conftest import ANALYST_A, ANALYST_B, OPERATOR, SYSTEM_A, SYSTEM_B, Uow, phone_of

PAYER_PHONE = phone_of(3)


@pytest.fixture
def warned(outreach_world: Uow) -> Uow:
    """The world with P3 (holder of B1) bound to its phone at B002."""
    with outreach_world() as uow:
        bind(
            uow.session,
            uow.keyring,
            member=world.BANK_B,
            party_id="P3",
            phone=MobilePhone(PAYER_PHONE),
            at=world.START,
            by="test",
            revision=None,
        )
        uow.commit()
    return outreach_world


def _raise(uow_factory: Uow) -> list[int]:
    with uow_factory() as uow:
        return raise_dissuasion_tasks(uow, OPERATOR)


def test_a_warn_decision_becomes_one_task_with_a_warning_sms_to_the_payer(
    warned: Uow, clock: FixedClock
) -> None:
    [task_id] = _raise(warned)
    assert _raise(warned) == []  # one task a decision
    with warned() as uow:
        task = get_dissuasion_task(uow, ANALYST_B, task_id)
    assert (task.tx_id, task.member, task.payer_account, task.amount_fen) == (
        "T4",
        world.BANK_B,
        "B1",
        400_000,
    )
    assert task.due_at == clock.now() + timedelta(minutes=15)
    assert (task.status, task.overdue, task.phone) == (TaskStatus.OPEN, False, "138****0003")
    assert task.sms_status is SmsStatus.QUEUED
    with warned() as uow:
        dispatch_outbox(uow, LocalGateway())
        [sms] = delivered_to(uow, PAYER_PHONE)
    assert "您正向尾号B2的账户转账4,000.00元" in sms.text
    assert sms.member == world.BANK_B
    clock.advance(timedelta(minutes=16))
    with warned() as uow:
        [late] = dissuasion_queue(uow, ANALYST_B)
    assert late.overdue and late.sms_status is SmsStatus.DELIVERED


def test_a_payer_without_a_bound_phone_gets_a_task_to_call_but_no_sms(
    outreach_world: Uow,
) -> None:
    [task_id] = _raise(outreach_world)
    with outreach_world() as uow:
        task = get_dissuasion_task(uow, SYSTEM_B, task_id)
    assert task.phone is None and task.sms_status is None


def test_a_member_raises_and_sees_only_its_own_tasks(warned: Uow) -> None:
    with warned() as uow:
        assert raise_dissuasion_tasks(uow, SYSTEM_A) == []  # T4 is B002's payment
    [task_id] = _raise(warned)
    with warned() as uow:
        assert dissuasion_queue(uow, ANALYST_A) == []
        with pytest.raises(NotFound):
            get_dissuasion_task(uow, ANALYST_A, task_id)
    for attempt in (claim_dissuasion_task, get_dissuasion_task):
        with warned() as uow, pytest.raises(NotFound):
            attempt(uow, SYSTEM_A, task_id)
    with warned() as uow, pytest.raises(NotFound):
        record_dissuasion_outcome(uow, ANALYST_A, task_id, DissuasionOutcome.DISSUADED, None)


def test_a_dissuaded_payer_closes_the_task_and_cancels_the_payment(
    warned: Uow, clock: FixedClock
) -> None:
    [task_id] = _raise(warned)
    with warned() as uow:
        before = settled_balance(uow, uow.session.get(AccountRow, "B1"))  # type: ignore[arg-type]
        claimed = claim_dissuasion_task(uow, ANALYST_B, task_id)
    assert (claimed.status, claimed.claimed_by) == (TaskStatus.CLAIMED, ANALYST_B.audit_id)
    with warned() as uow, pytest.raises(Conflict, match="being worked by"):
        claim_dissuasion_task(uow, SYSTEM_B, task_id)
    with warned() as uow, pytest.raises(Conflict, match="being worked by"):
        record_dissuasion_outcome(uow, SYSTEM_B, task_id, DissuasionOutcome.PAID_ANYWAY, None)
    with warned() as uow, pytest.raises(InvalidInput) as refused:
        record_dissuasion_outcome(
            uow, ANALYST_B, task_id, DissuasionOutcome.DISSUADED, f"called {PAYER_PHONE}"
        )
    assert refused.value.field == "note"
    clock.advance(timedelta(minutes=5))
    with warned() as uow:
        done = record_dissuasion_outcome(
            uow, ANALYST_B, task_id, DissuasionOutcome.DISSUADED, "冒充客服退款，已劝阻"
        )
    assert (done.status, done.outcome, done.cancelled, done.overdue) == (
        TaskStatus.CLOSED,
        DissuasionOutcome.DISSUADED,
        True,
        False,
    )
    assert done.closed_at == clock.now()
    with warned() as uow:
        view = transaction_view(uow, ANALYST_B, "T4", PackLibrary(None))
        after = settled_balance(uow, uow.session.get(AccountRow, "B1"))  # type: ignore[arg-type]
    assert view.cancelled_at == clock.now()
    assert after == before + 400_000  # T4's money never left B1
    with warned() as uow, pytest.raises(Conflict, match="closed"):
        record_dissuasion_outcome(uow, ANALYST_B, task_id, DissuasionOutcome.NOT_REACHED, None)
    with warned() as uow, pytest.raises(Conflict, match="cancelled already"):
        cancel_payment(uow, SYSTEM_B, "T4", "asked twice")


def test_only_the_payers_bank_cancels_a_warned_or_delayed_payment_once(warned: Uow) -> None:
    with warned() as uow, pytest.raises(PermissionDenied):  # B001 receives T3 (into A2)
        cancel_payment(uow, SYSTEM_A, "T3", "the payer called")
    with warned() as uow, pytest.raises(NotFound):  # B001 never sees T4
        cancel_payment(uow, SYSTEM_A, "T4", "the payer called")
    for tx_id, actor in (("T1", SYSTEM_A), ("T5", SYSTEM_B), ("T2", SYSTEM_A)):
        with warned() as uow, pytest.raises(Conflict, match="only a warned or delayed"):
            cancel_payment(uow, actor, tx_id, "the payer called")
    with warned() as uow, pytest.raises(InvalidInput) as refused:
        cancel_payment(uow, SYSTEM_B, "T3", "  ")
    assert refused.value.field == "reason"
    with warned() as uow:
        cancelled = cancel_payment(uow, SYSTEM_B, "T3", "the payer called the branch")
    assert cancelled.tx_id == "T3" and cancelled.cancelled_by == SYSTEM_B.audit_id
    with warned() as uow, pytest.raises(Conflict, match="cancelled already"):
        cancel_payment(uow, SYSTEM_B, "T3", "again")


def test_the_figures_count_outcomes_open_and_overdue_tasks(warned: Uow, clock: FixedClock) -> None:
    [task_id] = _raise(warned)
    day = datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC)
    with warned() as uow:
        [figures] = dissuasion_figures(uow, ANALYST_B, *day)
    assert (figures.tasks, figures.open, figures.overdue) == (1, 1, 0)
    clock.advance(timedelta(minutes=20))
    with warned() as uow:
        record_dissuasion_outcome(uow, SYSTEM_B, task_id, DissuasionOutcome.NOT_REACHED, None)
    with warned() as uow:
        [figures] = dissuasion_figures(uow, SYSTEM_B, *day)
        assert dissuasion_figures(uow, OPERATOR, *day) == [figures]
        [empty] = dissuasion_figures(uow, ANALYST_A, *day)
    assert figures.outcomes[DissuasionOutcome.NOT_REACHED] == 1
    assert (figures.open, figures.overdue) == (0, 1)
    assert empty.tasks == 0
    with warned() as uow, pytest.raises(InvalidInput) as refused:
        dissuasion_figures(uow, ANALYST_B, day[1], day[0])
    assert refused.value.field == "end"


def test_the_servers_outreach_round_raises_tasks_and_sends_their_warnings(
    warned: Uow, platform: Platform
) -> None:
    """`fundwall serve`'s timer: the decision of 2024 is older than the lookback of a day, so
    the round makes no task of it until the clock stands within a day of it (each round here
    looks at the whole lookback)."""
    timer = OutboxDispatch(platform, 1.0, full_every=0.0)
    assert timer.sweep() == DispatchCounts()
    platform.clock.set(world.START + timedelta(hours=13))  # type: ignore[attr-defined]
    counts = timer.sweep()
    assert counts is not None and counts.delivered == 1
    with warned() as uow:
        [sms] = delivered_to(uow, PAYER_PHONE)
        [task] = dissuasion_queue(uow, ANALYST_B)
    assert sms.template == "dissuasion_warning" and task.sms_status is SmsStatus.DELIVERED


def _warn(uow_factory: Uow, tx_id: str, at: datetime) -> None:
    """A warn decision on a transfer from B1 (held at B002), logged now."""
    with uow_factory() as uow:
        tx = Transaction(tx_id, at, TransactionKind.TRANSFER, "B1", "A2", world.BANK_B,
                         world.BANK_A, Money.of_fen(50_000), Channel.MOBILE)  # fmt: skip
        uow.session.add(transaction_row(tx))
        uow.session.flush()
        uow.session.add(decision_row(Decision(tx_id, Action.WARN, 60, (), "test"), decided_at=at))
        uow.commit()


def test_the_servers_outreach_round_reads_the_decisions_logged_since_the_last_round(
    warned: Uow, platform: Platform
) -> None:
    """A round looks only at the decisions logged after the last it saw: a warn decision
    left without its task below that mark (here, its task taken away) is made again only by
    the next round over the whole lookback, which comes every `full_every` seconds."""
    platform.clock.set(world.START + timedelta(hours=13))  # type: ignore[attr-defined]
    timer = OutboxDispatch(platform, 1.0, full_every=3_600.0)
    timer.sweep()  # the first round looks at the whole lookback: T4's task
    with warned() as uow:
        [t4] = dissuasion_queue(uow, ANALYST_B)
        uow.session.delete(uow.session.get(DissuasionTaskRow, t4.id))
        uow.commit()
    _warn(warned, "T9", world.START + timedelta(hours=12))
    timer.sweep()
    with warned() as uow:
        assert [task.tx_id for task in dissuasion_queue(uow, ANALYST_B)] == ["T9"]
    timer.full_every = 0.0
    timer.sweep()
    with warned() as uow:
        assert sorted(task.tx_id for task in dissuasion_queue(uow, ANALYST_B)) == ["T4", "T9"]


def test_the_demos_round_sends_the_outbox_and_makes_no_task(
    warned: Uow, platform: Platform
) -> None:
    """The demo's timer, started after its steps: it sends what is queued (a visitor's
    portal code) but makes no dissuasion task, so the figures the demo printed stay."""
    platform.clock.set(world.START + timedelta(hours=13))  # type: ignore[attr-defined]
    with warned() as uow:
        queue_sms(uow, OPERATOR, phone=PAYER_PHONE, template="portal_code",
                  variables={"code": "123456", "minutes": "5"}, member=None,
                  purpose=SmsPurpose.CODE)  # fmt: skip
        uow.audit.record(OPERATOR, "test_queue", "sms")
        uow.commit()
    counts = OutboxDispatch(platform, 1.0, raise_tasks=False).sweep()
    assert counts is not None and counts.delivered == 1
    with warned() as uow:
        assert dissuasion_queue(uow, ANALYST_B) == []
        assert "123456" in delivered_to(uow, PAYER_PHONE)[0].text


def test_a_warned_cash_withdrawal_is_warned_of_its_cash_not_of_a_payee(
    warned: Uow, clock: FixedClock
) -> None:
    """A withdrawal has no payee account: its warning speaks of the cash being taken out."""
    with warned() as uow:
        at = clock.now() - timedelta(minutes=1)
        uow.session.add(
            transaction_row(
                Transaction(
                    "W1",
                    at,
                    TransactionKind.WITHDRAWAL,
                    "B1",
                    None,
                    world.BANK_B,
                    None,
                    Money.of_fen(90_000),
                    Channel.ATM,
                )
            )
        )
        uow.session.flush()
        uow.session.add(decision_row(Decision("W1", Action.WARN, 60, (), "test"), decided_at=at))
        uow.commit()
    tasks = _raise(warned)
    assert len(tasks) == 2  # T4's and the withdrawal's
    with warned() as uow:
        dispatch_outbox(uow, LocalGateway())
        texts = [sms.text for sms in delivered_to(uow, PAYER_PHONE)]
    (cash,) = [text for text in texts if "现金" in text]
    assert "您正在支取现金900.00元" in cash and "尾号" not in cash
