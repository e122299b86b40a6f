"""Every kind of police order through its whole life, on SQLite and PostgreSQL, with the
engine enforcing it between each step: issued (in force at once) → executed → renewed →
expired or released."""

from __future__ import annotations

from datetime import timedelta

from auth import world  # tests/auth/world.py
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.police import (
    OrderAnswer,
    OrderFilter,
    answer_order,
    expire_orders,
    expiring_orders,
    get_order,
    issue_order,
    list_orders,
)
from fundwall.police.model import add_months

from .conftest import (
    BALANCE,
    BANK_A,
    FREE_BALANCE,
    FREEZE,
    OFFICER,
    OPERATOR,
    STOP,
    Payer,
    Uow,
    request,
)

EXECUTE = OrderAnswer(executed=True)


def test_a_stop_payment_holds_at_once_is_renewed_twice_and_expires_on_time(
    stocked: Uow, payer: Payer, clock: FixedClock, keyring: Keyring
) -> None:
    assert STOP not in payer.pays(100)
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT))
    assert stop.status is OrderStatus.ISSUED and stop.item.bank_code == world.BANK_A
    assert stop.item.ends_at == clock.now() + timedelta(hours=48)
    assert STOP in payer.pays(100)  # before the bank answered
    assert STOP not in payer.pays(100, account="B1")
    with stocked() as uow:
        executed = answer_order(uow, BANK_A, stop.id, EXECUTE, keyring)
    # What A1 holds now: its balance, less T2's ¥2,000 and the ¥1 paid before the stop (T1
    # and the ¥1 stopped were blocked: they moved nothing).
    settled = BALANCE - 200_000 - 100
    assert (executed.status, executed.held_fen) == (OrderStatus.EXECUTED, settled)
    assert STOP in payer.pays(100)
    ends = stop.item.ends_at
    assert ends is not None
    renewals = []
    for renewal in (1, 2):
        clock.advance(timedelta(hours=46))
        with stocked() as uow:
            renewed = issue_order(
                uow,
                OFFICER,
                request(OrderKind.RENEWAL, target_document_no=stop.item.document_no),
            )
            answer_order(uow, BANK_A, renewed.id, EXECUTE, keyring)
        renewals.append(renewed.id)
        ends += timedelta(hours=48)
        assert renewed.item.ends_at == ends
        with stocked() as uow:
            target = get_order(uow, OFFICER, stop.id)
        assert (target.item.renewals, target.item.ends_at) == (renewal, ends)
        clock.advance(timedelta(hours=3))  # past the end before this renewal
        assert STOP in payer.pays(100)
    with stocked() as uow:
        assert [o.id for o in expiring_orders(uow, OFFICER)] == []
    clock.set(ends - timedelta(hours=1))
    with stocked() as uow:
        assert [o.id for o in expiring_orders(uow, OFFICER)] == [stop.id]
        assert expiring_orders(uow, BANK_A)[0].remaining_seconds == 3600
    clock.set(ends - timedelta(seconds=1))
    assert STOP in payer.pays(100)
    with stocked() as uow:  # the first renewal's own period is over; the order holds
        assert expire_orders(uow, OPERATOR) == renewals[:1]
    clock.set(ends + timedelta(seconds=1))
    assert STOP not in payer.pays(100)  # the engine stopped at the end, before any sweep
    with stocked() as uow:
        expired = expire_orders(uow, OPERATOR)
    with stocked() as uow:
        assert expire_orders(uow, OPERATOR) == []  # once only
        target = get_order(uow, OFFICER, stop.id)
        statuses = {o.id: o.status for o in list_orders(uow, OFFICER, OrderFilter()).items}
        records = [r for r in uow.audit.tail(20) if r.action == "expire_order"]
    assert expired == [stop.id, renewals[1]]
    assert set(statuses.values()) == {OrderStatus.EXPIRED}
    assert [e.event for e in target.events] == [
        "issued", "executed", "renewed", "renewed", "expired",
    ]  # fmt: skip
    assert target.ended_at == ends and len(records) == 3


def test_an_amount_freeze_blocks_only_what_would_eat_into_the_frozen_amount(
    stocked: Uow, payer: Payer, clock: FixedClock, keyring: Keyring
) -> None:
    with stocked() as uow:
        freeze = issue_order(uow, OFFICER, request(OrderKind.FREEZE, amount_fen=600_000))
    assert freeze.item.ends_at == add_months(clock.now(), 6)
    # A1 settled ¥8,000 (¥10,000 less T2; T1 was blocked): ¥2,000 free of the freeze.
    assert FREE_BALANCE in payer.pays(250_000)
    assert FREE_BALANCE not in payer.pays(150_000)
    with stocked() as uow:
        executed = answer_order(uow, BANK_A, freeze.id, EXECUTE, keyring)
    assert executed.held_fen == 600_000
    clock.advance(timedelta(days=170))
    with stocked() as uow:
        renewal = issue_order(
            uow, OFFICER, request(OrderKind.RENEWAL, target_document_no=freeze.item.document_no)
        )
    assert renewal.item.ends_at == add_months(freeze.item.ends_at, 6)  # type: ignore[arg-type]
    clock.advance(timedelta(days=20))  # past the first end
    assert FREE_BALANCE in payer.pays(500_000)
    with stocked() as uow:
        released = issue_order(
            uow, OFFICER, request(OrderKind.RELEASE, target_document_no=freeze.item.document_no)
        )
        answer_order(uow, BANK_A, released.id, EXECUTE, keyring)
    assert FREE_BALANCE not in payer.pays(500_000)
    with stocked() as uow:
        target = get_order(uow, OFFICER, freeze.id)
        ended = get_order(uow, OFFICER, renewal.id)
        assert expire_orders(uow, OPERATOR) == []  # released orders do not expire
    assert (target.status, ended.status) == (OrderStatus.RELEASED, OrderStatus.RELEASED)
    assert [e.event for e in target.events] == ["issued", "executed", "renewed", "released"]


def test_a_whole_freeze_of_a_major_case_lasts_a_year_and_is_released(
    stocked: Uow, payer: Payer, clock: FixedClock, keyring: Keyring
) -> None:
    with stocked() as uow:
        freeze = issue_order(uow, OFFICER, request(OrderKind.FREEZE, major_case=True))
        answer_order(uow, BANK_A, freeze.id, EXECUTE, keyring)
    assert freeze.item.ends_at == add_months(clock.now(), 12)
    assert FREEZE in payer.pays(1)
    clock.advance(timedelta(days=300))
    assert FREEZE in payer.pays(1)
    with stocked() as uow:
        issue_order(
            uow, OFFICER, request(OrderKind.RELEASE, target_document_no=freeze.item.document_no)
        )
    assert FREEZE not in payer.pays(1)


def test_a_refused_stop_payment_is_lifted_and_leaves_the_scope(
    stocked: Uow, payer: Payer, keyring: Keyring
) -> None:
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT, amount_fen=200_000))
    assert FREE_BALANCE in payer.pays(900_000)
    with stocked() as uow:
        refused = answer_order(
            uow, BANK_A, stop.id, OrderAnswer(False, reason="户名与账号不符"), keyring
        )
    assert refused.status is OrderStatus.REFUSED and refused.refusal_reason == "户名与账号不符"
    assert FREE_BALANCE not in payer.pays(900_000)
    with stocked() as uow:
        assert [e.event for e in get_order(uow, OFFICER, stop.id).events] == [
            "issued",
            "refused",
        ]
        # A refused order's account is no longer the unit's: a new stop-payment may follow.
        issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT))


def test_a_query_is_answered_with_holder_balance_and_the_periods_transactions(
    stocked: Uow, clock: FixedClock, keyring: Keyring
) -> None:
    period_from = world.START - timedelta(hours=1)
    with stocked() as uow:
        query = issue_order(
            uow,
            OFFICER,
            request(
                OrderKind.QUERY,
                period_from=period_from,
                period_to=world.START + timedelta(hours=5),
            ),
        )
        assert query.item.ends_at is None
        answered = answer_order(uow, BANK_A, query.id, EXECUTE, keyring)
    answer = answered.answer
    assert answer is not None
    assert answer["balance_fen"] == BALANCE - 200_000  # T2 moved ¥2,000; T1 was blocked
    assert answer["holder"]["id_number"].startswith("3502") and "*" in answer["holder"]["id_number"]
    assert world.person(1).id_number not in str(answer)
    assert [(t["tx_id"], t["direction"]) for t in answer["transactions"]] == [
        ("T1", "out"),
        ("T2", "out"),
    ]
    assert answered.status is OrderStatus.EXECUTED
