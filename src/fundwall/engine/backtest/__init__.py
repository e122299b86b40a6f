"""Backtests (回测): a rule pack's decisions on a labelled region, scored against the labels.

`evaluate` is the pure scoring of a decision table; docs/backtest.md defines every figure.
"""

from fundwall.engine.backtest.metrics import DETECTED, INTERCEPTED, evaluate
from fundwall.engine.backtest.networks import ScoreFlags
from fundwall.engine.backtest.ranking import average_precision, quantile
from fundwall.engine.backtest.result import (
    COMPARISON_FORMAT,
    FORMAT,
    AccountFlags,
    AccountReport,
    ActionCount,
    Backtest,
    DetectedNetworks,
    Detection,
    FlagReport,
    MinutesToFlag,
    NetworkFlags,
    NetworkReport,
    NetworkWindow,
    PlantedNetwork,
    Region,
    ScoredNetworkFlags,
    ScoredNetworks,
    ScoreRanking,
    TransactionCounts,
    VictimMoney,
    compare,
    difference,
    figures,
    leaves,
)

__all__ = [
    "COMPARISON_FORMAT",
    "DETECTED",
    "FORMAT",
    "INTERCEPTED",
    "AccountFlags",
    "AccountReport",
    "ActionCount",
    "Backtest",
    "DetectedNetworks",
    "Detection",
    "FlagReport",
    "MinutesToFlag",
    "NetworkFlags",
    "NetworkReport",
    "NetworkWindow",
    "PlantedNetwork",
    "Region",
    "ScoreFlags",
    "ScoreRanking",
    "ScoredNetworkFlags",
    "ScoredNetworks",
    "TransactionCounts",
    "VictimMoney",
    "average_precision",
    "compare",
    "difference",
    "evaluate",
    "figures",
    "leaves",
    "quantile",
]
