"""Stored backtest results (回测) side by side, for judging a pack before promoting it.

The engine keeps each result as JSON under `<data_dir>/backtests` (`fundwall backtest
--save`); this module lists them and lines up two results on the same region figure by
figure: the figures a reviewer reads first, then every figure the result holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest import difference, leaves
from fundwall.engine.backtest.storage import StoredBacktest, list_backtests, load_backtest
from fundwall.web.i18n import N_


class Unit(StrEnum):
    COUNT = "count"
    MONEY = "money"
    SHARE = "share"
    MINUTES = "minutes"


KEY_FIGURES: Final = (
    ("transactions.total", N_("Transactions")),
    ("transactions.fraud", N_("Fraud transactions")),
    ("transactions.fraud_amount_fen", N_("Fraud money")),
    ("actions.alert.count", N_("Alerts")),
    ("actions.warn.count", N_("Warnings")),
    ("actions.delay.count", N_("Delayed transactions")),
    ("actions.block.count", N_("Blocked transactions")),
    ("actions.block.amount_fen", N_("Blocked money")),
    ("score.pr_auc", N_("Score ranking (average precision)")),
    ("detected.fraud.precision", N_("Precision of flags (alert or worse)")),
    ("detected.fraud.recall", N_("Fraud transactions flagged")),
    ("detected.fraud.recall_by_amount", N_("Fraud money flagged")),
    ("intercepted.fraud.precision", N_("Precision of interceptions (delay, block)")),
    ("intercepted.fraud.recall", N_("Fraud transactions intercepted")),
    ("intercepted.fraud.hits_amount_fen", N_("Fraud money intercepted")),
    ("victim_money.first_hop_share", N_("Victim money held at the first hop")),
    ("victim_money.chain_share", N_("Victim money held anywhere in the chain")),
    ("accounts.pr_auc", N_("Mule account ranking (average precision)")),
    ("accounts.detected.recall", N_("Mule accounts flagged")),
    ("accounts.detected.precision", N_("Precision of flagged accounts")),
    ("accounts.detected.minutes_to_flag.median", N_("Minutes to flag a mule (median)")),
)
"""The figures shown first, with their labels; docs/backtest.md defines each."""

_SHARES: Final = ("precision", "recall", "rate", "share", "pr_auc", "prevalence", "by_amount")


def unit_of(path: str) -> Unit:
    """How a figure reads, from its name."""
    last = path.rsplit(".", 1)[-1]
    if last.endswith("_fen"):
        return Unit.MONEY
    if any(last == word or last.endswith(f"_{word}") for word in _SHARES):
        return Unit.SHARE
    if path.rsplit(".", 2)[-2:-1] == ["minutes_to_flag"] and last in ("median", "p90"):
        return Unit.MINUTES
    return Unit.COUNT


@dataclass(frozen=True, slots=True)
class Figure:
    path: str
    label: str
    """English label (translated where shown); the path when the figure has none."""
    unit: Unit
    base: Any
    other: Any
    change: Any
    """other − base; None when either is not available."""


@dataclass(frozen=True, slots=True)
class SideBySide:
    region: str
    base: Mapping[str, Any]
    other: Mapping[str, Any]
    key: tuple[Figure, ...]
    every: tuple[Figure, ...]


def stored_backtests(actor: Actor, data_dir: Path | None) -> list[StoredBacktest]:
    """Every stored result (none without a data directory)."""
    actor.require(Permission.VIEW_RULE_PACKS)
    return list_backtests(data_dir) if data_dir is not None else []


def side_by_side(
    actor: Actor, data_dir: Path | None, region: str, base: str, other: str
) -> SideBySide:
    """Two packs' results on one region, figure by figure; NotFound if either is missing."""
    actor.require(Permission.VIEW_RULE_PACKS)
    if data_dir is None:
        raise InvalidInput("this console has no data directory with backtests", "region")
    mine = load_backtest(data_dir, base, region)
    theirs = load_backtest(data_dir, other, region)
    values_mine, values_theirs = dict(leaves(mine)), dict(leaves(theirs))
    changes = difference(mine, theirs)
    labels = dict(KEY_FIGURES)

    def figure(path: str) -> Figure:
        return Figure(
            path,
            labels.get(path, path),
            unit_of(path),
            values_mine.get(path),
            values_theirs.get(path),
            changes.get(path),
        )

    return SideBySide(
        region=region,
        base=mine,
        other=theirs,
        key=tuple(figure(path) for path, _ in KEY_FIGURES),
        every=tuple(figure(path) for path in changes),
    )
