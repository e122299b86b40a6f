"""Interception (交易拦截): the transactions the engine blocked or delayed, and the payers it
warned, with their amounts: the banks' own decisions, so no police unit's figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import owned_by
from fundwall.domain.decisions import Action
from fundwall.monitoring.overview import decided_as
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import within
from fundwall.store.tables import DecisionRow, TransactionRow

_SEARCH = "/transactions?action={action}&from={first}&to={last}"


def _link(action: Action) -> tuple[Link, ...]:
    return (Link(_SEARCH.replace("{action}", action.value), Permission.VIEW_CUSTOMER_DATA),)


_OF_ACTION = {
    Action.BLOCK.value: ("blocked", "blocked_fen"),
    Action.DELAY.value: ("delayed", "delayed_fen"),
    Action.WARN.value: ("warned", None),
}
_KEYS = ("blocked", "blocked_fen", "delayed", "delayed_fen", "warned")


def compute(session: Session, scope: Scope, windows: Sequence[Window]) -> list[Mapping[str, int]]:
    """One pass over the decisions of the windows' span, each counted in its window: a
    month's trend reads the month's decisions once, not once a day."""
    when = decided_as()
    window_of = case(
        *((within(when, window), index) for index, window in enumerate(windows)), else_=-1
    ).label("window")
    start = min(window.start for window in windows)
    where = [
        DecisionRow.shadow.is_(False),
        DecisionRow.action.in_([Action.BLOCK.value, Action.DELAY.value, Action.WARN.value]),
        # decided_as is never after the transaction's own time, so this bound holds too and
        # lets the index on transactions.ts narrow the rows.
        TransactionRow.ts >= start,
        within(when, Window(start, max(window.end for window in windows))),
    ]
    if scope.kind is ScopeKind.MEMBER and scope.code is not None:
        where.append(owned_by(scope.code))
    rows = session.execute(
        select(window_of, DecisionRow.action, func.count(), func.sum(TransactionRow.amount_fen))
        .select_from(DecisionRow)
        .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
        .where(*where)
        .group_by(window_of, DecisionRow.action)
    ).all()
    figures: list[dict[str, int]] = [dict.fromkeys(_KEYS, 0) for _ in windows]
    for index, action, count, amount in rows:
        if index < 0:
            continue  # in the span, between windows that do not touch
        count_key, amount_key = _OF_ACTION[action]
        figures[index][count_key] += int(count)
        if amount_key is not None:
            figures[index][amount_key] += int(amount or 0)
    return list(figures)


SECTION = Section(
    key="interceptions",
    zh="涉诈交易拦截",
    en="Fraud transactions intercepted",
    figures=(
        Figure("blocked", "拦截交易", "Transactions blocked", Unit.COUNT, _link(Action.BLOCK)),
        Figure("blocked_fen", "拦截金额", "Amount blocked", Unit.FEN, _link(Action.BLOCK)),
        Figure("delayed", "延迟到账交易", "Transactions delayed", Unit.COUNT, _link(Action.DELAY)),
        Figure("delayed_fen", "延迟到账金额", "Amount delayed", Unit.FEN, _link(Action.DELAY)),
        Figure("warned", "预警提示交易", "Payers warned", Unit.COUNT, _link(Action.WARN)),
    ),
    scopes=frozenset({ScopeKind.REGION, ScopeKind.MEMBER}),
    compute=compute,
)
