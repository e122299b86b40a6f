"""The alert queue in SQL, for the use cases of alert work and the views that show alerts
(a transaction's, an account's, the overview's count of those waiting).

An alert is the live decision (not shadow) on a transaction, when its action is alert, warn,
delay or block; it belongs to the member the transaction belongs to. The queue is derived
from `decisions`; `alert_work` holds only what analysts add. An alert nobody has touched is
`new`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from fundwall.auth.actor import Actor
from fundwall.auth.tenancy import decisions_visible
from fundwall.cases.model import ALERT_ACTIONS, AlertItem, AlertStatus, Disposition
from fundwall.domain.decisions import Action
from fundwall.store.auth_tables import AlertWorkRow, UserRow
from fundwall.store.tables import DecisionRow, TransactionRow


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


def waiting_clause() -> ColumnElement[bool]:
    """WHERE clause (with the outer join to alert_work): alerts not yet closed."""
    return or_(AlertWorkRow.status.is_(None), AlertWorkRow.status != AlertStatus.CLOSED.value)


def alert_rows(actor: Actor) -> tuple[Select[Any], Any]:
    """The alerts the actor's member may see, one row each (its latest live decision), and
    the alias of the assignee's user row (to filter by it)."""
    assignee = aliased(UserRow)
    query = (
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
    )
    return query, assignee


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


def find_alert(session: Session, actor: Actor, tx_id: str) -> AlertItem | None:
    """The alert on `tx_id` if the actor's member may see it."""
    query, _ = alert_rows(actor)
    row = session.execute(query.where(DecisionRow.tx_id == tx_id)).first()
    return alert_item(row) if row is not None else None
