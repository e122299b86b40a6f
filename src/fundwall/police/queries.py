"""The police orders in SQL, for the use cases of `fundwall.police.orders`: whose orders an
actor sees, an order's row as its lists and pages show it, and the writes several use cases
make (an event of an order's history, the end of an order). Entrypoints never import this.

A police unit's actors see the unit's orders; a member's actors the orders routed to it (the
account's bank); the server's operator every order; nobody else any.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Role
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.police import OrderEventKind, OrderKind, OrderStatus
from fundwall.police.model import OrderEvent, OrderItem, OrderView
from fundwall.store.police_tables import OrderEventRow, PoliceOrderRow
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

MAX_ID = 2**63 - 1
"""The largest id a database column holds; a larger one names no order."""
IN_FORCE_STATUSES = (OrderStatus.ISSUED.value, OrderStatus.EXECUTED.value)
"""An order in one of these statuses holds until its `ends_at` (or a release)."""


def orders_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `police_orders`: the orders the actor may see."""
    if actor.role is Role.OPERATOR:
        return true()
    if actor.member is None:
        return false()
    if actor.role.is_police:
        return PoliceOrderRow.police_unit == actor.member
    return PoliceOrderRow.bank_code == actor.member


def visible_orders(actor: Actor) -> Select[Any]:
    return select(PoliceOrderRow).where(orders_visible(actor))


def visible_order(session: Session, actor: Actor, order_id: int) -> PoliceOrderRow:
    """The order if the actor may see it; NotFound otherwise, as if it did not exist."""
    if not 1 <= order_id <= MAX_ID:
        raise NotFound("order", str(order_id))
    row: PoliceOrderRow | None = session.scalars(
        visible_orders(actor).where(PoliceOrderRow.id == order_id)
    ).one_or_none()
    if row is None:
        raise NotFound("order", str(order_id))
    return row


def in_force_clause(now: datetime) -> ColumnElement[bool]:
    """WHERE clause on `police_orders`: issued or executed, and its end still to come."""
    return PoliceOrderRow.status.in_(IN_FORCE_STATUSES) & (PoliceOrderRow.ends_at > now)


def remaining_seconds(ends_at: datetime | None, now: datetime) -> int | None:
    if ends_at is None:
        return None
    return max(0, int((ends_at - now).total_seconds()))


def order_item(row: PoliceOrderRow, now: datetime) -> OrderItem:
    return OrderItem(
        id=row.id,
        document_no=row.document_no,
        kind=OrderKind(row.kind),
        status=OrderStatus(row.status),
        police_unit=row.police_unit,
        bank_code=row.bank_code,
        account_no=row.account_no,
        amount_fen=row.amount_fen,
        issued_at=row.issued_at,
        ends_at=row.ends_at,
        renewals=row.renewals,
        remaining_seconds=remaining_seconds(row.ends_at, now)
        if row.status in IN_FORCE_STATUSES
        else None,
    )


def order_view(session: Session, row: PoliceOrderRow, now: datetime) -> OrderView:
    """The order with its history, oldest step first."""
    events = session.scalars(
        select(OrderEventRow).where(OrderEventRow.order_id == row.id).order_by(OrderEventRow.id)
    )
    target = session.get(PoliceOrderRow, row.target_order_id) if row.target_order_id else None
    return OrderView(
        item=order_item(row, now),
        officers=row.officers,
        police_case_no=row.police_case_no,
        legal_basis=row.legal_basis,
        major_case=row.major_case,
        period_from=row.period_from,
        period_to=row.period_to,
        target_order_id=row.target_order_id,
        target_document_no=target.document_no if target is not None else None,
        starts_at=row.starts_at,
        issued_by=row.issued_by,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
        held_fen=row.held_fen,
        refusal_reason=row.refusal_reason,
        answer=row.answer,
        ended_at=row.ended_at,
        events=tuple(OrderEvent(e.event, e.at, e.actor, dict(e.detail)) for e in events),
    )


def add_event(
    uow: UnitOfWork,
    row: PoliceOrderRow,
    event: OrderEventKind,
    at: datetime,
    actor: str,
    **detail: Any,
) -> None:
    """One step of the order's history, not yet committed."""
    uow.session.add(
        OrderEventRow(order_id=row.id, event=event.value, detail=detail, at=at, actor=actor)
    )


def acting_unit(uow: UnitOfWork, actor: Actor, asked: str | None) -> str:
    """The police unit an order (or a trace) is of: the officer's own; the operator names one."""
    if actor.role.is_police:
        if actor.member is None:
            raise PermissionDenied("an officer of no police unit issues no orders")
        if asked not in (None, actor.member):
            raise PermissionDenied(f"an officer issues orders of unit {actor.member} only")
        return actor.member
    if asked is None:
        raise InvalidInput("name the police unit the order is of", "police_unit")
    institution = uow.session.get(InstitutionRow, asked)
    if institution is None or institution.kind != InstitutionKind.POLICE_UNIT.value:
        raise InvalidInput(f"{asked} is not a police unit of the region", "police_unit")
    return asked
