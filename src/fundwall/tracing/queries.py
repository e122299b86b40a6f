"""The traces in SQL, for the use cases of `fundwall.tracing.traces`: whose traces an actor
sees, what the store's ledger says for the live index (the accounts at their opening balance,
the movements decided after a watermark), and how each traced account stands now (stopped,
frozen, open). Entrypoints never import this.

A police unit's actors see the unit's traces; the server's operator every trace; nobody else
any (a bank learns of a trace through the orders routed to it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, select, true, union_all
from sqlalchemy.orm import Session, aliased

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Role
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound
from fundwall.engine.controls.model import RestrictionKind
from fundwall.police.queries import visible_orders
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow
from fundwall.store.trace_tables import TraceRow
from fundwall.tracing.model import proposed_stops
from fundwall.tracing.stored import result_of
from fundwall.tracing.views import (
    Batch,
    BatchOrder,
    SkippedStop,
    Standing,
    TraceItem,
    TraceView,
)

MAX_ID: Final = 2**63 - 1
"""The largest id a database column holds; a larger one names no trace."""
_MOVEMENT: Final = (
    TransactionRow.tx_id,
    TransactionRow.ts,
    TransactionRow.payer_account,
    TransactionRow.payee_account,
    TransactionRow.payee_bank,
    TransactionRow.amount_fen,
)
_CHUNK: Final = 500
"""Accounts one IN (…) names at most."""
_STANDING_OF: Final = {
    RestrictionKind.STOP_PAYMENT.value: Standing.STOPPED,
    RestrictionKind.FREEZE.value: Standing.FROZEN,
}


def traces_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `traces`: the traces the actor may see."""
    if actor.role is Role.OPERATOR:
        return true()
    if actor.member is None or not actor.role.is_police:
        return false()
    return TraceRow.police_unit == actor.member


def visible_traces(actor: Actor) -> Select[Any]:
    return select(TraceRow).where(traces_visible(actor))


def visible_trace(session: Session, actor: Actor, trace_id: int) -> TraceRow:
    """The trace if the actor may see it; NotFound otherwise, as if it did not exist."""
    if not 1 <= trace_id <= MAX_ID:
        raise NotFound("trace", str(trace_id))
    row: TraceRow | None = session.scalars(
        visible_traces(actor).where(TraceRow.id == trace_id)
    ).one_or_none()
    if row is None:
        raise NotFound("trace", str(trace_id))
    return row


def standings(session: Session, accounts: Iterable[str], now: datetime) -> dict[str, Standing]:
    """How each account stands now: stopped (a stop-payment in force), frozen (a freeze in
    force, which holds more than a stop) or open."""
    wanted = sorted(set(accounts))
    found = dict.fromkeys(wanted, Standing.OPEN)
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(AccountRestrictionRow.account_no, AccountRestrictionRow.kind).where(
                AccountRestrictionRow.account_no.in_(wanted[start : start + _CHUNK]),
                AccountRestrictionRow.kind.in_(list(_STANDING_OF)),
                AccountRestrictionRow.lifted_at.is_(None),
                AccountRestrictionRow.starts_at <= now,
                AccountRestrictionRow.ends_at.is_(None) | (AccountRestrictionRow.ends_at > now),
            )
        )
        for account_no, kind in rows:
            if found[account_no] is not Standing.FROZEN:
                found[account_no] = _STANDING_OF[kind]
    return found


def ledger_accounts(session: Session) -> list[tuple[str, str, int]]:
    """Every account: number, bank, and the balance it had before the store's history (the
    balance after the loaded history, minus that history's net flow; decisions never change
    `balance_fen`, see `fundwall.engine.decision_log`)."""
    undecided = ~exists().where(DecisionRow.tx_id == TransactionRow.tx_id)
    flows = union_all(
        select(TransactionRow.payer_account.label("account"),
               (-TransactionRow.amount_fen).label("delta"))
        .where(TransactionRow.payer_account.is_not(None), undecided),
        select(TransactionRow.payee_account.label("account"),
               TransactionRow.amount_fen.label("delta"))
        .where(TransactionRow.payee_account.is_not(None), undecided),
    ).subquery()  # fmt: skip
    net = select(flows.c.account, func.sum(flows.c.delta)).group_by(flows.c.account)
    moved = {account: int(total) for account, total in session.execute(net)}
    rows = session.execute(
        select(AccountRow.account_no, AccountRow.institution_code, AccountRow.balance_fen)
        .order_by(AccountRow.account_no)
    )  # fmt: skip
    return [(number, bank, balance - moved.get(number, 0)) for number, bank, balance in rows]


def decided_since(session: Session, after_decision: int) -> list[tuple[Any, ...]]:
    """The transactions whose first live decision came after `after_decision`, in that
    order, each with that decision's id and time; a blocked one moved nothing and is left out.
    Reads only the decisions after the watermark."""
    earlier = aliased(DecisionRow)
    first = ~exists().where(
        earlier.tx_id == DecisionRow.tx_id, earlier.shadow.is_(False), earlier.id < DecisionRow.id
    )
    query = (
        select(*_MOVEMENT, DecisionRow.id, DecisionRow.decided_at)
        .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
        .where(
            and_(
                DecisionRow.id > after_decision,
                DecisionRow.shadow.is_(False),
                DecisionRow.action != Action.BLOCK.value,
                first,
            )
        )
        .order_by(DecisionRow.id)
    )
    return [tuple(row) for row in session.execute(query)]


def undecided_history(session: Session) -> list[tuple[Any, ...]]:
    """The transactions loaded as history (no decision), by time and id: the engine's order."""
    undecided = ~exists().where(DecisionRow.tx_id == TransactionRow.tx_id)
    query = select(*_MOVEMENT).where(undecided).order_by(TransactionRow.ts, TransactionRow.tx_id)
    return [tuple(row) for row in session.execute(query)]


def trace_view(session: Session, actor: Actor, row: TraceRow, now: datetime) -> TraceView:
    """A stored trace as its reader sees it now: its accounts' standing, its batch's orders
    as they stand (those the reader may see)."""
    result = result_of(row.rule, row.starts, row.as_of, row.result)
    return TraceView(
        row.id,
        row.police_unit,
        row.max_hops,
        row.created_at,
        row.created_by,
        result,
        proposed_stops(result),
        standings(session, (account.account_no for account in result.accounts), now),
        _batch(session, actor, row),
    )


def trace_item(row: TraceRow) -> TraceItem:
    accounts = row.result["accounts"]
    return TraceItem(
        row.id,
        row.rule,
        row.created_at,
        len(row.starts),
        len(accounts),
        sum(amount for account in accounts for _, amount in account["held"]),
        row.batch_confirmed_at is not None,
        row.police_unit,
    )


def _batch(session: Session, actor: Actor, row: TraceRow) -> Batch | None:
    if row.batch is None or row.batch_confirmed_at is None or row.batch_confirmed_by is None:
        return None
    documents = [order["document_no"] for order in row.batch["orders"]]
    found = {
        order.document_no: order
        for order in session.scalars(
            visible_orders(actor).where(PoliceOrderRow.document_no.in_(documents))
        )
    } if documents else {}  # fmt: skip
    return Batch(
        row.batch_confirmed_at,
        row.batch_confirmed_by,
        tuple(
            BatchOrder(
                order["account_no"],
                order["bank"],
                order["amount_fen"],
                order["document_no"],
                found[order["document_no"]].id if order["document_no"] in found else None,
                found[order["document_no"]].status if order["document_no"] in found else None,
            )
            for order in row.batch["orders"]
        ),
        tuple(
            SkippedStop(item["account_no"], Standing(item["standing"]))
            for item in row.batch["skipped"]
        ),
    )
