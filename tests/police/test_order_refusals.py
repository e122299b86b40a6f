"""What an order may not be: each bad input or clash is refused naming the reason, and leaves
nothing behind (no order, no restriction, no audit record); an order that fails on its way to
the database leaves nothing either. Who may see and answer which order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from fundwall.accounts.controls import set_account_status
from fundwall.bootstrap import Platform
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, FundwallError, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.police import OrderKind
from fundwall.police import (
    DocumentKind,
    OrderAnswer,
    OrderFilter,
    answer_order,
    expire_orders,
    get_order,
    issue_order,
    list_orders,
    order_document,
)
from fundwall.police.model import OrderRequest
from fundwall.store import UnitOfWork

from .conftest import (
    BANK_A,
    BANK_B,
    OFFICER,
    OPERATOR,
    OTHER_UNIT,
    POLICE_KEY,
    STOP,
    Payer,
    Uow,
    request,
)

STOP_A1 = request(OrderKind.STOP_PAYMENT, document_no="止付〔2024〕0001号")


def _counts(uow: UnitOfWork) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from fundwall.store.engine_tables import AccountRestrictionRow
    from fundwall.store.police_tables import OrderEventRow, PoliceOrderRow

    session = uow.session
    return (
        session.scalar(select(func.count()).select_from(PoliceOrderRow)) or 0,
        session.scalar(select(func.count()).select_from(AccountRestrictionRow)) or 0,
        session.scalar(select(func.count()).select_from(OrderEventRow)) or 0,
    )


def _refused(
    stocked: Uow, make: Callable[[], OrderRequest], error: type[FundwallError], match: str
) -> FundwallError:
    with stocked() as uow:
        before, head = _counts(uow), uow.audit.tail(1)
    with stocked() as uow, pytest.raises(error, match=match) as caught:
        issue_order(uow, OFFICER, make())
    with stocked() as uow:
        assert _counts(uow) == before and uow.audit.tail(1) == head
    return caught.value


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: request(OrderKind.FREEZE, document_no="  "), InvalidInput, "missing"),
        (lambda: request(OrderKind.FREEZE, document_no="no digits"), InvalidInput, "digit"),
        (lambda: request(OrderKind.FREEZE, document_no="x" * 65), InvalidInput, "64"),
        (lambda: request(OrderKind.FREEZE, account_no="NOSUCH"), InvalidInput, "directory"),
        (lambda: request(OrderKind.FREEZE, account_no=None), InvalidInput, "name the account"),
        (lambda: request(OrderKind.FREEZE, amount_fen=0), InvalidInput, "positive"),
        (lambda: request(OrderKind.FREEZE, officers=""), InvalidInput, "missing"),
        (lambda: request(OrderKind.FREEZE, legal_basis="持有人 11010519491231002X"),
         InvalidInput, "ID number"),
        (lambda: request(OrderKind.QUERY), InvalidInput, "period"),
        (lambda: request(OrderKind.QUERY, period_from=datetime(2023, 1, 1, tzinfo=UTC),
                         period_to=datetime(2024, 5, 1, tzinfo=UTC)), InvalidInput, "366 days"),
        (lambda: request(OrderKind.QUERY, period_from=datetime(2024, 5, 1, tzinfo=UTC),
                         period_to=datetime(2024, 7, 1, tzinfo=UTC)), InvalidInput, "future"),
        (lambda: request(OrderKind.QUERY, period_from=datetime(2024, 5, 1),
                         period_to=datetime(2024, 5, 2)), InvalidInput, "UTC offset"),
        (lambda: request(OrderKind.RENEWAL), InvalidInput, "document number"),
        (lambda: request(OrderKind.RENEWAL, target_document_no="冻〔2024〕9999号"),
         InvalidInput, "no order of unit PSB1"),
        (lambda: request(OrderKind.RELEASE, target_document_no="冻〔2024〕9999号"),
         InvalidInput, "no order of unit PSB1"),
        (lambda: request(OrderKind.FREEZE, police_unit="PSB9"), PermissionDenied, "PSB1 only"),
    ],
)  # fmt: skip
def test_bad_orders_are_refused_naming_the_reason_and_change_nothing(
    stocked: Uow, make: Callable[[], OrderRequest], error: type[FundwallError], match: str
) -> None:
    _refused(stocked, make, error, match)


def test_clashes_are_refused_and_change_nothing(
    stocked: Uow, platform: Platform, keyring: Keyring
) -> None:
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, STOP_A1)
        query = issue_order(
            uow,
            OFFICER,
            request(
                OrderKind.QUERY,
                period_from=datetime(2024, 3, 1, tzinfo=UTC),
                period_to=datetime(2024, 3, 9, tzinfo=UTC),
            ),
        )
        set_account_status(uow, OPERATOR, "B2", AccountStatus.CLOSED, "销户")
    document = stop.item.document_no
    _refused(stocked, lambda: request(OrderKind.FREEZE, document_no=document), Conflict, "used")
    _refused(stocked, lambda: request(OrderKind.STOP_PAYMENT), Conflict, "stopped already")
    _refused(stocked, lambda: request(OrderKind.FREEZE, account_no="B2"), Conflict, "closed")
    _refused(
        stocked,
        lambda: request(OrderKind.RENEWAL, target_document_no=query.item.document_no),
        InvalidInput,
        "acts on a stop-payment or freeze",
    )
    _refused(
        stocked,
        lambda: request(OrderKind.RENEWAL, target_document_no=document, amount_fen=5),
        InvalidInput,
        "keeps the amount",
    )
    for _ in range(2):
        with stocked() as uow:
            issue_order(uow, OFFICER, request(OrderKind.RENEWAL, target_document_no=document))
    _refused(
        stocked,
        lambda: request(OrderKind.RENEWAL, target_document_no=document),
        Conflict,
        "renewed 2 times, the most the law allows",
    )
    platform.clock.advance(timedelta(days=7))  # type: ignore[attr-defined]
    _refused(
        stocked,
        lambda: request(OrderKind.RENEWAL, target_document_no=document),
        Conflict,
        "expired at",
    )
    with stocked() as uow:
        expire_orders(uow, OPERATOR)
    _refused(
        stocked,
        lambda: request(OrderKind.RELEASE, target_document_no=document),
        Conflict,
        "is expired",
    )
    with stocked() as uow, pytest.raises(Conflict, match="is expired"):
        answer_order(uow, BANK_A, stop.id, OrderAnswer(True), keyring)


def test_an_order_interrupted_before_its_commit_leaves_nothing(
    stocked: Uow, payer: Payer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: UnitOfWork) -> None:
        raise RuntimeError("power cut")

    with stocked() as uow:
        head = uow.audit.tail(1)
    monkeypatch.setattr(UnitOfWork, "commit", crash)
    with stocked() as uow, pytest.raises(RuntimeError):
        issue_order(uow, OFFICER, STOP_A1)
    monkeypatch.undo()
    with stocked() as uow:
        assert _counts(uow) == (0, 0, 0) and uow.audit.tail(1) == head
    assert STOP not in payer.pays(100)


def test_an_order_whose_write_fails_midway_leaves_nothing(stocked: Uow, payer: Payer) -> None:
    """The order row, its restriction and its first event are flushed to the database, then
    the write fails: nothing of the order, the restriction or the audit stays."""
    from fundwall.police import orders

    real = orders.add_event

    def broken(uow: UnitOfWork, row: object, *args: object, **detail: object) -> None:
        real(uow, row, *args, **detail)  # type: ignore[arg-type]
        uow.session.flush()
        raise RuntimeError("disk full")

    with stocked() as uow:
        head = uow.audit.tail(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orders, "add_event", broken)
        with stocked() as uow, pytest.raises(RuntimeError):
            issue_order(uow, OFFICER, STOP_A1)
    with stocked() as uow:
        assert _counts(uow) == (0, 0, 0) and uow.audit.tail(1) == head
        issue_order(uow, OFFICER, STOP_A1)  # and the same order goes through afterwards
    assert STOP in payer.pays(100)


def test_each_side_sees_and_answers_only_its_own_orders(stocked: Uow, keyring: Keyring) -> None:
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, STOP_A1)
        by_key = issue_order(uow, POLICE_KEY, request(OrderKind.FREEZE, account_no="B1"))
        by_operator = issue_order(
            uow,
            OPERATOR,
            request(OrderKind.FREEZE, account_no="A2", police_unit="PSB1", amount_fen=100),
        )
    with stocked() as uow:
        assert {o.id for o in list_orders(uow, OFFICER, OrderFilter()).items} == {
            stop.id, by_key.id, by_operator.id,
        }  # fmt: skip
        assert {o.id for o in list_orders(uow, BANK_A, OrderFilter()).items} == {
            stop.id, by_operator.id,
        }  # fmt: skip
        assert [o.id for o in list_orders(uow, BANK_B, OrderFilter()).items] == [by_key.id]
        assert list_orders(uow, OTHER_UNIT, OrderFilter()).items == []
        for beyond in (0, -1, 2**63, 2**70):  # ids no database column holds: no order
            with pytest.raises(NotFound):
                get_order(uow, OPERATOR, beyond)
        for actor, order in ((BANK_B, stop.id), (OTHER_UNIT, stop.id), (BANK_A, by_key.id)):
            with pytest.raises(NotFound):
                get_order(uow, actor, order)
            with pytest.raises(NotFound):
                order_document(uow, actor, order, DocumentKind.NOTICE)
        with pytest.raises(NotFound):
            answer_order(uow, BANK_B, stop.id, OrderAnswer(True), keyring)
        with pytest.raises(PermissionDenied):
            answer_order(uow, OFFICER, stop.id, OrderAnswer(True), keyring)
        with pytest.raises(PermissionDenied):
            issue_order(uow, BANK_A, request(OrderKind.FREEZE))
        with pytest.raises(Conflict, match="no receipt"):
            order_document(uow, OFFICER, stop.id, DocumentKind.RECEIPT)
        with pytest.raises(InvalidInput, match="a refusal holds nothing"):
            answer_order(uow, BANK_A, stop.id, OrderAnswer(False, 5, "x"), keyring)
        with pytest.raises(InvalidInput, match="reason"):
            answer_order(uow, BANK_A, stop.id, OrderAnswer(False, None, " "), keyring)
        with pytest.raises(InvalidInput, match="more than the order"):
            answer_order(uow, BANK_A, by_operator.id, OrderAnswer(True, 10**12), keyring)
