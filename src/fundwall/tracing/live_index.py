"""The transfer index the police's traces walk: one per database in the process, built once
from the store on the first trace, then brought up to date before each trace by reading only
the transactions decided after its watermark (the last live decision folded in). It is never
rebuilt per trace.

The index follows the engine's order of the ledger (`fundwall.engine.decision_log`): first
the history loaded without decisions, by time, then each decided transaction in the order of
its first live decision, at the time it was decided (the engine caps a transaction's time at
it). A blocked transaction moved nothing and is left out. Limit: history loaded into the
store after the index was built (`fundwall load` while the service runs) is not seen until
the process restarts.

A lock per database serialises bringing the index up to date and tracing over it, so a trace
never reads an index half extended.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fundwall.store.uow import UnitOfWork
from fundwall.tracing.index import Columns, Directory, TransferIndex, to_us
from fundwall.tracing.model import AttributionRule, TraceResult, TraceStart
from fundwall.tracing.queries import decided_since, ledger_accounts, undecided_history
from fundwall.tracing.trace import trace

_TX_ID, _TS, _PAYER, _PAYEE, _PAYEE_BANK, _AMOUNT, _DECISION, _DECIDED_AT = range(8)


@dataclass
class _Live:
    index: TransferIndex
    watermark: int
    lock: threading.Lock = field(default_factory=threading.Lock)


_LIVE: Final[WeakKeyDictionary[Engine, _Live]] = WeakKeyDictionary()
_BUILDING: Final = threading.Lock()


def traced(
    uow: UnitOfWork,
    starts: Sequence[TraceStart],
    rule: AttributionRule,
    *,
    max_hops: int,
    as_of: datetime,
) -> TraceResult:
    """A trace over the database's index, brought up to date first."""
    live = _live(uow.session)
    with live.lock:
        tail = decided_since(uow.session, live.watermark)
        if tail:
            live.index.extend(_columns(tail))
            live.watermark = tail[-1][_DECISION]
        return trace(live.index, tuple(starts), rule, as_of=as_of, max_hops=max_hops)


def _live(session: Session) -> _Live:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _BUILDING:
        live = _LIVE.get(engine)
        if live is None:
            accounts = ledger_accounts(session)
            directory = Directory(
                [number for number, _, _ in accounts],
                [bank for _, bank, _ in accounts],
                [opening for _, _, opening in accounts],
            )
            # The history first, then what was decided (in decision order), as the engine folds.
            history = undecided_history(session)
            decided = decided_since(session, 0)
            index = TransferIndex.of(directory, _columns([*history, *decided]))
            live = _LIVE[engine] = _Live(index, decided[-1][_DECISION] if decided else 0)
        return live


def _columns(rows: Sequence[tuple[Any, ...]]) -> Columns:
    return Columns(
        [row[_TX_ID] for row in rows],
        [to_us(_moved_at(row)) for row in rows],
        [row[_PAYER] for row in rows],
        [row[_PAYEE] for row in rows],
        [row[_PAYEE_BANK] for row in rows],
        [row[_AMOUNT] for row in rows],
    )


def _moved_at(row: tuple[Any, ...]) -> datetime:
    """When the money moved: the transaction's time, capped at its decision's (if decided)."""
    ts: datetime = row[_TS]
    decided_at: datetime | None = row[_DECIDED_AT] if len(row) > _DECIDED_AT else None
    return ts if decided_at is None else min(ts, decided_at)
