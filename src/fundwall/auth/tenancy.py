"""Tenancy (数据隔离) in the query: which rows an actor may see at all.

A member's actors see the accounts it holds, the transactions in which one of its accounts
pays or receives, and the decisions and alerts on the transactions its customers pay (the
paying member is the one that decides). Everyone else sees no customer rows: the hub works
with aggregates, the auditor with the audit log, and the police with what their orders
cover, which arrives with the orders.

Services filter with these clauses, so a row of another member is simply not found: asking
for it by id raises NotFound, exactly as for an id that does not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.domain.errors import NotFound
from fundwall.store.tables import AccountRow, TransactionRow


def accounts_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `accounts`: the accounts the actor may see."""
    member = actor.customer_member
    if member is None:
        return false()
    return AccountRow.institution_code == member


def transactions_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `transactions`: those in which the actor's member pays or receives."""
    member = actor.customer_member
    if member is None:
        return false()
    return or_(TransactionRow.payer_bank == member, TransactionRow.payee_bank == member)


def decisions_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `transactions` joined to `decisions`: the decisions the actor's
    member made, i.e. on transactions its customers pay."""
    member = actor.customer_member
    if member is None:
        return false()
    return TransactionRow.payer_bank == member


def aggregate_scope(actor: Actor) -> ColumnElement[bool] | None:
    """WHERE clause on `transactions` joined to `decisions` for counts and sums: a member's
    actor counts its member's decisions; anyone else (hub, police, auditor) the region's,
    in aggregate only. None means the whole region."""
    if actor.member is not None and actor.customer_member is not None:
        return TransactionRow.payer_bank == actor.member
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
