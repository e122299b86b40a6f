"""Stored backtest results (回测) side by side, for judging a pack before promoting it.

The engine keeps each result as JSON under `<data_dir>/backtests` (`fundwall backtest
--save`); these use cases list them and line up two results on the same region figure by
figure: the figures a reviewer reads first (`KEY_FIGURES`), then every figure the result
holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest import difference, leaves
from fundwall.engine.backtest.storage import StoredBacktest, list_backtests, load_backtest


class Unit(StrEnum):
    COUNT = "count"
    MONEY = "money"
    SHARE = "share"
    MINUTES = "minutes"


KEY_FIGURES: Final = (
    "transactions.total",
    "transactions.fraud",
    "transactions.fraud_amount_fen",
    "actions.alert.count",
    "actions.warn.count",
    "actions.delay.count",
    "actions.block.count",
    "actions.block.amount_fen",
    "score.pr_auc",
    "detected.fraud.precision",
    "detected.fraud.recall",
    "detected.fraud.recall_by_amount",
    "intercepted.fraud.precision",
    "intercepted.fraud.recall",
    "intercepted.fraud.hits_amount_fen",
    "victim_money.first_hop_share",
    "victim_money.chain_share",
    "accounts.pr_auc",
    "accounts.detected.recall",
    "accounts.detected.precision",
    "accounts.detected.minutes_to_flag.median",
)
"""The figures a reviewer reads first, in order; docs/backtest.md defines each."""

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


@use_case(Permission.VIEW_RULE_PACKS)
def stored_backtests(actor: Actor, data_dir: Path | None) -> list[StoredBacktest]:
    """Every stored result (none without a data directory)."""
    return list_backtests(data_dir) if data_dir is not None else []


@use_case(Permission.VIEW_RULE_PACKS)
def side_by_side(
    actor: Actor, data_dir: Path | None, region: str, base: str, other: str
) -> SideBySide:
    """Two packs' results on one region, figure by figure; NotFound if either is missing."""
    if data_dir is None:
        raise InvalidInput("this console has no data directory with backtests", "region")
    mine = load_backtest(data_dir, base, region)
    theirs = load_backtest(data_dir, other, region)
    values_mine, values_theirs = dict(leaves(mine)), dict(leaves(theirs))
    changes = difference(mine, theirs)

    def figure(path: str) -> Figure:
        return Figure(
            path,
            unit_of(path),
            values_mine.get(path),
            values_theirs.get(path),
            changes.get(path),
        )

    return SideBySide(
        region=region,
        base=mine,
        other=theirs,
        key=tuple(figure(path) for path in KEY_FIGURES),
        every=tuple(figure(path) for path in changes),
    )
