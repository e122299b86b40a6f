"""Police orders (公安指令): issued by a police unit's officer, routed to the bank holding the
account, in force at once, answered by the bank.

    view = issue_order(uow, officer, OrderRequest(OrderKind.FREEZE, "厦公冻字〔2024〕42号",
                       officers="王警官", police_case_no="A3502002024060001",
                       legal_basis="《反电信网络诈骗法》第三十二条", account_no="6222…",
                       amount_fen=5_000_00))
    answer_order(uow, bank_analyst, view.id, OrderAnswer(executed=True), keyring)

A stop-payment or freeze writes the account's restriction (`fundwall.accounts.queries`, the
engine's one door) in the same commit as the order, its history and its audit record: a
crash leaves the order wholly in force and recorded, or nothing. A renewal moves the end of
the order it names (by that order's document number); a release ends it now. Each use case
refuses an actor without its permission, reads only the actor's orders (a unit its own, a
bank those routed to it; any other is NotFound) and commits once. The checks of what an
order names are `fundwall.police.terms` (an account) and `fundwall.police.targets` (the
order a renewal or release acts on).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from fundwall.accounts.queries import (
    end_restriction,
    extend_restriction,
    settled_balance,
    write_restriction,
)
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import Settings, get_settings
from fundwall.crypto import Keyring
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.domain.police import (
    RESTRICTING_ORDERS,
    OrderEventKind,
    OrderKind,
    OrderStatus,
    police_case_number,
)
from fundwall.engine.controls.changes import stated_reason
from fundwall.engine.controls.model import RestrictionKind
from fundwall.police.answers import query_answer
from fundwall.police.model import (
    OrderAnswer,
    OrderFilter,
    OrderItem,
    OrderRequest,
    OrderView,
)
from fundwall.police.queries import (
    acting_unit,
    add_event,
    order_item,
    order_view,
    visible_order,
    visible_orders,
)
from fundwall.police.targets import checked_target, released_with, renewed_end, target_document
from fundwall.police.terms import (
    ON_ACCOUNT,
    checked_text,
    set_account_terms,
    unused_document_number,
)
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.police_tables import OFFICERS, REASON, PoliceOrderRow
from fundwall.store.tables import AccountRow
from fundwall.store.uow import UnitOfWork

RESTRICTION_OF: Final = {
    OrderKind.STOP_PAYMENT: RestrictionKind.STOP_PAYMENT,
    OrderKind.FREEZE: RestrictionKind.FREEZE,
}
MAX_BATCH: Final = 500
"""Orders one batch issues at most (a trace's stops: one per account still holding money)."""
TITLE_ZH: Final = {
    OrderKind.QUERY: "协助查询",
    OrderKind.STOP_PAYMENT: "紧急止付",
    OrderKind.FREEZE: "协助冻结",
    OrderKind.RENEWAL: "继续止付/续冻",
    OrderKind.RELEASE: "解除止付/解冻",
}


@use_case(Permission.ISSUE_ORDERS)
def issue_order(
    uow: UnitOfWork, actor: Actor, request: OrderRequest, *, settings: Settings | None = None
) -> OrderView:
    """Check, route and put in force an order of the actor's unit; audited and committed.

    Refusals (nothing changed): a missing, malformed or used document number, an account
    not in the directory, a restriction on a closed account, a second stop-payment on an
    account stopped already, a query's period beyond `orders.query_max_days`, a renewal or
    release of an unknown order, or of one no longer in force, a stop-payment renewed
    `policy.stop_payment_max_renewals` times already."""
    return issue_orders(uow, actor, (request,), settings=settings)[0]


@use_case(Permission.ISSUE_ORDERS)
def issue_orders(
    uow: UnitOfWork,
    actor: Actor,
    requests: Sequence[OrderRequest],
    *,
    settings: Settings | None = None,
) -> tuple[OrderView, ...]:
    """Several orders in one commit, all issued or none (a trace's batch stop-payment): each
    checked as `issue_order` checks one, in order, so a document number used twice in the
    batch is refused like one used before. The commit takes with it what the caller wrote in
    the unit of work before (the trace the batch confirms)."""
    if not 1 <= len(requests) <= MAX_BATCH:
        raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} orders", "orders")
    settings = settings or get_settings()
    now = uow.clock.now()
    rows = [_issued(uow, actor, request, settings, now) for request in requests]
    uow.commit()
    return tuple(order_view(uow.session, row, now) for row in rows)


def _issued(
    uow: UnitOfWork, actor: Actor, request: OrderRequest, settings: Settings, now: datetime
) -> PoliceOrderRow:
    """One order checked, routed, in force and audited; not yet committed."""
    session = uow.session
    kind = OrderKind(request.kind)
    unit = acting_unit(uow, actor, request.police_unit)
    document_no = unused_document_number(session, request.document_no)
    row = PoliceOrderRow(
        document_no=document_no,
        kind=kind.value,
        police_unit=unit,
        officers=checked_text(request.officers, "officers", OFFICERS),
        police_case_no=police_case_number(request.police_case_no),
        legal_basis=checked_text(request.legal_basis, "legal_basis", REASON),
        major_case=bool(request.major_case),
        renewals=0,
        status=OrderStatus.ISSUED.value,
        issued_at=now,
        issued_by=actor.audit_id,
    )
    if kind in ON_ACCOUNT:
        set_account_terms(session, row, kind, request, settings, now)
    else:
        _on_target(uow, actor, row, kind, request, settings, now)
    session.add(row)
    session.flush()
    if kind in RESTRICTING_ORDERS:
        restriction = write_restriction(
            uow,
            actor,
            row.account_no,
            RESTRICTION_OF[kind],
            reason=f"{TITLE_ZH[kind]} {document_no}",
            starts_at=now,
            ends_at=row.ends_at,
            amount_fen=row.amount_fen,
            order_reference=document_no,
        )
        row.restriction_id = restriction.id
    add_event(uow, row, OrderEventKind.ISSUED, now, actor.audit_id, ends_at=_iso(row.ends_at))
    uow.audit.record(
        actor,
        "issue_order",
        f"order:{row.id}",
        {
            "kind": kind.value,
            "document_no": document_no,
            "account": mask_account(row.account_no),
            "bank": row.bank_code,
            "amount_fen": row.amount_fen,
            "target": row.target_order_id,
            "ends_at": _iso(row.ends_at),
        },
    )
    return row


@use_case(Permission.EXECUTE_ORDERS)
def answer_order(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    answer: OrderAnswer,
    keyring: Keyring,
    *,
    settings: Settings | None = None,
) -> OrderView:
    """The bank's answer to an order routed to it: executed (a query's answer is built from
    the store: the holder masked, the balance, the period's transactions; a restriction's
    `held_fen` defaults to what the ledger holds) or refused with a reason (a stop-payment's
    or freeze's restriction is lifted). Audited and committed."""
    settings = settings or get_settings()
    session, now = uow.session, uow.clock.now()
    row = visible_order(session, actor, order_id)
    kind = OrderKind(row.kind)
    if row.status != OrderStatus.ISSUED.value:
        raise Conflict(f"order {row.document_no} is {row.status}; only an issued order is answered")
    if row.ends_at is not None and row.ends_at <= now:
        raise Conflict(f"order {row.document_no} ended at {row.ends_at.isoformat()}")
    details: dict[str, Any] = {"executed": answer.executed}
    if answer.executed:
        row.held_fen = _held(uow, row, kind, answer.held_fen)
        if kind is OrderKind.QUERY:
            row.answer = query_answer(uow, row, keyring, settings.orders.query_max_transactions)
        row.status = OrderStatus.EXECUTED.value
        details["held_fen"] = row.held_fen
    else:
        if kind not in ON_ACCOUNT:
            raise InvalidInput(
                "a renewal or release acts on an order the bank executed already; the bank "
                "confirms it (executed)",
                "executed",
            )
        if answer.held_fen is not None:
            raise InvalidInput("a refusal holds nothing", "held_fen")
        row.refusal_reason = stated_reason(answer.reason or "")
        ensure_no_personal_data(row.refusal_reason, "reason")
        if row.restriction_id is not None:
            restriction = session.get(AccountRestrictionRow, row.restriction_id)
            if restriction is not None and restriction.lifted_at is None:
                end_restriction(uow, actor, restriction, f"银行拒绝执行 {row.document_no}")
        row.status, row.ended_at = OrderStatus.REFUSED.value, now
        details["reason"] = row.refusal_reason
    row.answered_at, row.answered_by = now, actor.audit_id
    add_event(uow, row, OrderEventKind(row.status), now, actor.audit_id, **details)
    uow.audit.record(actor, "answer_order", f"order:{row.id}", details)
    uow.commit()
    return order_view(session, row, now)


@use_case(Permission.VIEW_CUSTOMER_DATA)
def list_orders(uow: UnitOfWork, actor: Actor, wanted: OrderFilter) -> Page[OrderItem]:
    """The actor's orders (a unit its own, a bank those routed to it), newest first."""
    query = visible_orders(actor)
    if wanted.kind is not None:
        query = query.where(PoliceOrderRow.kind == OrderKind(wanted.kind).value)
    if wanted.status is not None:
        query = query.where(PoliceOrderRow.status == OrderStatus(wanted.status).value)
    if wanted.account_no:
        query = query.where(PoliceOrderRow.account_no == wanted.account_no)
    if wanted.answered_from is not None:
        query = query.where(PoliceOrderRow.answered_at >= wanted.answered_from)
    if wanted.answered_until is not None:
        query = query.where(PoliceOrderRow.answered_at < wanted.answered_until)
    query = query.order_by(PoliceOrderRow.issued_at.desc(), PoliceOrderRow.id.desc())
    now = uow.clock.now()
    page = fetch_page(uow.session, query, wanted.page, PAGE_SIZE, lambda r: r)
    return Page([order_item(row[0], now) for row in page.items], page.number, page.size, page.more)


@use_case(Permission.VIEW_CUSTOMER_DATA)
def get_order(uow: UnitOfWork, actor: Actor, order_id: int) -> OrderView:
    """One of the actor's orders with its history; NotFound for any other."""
    return order_view(uow.session, visible_order(uow.session, actor, order_id), uow.clock.now())


def _on_target(
    uow: UnitOfWork,
    actor: Actor,
    row: PoliceOrderRow,
    kind: OrderKind,
    request: OrderRequest,
    settings: Settings,
    now: datetime,
) -> None:
    """A renewal or release: the actor's order it acts on, renewed or ended with its
    restriction (`fundwall.police.targets` checks it and works out the new end)."""
    wanted = target_document(kind, request)
    found = uow.session.scalars(
        visible_orders(actor).where(
            PoliceOrderRow.document_no == wanted, PoliceOrderRow.police_unit == row.police_unit
        )
    ).one_or_none()
    target = checked_target(found, kind, request, row.police_unit, wanted, now)
    restriction = uow.session.get(AccountRestrictionRow, target.restriction_id)
    assert restriction is not None  # written with the order
    row.account_no, row.bank_code, row.target_order_id = (
        target.account_no,
        target.bank_code,
        target.id,
    )
    row.amount_fen, row.starts_at = target.amount_fen, now
    reason = f"{TITLE_ZH[kind]} {row.document_no}"
    if kind is OrderKind.RELEASE:
        end_restriction(uow, actor, restriction, reason)
        for ended in released_with(uow.session, target, now):
            ended.status, ended.ended_at = OrderStatus.RELEASED.value, now
            add_event(uow, ended, OrderEventKind.RELEASED, now, actor.audit_id, by=row.document_no)
        return
    new_end = renewed_end(row, target, settings.policy)
    extend_restriction(uow, actor, restriction, new_end, reason)
    row.starts_at, row.ends_at = target.ends_at, new_end
    uow.session.flush()
    add_event(
        uow,
        target,
        OrderEventKind.RENEWED,
        now,
        actor.audit_id,
        by=row.document_no,
        previous_end=_iso(target.ends_at),
        ends_at=_iso(new_end),
    )
    target.renewals += 1
    target.ends_at = new_end


def _held(uow: UnitOfWork, row: PoliceOrderRow, kind: OrderKind, stated: int | None) -> int | None:
    """The balance held: what the bank states, else what the ledger holds (the settled
    balance, up to the order's amount). A query, renewal or release holds nothing of its own
    (the order a renewal renews keeps what it holds)."""
    if kind not in RESTRICTING_ORDERS:
        if stated is not None:
            raise InvalidInput(f"a {kind.value} holds no money of its own", "held_fen")
        return None
    if stated is not None:
        if type(stated) is not int or stated < 0:
            raise InvalidInput("a whole number of fen, zero or more", "held_fen")
        if row.amount_fen is not None and stated > row.amount_fen:
            raise InvalidInput("more than the order's amount", "held_fen")
        return stated
    account = uow.session.get(AccountRow, row.account_no)
    balance = max(0, settled_balance(uow, account)) if account is not None else 0
    return balance if row.amount_fen is None else min(balance, row.amount_fen)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
