"""The soak (`fundwall bench --soak`): its warm-up and verdicts, and a short run end to end.

No figure is held to a speed or a size here: the machines are shared. The verdicts' logic is
tested on figures made up for it; the short run shows every figure is there and sane.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from fundwall.bench.goals import SOAK_GOALS, all_met, verdicts
from fundwall.bench.loadgen import pass_length
from fundwall.bench.report import render_soak
from fundwall.bench.soak import Interval, judge, region_time, warm_up_decisions
from fundwall.engine.service import RECENT
from fundwall.region import read_table
from fundwall.sim.run import simulate

from .bench_process import run_bench


def intervals(rss: list[float], p99: list[float], per_interval: int = 100) -> list[Interval]:
    """One interval a minute with these memory and p99 figures, `per_interval` decisions each."""
    return [
        Interval(
            end_seconds=60.0 * (i + 1),
            decisions=per_interval,
            decided_so_far=per_interval * (i + 1),
            p50_ms=ms / 2,
            p99_ms=ms,
            rss_mb=mb,
            server_cpu_us_per_decision=400.0,
            load_average_1m=1.0,
        )
        for i, (mb, ms) in enumerate(zip(rss, p99, strict=True))
    ]


def judged(figures: dict[str, object]) -> dict[str, bool | None]:
    return {key: verdict["met"] for key, verdict in verdicts(figures, "tiny", SOAK_GOALS).items()}  # type: ignore[misc]


def test_memory_is_judged_from_the_end_of_the_warm_up_to_the_end() -> None:
    # Memory grows while the engine warms up (two intervals of 100 decisions), then stays.
    figures = judge(intervals([300, 400, 420, 425, 430], [9, 20, 10, 11, 12]), 200)
    assert figures["soak_warm_up_seconds"] == 120.0
    assert (figures["soak_rss_warm_up_mb"], figures["soak_rss_end_mb"]) == (400, 430)
    assert figures["soak_rss_peak_mb"] == 430
    assert figures["soak_memory_growth_pct"] == 7.5
    assert figures["soak_growth_bytes_per_decision"] == round(30 * 2**20 / 300)
    # The p99 of the first interval after the warm-up against the last one's.
    assert (figures["soak_p99_first_ms"], figures["soak_p99_last_ms"]) == (10, 12)
    assert figures["soak_p99_ratio"] == 1.2
    assert judged(figures) == {"soak_memory_growth_pct": True, "soak_p99_ratio": True}


@pytest.mark.parametrize(
    ("end_mb", "last_p99", "expected"),
    [
        (439.5, 15.0, {"soak_memory_growth_pct": True, "soak_p99_ratio": True}),
        (440.0, 15.0, {"soak_memory_growth_pct": False, "soak_p99_ratio": True}),
        (400.0, 15.1, {"soak_memory_growth_pct": True, "soak_p99_ratio": False}),
        (500.0, 30.0, {"soak_memory_growth_pct": False, "soak_p99_ratio": False}),
    ],
)
def test_growth_of_ten_percent_or_a_p99_half_again_as_long_is_missed(
    end_mb: float, last_p99: float, expected: dict[str, bool]
) -> None:
    figures = judge(intervals([400, 400, 410, end_mb], [50, 10, 20, last_p99]), 100)
    assert judged(figures) == expected
    assert all_met(verdicts(figures, "tiny", SOAK_GOALS)) == all(expected.values())


def test_less_than_two_intervals_after_the_warm_up_are_not_judged() -> None:
    # The warm-up (250 decisions) ends with the third of four intervals.
    figures = judge(intervals([300, 400, 420, 900], [9, 20, 10, 90]), 250)
    assert figures["soak_warm_up_seconds"] == 180.0
    assert figures["soak_memory_growth_pct"] is None and figures["soak_p99_ratio"] is None
    assert judged(figures) == {"soak_memory_growth_pct": None, "soak_p99_ratio": None}
    # Never warm: the warm-up is the whole soak.
    never = judge(intervals([300, 400], [9, 20]), 10_000)
    assert never["soak_warm_up_seconds"] == 120.0
    assert never["soak_rss_warm_up_mb"] == never["soak_rss_end_mb"] == 400


def test_an_interval_without_answers_has_no_p99_to_compare() -> None:
    quiet = intervals([400, 400, 400, 400], [10, 10, 10, 10])
    quiet[-1] = Interval(240.0, 0, 300, None, None, 400, None, 1.0)
    figures = judge(quiet, 100)
    assert figures["soak_memory_growth_pct"] == 0.0
    assert figures["soak_p99_ratio"] is None


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("soak") / "tiny"
    simulate("tiny", 5, folder)
    return folder


def test_the_soak_goes_on_after_the_history_a_pass_later_each_time(region: Path) -> None:
    table = read_table(region, "transactions")
    rows = table.num_rows
    first, last = table["ts"][0].as_py(), table["ts"][rows - 1].as_py()
    # The tiny region covers 14 days: each pass is 14 days later than the one before.
    assert pass_length(table) == timedelta(days=14)
    assert region_time(table, 0) == first
    assert region_time(table, rows) == first + timedelta(days=14)
    assert region_time(table, 3 * rows - 1) == last + timedelta(days=28)


@pytest.mark.slow
def test_a_short_soak_measures_every_interval(region: Path, tmp_path: Path) -> None:
    done = run_bench(tmp_path, "--region", str(region), "--size", "tiny",
                     "--soak", "3", "--soak-interval", "1", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["size"], result["seed"], result["soak_seconds"]) == ("tiny", None, 3)
    measured = result["soak_intervals"]
    assert [interval["end_seconds"] for interval in measured] == pytest.approx([1, 2, 3], abs=0.5)
    assert sum(interval["decisions"] for interval in measured) == result["soak_decisions"] > 0
    assert measured[-1]["decided_so_far"] == result["soak_decisions"]
    for interval in measured:
        assert interval["rss_mb"] > 50  # Python, the engine and the app at least
        if interval["decisions"]:
            assert 0 < interval["p50_ms"] <= interval["p99_ms"]
    assert result["soak_rss_idle_mb"] > 50
    assert result["soak_rss_end_mb"] == measured[-1]["rss_mb"]
    # Three seconds cannot warm the server up (50,000 decisions): nothing judged, no verdict.
    transactions = read_table(region, "transactions").num_rows
    assert result["soak_warm_up_decisions"] == max(RECENT, transactions)
    # It sent the region again after its history, 14 days later, long before today.
    assert result["soak_region_time_reached"] > "2024-"
    assert result["soak_region_time_capped"] is False
    assert result["goals"]["soak_memory_growth_pct"]["met"] is None
    assert result["goals_met"] is True
    assert len(result["load_average_before"]) == 3
    console = Console(record=True, width=200)
    console.print(render_soak(result))
    text = console.export_text()
    assert "fundwall bench --soak 3 --size tiny" in text
    assert text.count("warm-up") >= 3 and "not judged" in text


def test_the_warm_up_is_a_pass_of_the_region_and_a_full_cache() -> None:
    """The longest window turns over once in a pass; the cache of recent decisions fills."""
    assert warm_up_decisions(490_351, RECENT) == 490_351
    assert warm_up_decisions(3_000, RECENT) == RECENT
