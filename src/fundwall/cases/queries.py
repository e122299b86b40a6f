"""The alert queue and the cases in SQL, for the use cases of alert and case work and the
views that show alerts (a transaction's, an account's, the overview's count of those waiting).

An alert is the live decision (not shadow) on a transaction, when its action is alert, warn,
delay or block; it belongs to the member the transaction belongs to. The queue is derived
from `decisions`; `alert_work` holds only what analysts add. An alert nobody has touched is
`new`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from fundwall.auth.actor import Actor
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.auth.tenancy import decisions_visible
from fundwall.cases.model import (
    ALERT_ACTIONS,
    AlertItem,
    AlertStatus,
    CaseItem,
    CaseKind,
    CaseStatus,
    Disposition,
    EvidenceItem,
    Outcome,
    Priority,
)
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound
from fundwall.store.auth_tables import AlertWorkRow, UserRow
from fundwall.store.police_tables import CaseAccountRow, CaseAlertRow, CaseEvidenceRow, CaseRow
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow


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


def live_alerts(actor: Actor, *columns: Any) -> Select[Any]:
    """`columns` of the alerts the actor's member may see, one row each (its latest live
    decision), joined to their transaction and outer-joined to their work row."""
    return (
        select(*columns)
        .select_from(DecisionRow)
        .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
        .outerjoin(AlertWorkRow, AlertWorkRow.tx_id == DecisionRow.tx_id)
        .where(
            is_alert(),
            decisions_visible(actor),
            DecisionRow.id == live_decision_id(DecisionRow.tx_id),
        )
    )


def alert_rows(actor: Actor) -> tuple[Select[Any], Any]:
    """The alerts the actor's member may see as `alert_item` reads them, and the alias of
    the assignee's user row (to filter by it)."""
    assignee = aliased(UserRow)
    query = live_alerts(
        actor,
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
    ).outerjoin(assignee, assignee.id == AlertWorkRow.assignee_id)
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


def alerts_of_case(session: Session, actor: Actor, case_id: int) -> list[AlertItem]:
    """The alerts in case `case_id` that the actor's member may see, newest first."""
    query, _ = alert_rows(actor)
    query = (
        query.join(CaseAlertRow, CaseAlertRow.tx_id == DecisionRow.tx_id)
        .where(CaseAlertRow.case_id == case_id)
        .order_by(TransactionRow.ts.desc(), TransactionRow.tx_id.desc())
    )
    return [alert_item(row) for row in session.execute(query)]


def ungrouped_alerts(actor: Actor) -> Select[Any]:
    """The member's alerts not closed and in no case: tx_id, kind, payer's and payee's
    account, oldest first."""
    return (
        live_alerts(
            actor,
            TransactionRow.tx_id,
            TransactionRow.kind,
            TransactionRow.payer_account,
            TransactionRow.payee_account,
        )
        .outerjoin(CaseAlertRow, CaseAlertRow.tx_id == DecisionRow.tx_id)
        .where(waiting_clause(), CaseAlertRow.tx_id.is_(None))
        .order_by(TransactionRow.ts, TransactionRow.tx_id)
    )


def cases_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `cases`: the cases of the actor's member (none for anyone else)."""
    member = actor.customer_member
    if member is None:
        return false()
    return CaseRow.member_code == member


def case_row(session: Session, actor: Actor, case_id: int) -> CaseRow:
    """The member's case `case_id`; NotFound for a missing case or another member's."""
    row = session.scalars(
        select(CaseRow).where(CaseRow.id == case_id, cases_visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound("case", str(case_id))
    return row


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """WHERE clause on `cases`: its deadline passed and it is not closed."""
    return and_(CaseRow.deadline < now, CaseRow.status != CaseStatus.CLOSED.value)


def case_rows(actor: Actor) -> tuple[Select[Any], Any]:
    """The member's cases with their assignee's name and their count of alerts, and the
    alias of the assignee's user row (to filter by it)."""
    assignee = aliased(UserRow)
    alerts = (
        select(func.count())
        .select_from(CaseAlertRow)
        .where(CaseAlertRow.case_id == CaseRow.id)
        .scalar_subquery()
    )
    query = (
        select(CaseRow, assignee.username, alerts.label("alerts"))
        .outerjoin(assignee, assignee.id == CaseRow.assignee_id)
        .where(cases_visible(actor))
    )
    return query, assignee


def case_item(row: Any, now: datetime) -> CaseItem:
    """A row of `case_rows` as the queue lists it, overdue as of `now`."""
    case: CaseRow = row[0]
    status = CaseStatus(case.status)
    return CaseItem(
        id=case.id,
        kind=CaseKind(case.kind),
        subject=case.subject,
        title=case.title,
        status=status,
        priority=Priority(case.priority),
        assignee=row.username,
        opened_at=case.opened_at,
        deadline=case.deadline,
        overdue=status is not CaseStatus.CLOSED and case.deadline < now,
        alerts=row.alerts,
        outcome=Outcome(case.outcome) if case.outcome else None,
        closed_at=case.closed_at,
        merged_into=case.merged_into,
    )


def colleagues_holding(session: Session, actor: Actor, permission: Permission) -> list[str]:
    """Enabled users of the actor's member whose role holds `permission`, by name."""
    if actor.member is None:
        return []
    roles = [role.value for role in Role if permission in ROLE_PERMISSIONS[role]]
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


def user_id_of(session: Session, username: str) -> int:
    found: int = session.scalars(select(UserRow.id).where(UserRow.username == username)).one()
    return found


def insert_case(
    session: Session,
    actor: Actor,
    kind: CaseKind,
    subject: str,
    title: str,
    *,
    priority: Priority,
    now: datetime,
    sla_hours: int,
) -> CaseRow:
    """A new open case of the actor's member, its deadline `sla_hours` from `now` (flushed,
    so it has its id; not committed)."""
    row = CaseRow(
        member_code=actor.customer_member,
        kind=kind.value,
        subject=subject,
        title=title,
        status=CaseStatus.OPEN.value,
        priority=priority.value,
        assignee_id=None,
        opened_at=now,
        opened_by=actor.audit_id,
        deadline=now + timedelta(hours=sla_hours),
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def attach(
    session: Session, case: CaseRow, tx_ids: Iterable[str], accounts: Iterable[str], now: datetime
) -> None:
    """Put alerts (not in any case) and accounts (once each) into `case` (not committed)."""
    for tx_id in tx_ids:
        session.add(CaseAlertRow(tx_id=tx_id, case_id=case.id, added_at=now))
    present = accounts_in(session, case.id)
    for account_no in dict.fromkeys(accounts):
        if account_no not in present:
            session.add(CaseAccountRow(case_id=case.id, account_no=account_no))
    case.updated_at = now
    session.flush()


def holders_of(session: Session, member: str, accounts: Iterable[str]) -> dict[str, str]:
    """The party id holding each of `accounts` that `member` holds."""
    wanted = list(set(accounts))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(AccountRow.account_no, AccountRow.party_id).where(
                AccountRow.account_no.in_(wanted[start : start + _CHUNK]),
                AccountRow.institution_code == member,
            )
        )
        found.update({account_no: party_id for account_no, party_id in rows})
    return found


def links_among(session: Session, accounts: set[str]) -> list[tuple[str, str]]:
    """(payer, payee) of every transaction between two of `accounts`."""
    wanted = sorted(accounts)
    links = []
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(TransactionRow.payer_account, TransactionRow.payee_account)
            .where(TransactionRow.payer_account.in_(wanted[start : start + _CHUNK]))
            .distinct()
        )
        links += [
            (payer, payee)
            for payer, payee in rows
            if payer is not None and payee in accounts and payer != payee
        ]
    return links


_CHUNK = 500
"""Account numbers per IN (...) list: well below SQLite's limit on bound parameters."""


def evidence_items(session: Session, case_id: int) -> list[EvidenceItem]:
    """The evidence list of a case (whose tenancy the caller checked), oldest first."""
    rows = session.execute(
        select(
            CaseEvidenceRow.id,
            CaseEvidenceRow.case_id,
            CaseEvidenceRow.filename,
            CaseEvidenceRow.media_type,
            CaseEvidenceRow.size_bytes,
            CaseEvidenceRow.sm3,
            CaseEvidenceRow.added_at,
            CaseEvidenceRow.added_by,
        )
        .where(CaseEvidenceRow.case_id == case_id)
        .order_by(CaseEvidenceRow.id)
    )
    return [EvidenceItem(*row) for row in rows]


def alerts_in(session: Session, case_id: int) -> set[str]:
    """The tx_ids of the alerts in a case."""
    return set(session.scalars(select(CaseAlertRow.tx_id).where(CaseAlertRow.case_id == case_id)))


def accounts_in(session: Session, case_id: int) -> set[str]:
    """The account numbers a case names."""
    return set(
        session.scalars(select(CaseAccountRow.account_no).where(CaseAccountRow.case_id == case_id))
    )
