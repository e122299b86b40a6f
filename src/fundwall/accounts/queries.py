"""The account rows the accounts use cases share, and the writes of restrictions that the
police orders make too; entrypoints never import them (tests/test_architecture.py).

The writers here check nothing of the actor: their callers are use cases that have."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from fundwall.auth.actor import Actor
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.changes import stamp_change
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.engine_tables import AccountRestrictionRow, AccountStatusChangeRow
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow
from fundwall.store.uow import UnitOfWork


def write_status(
    uow: UnitOfWork, actor: Actor, row: AccountRow, status: AccountStatus, reason: str
) -> AccountStatus:
    """Write an account's new status, its history row and the audit record, and commit;
    returns the previous status. The callers (`set_account_status`, and `change_account`
    for a member's report) have checked the actor and the change."""
    previous = AccountStatus(row.status)
    record = uow.audit.record(
        actor,
        "set_account_status",
        f"account:{mask_account(row.account_no)}",
        {"from": previous.value, "to": status.value, "reason": reason},
    )
    row.status = status.value
    uow.session.add(
        AccountStatusChangeRow(
            account_no=row.account_no,
            status=status.value,
            previous=previous.value,
            reason=reason,
            changed_at=record.ts,
            changed_by=record.actor,
            revision=record.seq,
        )
    )
    uow.commit()
    return previous


def write_restriction(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    kind: RestrictionKind,
    *,
    reason: str,
    starts_at: datetime,
    ends_at: datetime | None,
    amount_fen: int | None,
    order_reference: str | None,
) -> AccountRestrictionRow:
    """Write a restriction and its audit record, not yet committed (the caller commits it
    with whatever else belongs to the same change, such as a police order)."""
    record = uow.audit.record(
        actor,
        "restrict_account",
        f"account:{mask_account(account_no)}",
        {
            "kind": kind.value,
            "amount_fen": amount_fen,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat() if ends_at else None,
            "reference": order_reference,
            "reason": reason,
        },
    )
    row = AccountRestrictionRow(
        account_no=account_no,
        kind=kind.value,
        amount_fen=amount_fen,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        reference=order_reference,
    )
    stamp_change(uow, row, record)
    return row


def end_restriction(uow: UnitOfWork, actor: Actor, row: AccountRestrictionRow, reason: str) -> None:
    """Lift a restriction now, audited, not yet committed; the engine stops enforcing it
    from its next transaction."""
    record = uow.audit.record(
        actor,
        "lift_restriction",
        f"account:{mask_account(row.account_no)}",
        {"restriction": row.id, "kind": row.kind, "reason": reason},
    )
    row.lifted_at = record.ts
    row.lifted_by = record.actor
    row.revision = record.seq


def extend_restriction(
    uow: UnitOfWork, actor: Actor, row: AccountRestrictionRow, ends_at: datetime, reason: str
) -> None:
    """Move a restriction's end to `ends_at` (a renewal), audited, not yet committed."""
    record = uow.audit.record(
        actor,
        "extend_restriction",
        f"account:{mask_account(row.account_no)}",
        {
            "restriction": row.id,
            "kind": row.kind,
            "from": row.ends_at.isoformat() if row.ends_at else None,
            "to": ends_at.isoformat(),
            "reason": reason,
        },
    )
    row.ends_at = ends_at
    row.revision = record.seq


def moved_money() -> ColumnElement[bool]:
    """WHERE clause on `transactions`: those that moved money after the loaded history, the
    decided ones but those the engine blocked (they moved nothing). A balance is the
    account's `balance_fen` (after the loaded history; decisions never change it) plus
    what these moved in and out."""
    blocked = exists().where(
        DecisionRow.tx_id == TransactionRow.tx_id,
        DecisionRow.shadow.is_(False),
        DecisionRow.action == Action.BLOCK.value,
    )
    decided = exists().where(DecisionRow.tx_id == TransactionRow.tx_id)
    return and_(decided, ~blocked)


def settled_balance(uow: UnitOfWork, account: AccountRow) -> int:
    """What the account holds now, as the engine's ledger counts it (`moved_money`)."""
    number = account.account_no
    delta = case(
        (TransactionRow.payee_account == number, TransactionRow.amount_fen),
        else_=-TransactionRow.amount_fen,
    )
    moved = uow.session.scalar(
        select(func.coalesce(func.sum(delta), 0)).where(
            or_(TransactionRow.payer_account == number, TransactionRow.payee_account == number),
            moved_money(),
        )
    )
    return account.balance_fen + int(moved or 0)
