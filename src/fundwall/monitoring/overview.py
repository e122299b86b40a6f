"""The overview (总览): decisions per action over time, interceptions, top rules, alerts.

Counts cover live decisions (not shadow) joined to their transactions, and time is the time
the engine decided the transaction as, in Beijing: its own time, or when it was decided if it
was stamped later (`decided_as`). So a replayed history draws its own days, and a stamp far
ahead (9999-12-31) cannot stretch the axis past the latest decision. A member's users
count their member's decisions (on the transactions that belong to it: its customers'
payments and the cash they deposit, `fundwall.domain.ownership`); the hub, the police and
auditors count the region's, and the hub sees each member's line too. Decisions whose
transaction row is not stored are not counted (they have no member and no time).

The overview refreshes every few seconds while a replay or traffic runs, and counting a
region's whole history each time would take seconds. So `OverviewCache` keeps a tally per
scope and folds in only the decisions logged since (decision ids only grow); alerts waiting
are counted afresh each time, since analysts change them. A tally is rebuilt from nothing
every `rebuild_after`, which also picks up any decision committed out of id order.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, TypeVarTuple

from sqlalchemy import ColumnElement, Select, case, func, select, true
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import aggregate_scope, owner_bank
from fundwall.auth.usecase import use_case
from fundwall.cases.queries import is_alert, waiting_clause
from fundwall.domain.decisions import Action
from fundwall.store.auth_tables import AlertWorkRow
from fundwall.store.tables import DecisionRow, InstitutionRow, TransactionRow
from fundwall.store.uow import UnitOfWork

_Ts = TypeVarTuple("_Ts")

HOURLY_SPAN: Final = timedelta(days=3)
"""Up to this span of history the chart has a bar per hour, beyond it a bar per day."""
TOP_RULES: Final = 10
ACTIONS: Final = tuple(Action)
REBUILD_AFTER: Final = timedelta(hours=1)


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


def _joined(query: Select[*_Ts]) -> Select[*_Ts]:
    return query.select_from(DecisionRow).join(
        TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id
    )


def decided_as() -> ColumnElement[datetime]:
    """The transaction's time, but never after its decision: the engine caps a stamp at the
    service's clock the same way (`fundwall.engine.core`)."""
    return case(
        (TransactionRow.ts > DecisionRow.decided_at, DecisionRow.decided_at),
        else_=TransactionRow.ts,
    )


def hour_of(dialect: str, column: Any) -> ColumnElement[str]:
    """The Beijing hour of a UTC time column as text ("2024-03-05 14:00"), on SQLite or
    PostgreSQL."""
    if dialect == "sqlite":
        # Stored as naive UTC text; China has kept UTC+8 without daylight saving since 1991.
        return func.strftime("%Y-%m-%d %H:00", column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD HH24:00")


def rule_ids(dialect: str) -> tuple[Any, ColumnElement[str]]:
    """A table of the reasons of each decision and the rule id of each, for a join."""
    if dialect == "sqlite":
        each = func.json_each(DecisionRow.reasons).table_valued("value", joins_implicitly=True)
        return each, func.json_extract(each.c.value, "$.rule_id")
    each = func.jsonb_array_elements(DecisionRow.reasons).table_valued(
        "value", joins_implicitly=True
    )
    return each, each.c.value.op("->>")("rule_id")


@dataclass
class _Tally:
    """Counts of one scope up to decision id `last_id`."""

    started: float
    last_id: int = 0
    hours: Counter[tuple[str, Action]] = field(default_factory=Counter)
    counts: Counter[Action] = field(default_factory=Counter)
    amounts: Counter[Action] = field(default_factory=Counter)
    member_decisions: Counter[str] = field(default_factory=Counter)
    member_blocked: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    latest: datetime | None = None

    def fold(self, session: Session, scope: ColumnElement[bool] | None) -> None:
        """Add the live decisions logged since `last_id`."""
        newest = session.scalar(select(func.max(DecisionRow.id)))
        if newest is None or newest <= self.last_id:
            return
        dialect = session.get_bind().dialect.name
        window = [
            DecisionRow.shadow.is_(False),
            DecisionRow.id > self.last_id,
            DecisionRow.id <= newest,
        ]
        if scope is not None:
            window.append(scope)
        when = decided_as()
        hour = hour_of(dialect, when).label("hour")
        owner = owner_bank().label("owner")
        rows = session.execute(
            _joined(
                select(
                    owner,
                    hour,
                    DecisionRow.action,
                    func.count(),
                    func.coalesce(func.sum(TransactionRow.amount_fen), 0),
                    func.min(when),
                    func.max(when),
                    func.max(DecisionRow.decided_at),
                )
            )
            .where(*window)
            .group_by(owner, hour, DecisionRow.action)
        ).all()
        for bank, label, code, count, amount, first, last, decided in rows:
            action = Action(code)
            self.hours[(label, action)] += count
            self.counts[action] += count
            self.amounts[action] += amount
            if bank is not None:
                self.member_decisions[bank] += count
                if action is Action.BLOCK:
                    self.member_blocked[bank] += amount
            self.first_ts = first if self.first_ts is None else min(self.first_ts, first)
            self.last_ts = last if self.last_ts is None else max(self.last_ts, last)
            self.latest = decided if self.latest is None else max(self.latest, decided)
        each, rule = rule_ids(dialect)
        rule = rule.label("rule")
        fired = session.execute(
            _joined(select(rule, func.count()))
            .join(each, true())
            .where(*window, DecisionRow.action != Action.PASS.value)
            .group_by(rule)
        ).all()
        for name, count in fired:
            self.rules[str(name)] += count
        self.last_id = newest

    @property
    def hourly(self) -> bool:
        if self.first_ts is None or self.last_ts is None:
            return True
        return self.last_ts - self.first_ts <= HOURLY_SPAN

    def series(self) -> tuple[tuple[str, ...], dict[Action, list[int]]]:
        """Bucket labels and the counts per action, per hour or rolled up per day."""
        per: Counter[tuple[str, Action]] = Counter()
        for (label, action), count in self.hours.items():
            per[(label if self.hourly else label[:10], action)] += count
        buckets = tuple(sorted({label for label, _ in per}))
        return buckets, {action: [per[(label, action)] for label in buckets] for action in ACTIONS}


class OverviewCache:
    """Tallies of the overview per scope (a member, or the whole region), folded forward."""

    def __init__(
        self,
        rebuild_after: timedelta = REBUILD_AFTER,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rebuild_after = rebuild_after.total_seconds()
        self._timer = timer
        self._tallies: dict[str | None, _Tally] = {}
        self._lock = threading.Lock()

    @contextmanager
    def _tally(self, key: str | None) -> Iterator[_Tally]:
        """The tally of scope `key` (a new one when due), alone while the block runs."""
        with self._lock:
            tally = self._tallies.get(key)
            now = self._timer()
            if tally is None or now - tally.started >= self._rebuild_after:
                tally = _Tally(started=now)
            self._tallies[key] = tally
            yield tally


@use_case(Permission.VIEW_OVERVIEW)
def overview(uow: UnitOfWork, actor: Actor, cache: OverviewCache | None = None) -> Overview:
    """The overview as `actor` may see it: folded forward from the tallies in `cache`, or
    counted from nothing without one."""
    session = uow.session
    scope = aggregate_scope(actor)
    key = actor.member if scope is not None else None
    with (cache or OverviewCache())._tally(key) as tally:
        tally.fold(session, scope)
        buckets, series = tally.series()
        return Overview(
            totals=tuple(ActionTotal(a, tally.counts[a], tally.amounts[a]) for a in ACTIONS),
            buckets=buckets,
            series=series,
            hourly=tally.hourly,
            top_rules=tuple(
                sorted(tally.rules.items(), key=lambda item: (-item[1], item[0]))[:TOP_RULES]
            ),
            alerts_waiting=_waiting(session, scope),
            members=_members(session, tally) if actor.can(Permission.VIEW_REGION) else (),
            latest_decision_at=tally.latest,
        )


def _waiting_query() -> Select[Any, int]:
    owner = owner_bank().label("owner")
    return (
        _joined(select(owner, func.count()))
        .outerjoin(AlertWorkRow, AlertWorkRow.tx_id == DecisionRow.tx_id)
        .where(DecisionRow.shadow.is_(False), is_alert(), waiting_clause())
        .group_by(owner)
    )


def _waiting(session: Session, scope: ColumnElement[bool] | None) -> int:
    query = _waiting_query() if scope is None else _waiting_query().where(scope)
    return sum(count for _, count in session.execute(query).all())


def _members(session: Session, tally: _Tally) -> tuple[MemberLine, ...]:
    """One line per member: its decisions, waiting alerts and blocked amount."""
    waiting = {bank: count for bank, count in session.execute(_waiting_query()).all()}
    names = {
        code: (zh, en)
        for code, zh, en in session.execute(
            select(InstitutionRow.code, InstitutionRow.name_zh, InstitutionRow.name_en)
        ).all()
    }
    return tuple(
        MemberLine(
            code,
            *names.get(code, (code, code)),
            decisions=tally.member_decisions[code],
            alerts_waiting=waiting.get(code, 0),
            blocked_fen=tally.member_blocked[code],
        )
        for code in sorted(tally.member_decisions)
    )
