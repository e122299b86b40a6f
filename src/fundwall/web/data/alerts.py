"""The alert queue (预警队列) and analysts' work on it.

An alert is a live decision (not shadow) with action alert, warn, delay or block on a
transaction the member's customer pays. The queue is derived from `decisions`; `alert_work`
holds only what analysts add: who took it, its status, a disposition and a short note. An
alert nobody has touched is `new`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from fundwall.auth.actor import Actor
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.auth.tenancy import decisions_visible
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import NOTE, AlertWorkRow, UserRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import DecisionRow, TransactionRow
from fundwall.web.data.paging import PAGE_SIZE, Page, fetch_page
from fundwall.web.data.params import Params

ALERT_ACTIONS: Final = (Action.ALERT, Action.WARN, Action.DELAY, Action.BLOCK)


class AlertStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Disposition(StrEnum):
    """How an analyst closed an alert (处置结论)."""

    CONFIRMED_FRAUD = "confirmed_fraud"
    MULE_ACCOUNT = "mule_account"
    CUSTOMER_WARNED = "customer_warned"
    REFERRED_TO_POLICE = "referred_to_police"
    FALSE_POSITIVE = "false_positive"


class AssigneeFilter(StrEnum):
    ANYONE = "anyone"
    ME = "me"
    NOBODY = "nobody"


def live_decision_id(tx_id: Any) -> Any:
    """The id of the latest live decision on `tx_id` (a correlated scalar subquery)."""
    other = aliased(DecisionRow)
    return (
        select(func.max(other.id))
        .where(other.tx_id == tx_id, other.shadow.is_(False))
        .scalar_subquery()
    )


def is_alert() -> ColumnElement[bool]:
    """WHERE clause on `decisions`: a live decision that raised an alert."""
    return and_(
        DecisionRow.shadow.is_(False),
        DecisionRow.action.in_([action.value for action in ALERT_ACTIONS]),
    )


def status_of() -> ColumnElement[str]:
    """The alert's status, `new` where no work row exists (needs the outer join)."""
    return func.coalesce(AlertWorkRow.status, AlertStatus.NEW.value)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: AlertStatus | None = None
    action: Action | None = None
    assignee: AssigneeFilter = AssigneeFilter.ANYONE
    page: int = 1

    @classmethod
    def read(cls, params: Params) -> AlertFilter:
        return cls(
            status=params.choice("status", AlertStatus),
            action=params.choice("action", Action),
            assignee=params.choice("assignee", AssigneeFilter) or AssigneeFilter.ANYONE,
            page=params.page(),
        )


@dataclass(frozen=True, slots=True)
class AlertItem:
    tx_id: str
    ts: datetime
    payer_account: str | None
    payee_account: str | None
    payee_bank: str | None
    amount_fen: int
    action: Action
    score: int
    top_rule: str | None
    status: AlertStatus
    assignee: str | None
    disposition: Disposition | None
    note: str | None


def alert_query(actor: Actor) -> Any:
    assignee = aliased(UserRow)
    return (
        select(
            TransactionRow.tx_id,
            TransactionRow.ts,
            TransactionRow.payer_account,
            TransactionRow.payee_account,
            TransactionRow.payee_bank,
            TransactionRow.amount_fen,
            DecisionRow.action,
            DecisionRow.score,
            DecisionRow.reasons,
            status_of().label("status"),
            assignee.username,
            AlertWorkRow.disposition,
            AlertWorkRow.note,
        )
        .select_from(DecisionRow)
        .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
        .outerjoin(AlertWorkRow, AlertWorkRow.tx_id == DecisionRow.tx_id)
        .outerjoin(assignee, assignee.id == AlertWorkRow.assignee_id)
        .where(
            is_alert(),
            decisions_visible(actor),
            DecisionRow.id == live_decision_id(DecisionRow.tx_id),
        )
    ), assignee


def alert_item(row: Any) -> AlertItem:
    reasons = row.reasons or []
    return AlertItem(
        tx_id=row.tx_id,
        ts=row.ts,
        payer_account=row.payer_account,
        payee_account=row.payee_account,
        payee_bank=row.payee_bank,
        amount_fen=row.amount_fen,
        action=Action(row.action),
        score=row.score,
        top_rule=reasons[0]["rule_id"] if reasons else None,
        status=AlertStatus(row.status),
        assignee=row.username,
        disposition=Disposition(row.disposition) if row.disposition else None,
        note=row.note,
    )


def alert_queue(session: Session, actor: Actor, wanted: AlertFilter) -> Page[AlertItem]:
    """The member's alerts, newest first, narrowed by `wanted`."""
    actor.require(Permission.VIEW_CUSTOMER_DATA)
    query, assignee = alert_query(actor)
    if wanted.status is not None:
        query = query.where(status_of() == wanted.status.value)
    if wanted.action is not None:
        query = query.where(DecisionRow.action == wanted.action.value)
    if wanted.assignee is AssigneeFilter.ME:
        query = query.where(assignee.id == actor.user_id)
    elif wanted.assignee is AssigneeFilter.NOBODY:
        query = query.where(AlertWorkRow.assignee_id.is_(None))
    query = query.order_by(TransactionRow.ts.desc(), TransactionRow.tx_id.desc())
    return fetch_page(session, query, wanted.page, PAGE_SIZE, alert_item)


def alert_counts(session: Session, actor: Actor) -> dict[AlertStatus, int]:
    """How many of the member's alerts are in each status."""
    actor.require(Permission.VIEW_CUSTOMER_DATA)
    rows = session.execute(
        select(AlertWorkRow.status, func.count())
        .select_from(DecisionRow)
        .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
        .outerjoin(AlertWorkRow, AlertWorkRow.tx_id == DecisionRow.tx_id)
        .where(
            is_alert(),
            decisions_visible(actor),
            DecisionRow.id == live_decision_id(DecisionRow.tx_id),
        )
        .group_by(AlertWorkRow.status)
    ).all()
    counts = dict.fromkeys(AlertStatus, 0)
    for status, count in rows:
        counts[AlertStatus(status or AlertStatus.NEW.value)] += count
    return counts


def get_alert(session: Session, actor: Actor, tx_id: str) -> AlertItem:
    """One of the member's alerts; NotFound if the transaction raised none the actor sees."""
    actor.require(Permission.VIEW_CUSTOMER_DATA)
    query, _ = alert_query(actor)
    row = session.execute(query.where(DecisionRow.tx_id == tx_id)).first()
    if row is None:
        raise NotFound("alert", tx_id)
    return alert_item(row)


def colleagues(session: Session, actor: Actor) -> list[str]:
    """Users of the actor's member who may work alerts: the people an alert can go to."""
    if actor.member is None:
        return []
    roles = [role.value for role in Role if Permission.WORK_ALERTS in ROLE_PERMISSIONS[role]]
    return list(
        session.scalars(
            select(UserRow.username)
            .where(
                UserRow.member_code == actor.member,
                UserRow.role.in_(roles),
                UserRow.disabled.is_(False),
            )
            .order_by(UserRow.username)
        )
    )


@dataclass(frozen=True, slots=True)
class AlertChange:
    """What an analyst does to an alert: give it to someone (or nobody), set its status,
    and when closing, a disposition and an optional note."""

    assignee: str | None
    status: AlertStatus
    disposition: Disposition | None = None
    note: str | None = None

    @classmethod
    def read(cls, form: dict[str, str]) -> AlertChange:
        """From the console's form fields; InvalidInput naming the first bad field."""
        params = Params(form)
        status = params.choice("status", AlertStatus)
        disposition = params.choice("disposition", Disposition)
        if params.problems:
            raise params.problems[0].error()
        if status is None:
            raise InvalidInput("choose a status", "status")
        note = form.get("note", "").strip() or None
        return cls(form.get("assignee", "").strip() or None, status, disposition, note)


def work_alert(uow: UnitOfWork, actor: Actor, tx_id: str, change: AlertChange) -> AlertItem:
    """Apply `change` to the alert on `tx_id`, audited, and commit."""
    actor.require(Permission.WORK_ALERTS)
    before = get_alert(uow.session, actor, tx_id)
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
    return get_alert(uow.session, actor, tx_id)


def _assignee_id(session: Session, actor: Actor, username: str | None) -> int | None:
    if username is None:
        return None
    if username not in colleagues(session, actor):
        raise InvalidInput(f"{username} is not an analyst of member {actor.member}", "assignee")
    found: int = session.scalars(select(UserRow.id).where(UserRow.username == username)).one()
    return found


def waiting_clause() -> ColumnElement[bool]:
    """WHERE clause (with the outer join to alert_work): alerts not yet closed."""
    return or_(AlertWorkRow.status.is_(None), AlertWorkRow.status != AlertStatus.CLOSED.value)
