"""Fixtures of the decision engine tests: the policy, both executions, a tiny region."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import Run, run_bulk, run_online

from fundwall.config import PolicySettings
from fundwall.sim.run import simulate

TINY_SEED = 1


@pytest.fixture
def policy() -> PolicySettings:
    """The default policy figures (REGULATIONS.md)."""
    return PolicySettings()


@pytest.fixture(params=["online", "bulk"])
def run(request: pytest.FixtureRequest) -> Run:
    """Verdicts on a stream, decided online one by one or by bulk replay."""
    chosen: Run = run_online if request.param == "online" else run_bulk
    return chosen


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny simulated region, made once per session and only read."""
    out = tmp_path_factory.mktemp("engine_region") / "tiny"
    simulate("tiny", TINY_SEED, out)
    return out
