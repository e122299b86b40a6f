"""The tracing workflow over the store, on SQLite and PostgreSQL: a trace started, stored and
read by its unit alone, kept up to date as transactions arrive, and its batch stop-payment
issued all or nothing, enforced by the engine at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from fundwall.auth.tenancy import police_scope
from fundwall.clock import FixedClock
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.police import OrderKind
from fundwall.police import OrderFilter, issue_order, list_orders
from fundwall.store import UnitOfWork
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.tracing import live_index
from fundwall.tracing.model import MAX_STARTS, AttributionRule
from fundwall.tracing.traces import confirm_batch, get_trace, list_traces, start_trace
from fundwall.tracing.views import Standing
from police.conftest import BANK_A, FREE_BALANCE, request
from tracing.conftest import OFFICER, OTHER_UNIT, UNIT, VICTIM, Payer, batch

Uow = Callable[[], UnitOfWork]
PROPORTIONAL = AttributionRule.PROPORTIONAL
HELD = {"B1": 83_334, "A2": 50_000, "B2": 42_857}
"""What the proportional rule leaves of the victim's ¥2,000 in each account."""


def _started(stocked: Uow, rule: AttributionRule = PROPORTIONAL) -> int:
    with stocked() as uow:
        return start_trace(uow, OFFICER, [VICTIM], rule).id


def test_a_trace_is_stored_and_reads_the_same(stocked: Uow) -> None:
    with stocked() as uow:
        started = start_trace(uow, OFFICER, [VICTIM], PROPORTIONAL)
    with stocked() as uow:
        read = get_trace(uow, OFFICER, started.id)
        listed = list_traces(uow, OFFICER)
    assert read.result == started.result and read.police_unit == UNIT
    assert {stop.account_no: stop.amount_fen for stop in read.stops} == HELD
    assert [transfer.tx_id for transfer in read.result.exits] == ["T5"]
    assert set(read.standing.values()) == {Standing.OPEN} and read.batch is None
    assert [(item.id, item.accounts, item.held_fen) for item in listed.items] == [
        (started.id, 3, sum(HELD.values()))
    ]


def test_another_unit_sees_no_trace_of_ours(stocked: Uow) -> None:
    trace_id = _started(stocked)
    with stocked() as uow:
        with pytest.raises(NotFound):
            get_trace(uow, OTHER_UNIT, trace_id)
        with pytest.raises(NotFound):
            confirm_batch(uow, OTHER_UNIT, trace_id, batch())
        assert list_traces(uow, OTHER_UNIT).items == []
        with pytest.raises(PermissionDenied):  # tracing is the police's
            get_trace(uow, BANK_A, trace_id)


@pytest.mark.parametrize(
    ("starts", "field"),
    [
        ([], "starts"),
        ([VICTIM] * (MAX_STARTS + 1), "starts"),
        ([replace(VICTIM, amount_fen=0)], "starts[0].amount_fen"),
        ([replace(VICTIM, at=VICTIM.at.replace(tzinfo=None))], "starts[0].at"),
        ([replace(VICTIM, at=VICTIM.at + timedelta(days=3650))], "starts[0].at"),
        ([replace(VICTIM, source="张三 13812340001")], "starts[0].source"),
        ([replace(VICTIM, account_no="9" * 65)], "starts[0].account_no"),
    ],
)
def test_a_bad_start_is_refused_and_nothing_stored(
    stocked: Uow, starts: list[object], field: str
) -> None:
    with stocked() as uow:
        with pytest.raises(InvalidInput) as refused:
            start_trace(uow, OFFICER, starts, PROPORTIONAL)  # type: ignore[arg-type]
        assert refused.value.field == field
        assert list_traces(uow, OFFICER).items == []


def test_the_index_is_built_once_and_extended_by_what_arrives(
    stocked: Uow, payer: Payer, clock: FixedClock
) -> None:
    with stocked() as uow:
        first = start_trace(uow, OFFICER, [VICTIM], AttributionRule.LIFO)
        index = live_index._live(uow.session).index
    assert [account.account_no for account in first.result.accounts] == ["B1", "A2"]
    payer.pays(150_000, "A2")
    with stocked() as uow:
        second = start_trace(uow, OFFICER, [VICTIM], AttributionRule.LIFO)
        assert live_index._live(uow.session).index is index
    reached = {account.account_no: account.held_fen for account in second.result.accounts}
    assert reached == {"B1": 0, "A2": 50_000, "B2": 150_000}


def test_the_batch_issues_one_stop_per_account_in_one_go(stocked: Uow, payer: Payer) -> None:
    trace_id = _started(stocked)
    with stocked() as uow:
        view = confirm_batch(uow, OFFICER, trace_id, batch("厦公止〔2024〕88号"))
    assert view.batch is not None and view.batch.skipped == ()
    assert [(o.account_no, o.bank, o.amount_fen, o.document_no) for o in view.batch.orders] == [
        ("B1", "B002", 83_334, "厦公止〔2024〕88号-01"),
        ("A2", "B001", 50_000, "厦公止〔2024〕88号-02"),
        ("B2", "B002", 42_857, "厦公止〔2024〕88号-03"),
    ]
    assert all(order.order_id is not None for order in view.batch.orders)
    assert set(view.standing.values()) == {Standing.STOPPED}
    with stocked() as uow:
        scope = set(uow.session.scalars(police_scope(UNIT)))
        assert {"A2", "B1", "B2"} <= scope
        orders = list_orders(uow, OFFICER, OrderFilter(kind=OrderKind.STOP_PAYMENT)).items
        assert len(orders) == 3
    assert FREE_BALANCE in payer.pays(450_000, "B1")
    assert FREE_BALANCE not in payer.pays(100_000, "B1")


def test_an_account_stopped_already_is_skipped(stocked: Uow) -> None:
    trace_id = _started(stocked)
    with stocked() as uow:
        issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT, account_no="B1"))
    with stocked() as uow:
        view = confirm_batch(uow, OFFICER, trace_id, batch("P2024-7"))
    assert view.batch is not None
    assert [(s.account_no, s.standing) for s in view.batch.skipped] == [("B1", Standing.STOPPED)]
    assert [o.document_no for o in view.batch.orders] == ["P2024-7-01", "P2024-7-02"]


def test_a_refusal_midway_leaves_no_order_and_the_trace_unconfirmed(stocked: Uow) -> None:
    trace_id = _started(stocked)
    with stocked() as uow:  # the second document number of the batch is used already
        issue_order(uow, OFFICER, request(OrderKind.QUERY, document_no="P2024-8-02",
                                          period_from=VICTIM.at, period_to=VICTIM.at
                                          + timedelta(days=1)))  # fmt: skip
    with stocked() as uow, pytest.raises(Conflict, match="P2024-8-02"):
        confirm_batch(uow, OFFICER, trace_id, batch("P2024-8"))
    with stocked() as uow:
        issued = uow.session.scalars(
            select(PoliceOrderRow.document_no).where(PoliceOrderRow.kind == "stop_payment")
        ).all()
        view = get_trace(uow, OFFICER, trace_id)
    assert issued == [] and view.batch is None
    assert set(view.standing.values()) == {Standing.OPEN}


def test_a_batch_is_confirmed_once(stocked: Uow) -> None:
    trace_id = _started(stocked)
    with stocked() as uow:
        confirm_batch(uow, OFFICER, trace_id, batch("P2024-9"))
    with stocked() as uow, pytest.raises(Conflict, match="confirmed already"):
        confirm_batch(uow, OFFICER, trace_id, batch("P2024-10"))


def test_the_officer_may_keep_some_stops_only(stocked: Uow) -> None:
    trace_id = _started(stocked)
    with stocked() as uow:
        with pytest.raises(InvalidInput) as refused:
            confirm_batch(uow, OFFICER, trace_id, batch(accounts=("A1",)))
        assert refused.value.field == "accounts"
        view = confirm_batch(uow, OFFICER, trace_id, batch("P2024-11", accounts=("A2",)))
    assert view.batch is not None
    assert [o.account_no for o in view.batch.orders] == ["A2"]
