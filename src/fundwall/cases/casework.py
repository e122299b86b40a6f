"""Case work (案件处置): opening cases by hand, the member's case queue, a case with all in
it, assigning and prioritising, notes, closing with an outcome, merging and splitting.

Each function is a use case requiring WORK_CASES: it reads only the cases of the actor's
member (another member's case is NotFound, as a missing one), checks all its input before it
changes a row, writes its audit record and commits once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import transactions_visible
from fundwall.auth.usecase import use_case
from fundwall.cases.model import (
    PRIORITY_ORDER,
    AssigneeFilter,
    CaseChange,
    CaseFilter,
    CaseItem,
    CaseKind,
    CaseStatus,
    CaseView,
    NoteItem,
    Outcome,
    Priority,
)
from fundwall.cases.queries import (
    accounts_in,
    alerts_in,
    alerts_of_case,
    attach,
    case_item,
    case_row,
    case_rows,
    cases_visible,
    colleagues_holding,
    evidence_items,
    find_alert,
    insert_case,
    overdue_clause,
    user_id_of,
)
from fundwall.config import CaseSettings, get_settings
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.store.auth_tables import NOTE
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.police_tables import (
    REASON,
    TITLE,
    CaseAccountRow,
    CaseAlertRow,
    CaseEvidenceRow,
    CaseNoteRow,
    CaseRow,
)
from fundwall.store.tables import ID, AccountRow, TransactionRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.WORK_CASES)
def open_case(
    uow: UnitOfWork,
    actor: Actor,
    kind: CaseKind,
    subject: str,
    *,
    title: str,
    tx_ids: Sequence[str] = (),
    accounts: Sequence[str] = (),
    priority: Priority = Priority.NORMAL,
    settings: CaseSettings | None = None,
) -> CaseView:
    """Open a case by hand: about `subject` (an account number, a holder's party id, a scam
    type such as 刷单返利, a network's name), with the member's alerts `tx_ids` (in no case
    yet) and the `accounts` it is about (the member's, or counterparties of its
    transactions; an account case names its subject). Its deadline is the kind's SLA
    (`settings`, default the deployment's)."""
    session = uow.session
    _check_text(subject, "subject", ID)
    _check_text(title, "title", TITLE)
    if kind is CaseKind.ACCOUNT:
        accounts = [subject, *accounts]
    _check_alerts(session, actor, tx_ids)
    _check_accounts(session, actor, accounts)
    sla = (settings or get_settings().cases).sla_hours(kind.value)
    now = uow.clock.now()
    row = insert_case(
        session, actor, kind, subject, title, priority=priority, now=now, sla_hours=sla
    )
    attach(session, row, tx_ids, accounts, now)
    uow.audit.record(
        actor,
        "case_open",
        f"case:{row.id}",
        {"kind": kind.value, "alerts": len(tx_ids), "accounts": len(set(accounts))},
    )
    uow.commit()
    return _view(uow, actor, row.id)


@use_case(Permission.VIEW_CASES)
def case_queue(uow: UnitOfWork, actor: Actor, wanted: CaseFilter) -> Page[CaseItem]:
    """The member's cases, narrowed by `wanted`: open ones before closed ones, then the most
    urgent, the nearest deadline and the most alerts first (what an analyst takes next)."""
    now = uow.clock.now()
    query, assignee = case_rows(actor)
    if wanted.status is not None:
        query = query.where(CaseRow.status == wanted.status.value)
    if wanted.kind is not None:
        query = query.where(CaseRow.kind == wanted.kind.value)
    if wanted.assignee is AssigneeFilter.ME:
        query = query.where(assignee.id == actor.user_id)
    elif wanted.assignee is AssigneeFilter.NOBODY:
        query = query.where(CaseRow.assignee_id.is_(None))
    if wanted.overdue:
        query = query.where(overdue_clause(now))
    closed = CaseRow.status == CaseStatus.CLOSED.value
    urgency = case(
        *((CaseRow.priority == p.value, rank) for rank, p in enumerate(PRIORITY_ORDER)),
        else_=0,
    )
    query = query.order_by(
        closed, urgency.desc(), CaseRow.deadline, query.selected_columns.alerts.desc(), CaseRow.id
    )
    return fetch_page(uow.session, query, wanted.page, PAGE_SIZE, lambda row: case_item(row, now))


@use_case(Permission.VIEW_CASES)
def case_counts(uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """How many of the member's cases are in each status, and how many are overdue
    (`overdue`)."""
    rows = uow.session.execute(
        select(CaseRow.status, func.count()).where(cases_visible(actor)).group_by(CaseRow.status)
    ).all()
    counts = dict.fromkeys([status.value for status in CaseStatus], 0)
    counts.update({status: count for status, count in rows})
    counts["overdue"] = (
        uow.session.scalar(
            select(func.count())
            .select_from(CaseRow)
            .where(cases_visible(actor), overdue_clause(uow.clock.now()))
        )
        or 0
    )
    return counts


@use_case(Permission.VIEW_CASES)
def get_case(uow: UnitOfWork, actor: Actor, case_id: int) -> CaseView:
    """One of the member's cases with its alerts, accounts, notes and evidence list."""
    return _view(uow, actor, case_id)


@use_case(Permission.WORK_CASES)
def case_colleagues(uow: UnitOfWork, actor: Actor) -> list[str]:
    """Users of the actor's member who may work cases: the people a case can go to."""
    return colleagues_holding(uow.session, actor, Permission.WORK_CASES)


@use_case(Permission.WORK_CASES)
def update_case(uow: UnitOfWork, actor: Actor, case_id: int, change: CaseChange) -> CaseView:
    """Give an open case to a colleague (it is then in progress) or to nobody (open again),
    and set its priority."""
    session = uow.session
    row = _open_row(session, actor, case_id)
    assignee_id = None
    if change.assignee is not None:
        if change.assignee not in colleagues_holding(session, actor, Permission.WORK_CASES):
            raise InvalidInput(
                f"{change.assignee} is not an analyst of member {actor.member}", "assignee"
            )
        assignee_id = user_id_of(session, change.assignee)
    before = {"assignee_id": row.assignee_id, "priority": row.priority, "status": row.status}
    row.assignee_id = assignee_id
    row.priority = change.priority.value
    row.status = (CaseStatus.IN_PROGRESS if assignee_id else CaseStatus.OPEN).value
    row.updated_at = uow.clock.now()
    uow.audit.record(
        actor,
        "case_update",
        f"case:{case_id}",
        {
            "assignee": change.assignee,
            "priority": [before["priority"], row.priority],
            "status": [before["status"], row.status],
        },
    )
    uow.commit()
    return _view(uow, actor, case_id)


@use_case(Permission.WORK_CASES)
def add_note(uow: UnitOfWork, actor: Actor, case_id: int, body: str) -> NoteItem:
    """Add an analyst's note to an open case (at most NOTE characters, no ID or phone
    numbers in clear)."""
    row = _open_row(uow.session, actor, case_id)
    _check_text(body, "note", NOTE)
    now = uow.clock.now()
    note = CaseNoteRow(case_id=row.id, body=body, created_at=now, created_by=actor.audit_id)
    uow.session.add(note)
    row.updated_at = now
    uow.session.flush()
    uow.audit.record(actor, "case_note", f"case:{case_id}", {"note": note.id, "chars": len(body)})
    uow.commit()
    return NoteItem(note.id, note.body, note.created_at, note.created_by)


@use_case(Permission.WORK_CASES)
def close_case(
    uow: UnitOfWork, actor: Actor, case_id: int, outcome: Outcome, reason: str
) -> CaseView:
    """Close an open case with its outcome and the reason for it."""
    row = _open_row(uow.session, actor, case_id)
    _check_text(reason, "reason", REASON)
    now = uow.clock.now()
    row.status = CaseStatus.CLOSED.value
    row.outcome = outcome.value
    row.outcome_reason = reason
    row.closed_at = now
    row.closed_by = actor.audit_id
    row.updated_at = now
    uow.audit.record(actor, "case_close", f"case:{case_id}", {"outcome": outcome.value})
    uow.commit()
    return _view(uow, actor, case_id)


@use_case(Permission.WORK_CASES)
def merge_cases(uow: UnitOfWork, actor: Actor, case_id: int, into: int) -> CaseView:
    """Merge open case `case_id` into open case `into`: its alerts, accounts, notes and
    evidence move over, `into` keeps the earlier deadline and the higher priority, and
    `case_id` is closed as merged (no outcome of its own). Returns the merged case."""
    session = uow.session
    source = _open_row(session, actor, case_id)
    if case_id == into:
        raise InvalidInput("a case cannot be merged into itself", "into")
    target = _open_row(session, actor, into)
    now = uow.clock.now()
    accounts = sorted(accounts_in(session, case_id))
    moved = len(alerts_in(session, case_id))
    session.execute(
        update(CaseAlertRow).where(CaseAlertRow.case_id == case_id).values(case_id=into)
    )
    session.execute(update(CaseNoteRow).where(CaseNoteRow.case_id == case_id).values(case_id=into))
    session.execute(
        update(CaseEvidenceRow).where(CaseEvidenceRow.case_id == case_id).values(case_id=into)
    )
    session.query(CaseAccountRow).filter(CaseAccountRow.case_id == case_id).delete()
    attach(session, target, (), accounts, now)
    target.deadline = min(target.deadline, source.deadline)
    target.priority = max(
        Priority(target.priority), Priority(source.priority), key=PRIORITY_ORDER.index
    ).value
    source.status = CaseStatus.CLOSED.value
    source.merged_into = into
    source.closed_at = now
    source.closed_by = actor.audit_id
    source.updated_at = now
    uow.audit.record(
        actor,
        "case_merge",
        f"case:{case_id}",
        {"into": into, "alerts": moved, "accounts": len(accounts)},
    )
    uow.commit()
    return _view(uow, actor, into)


@use_case(Permission.WORK_CASES)
def split_case(
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    *,
    tx_ids: Sequence[str] = (),
    accounts: Sequence[str] = (),
    title: str,
) -> CaseView:
    """Move the chosen alerts and accounts of open case `case_id` to a new case of the same
    kind, subject, priority, assignee and deadline, titled `title`. Something must be
    chosen, and something left behind. Returns the new case."""
    session = uow.session
    source = _open_row(session, actor, case_id)
    _check_text(title, "title", TITLE)
    alerts = alerts_in(session, case_id)
    held = accounts_in(session, case_id)
    chosen_alerts, chosen_accounts = set(tx_ids), set(accounts)
    if not chosen_alerts and not chosen_accounts:
        raise InvalidInput("choose the alerts or accounts to move", "tx_ids")
    if chosen_alerts - alerts:
        raise InvalidInput(f"not alerts of this case: {sorted(chosen_alerts - alerts)}", "tx_ids")
    if chosen_accounts - held:
        raise InvalidInput(
            f"not accounts of this case: {sorted(chosen_accounts - held)}", "accounts"
        )
    if chosen_alerts == alerts and chosen_accounts == held:
        raise InvalidInput("that moves the whole case; choose less", "tx_ids")
    now = uow.clock.now()
    new = CaseRow(
        member_code=source.member_code,
        kind=source.kind,
        subject=source.subject,
        title=title,
        status=source.status,
        priority=source.priority,
        assignee_id=source.assignee_id,
        opened_at=now,
        opened_by=actor.audit_id,
        deadline=source.deadline,
        updated_at=now,
    )
    session.add(new)
    session.flush()
    session.execute(
        update(CaseAlertRow)
        .where(CaseAlertRow.case_id == case_id, CaseAlertRow.tx_id.in_(chosen_alerts))
        .values(case_id=new.id)
    )
    session.query(CaseAccountRow).filter(
        CaseAccountRow.case_id == case_id, CaseAccountRow.account_no.in_(chosen_accounts)
    ).delete()
    attach(session, new, (), sorted(chosen_accounts), now)
    source.updated_at = now
    uow.audit.record(
        actor,
        "case_split",
        f"case:{case_id}",
        {"new_case": new.id, "alerts": len(chosen_alerts), "accounts": len(chosen_accounts)},
    )
    uow.commit()
    return _view(uow, actor, new.id)


def _view(uow: UnitOfWork, actor: Actor, case_id: int) -> CaseView:
    session = uow.session
    row = case_row(session, actor, case_id)
    query, _ = case_rows(actor)
    item = case_item(session.execute(query.where(CaseRow.id == case_id)).one(), uow.clock.now())
    notes = session.scalars(
        select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.id)
    )
    return CaseView(
        case=item,
        opened_by=row.opened_by,
        outcome_reason=row.outcome_reason,
        closed_by=row.closed_by,
        alerts=tuple(alerts_of_case(session, actor, case_id)),
        accounts=tuple(sorted(accounts_in(session, case_id))),
        notes=tuple(NoteItem(n.id, n.body, n.created_at, n.created_by) for n in notes),
        evidence=tuple(evidence_items(session, case_id)),
    )


def _open_row(session: Session, actor: Actor, case_id: int) -> CaseRow:
    row = case_row(session, actor, case_id)
    if row.status == CaseStatus.CLOSED.value:
        raise Conflict(f"case {case_id} is closed")
    return row


def _check_text(text: str, field: str, limit: int) -> None:
    if not text.strip():
        raise InvalidInput("must not be empty", field)
    if len(text) > limit:
        raise InvalidInput(f"at most {limit} characters", field)
    ensure_no_personal_data(text, field)


def _check_alerts(session: Session, actor: Actor, tx_ids: Sequence[str]) -> None:
    """Each of `tx_ids` is an alert of the member, in no case yet."""
    for tx_id in tx_ids:
        if find_alert(session, actor, tx_id) is None:
            raise NotFound("alert", tx_id)
        in_case = session.scalar(select(CaseAlertRow.case_id).where(CaseAlertRow.tx_id == tx_id))
        if in_case is not None:
            raise Conflict(f"alert {tx_id} is in case {in_case} already")


def _check_accounts(session: Session, actor: Actor, accounts: Sequence[str]) -> None:
    """Each of `accounts` is the member's, or a counterparty in one of its transactions."""
    for account_no in accounts:
        own = exists().where(
            AccountRow.account_no == account_no,
            AccountRow.institution_code == actor.customer_member,
        )
        dealt_with = exists().where(
            or_(
                TransactionRow.payer_account == account_no,
                TransactionRow.payee_account == account_no,
            ),
            transactions_visible(actor),
        )
        if not session.scalar(select(or_(own, dealt_with))):
            raise NotFound("account", account_no)
