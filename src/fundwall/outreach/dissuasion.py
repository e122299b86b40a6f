"""Victim warning (预警劝阻): a `warn` decision on a payment becomes a dissuasion task at the
payer's bank: a warning SMS to the payer's bound phone at once, and a call due within
`outreach.call_within_minutes`, claimed by one of the bank's staff and closed with its
outcome. A dissuaded payer's payment is cancelled in the same transaction. Use cases; a
member works its own tasks only (another member's task is not found).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import OutreachSettings, get_settings
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone, mask_account
from fundwall.domain.transactions import TransactionKind
from fundwall.outreach.model import (
    DissuasionFigures,
    DissuasionOutcome,
    DissuasionTask,
    SmsPurpose,
    SmsStatus,
    TaskStatus,
)
from fundwall.outreach.queries import cancellation_of, queue_sms, write_cancellation
from fundwall.phones.queries import current_binding
from fundwall.store.auth_tables import NOTE
from fundwall.store.engine_tables import PaymentCancellationRow
from fundwall.store.outreach_tables import DissuasionTaskRow, SmsMessageRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import AccountRow, DecisionRow, InstitutionRow, TransactionRow
from fundwall.store.uow import UnitOfWork

ROUND_TASKS: Final = 500
"""At most this many tasks a call of `raise_dissuasion_tasks` makes (the next call goes on)."""
QUEUE_ROWS: Final = 200
"""A queue page shows at most this many tasks, the most urgent first."""


def _member(actor: Actor) -> str:
    member = actor.customer_member
    if member is None:
        raise PermissionDenied(
            f"dissuasion tasks are a member's, of its customers ({actor.audit_id})"
        )
    return member


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def _new_warnings(
    member: str | None, since: datetime | None, after: int | None
) -> Select[DecisionRow, TransactionRow, AccountRow]:
    """Live warn decisions on payments from an account held in the store, with no task yet
    and not cancelled; `member`'s only (None: every member's), decided at `since` or later,
    logged after decision `after`."""
    query = (
        select(DecisionRow, TransactionRow, AccountRow)
        .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
        .join(
            AccountRow,
            (AccountRow.account_no == TransactionRow.payer_account)
            & (AccountRow.institution_code == TransactionRow.payer_bank),
        )
        .where(
            DecisionRow.shadow.is_(False),
            DecisionRow.action == Action.WARN.value,
            ~exists().where(DissuasionTaskRow.decision_id == DecisionRow.id),
            ~exists().where(PaymentCancellationRow.tx_id == TransactionRow.tx_id),
        )
        .order_by(DecisionRow.id)
    )
    if member is not None:
        query = query.where(TransactionRow.payer_bank == member)
    if since is not None:
        query = query.where(DecisionRow.decided_at >= since)
    if after is not None:
        query = query.where(DecisionRow.id > after)
    return query


@use_case(Permission.WORK_DISSUASION)
def newest_decision(uow: UnitOfWork, actor: Actor) -> int:
    """The id of the last decision logged (0: none): where a timer's next round of
    `raise_dissuasion_tasks` starts (its `after_decision`)."""
    return int(uow.session.scalar(select(func.max(DecisionRow.id))) or 0)


@use_case(Permission.WORK_DISSUASION)
def raise_dissuasion_tasks(
    uow: UnitOfWork,
    actor: Actor,
    *,
    since: datetime | None = None,
    after_decision: int | None = None,
    limit: int = ROUND_TASKS,
    settings: OutreachSettings | None = None,
) -> list[int]:
    """Make a task of each new warn decision (the actor's member's; the operator's: every
    member's) decided at `since` or later and logged after decision `after_decision`, at
    most `limit`: the warning SMS queued to the payer's bound phone (none when the bank bound
    none) and the call due within `call_within_minutes`. Idempotent: a decision gets one
    task. The tasks' ids."""
    config = settings if settings is not None else get_settings().outreach
    if limit < 1:
        raise InvalidInput("at least 1", "limit")
    member = actor.member
    if member is not None:
        member = _member(actor)
    session, keyring = uow.session, uow.keyring
    now = uow.clock.now()
    banks: dict[str, str] = {}
    created = []
    warnings = _new_warnings(member, since, after_decision).limit(limit)
    for decision, tx, account in session.execute(warnings):
        bank = account.institution_code
        if bank not in banks:
            institution = session.get(InstitutionRow, bank)
            banks[bank] = institution.name_zh if institution is not None else bank
        binding = current_binding(session, bank, account.party_id)
        sms = None
        if binding is not None:
            # A withdrawal has no payee: its warning speaks of the cash (上门取现 scams).
            cash = tx.kind == TransactionKind.WITHDRAWAL.value or not tx.payee_account
            variables = {"bank": banks[bank], "amount": _yuan(tx.amount_fen)}
            if not cash:
                variables["payee_tail"] = (tx.payee_account or "")[-4:]
            sms = queue_sms(
                uow,
                actor,
                phone=keyring.decrypt(binding.phone_enc),
                template="dissuasion_warning_cash" if cash else "dissuasion_warning",
                variables=variables,
                member=bank,
                purpose=SmsPurpose.WARNING,
                party_id=account.party_id,
                idempotency_key=f"dissuasion:{decision.id}",
                settings=config,
            )
        task = DissuasionTaskRow(
            member=bank,
            decision_id=decision.id,
            tx_id=tx.tx_id,
            payer_account=account.account_no,
            party_id=account.party_id,
            amount_fen=tx.amount_fen,
            warned_at=decision.decided_at,
            created_at=now,
            due_at=now + timedelta(minutes=config.call_within_minutes),
            sms_id=sms,
            status=TaskStatus.OPEN.value,
        )
        session.add(task)
        session.flush()
        uow.audit.record(
            actor,
            "raise_dissuasion_task",
            f"dissuasion_task:{task.id}",
            {"tx_id": tx.tx_id, "decision": decision.id, "sms": sms, "member": bank},
        )
        created.append(task.id)
    uow.commit()
    return created


@use_case(Permission.WORK_DISSUASION)
def dissuasion_queue(
    uow: UnitOfWork, actor: Actor, status: TaskStatus | None = None
) -> list[DissuasionTask]:
    """The member's tasks: open and claimed ones by their deadline, the soonest first, then
    closed ones, the latest first; at most `QUEUE_ROWS`."""
    member = _member(actor)
    query = select(DissuasionTaskRow).where(DissuasionTaskRow.member == member)
    if status is not None:
        query = query.where(DissuasionTaskRow.status == status.value)
    closed = DissuasionTaskRow.status == TaskStatus.CLOSED.value
    query = query.order_by(
        closed, DissuasionTaskRow.due_at, DissuasionTaskRow.closed_at.desc(), DissuasionTaskRow.id
    ).limit(QUEUE_ROWS)
    if status is TaskStatus.CLOSED:
        query = query.order_by(None).order_by(
            DissuasionTaskRow.closed_at.desc(), DissuasionTaskRow.id.desc()
        )
    now = uow.clock.now()
    return [_task(uow, row, now) for row in uow.session.scalars(query)]


@use_case(Permission.WORK_DISSUASION)
def get_dissuasion_task(uow: UnitOfWork, actor: Actor, task_id: int) -> DissuasionTask:
    """One of the member's tasks; another member's is not found."""
    return _task(uow, _own(uow.session, _member(actor), task_id), uow.clock.now())


@use_case(Permission.WORK_DISSUASION)
def claim_dissuasion_task(uow: UnitOfWork, actor: Actor, task_id: int) -> DissuasionTask:
    """Take the task to call the payer; 409 when someone else has it or it is closed."""
    row = _own(uow.session, _member(actor), task_id)
    _workable(row, actor)
    if row.status == TaskStatus.OPEN.value:
        record = uow.audit.record(
            actor, "claim_dissuasion_task", f"dissuasion_task:{row.id}", {"tx_id": row.tx_id}
        )
        row.status, row.claimed_by, row.claimed_at = (
            TaskStatus.CLAIMED.value,
            actor.audit_id,
            record.ts,
        )
        uow.commit()
    return _task(uow, row, uow.clock.now())


@use_case(Permission.WORK_DISSUASION)
def record_dissuasion_outcome(
    uow: UnitOfWork, actor: Actor, task_id: int, outcome: DissuasionOutcome, note: str | None
) -> DissuasionTask:
    """Close the task with the call's outcome and a note (at most 1,000 characters, no ID or
    phone number). A dissuaded payer's payment is cancelled in the same transaction (unless
    cancelled already). 409 when the task is closed or someone else has it."""
    row = _own(uow.session, _member(actor), task_id)
    _workable(row, actor)
    text = (note or "").strip() or None
    if text is not None:
        if len(text) > NOTE:
            raise InvalidInput(f"at most {NOTE} characters", "note")
        ensure_no_personal_data(text, "note")
    cancellation = None
    if outcome is DissuasionOutcome.DISSUADED and cancellation_of(uow.session, row.tx_id) is None:
        cancellation = write_cancellation(
            uow, actor, row.tx_id, f"payer dissuaded (劝阻成功), dissuasion task {row.id}"
        ).id
    now = uow.clock.now()
    record = uow.audit.record(
        actor,
        "close_dissuasion_task",
        f"dissuasion_task:{row.id}",
        {
            "tx_id": row.tx_id,
            "outcome": outcome.value,
            "overdue": now > row.due_at,
            "cancellation": cancellation,
        },
    )
    if row.claimed_by is None:
        row.claimed_by, row.claimed_at = actor.audit_id, record.ts
    row.status = TaskStatus.CLOSED.value
    row.outcome, row.note = outcome.value, text
    row.closed_at, row.closed_by = record.ts, actor.audit_id
    uow.commit()
    return _task(uow, row, now)


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A payment its payer gave up (劝阻止付)."""

    tx_id: str
    decision_id: int
    reason: str
    cancelled_at: datetime
    cancelled_by: str

    def to_dict(self) -> dict[str, object]:
        return {
            "tx_id": self.tx_id,
            "decision_id": self.decision_id,
            "reason": self.reason,
            "cancelled_at": self.cancelled_at.isoformat(),
            "cancelled_by": self.cancelled_by,
        }


@use_case(Permission.WORK_DISSUASION)
def cancel_payment(uow: UnitOfWork, actor: Actor, tx_id: str, reason: str) -> Cancellation:
    """Cancel a payment of the member's customer that the engine warned on or delayed, on
    the payer's word: its money never moves (balances leave it out) and its decision reads
    cancelled. The payer's bank only (403 for the payee's; another member's transaction is
    not found); a passed or blocked payment, or one cancelled already, is 409."""
    row = write_cancellation(uow, actor, tx_id, reason)
    uow.commit()
    return Cancellation(row.tx_id, row.decision_id, row.reason, row.cancelled_at, row.cancelled_by)


@use_case(Permission.WORK_DISSUASION)
def dissuasion_figures(
    uow: UnitOfWork, actor: Actor, start: datetime, end: datetime
) -> list[DissuasionFigures]:
    """The tasks made in [start, end) by outcome, open and overdue: the member's own (the
    operator's: each member's)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("a time with its zone", "start" if start.tzinfo is None else "end")
    if end <= start:
        raise InvalidInput("the period ends after it starts", "end")
    member = actor.member if actor.member is None else _member(actor)
    now = uow.clock.now()
    late = func.coalesce(DissuasionTaskRow.closed_at, now) > DissuasionTaskRow.due_at
    query = (
        select(
            DissuasionTaskRow.member,
            DissuasionTaskRow.status,
            DissuasionTaskRow.outcome,
            late.label("late"),
            func.count(),
        )
        .where(DissuasionTaskRow.created_at >= start, DissuasionTaskRow.created_at < end)
        .group_by(
            DissuasionTaskRow.member, DissuasionTaskRow.status, DissuasionTaskRow.outcome, late
        )
    )
    if member is not None:
        query = query.where(DissuasionTaskRow.member == member)
    tasks: Counter[str] = Counter()
    opened: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    outcomes: dict[str, Counter[DissuasionOutcome]] = {}
    for code, status, outcome, is_late, count in uow.session.execute(query):
        tasks[code] += count
        outcomes.setdefault(code, Counter())
        if outcome is not None:
            outcomes[code][DissuasionOutcome(outcome)] += count
        if status != TaskStatus.CLOSED.value:
            opened[code] += count
        if is_late:
            overdue[code] += count
    members = sorted(tasks) if member is None else [member]
    return [
        DissuasionFigures(
            code,
            tasks[code],
            {o: outcomes.get(code, Counter())[o] for o in DissuasionOutcome},
            opened[code],
            overdue[code],
        )
        for code in members
    ]


def _own(session: Session, member: str, task_id: int) -> DissuasionTaskRow:
    row = session.get(DissuasionTaskRow, task_id)
    if row is None or row.member != member:
        raise NotFound("dissuasion task", str(task_id))
    return row


def _workable(row: DissuasionTaskRow, actor: Actor) -> None:
    if row.status == TaskStatus.CLOSED.value:
        raise Conflict(f"dissuasion task {row.id} is closed ({row.outcome})")
    if row.claimed_by is not None and row.claimed_by != actor.audit_id:
        raise Conflict(f"dissuasion task {row.id} is being worked by {row.claimed_by}")


def _task(uow: UnitOfWork, row: DissuasionTaskRow, now: datetime) -> DissuasionTask:
    session = uow.session
    tx = session.get(TransactionRow, row.tx_id)
    phone = None
    if row.party_id is not None:
        binding = current_binding(session, row.member, row.party_id)
        if binding is not None:
            phone = str(MobilePhone(uow.keyring.decrypt(binding.phone_enc)))
    sms = session.get(SmsMessageRow, row.sms_id) if row.sms_id is not None else None
    closed = row.closed_at
    return DissuasionTask(
        id=row.id,
        member=row.member,
        tx_id=row.tx_id,
        payer_account=row.payer_account,
        payee_account=(
            mask_account(tx.payee_account) if tx is not None and tx.payee_account else None
        ),
        amount_fen=row.amount_fen,
        warned_at=row.warned_at,
        created_at=row.created_at,
        due_at=row.due_at,
        status=TaskStatus(row.status),
        overdue=(closed if closed is not None else now) > row.due_at,
        phone=phone,
        sms_status=SmsStatus(sms.status) if sms is not None else None,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        outcome=DissuasionOutcome(row.outcome) if row.outcome else None,
        note=row.note,
        closed_at=closed,
        closed_by=row.closed_by,
        cancelled=cancellation_of(session, row.tx_id) is not None,
    )
