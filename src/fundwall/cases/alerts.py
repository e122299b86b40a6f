"""The alert queue (预警队列) and analysts' work on it: the use cases.

Each function is a use case (`fundwall.auth.usecase`): it refuses an actor without its
permission, reads only the alerts of the actor's member (`fundwall.cases.queries`), and a
change writes its audit record in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.model import AlertChange, AlertFilter, AlertItem, AlertStatus, AssigneeFilter
from fundwall.cases.queries import (
    alert_item,
    alert_rows,
    colleagues_holding,
    find_alert,
    live_alerts,
    status_of,
    user_id_of,
)
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.store.auth_tables import NOTE, AlertWorkRow
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import DecisionRow, TransactionRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.VIEW_ALERTS)
def alert_queue(uow: UnitOfWork, actor: Actor, wanted: AlertFilter) -> Page[AlertItem]:
    """The member's alerts, newest first, narrowed by `wanted`."""
    query, assignee = alert_rows(actor)
    if wanted.status is not None:
        query = query.where(status_of() == wanted.status.value)
    if wanted.action is not None:
        query = query.where(DecisionRow.action == wanted.action.value)
    if wanted.assignee is AssigneeFilter.ME:
        query = query.where(assignee.id == actor.user_id)
    elif wanted.assignee is AssigneeFilter.NOBODY:
        query = query.where(AlertWorkRow.assignee_id.is_(None))
    query = query.order_by(TransactionRow.ts.desc(), TransactionRow.tx_id.desc())
    return fetch_page(uow.session, query, wanted.page, PAGE_SIZE, alert_item)


@use_case(Permission.VIEW_ALERTS)
def alert_counts(uow: UnitOfWork, actor: Actor) -> dict[AlertStatus, int]:
    """How many of the member's alerts are in each status."""
    rows = uow.session.execute(
        live_alerts(actor, AlertWorkRow.status, func.count()).group_by(AlertWorkRow.status)
    ).all()
    counts = dict.fromkeys(AlertStatus, 0)
    for status, count in rows:
        counts[AlertStatus(status or AlertStatus.NEW.value)] += count
    return counts


@use_case(Permission.VIEW_ALERTS)
def get_alert(uow: UnitOfWork, actor: Actor, tx_id: str) -> AlertItem:
    """One of the member's alerts; NotFound if the transaction raised none the actor sees."""
    return _alert(uow.session, actor, tx_id)


@use_case(Permission.WORK_ALERTS)
def colleagues(uow: UnitOfWork, actor: Actor) -> list[str]:
    """Users of the actor's member who may work alerts: the people an alert can go to."""
    return _colleagues(uow.session, actor)


@use_case(Permission.WORK_ALERTS)
def work_alert(uow: UnitOfWork, actor: Actor, tx_id: str, change: AlertChange) -> AlertItem:
    """Apply `change` to the alert on `tx_id`, audited, and commit."""
    before = _alert(uow.session, actor, tx_id)
    assignee_id = _assignee_id(uow.session, actor, change.assignee)
    if change.status is AlertStatus.CLOSED and change.disposition is None:
        raise InvalidInput("closing an alert needs a disposition", "disposition")
    if change.status is not AlertStatus.CLOSED and change.disposition is not None:
        raise InvalidInput("a disposition is given when closing", "disposition")
    if change.note is not None:
        if len(change.note) > NOTE:
            raise InvalidInput(f"at most {NOTE} characters", "note")
        ensure_no_personal_data(change.note, "note")
    if change.status is AlertStatus.NEW and assignee_id is not None:
        raise Conflict("an alert given to someone is in progress, not new")
    row = uow.session.get(AlertWorkRow, tx_id)
    if row is None:
        row = AlertWorkRow(tx_id=tx_id)
        uow.session.add(row)
    row.status = change.status.value
    row.assignee_id = assignee_id
    row.disposition = change.disposition.value if change.disposition else None
    row.note = change.note
    row.updated_at = uow.clock.now()
    row.updated_by = actor.audit_id
    uow.audit.record(
        actor,
        "alert_update",
        f"alert:{tx_id}",
        {
            "status": [before.status.value, change.status.value],
            "assignee": [before.assignee, change.assignee],
            "disposition": change.disposition.value if change.disposition else None,
        },
    )
    uow.commit()
    return _alert(uow.session, actor, tx_id)


def _alert(session: Session, actor: Actor, tx_id: str) -> AlertItem:
    found = find_alert(session, actor, tx_id)
    if found is None:
        raise NotFound("alert", tx_id)
    return found


def _colleagues(session: Session, actor: Actor) -> list[str]:
    return colleagues_holding(session, actor, Permission.WORK_ALERTS)


def _assignee_id(session: Session, actor: Actor, username: str | None) -> int | None:
    if username is None:
        return None
    if username not in _colleagues(session, actor):
        raise InvalidInput(f"{username} is not an analyst of member {actor.member}", "assignee")
    return user_id_of(session, username)
