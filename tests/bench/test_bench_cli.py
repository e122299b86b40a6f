"""`fundwall bench` end to end on the tiny region: every figure there, each one sane.

No figure is held to a speed: the machines are shared, and the goals are judged by the
benchmark itself, not by the tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from fundwall.bench.goals import GOALS
from fundwall.bench.report import render
from fundwall.bench.run import HEADLINE

from .bench_process import run_bench

# The module's one benchmark run serves every test of it: on one worker, so it runs once.
pytestmark = pytest.mark.xdist_group("bench_cli")

QUICK = (
    *("--seconds", "0.1", "--baseline-rows", "2000", "--online-decisions", "300"),
    *("--share-entries", "2000", "--share-identifiers", "1000"),
    *("--onboarding-decisions", "40", "--startup-runs", "2"),
    # The region's first 1,000 transactions hold labelled fraud both to fit and to validate on.
    *("--model-rows", "1000"),
    # One replica and two: the CPU ratio to the server holding the whole state, and the load
    # spread over replicas, at half the cost of the default 1, 2 and 3.
    *("--replicas", "1,2"),
)
REPLICAS = (1, 2)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    data_dir = tmp_path_factory.mktemp("bench-data")
    done = run_bench(data_dir, "--size", "tiny", "--json", *QUICK)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert isinstance(result, dict)
    return data_dir, result


def _number(result: dict[str, object], key: str) -> float:
    value = result[key]
    assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
    return float(value)


@pytest.mark.slow
def test_the_json_has_every_figure_with_a_sane_value(
    run: tuple[Path, dict[str, object]],
) -> None:
    data_dir, result = run
    assert list(result)[5 : 5 + len(HEADLINE)] == list(HEADLINE)
    rows = _number(result, "transactions")
    assert rows > 1_000
    assert (result["size"], result["seed"]) == ("tiny", 7)
    assert (data_dir / "demo" / "region-tiny-seed7" / "manifest.json").is_file()
    for key in HEADLINE:
        assert _number(result, key) > 0, key
    assert result["replay_rows"] == rows
    assert result["baseline_rows"] == 2_000
    assert result["baseline_agrees"] is True
    ratio = _number(result, "replay_tx_per_s") / _number(result, "baseline_tx_per_s")
    assert _number(result, "replay_vs_baseline") == pytest.approx(ratio, rel=0.01)
    assert _number(result, "online_p50_us") <= _number(result, "online_p99_us")
    assert _number(result, "onboarding_p50_ms") <= _number(result, "onboarding_p99_ms")
    assert result["onboarding_decisions"] == 40
    outcomes = result["onboarding_outcomes"]
    assert isinstance(outcomes, dict) and sum(outcomes.values()) == 40
    assert result["online_decisions"] == 300
    assert result["snapshot_transactions"] == rows
    assert _number(result, "snapshot_s") <= _number(result, "snapshot_median_s")
    assert result["startup_runs"] == 2
    assert _number(result, "startup_baseline_mb") < _number(result, "startup_mb")
    assert result["model_training_rows"] == 1_000
    assert _number(result, "http_p50_ms") <= _number(result, "http_p99_ms")
    assert _number(result, "http_decisions") >= 16
    assert _number(result, "batch_http_tx") >= 1_000
    # The replay child holds Python, numba and pyarrow at least; a tiny region adds little.
    assert 50 < _number(result, "replay_peak_mb") < 2_000
    assert _number(result, "http_vs_shell") > 0
    assert (result["rules_rows"], result["ingest_rows"]) == (rows, rows)
    assert result["rules_online_decisions"] == min(20_000, rows)
    assert _number(result, "rules_online_p50_us") <= _number(result, "rules_online_p99_us")
    ratio = _number(result, "api_call_with_console_us") / _number(result, "api_call_alone_us")
    assert _number(result, "console_api_ratio") == pytest.approx(ratio, abs=0.01)
    for count in REPLICAS:
        assert _number(result, f"replicas_http_decisions_per_s_{count}") > 0, count
        assert _number(result, f"replicas_batch_http_tx_per_s_{count}") > 0, count
        assert _number(result, f"replicas_server_cpu_us_per_decision_{count}") > 0, count
        assert _number(result, f"replicas_rebuild_seconds_{count}") >= 0, count
        assert _number(result, f"replicas_rebuild_transactions_{count}") > 0, count
    assert "replicas_http_3" not in result
    assert _number(result, "replicas_cpu_vs_in_process") > 0
    shell = result["http_shell"]
    assert isinstance(shell, dict) and shell["decisions_per_s"] > 0
    goals = result["goals"]
    assert isinstance(goals, dict) and set(goals) == {goal.key for goal in GOALS}
    for goal in GOALS:  # goals of one other size only are not judged on tiny
        assert (goals[goal.key]["met"] is None) == (not goal.applies_to("tiny")), goal.key
    judged = [goals[goal.key]["met"] for goal in GOALS if goal.applies_to("tiny")]
    assert all(isinstance(met, bool) for met in judged)
    assert result["goals_met"] == all(judged)
    assert len(result["load_average_before"]) == 3  # type: ignore[arg-type]
    # The source tree's commit, when the package runs from a git checkout.
    commit = result.get("commit")
    assert commit is None or re.fullmatch(r"[0-9a-f]{7,40}", str(commit))


@pytest.mark.slow
def test_the_table_shows_every_goal_and_its_verdict(run: tuple[Path, dict[str, object]]) -> None:
    _, result = run
    console = Console(record=True, width=200)
    console.print(render(result))
    text = console.export_text()
    goals = result["goals"]
    assert isinstance(goals, dict)
    words = {True: "met", False: "missed", None: "not judged"}
    for goal in GOALS:
        (row,) = [line for line in text.splitlines() if f"({goal.key})" in line]
        assert row.rstrip(" │").endswith(words[goals[goal.key]["met"]]), row
    if "commit" in result:
        assert f"commit {result['commit']}" in text
    assert text.rstrip().endswith(
        "every judged goal met" if result["goals_met"] else "some goals missed"
    )


def test_an_unknown_size_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_bench(tmp_path, "--size", "huge")
    assert done.returncode == 2
    assert "one of tiny, small, large" in done.stderr
    assert "Traceback" not in done.stderr
