"""Stored backtest results: save, list, load, and files that are not results."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_backtest_metrics import ACCOUNTS, ROWS, region_tables

from fundwall.clock import FixedClock
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.backtest import Backtest, Region, difference, evaluate, figures
from fundwall.engine.backtest.storage import (
    backtest_path,
    list_backtests,
    load_backtest,
    save_backtest,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def result(region: str = "small7", version: str = "2025.1:abc") -> Backtest:
    decisions, transactions, labels, account_labels = region_tables(ROWS, ACCOUNTS)
    made = evaluate(decisions, transactions, labels, account_labels, Region(region, "sim"))
    return replace(made, pack_version=version)


def test_saved_result_lists_and_loads(tmp_path: Path) -> None:
    first = result()
    path = save_backtest(first, tmp_path, FixedClock(NOW))
    assert path == tmp_path / "backtests" / "2025.1_abc-small7.json"
    save_backtest(result("aml20k"), tmp_path, FixedClock(NOW))
    save_backtest(result(version="2025.2:def"), tmp_path, FixedClock(NOW))
    listed = [(e.pack_version, e.region, e.source, e.saved_at) for e in list_backtests(tmp_path)]
    assert listed == [
        ("2025.1:abc", "aml20k", "sim", NOW),
        ("2025.1:abc", "small7", "sim", NOW),
        ("2025.2:def", "small7", "sim", NOW),
    ]
    loaded = load_backtest(tmp_path, "2025.1:abc", "small7")
    assert loaded == {**json.loads(json.dumps(first.to_dict())), "saved_at": NOW.isoformat()}
    assert sorted(p.name for p in (tmp_path / "backtests").iterdir()) == [
        "2025.1_abc-aml20k.json",
        "2025.1_abc-small7.json",
        "2025.2_def-small7.json",
    ]


def test_saving_again_replaces(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    save_backtest(result(), tmp_path, clock)
    later = datetime(2025, 2, 1, tzinfo=UTC)
    clock.set(later)
    save_backtest(result(), tmp_path, clock)
    assert [e.saved_at for e in list_backtests(tmp_path)] == [later]


def test_nothing_stored(tmp_path: Path) -> None:
    assert list_backtests(tmp_path) == []
    with pytest.raises(NotFound, match="backtest not found: v1 on r"):
        load_backtest(tmp_path, "v1", "r")


def test_names_sharing_a_file_name_are_told_apart(tmp_path: Path) -> None:
    save_backtest(result(version="a:b"), tmp_path, FixedClock(NOW))
    assert backtest_path(tmp_path, "a_b", "small7") == backtest_path(tmp_path, "a:b", "small7")
    with pytest.raises(NotFound):
        load_backtest(tmp_path, "a_b", "small7")


def test_stored_results_compare_like_the_results_themselves(tmp_path: Path) -> None:
    base, other = result(), result(version="2025.2:def")
    save_backtest(base, tmp_path, FixedClock(NOW))
    save_backtest(other, tmp_path, FixedClock(datetime(2025, 2, 1, tzinfo=UTC)))
    mine = load_backtest(tmp_path, "2025.1:abc", "small7")
    theirs = load_backtest(tmp_path, "2025.2:def", "small7")
    assert figures(mine) == figures(base.to_dict())
    assert difference(mine, theirs) == difference(base.to_dict(), other.to_dict())


def test_result_without_pack_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no pack version"):
        save_backtest(result(version=None), tmp_path, FixedClock(NOW))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot be read"),
        ('{"format": "other"}', "is not a fundwall-backtest/1 result"),
        ('{"format": "fundwall-backtest/1"}', "lacks a field"),
    ],
)
def test_foreign_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    folder = tmp_path / "backtests"
    folder.mkdir()
    (folder / "x-y.json").write_text(content)
    with pytest.raises(InvalidInput, match=message) as caught:
        list_backtests(tmp_path)
    assert "x-y.json" in str(caught.value)
