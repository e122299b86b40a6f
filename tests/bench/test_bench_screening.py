"""The screening measurement on a tiny region, in its child process: every check timed, the
pandas baseline finding the same accounts (the child fails otherwise), the figures sane (no
speed is asserted: shared machines; the goals judge the figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwall.bench.screening import measure_screening
from fundwall.domain.screening import Check
from fundwall.sim.run import simulate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench_screening_tiny")
    simulate("tiny", 20240304, out)
    return out


def test_every_check_is_timed_against_a_baseline_that_agrees(tiny: Path) -> None:
    figures = measure_screening(tiny, timeout=300)
    assert figures["screen_accounts"] == 909
    for check in Check:
        for key in (f"screen_{check.value}_per_s", f"screen_{check.value}_baseline_per_s"):
            value = figures[key]
            assert isinstance(value, int) and value > 0, (key, value)
    rates = [figures[f"screen_{check.value}_per_s"] for check in Check]
    assert figures["screen_accounts_per_s"] == min(rates)  # type: ignore[type-var]
    assert figures["screen_dormant_found"] == 20
    assert figures["screen_batch_opened_found"] == 18
    assert isinstance(figures["screen_vs_baseline"], float) and figures["screen_vs_baseline"] > 0
