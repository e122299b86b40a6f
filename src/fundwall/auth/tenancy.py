"""Tenancy (数据隔离) in the query: which rows an actor may see at all.

A member's actors see the accounts it holds, the transactions in which one of its accounts
pays or receives, and the decisions and alerts on the transactions that belong to it: those
it submits and decides, its customers' payments and the cash they deposit
(`fundwall.domain.ownership`). A police unit's actors see the police scope: the accounts its
orders name (all but refused ones) and those of the clues it accepted, the holders of those
accounts and the transactions in which one of them pays or receives; never a bank's
decisions or alerts. Everyone else sees no customer rows: the hub works with aggregates, the
auditor with the audit log.

Services filter with these clauses, so a row of another member is simply not found: asking
for it by id raises NotFound, exactly as for an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import ColumnElement, CompoundSelect, and_, case, false, or_, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.domain.errors import NotFound
from fundwall.domain.ownership import OWNING_SIDE, Side
from fundwall.domain.police import IN_SCOPE_CLUE_STATUSES, IN_SCOPE_ORDER_STATUSES
from fundwall.store.police_tables import ClueAccountRow, ClueRow, PoliceOrderRow
from fundwall.store.tables import AccountRow, TransactionRow

_SIDE_BANK: Final[Mapping[Side, InstrumentedAttribute[str | None]]] = {
    Side.PAYER: TransactionRow.payer_bank,
    Side.PAYEE: TransactionRow.payee_bank,
}
_SIDE_ACCOUNT: Final[Mapping[Side, InstrumentedAttribute[str | None]]] = {
    Side.PAYER: TransactionRow.payer_account,
    Side.PAYEE: TransactionRow.payee_account,
}


def _kinds(side: Side) -> list[str]:
    return [kind.value for kind, owning in OWNING_SIDE.items() if owning is side]


def owner_bank() -> ColumnElement[Any]:
    """SQL on `transactions`: the member each transaction belongs to, built from the table
    `fundwall.domain.ownership.owner_of` reads (to group aggregates by member)."""
    return case(
        *((TransactionRow.kind.in_(_kinds(side)), bank) for side, bank in _SIDE_BANK.items())
    )


def _on_owning_side(
    columns: Mapping[Side, InstrumentedAttribute[str | None]], value: str
) -> ColumnElement[bool]:
    """WHERE clause on `transactions`: the owning side's column (of `columns`) is `value`,
    written side by side so the indexes on each column serve it."""
    return or_(
        *(
            and_(TransactionRow.kind.in_(_kinds(side)), column == value)
            for side, column in columns.items()
        )
    )


def owned_by(member: str) -> ColumnElement[bool]:
    """WHERE clause on `transactions`: those that belong to `member` (`owner_bank() ==
    member`)."""
    return _on_owning_side(_SIDE_BANK, member)


def owned_through(account_no: str) -> ColumnElement[bool]:
    """WHERE clause on `transactions`: those its owner answers for by `account_no`, the
    payer's account (the payee's of a deposit)."""
    return _on_owning_side(_SIDE_ACCOUNT, account_no)


def police_scope(unit: str) -> CompoundSelect[tuple[str]]:
    """The account numbers in police unit `unit`'s scope: named by its orders (but refused
    ones) or by the clues it accepted."""
    return union(
        select(PoliceOrderRow.account_no).where(
            PoliceOrderRow.police_unit == unit,
            PoliceOrderRow.status.in_([status.value for status in IN_SCOPE_ORDER_STATUSES]),
        ),
        select(ClueAccountRow.account_no)
        .join(ClueRow, ClueRow.id == ClueAccountRow.clue_id)
        .where(
            ClueRow.police_unit == unit,
            ClueRow.status.in_([status.value for status in IN_SCOPE_CLUE_STATUSES]),
        ),
    )


def _police_unit(actor: Actor) -> str | None:
    """The police unit whose scope the actor reads, or None for an actor of no police unit."""
    police = actor.role.is_police and actor.can(Permission.VIEW_CUSTOMER_DATA)
    return actor.member if police else None


def accounts_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `accounts`: the accounts the actor may see."""
    unit = _police_unit(actor)
    if unit is not None:
        return AccountRow.account_no.in_(police_scope(unit))
    member = actor.customer_member
    if member is None:
        return false()
    return AccountRow.institution_code == member


def transactions_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `transactions`: those in which the actor's member pays or receives
    (for the police: in which an account of the scope does)."""
    unit = _police_unit(actor)
    if unit is not None:
        return or_(
            TransactionRow.payer_account.in_(police_scope(unit)),
            TransactionRow.payee_account.in_(police_scope(unit)),
        )
    member = actor.customer_member
    if member is None:
        return false()
    return or_(TransactionRow.payer_bank == member, TransactionRow.payee_bank == member)


def decisions_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `transactions` joined to `decisions`: the decisions the actor's
    member made, i.e. on the transactions that belong to it."""
    member = actor.customer_member
    if member is None:
        return false()
    return owned_by(member)


def aggregate_scope(actor: Actor) -> ColumnElement[bool] | None:
    """WHERE clause on `transactions` joined to `decisions` for counts and sums: a member's
    actor counts its member's decisions (on the transactions that belong to it); anyone else
    (hub, police, auditor) the region's, in aggregate only. None means the whole region."""
    if actor.member is not None and actor.customer_member is not None:
        return owned_by(actor.member)
    return None


def visible_account(session: Session, actor: Actor, account_no: str) -> AccountRow:
    """The account if the actor may see it; NotFound otherwise, as if it did not exist."""
    actor.require(Permission.VIEW_CUSTOMER_DATA)
    row = session.scalars(
        select(AccountRow).where(AccountRow.account_no == account_no, accounts_visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound("account", account_no)
    return row


def visible_transaction(session: Session, actor: Actor, tx_id: str) -> TransactionRow:
    """The transaction if the actor may see it; NotFound otherwise."""
    actor.require(Permission.VIEW_CUSTOMER_DATA)
    row = session.scalars(
        select(TransactionRow).where(TransactionRow.tx_id == tx_id, transactions_visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound("transaction", tx_id)
    return row
