"""A shadow pack against the live one on the same transactions (影子对比): how often they
agree, the money each would have blocked, and, for a member, its transactions decided
differently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import aliased

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import aggregate_scope, decisions_visible
from fundwall.auth.usecase import use_case
from fundwall.domain.decisions import Action
from fundwall.store.tables import DecisionRow, TransactionRow
from fundwall.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Comparison:
    """Shadow version against the live decisions on the same transactions.

    `matrix[(live_action, shadow_action)]` counts transactions; `amounts` sums their money.
    """

    shadow_version: str
    transactions: int
    matrix: dict[tuple[Action, Action], int]
    amounts: dict[tuple[Action, Action], int]

    def agreeing(self) -> int:
        return sum(count for (live, shadow), count in self.matrix.items() if live is shadow)

    def column(self, shadow: Action) -> int:
        return sum(count for (_, action), count in self.matrix.items() if action is shadow)

    def row(self, live: Action) -> int:
        return sum(count for (action, _), count in self.matrix.items() if action is live)

    def blocked_fen(self, side: str) -> int:
        index = 0 if side == "live" else 1
        return sum(amount for pair, amount in self.amounts.items() if pair[index] is Action.BLOCK)


def _compared(scope: ColumnElement[bool] | None, shadow_version: str) -> tuple[Any, Any]:
    live = aliased(DecisionRow)
    shadow = aliased(DecisionRow)
    query = (
        select()
        .select_from(shadow)
        .join(live, (live.tx_id == shadow.tx_id) & live.shadow.is_(False))
        .join(TransactionRow, TransactionRow.tx_id == shadow.tx_id)
        .where(shadow.shadow.is_(True), shadow.pack_version == shadow_version)
    )
    if scope is not None:
        query = query.where(scope)
    return query, (live, shadow)


@use_case(Permission.VIEW_RULE_PACKS)
def compare_shadow(uow: UnitOfWork, actor: Actor, shadow_version: str) -> Comparison:
    """How `shadow_version` decided against the live decisions, in the actor's scope."""
    query, (live, shadow) = _compared(aggregate_scope(actor), shadow_version)
    rows = uow.session.execute(
        query.add_columns(
            live.action, shadow.action, func.count(), func.sum(TransactionRow.amount_fen)
        ).group_by(live.action, shadow.action)
    ).all()
    matrix = {(Action(a), Action(b)): int(n) for a, b, n, _ in rows}
    amounts = {(Action(a), Action(b)): int(total or 0) for a, b, _, total in rows}
    return Comparison(shadow_version, sum(matrix.values()), matrix, amounts)


@dataclass(frozen=True, slots=True)
class Disagreement:
    tx_id: str
    ts: datetime
    amount_fen: int
    live: Action
    shadow: Action


@use_case(Permission.VIEW_RULE_PACKS)
def disagreements(
    uow: UnitOfWork, actor: Actor, shadow_version: str, limit: int = 50
) -> Sequence[Disagreement]:
    """The member's latest transactions where shadow and live decided differently (none for
    actors without customer data: they see the counts only)."""
    if actor.customer_member is None:
        return []
    query, (live, shadow) = _compared(decisions_visible(actor), shadow_version)
    rows = uow.session.execute(
        query.add_columns(
            TransactionRow.tx_id,
            TransactionRow.ts,
            TransactionRow.amount_fen,
            live.action,
            shadow.action,
        )
        .where(live.action != shadow.action)
        .order_by(TransactionRow.ts.desc())
        .limit(limit)
    ).all()
    return [Disagreement(t, ts, amount, Action(a), Action(b)) for t, ts, amount, a, b in rows]
