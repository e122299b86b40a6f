"""Backtest a rule pack on a region folder: replay its transactions, score the decisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.metrics import evaluate
from fundwall.engine.backtest.networks import ScoreFlags
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


def backtest_region(
    folder: Path,
    pack: RulePack,
    decide: Replay = replay,
    *,
    since: datetime | None = None,
    scores: ScoreFlags | None = None,
) -> Backtest:
    """Replay the folder's transactions through `pack` (as the live pack: each pack of a
    comparison gets its own replay, since what one pack blocks changes the balances and
    limits the next transactions meet) and score the decisions; with `since`, only the
    transactions at or after it are scored (the whole history is still replayed, so the
    features and balances of that period are what they were); `scores` adds the 跑分
    networks against an accounts model's mule score (`fundwall.models.score_backtest`)."""
    region = region_of(folder)
    transactions = read_table(folder, "transactions")
    tx_labels = read_table(folder, "tx_labels")
    account_labels = read_table(folder, "account_labels")
    decisions = decide(folder, pack)
    if since is not None:
        kept = pc.greater_equal(transactions["ts"], pa.scalar(since, transactions["ts"].type))
        if not pc.any(kept).as_py():
            raise InvalidInput(f"no transaction at or after {since.isoformat()}", "from")
        transactions = transactions.filter(kept)
        tx_labels = tx_labels.filter(kept)
        decisions = decisions.filter(pc.is_in(decisions["tx_id"], transactions["tx_id"]))
    return evaluate(decisions, transactions, tx_labels, account_labels, region, scores)
