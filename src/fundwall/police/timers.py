"""The legal timers of police orders: the end of each order's time, and the warning before.

The engine stops enforcing a stop-payment or freeze at its end by itself (its restriction row
carries `ends_at`); `expire_orders` writes what that means for the order (status expired, a
step of its history, an audit record), from the scheduler of `fundwall serve` or
`fundwall orders expire`. It is idempotent: an order expires once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import Settings, get_settings
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.domain.police import RESTRICTING_ORDERS, OrderEventKind, OrderStatus
from fundwall.police.model import OrderItem
from fundwall.police.queries import IN_FORCE_STATUSES, add_event, order_item, orders_visible
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.uow import UnitOfWork

MOST_EXPIRING: Final = 500
"""The warning list's length at most (a unit with more orders ending within a day has a
problem no list solves)."""
LONGEST_WARNING: Final = timedelta(days=30)


@use_case(Permission.ISSUE_ORDERS)
def expire_orders(uow: UnitOfWork, actor: Actor) -> list[int]:
    """Mark every order of the actor (the operator: every order) whose time has run out as
    expired, each with a step of its history and an audit record; commit; their ids."""
    now = uow.clock.now()
    due = uow.session.scalars(
        select(PoliceOrderRow)
        .where(
            orders_visible(actor),
            PoliceOrderRow.status.in_(IN_FORCE_STATUSES),
            PoliceOrderRow.ends_at <= now,
        )
        .order_by(PoliceOrderRow.ends_at, PoliceOrderRow.id)
    ).all()
    for row in due:
        assert row.ends_at is not None  # selected by it
        row.status, row.ended_at = OrderStatus.EXPIRED.value, row.ends_at
        add_event(
            uow, row, OrderEventKind.EXPIRED, now, actor.audit_id, ended_at=row.ends_at.isoformat()
        )
        uow.audit.record(
            actor,
            "expire_order",
            f"order:{row.id}",
            {
                "document_no": row.document_no,
                "account": mask_account(row.account_no),
                "ended_at": row.ends_at.isoformat(),
            },
        )
    uow.commit()
    return [row.id for row in due]


@use_case(Permission.VIEW_CUSTOMER_DATA)
def expiring_orders(
    uow: UnitOfWork,
    actor: Actor,
    within: timedelta | None = None,
    *,
    settings: Settings | None = None,
) -> list[OrderItem]:
    """The actor's stop-payments and freezes in force that end within `within` (default
    `orders.expiring_within_hours`), soonest first: the officer's warning list."""
    if within is None:
        within = timedelta(hours=(settings or get_settings()).orders.expiring_within_hours)
    if not timedelta(0) < within <= LONGEST_WARNING:
        raise InvalidInput(f"more than nothing, at most {LONGEST_WARNING.days} days", "within")
    now = uow.clock.now()
    rows = uow.session.scalars(
        select(PoliceOrderRow)
        .where(
            orders_visible(actor),
            PoliceOrderRow.kind.in_([kind.value for kind in RESTRICTING_ORDERS]),
            PoliceOrderRow.status.in_(IN_FORCE_STATUSES),
            PoliceOrderRow.ends_at > now,
            PoliceOrderRow.ends_at <= now + within,
        )
        .order_by(PoliceOrderRow.ends_at, PoliceOrderRow.id)
        .limit(MOST_EXPIRING)
    )
    return [order_item(row, now) for row in rows]
