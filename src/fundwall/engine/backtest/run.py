"""Backtest a rule pack on a region folder: replay its transactions, score the decisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.metrics import evaluate
from fundwall.engine.backtest.result import Backtest, Region
from fundwall.engine.replay import replay
from fundwall.engine.rules import RulePack
from fundwall.region import read_table

Replay = Callable[[Path, RulePack], pa.Table]
"""Decides every transaction of a region folder with a pack: a table with tx_id, action,
score, pack_version and model_version, one row a transaction."""


def region_of(folder: Path) -> Region:
    """The folder's name and, from its manifest.json, its source (sim, amlsim, paysim)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a region folder", "folder")
    manifest = folder / "manifest.json"
    source = None
    if manifest.is_file():
        try:
            body = json.loads(manifest.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInput(f"{manifest} is not JSON: {error}", "folder") from None
        found = body.get("source") if isinstance(body, dict) else None
        source = found if isinstance(found, str) else None
    return Region(name=folder.resolve().name, source=source)


def backtest_region(folder: Path, pack: RulePack, decide: Replay = replay) -> Backtest:
    """Replay the folder's transactions through `pack` (as the live pack: each pack of a
    comparison gets its own replay, since what one pack blocks changes the balances and
    limits the next transactions meet) and score the decisions."""
    region = region_of(folder)
    transactions = read_table(folder, "transactions")
    tx_labels = read_table(folder, "tx_labels")
    account_labels = read_table(folder, "account_labels")
    return evaluate(decide(folder, pack), transactions, tx_labels, account_labels, region)
