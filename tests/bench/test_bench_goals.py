"""Goals and their verdicts: met, missed, and not judged on a size the goal is not about."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fundwall.bench.goals import GOALS, SOAK_GOALS, Goal, all_met, verdicts
from fundwall.bench.run import HEADLINE
from fundwall.sim.params import SIZES


def _figures(value: float) -> dict[str, object]:
    return {goal.key: value for goal in GOALS}


def test_every_goal_judges_a_headline_figure_or_the_ratio() -> None:
    assert {goal.key for goal in GOALS} <= set(HEADLINE)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_a_verdict_compares_the_figure_with_the_target(value: float) -> None:
    for size in ("small", "large"):
        judged = verdicts(_figures(value), size)
        for goal in GOALS:
            expected = {">=": value >= goal.target, "<=": value <= goal.target}[goal.op]
            met = expected if goal.applies_to(size) else None
            assert judged[goal.key] == {"goal": goal.describe(), "value": value, "met": met}
        assert all_met(judged) == all(verdict["met"] is not False for verdict in judged.values())


def test_the_state_snapshot_goals_are_judged_on_the_small_region_only() -> None:
    for key in ("snapshot_s", "restore_s"):
        judged = {size: verdicts({key: 0.5}, size)[key]["met"] for size in SIZES}
        assert judged == {"tiny": None, "small": True, "large": None}
        assert verdicts({key: 1.5}, "small")[key]["met"] is False


def test_the_memory_goal_is_judged_on_the_large_region_only() -> None:
    small = verdicts({"replay_peak_mb": 100}, "small")["replay_peak_mb"]
    large = verdicts({"replay_peak_mb": 100}, "large")["replay_peak_mb"]
    too_big = verdicts({"replay_peak_mb": 7_000}, "large")["replay_peak_mb"]
    assert (small["met"], large["met"], too_big["met"]) == (None, True, False)
    assert small["goal"] == "<= 4,096 MB (--size large)"


def test_a_figure_not_measured_is_not_judged_and_misses_nothing() -> None:
    judged = verdicts({"replay_tx_per_s": 2_000_000}, "small")
    assert judged["replay_tx_per_s"]["met"] is True
    assert judged["online_p99_us"] == {"goal": "<= 500 µs", "value": None, "met": None}
    assert all_met(judged)
    assert not all_met(verdicts({"replay_tx_per_s": 10}, "small"))


def test_a_goal_under_a_target_is_missed_at_the_target() -> None:
    under = Goal("growth", "<", 10, "%", "growth")
    assert (under.met(9.9), under.met(10), under.met(10.1)) == (True, False, False)
    assert under.describe() == "< 10 %"
    assert Goal("ratio", "<=", 1.5, "×", "ratio").describe() == "<= 1.5 ×"


def test_the_soak_is_judged_on_its_own_goals() -> None:
    judged = verdicts({"soak_memory_growth_pct": 12.0, "soak_p99_ratio": 1.1}, "small", SOAK_GOALS)
    assert {key: verdict["met"] for key, verdict in judged.items()} == {
        "soak_memory_growth_pct": False,
        "soak_p99_ratio": True,
    }
    assert not all_met(judged)
