"""Renewals and releases (续止付/续冻, 解除止付/解冻): the order they act on, named by its
document number, checked in force; the end a renewal moves it to; the orders a release ends.
No actor here: the use case of `fundwall.police.orders` finds the target among the actor's
orders and writes the restriction's change, the history and the audit record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.config import PolicySettings
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.police import RESTRICTING_ORDERS, OrderKind
from fundwall.police.model import OrderRequest, document_number
from fundwall.police.queries import IN_FORCE_STATUSES, in_force_clause
from fundwall.police.terms import legal_end
from fundwall.store.police_tables import PoliceOrderRow


def target_document(kind: OrderKind, request: OrderRequest) -> str:
    """The document number of the order a renewal or release acts on, checked."""
    if not request.target_document_no:
        raise InvalidInput(
            f"a {kind.value} names the order it acts on by its document number",
            "target_document_no",
        )
    return document_number(request.target_document_no, "target_document_no")


def checked_target(
    target: PoliceOrderRow | None,
    kind: OrderKind,
    request: OrderRequest,
    unit: str,
    wanted: str,
    now: datetime,
) -> PoliceOrderRow:
    """The target found for `wanted` among the unit's orders, refused unless it is a
    stop-payment or freeze in force and the request adds no terms of its own."""
    if target is None:
        raise InvalidInput(
            f"no order of unit {unit} has document number {wanted}", "target_document_no"
        )
    target_kind = OrderKind(target.kind)
    if target_kind not in RESTRICTING_ORDERS:
        raise InvalidInput(
            f"{wanted} is a {target_kind.value}; a {kind.value} acts on a stop-payment or freeze",
            "target_document_no",
        )
    if request.account_no not in (None, "", target.account_no):
        raise InvalidInput(f"order {wanted} is on another account", "account_no")
    if request.amount_fen is not None or request.period_from or request.period_to:
        raise InvalidInput(f"a {kind.value} keeps the amount of the order", "amount_fen")
    assert target.ends_at is not None  # a stop-payment or freeze always ends
    if target.status not in IN_FORCE_STATUSES:
        raise Conflict(f"order {wanted} is {target.status}; it is no longer in force")
    if target.ends_at <= now:
        raise Conflict(f"order {wanted} expired at {target.ends_at.isoformat()}; issue a new order")
    return target


def renewed_end(
    renewal: PoliceOrderRow, target: PoliceOrderRow, policy: PolicySettings
) -> datetime:
    """The target's end one legal period on. A stop-payment is renewed at most
    `stop_payment_max_renewals` times; a freeze's renewal takes a major case's longer period
    when either order is marked major (and the renewal is marked so)."""
    assert target.ends_at is not None  # checked_target
    kind = OrderKind(target.kind)
    if kind is OrderKind.STOP_PAYMENT and target.renewals >= policy.stop_payment_max_renewals:
        raise Conflict(
            f"stop-payment {target.document_no} was renewed {target.renewals} times, the most "
            "the law allows; freeze the account instead"
        )
    if kind is OrderKind.FREEZE:
        renewal.major_case = renewal.major_case or target.major_case
    return legal_end(kind, target.ends_at, renewal.major_case, policy)


def released_with(session: Session, target: PoliceOrderRow, now: datetime) -> list[PoliceOrderRow]:
    """The orders a release of `target` ends: the target and its renewals in force."""
    renewals = session.scalars(
        select(PoliceOrderRow).where(
            PoliceOrderRow.target_order_id == target.id,
            PoliceOrderRow.kind == OrderKind.RENEWAL.value,
            in_force_clause(now),
        )
    )
    return [target, *renewals]
