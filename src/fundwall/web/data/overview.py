"""The overview (总览): decisions per action over time, interceptions, top rules, alerts.

Counts cover live decisions (not shadow) joined to their transactions, and time is the
transaction's time in Beijing, so a replayed history draws its own days. A member's users
count their member's decisions; the hub, the police and auditors count the region's, and
the hub sees each member's line too. Decisions whose transaction row is not stored are not
counted (they have no member and no time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import aggregate_scope
from fundwall.domain.decisions import Action
from fundwall.store.auth_tables import AlertWorkRow
from fundwall.store.tables import DecisionRow, InstitutionRow, TransactionRow
from fundwall.web.data.alerts import is_alert, waiting_clause

_Ts = TypeVarTuple("_Ts")

HOURLY_SPAN: Final = timedelta(days=3)
"""Up to this span of history the chart has a bar per hour, beyond it a bar per day."""
TOP_RULES: Final = 10
ACTIONS: Final = tuple(Action)


@dataclass(frozen=True, slots=True)
class ActionTotal:
    action: Action
    count: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class MemberLine:
    code: str
    name_zh: str
    name_en: str
    decisions: int
    alerts_waiting: int
    blocked_fen: int


@dataclass(frozen=True, slots=True)
class Overview:
    totals: tuple[ActionTotal, ...]
    buckets: tuple[str, ...]
    """Beijing-time labels: "2024-03-05" per day or "2024-03-05 14:00" per hour."""
    series: dict[Action, list[int]]
    """Decisions per action in each bucket, in the order of `buckets`."""
    hourly: bool
    top_rules: tuple[tuple[str, int], ...]
    alerts_waiting: int
    members: tuple[MemberLine, ...]
    latest_decision_at: datetime | None

    def total(self, action: Action) -> ActionTotal:
        return next(total for total in self.totals if total.action is action)

    @property
    def decisions(self) -> int:
        return sum(total.count for total in self.totals)


def _live(scope: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [DecisionRow.shadow.is_(False)]
    if scope is not None:
        conditions.append(scope)
    return conditions


def _joined(query: Select[*_Ts]) -> Select[*_Ts]:
    return query.select_from(DecisionRow).join(
        TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id
    )


def bucket(dialect: str, column: Any, hourly: bool) -> ColumnElement[str]:
    """The Beijing hour or day of a UTC time column, as text, on SQLite or PostgreSQL."""
    if dialect == "sqlite":
        # Stored as naive UTC text; China has kept UTC+8 without daylight saving since 1991.
        return func.strftime("%Y-%m-%d %H:00" if hourly else "%Y-%m-%d", column, "+8 hours")
    pattern = "YYYY-MM-DD HH24:00" if hourly else "YYYY-MM-DD"
    return func.to_char(func.timezone("Asia/Shanghai", column), pattern)


def rule_ids(dialect: str) -> tuple[Any, ColumnElement[str]]:
    """A table of the reasons of each decision and the rule id of each, for a join."""
    if dialect == "sqlite":
        each = func.json_each(DecisionRow.reasons).table_valued("value", joins_implicitly=True)
        return each, func.json_extract(each.c.value, "$.rule_id")
    each = func.jsonb_array_elements(DecisionRow.reasons).table_valued(
        "value", joins_implicitly=True
    )
    return each, each.c.value.op("->>")("rule_id")


def overview(session: Session, actor: Actor) -> Overview:
    """The overview as `actor` may see it."""
    actor.require(Permission.VIEW_OVERVIEW)
    scope = aggregate_scope(actor)
    dialect = session.get_bind().dialect.name
    live = _live(scope)

    totals_rows = session.execute(
        _joined(
            select(
                DecisionRow.action,
                func.count(),
                func.coalesce(func.sum(TransactionRow.amount_fen), 0),
            )
        )
        .where(*live)
        .group_by(DecisionRow.action)
    ).all()
    found = {Action(action): (count, amount) for action, count, amount in totals_rows}
    totals = tuple(ActionTotal(a, *found.get(a, (0, 0))) for a in ACTIONS)

    first, last, latest = session.execute(
        _joined(
            select(
                func.min(TransactionRow.ts),
                func.max(TransactionRow.ts),
                func.max(DecisionRow.decided_at),
            )
        ).where(*live)
    ).one()
    hourly = first is not None and last - first <= HOURLY_SPAN
    label = bucket(dialect, TransactionRow.ts, hourly).label("bucket")
    counted = session.execute(
        _joined(select(label, DecisionRow.action, func.count()))
        .where(*live)
        .group_by(label, DecisionRow.action)
        .order_by(label)
    ).all()
    buckets = tuple(sorted({row[0] for row in counted}))
    position = {name: i for i, name in enumerate(buckets)}
    series = {action: [0] * len(buckets) for action in ACTIONS}
    for name, action, count in counted:
        series[Action(action)][position[name]] = count

    each, rule = rule_ids(dialect)
    rule = rule.label("rule")
    top = session.execute(
        _joined(select(rule, func.count().label("fired")))
        .join(each, true())
        .where(*live, DecisionRow.action != Action.PASS.value)
        .group_by(rule)
        .order_by(func.count().desc(), rule)
        .limit(TOP_RULES)
    ).all()

    waiting = session.execute(
        _joined(select(func.count()))
        .outerjoin(AlertWorkRow, AlertWorkRow.tx_id == DecisionRow.tx_id)
        .where(*live, is_alert(), waiting_clause())
    ).scalar_one()

    members = _members(session) if actor.can(Permission.VIEW_REGION) else ()
    return Overview(
        totals=totals,
        buckets=buckets,
        series=series,
        hourly=hourly,
        top_rules=tuple((str(name), int(count)) for name, count in top),
        alerts_waiting=int(waiting),
        members=members,
        latest_decision_at=latest,
    )


def _members(session: Session) -> tuple[MemberLine, ...]:
    """One line per paying member: its decisions, waiting alerts and blocked amount."""
    blocked = func.sum(TransactionRow.amount_fen).filter(DecisionRow.action == Action.BLOCK.value)
    waiting = func.count().filter(is_alert(), waiting_clause())
    rows = session.execute(
        _joined(
            select(
                TransactionRow.payer_bank,
                InstitutionRow.name_zh,
                InstitutionRow.name_en,
                func.count(),
                waiting,
                func.coalesce(blocked, 0),
            )
        )
        .join(InstitutionRow, InstitutionRow.code == TransactionRow.payer_bank)
        .outerjoin(AlertWorkRow, AlertWorkRow.tx_id == DecisionRow.tx_id)
        .where(DecisionRow.shadow.is_(False))
        .group_by(TransactionRow.payer_bank, InstitutionRow.name_zh, InstitutionRow.name_en)
        .order_by(TransactionRow.payer_bank)
    ).all()
    return tuple(
        MemberLine(str(code), name_zh, name_en, decisions, waiting, blocked)
        for code, name_zh, name_en, decisions, waiting, blocked in rows
    )
