"""The JSON object of a backtest: stable keys, documented, and the comparison of two packs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from test_backtest_metrics import ACCOUNTS, ROWS, region_tables

from fundwall.engine.backtest import (
    COMPARISON_FORMAT,
    FORMAT,
    Backtest,
    Region,
    compare,
    evaluate,
    leaves,
)

DOCS = Path(__file__).parents[2] / "docs" / "backtest.md"


def hand_made(rows: list[Any] = ROWS) -> Backtest:
    decisions, transactions, labels, account_labels = region_tables(rows, ACCOUNTS)
    return evaluate(decisions, transactions, labels, account_labels, Region("hand", "sim"))


def keys(body: Any) -> set[str]:
    if not isinstance(body, dict):
        return set()
    return set(body) | {key for value in body.values() for key in keys(value)}


def test_json_object_starts_with_its_format_and_round_trips() -> None:
    body = hand_made().to_dict()
    assert next(iter(body)) == "format"
    assert body["format"] == FORMAT
    assert list(body) == [
        "format",
        "region",
        "pack_version",
        "model_version",
        "transactions",
        "actions",
        "score",
        "detected",
        "intercepted",
        "victim_money",
        "accounts",
        "networks",
    ]
    assert json.loads(json.dumps(body)) == body
    assert body["detected"]["actions"] == ["alert", "warn", "delay", "block"]


def test_every_key_is_documented() -> None:
    documented = set(re.findall(r"`([a-z0-9_]+)`", DOCS.read_text(encoding="utf-8")))
    assert keys(hand_made().to_dict()) - documented == set()


def test_keys_do_not_depend_on_the_data() -> None:
    # Without victims or fraud many figures are null, but every key is still there.
    plain = [("n1", 0, "N1", "N2", 100, "normal", None, "pass", 0)]
    full = [path for path, _ in leaves(hand_made().to_dict())]
    empty = [path for path, _ in leaves(hand_made(plain).to_dict())]
    assert full == empty


def test_comparison_has_both_results_and_the_difference() -> None:
    base = hand_made()
    decisions, transactions, labels, account_labels = region_tables(ROWS, ACCOUNTS)
    # The other pack also blocks t1 (the 10000 fen victim payment of S1).
    other_decisions = decisions.set_column(
        1, "action", [["block" if row[0] == "t1" else row[7] for row in ROWS]]
    ).set_column(3, "pack_version", [["2025.2:def"] * len(ROWS)])
    other = evaluate(other_decisions, transactions, labels, account_labels, Region("hand", "sim"))
    body = compare(base, other)
    assert list(body) == ["format", "base", "other", "difference"]
    assert body["format"] == COMPARISON_FORMAT
    assert body["base"]["pack_version"] == "2025.1:abc"
    assert body["other"]["pack_version"] == "2025.2:def"
    delta = body["difference"]
    assert delta["actions.block.count"] == 1
    assert delta["actions.pass.count"] == -1
    assert delta["victim_money.first_hop_fen"] == 10000
    # S1's chain: 6000 held before, now 16000 held, capped at its 10000 loss.
    assert delta["victim_money.chain_fen"] == 4000
    assert delta["intercepted.fraud.recall"] == 4 / 6 - 3 / 6
    assert delta["score.pr_auc"] == 0
    assert "pack_version" not in delta
    assert "region.name" not in delta
    assert "detected.actions" not in delta


def test_difference_is_null_where_a_side_is_not_available() -> None:
    base = hand_made()
    missing = replace(base, score=replace(base.score, pr_auc=None))
    delta = compare(base, missing)["difference"]
    assert "score.pr_auc" in delta
    assert delta["score.pr_auc"] is None
    assert delta["transactions.total"] == 0
