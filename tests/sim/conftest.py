"""A tiny region simulated once per test session, shared read-only by the simulator tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwall.sim.run import Summary, simulate

TINY_SEED = 20240304


@pytest.fixture(scope="session")
def tiny_region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary]:
    out = tmp_path_factory.mktemp("tiny_region")
    return out, simulate("tiny", TINY_SEED, out)


@pytest.fixture(scope="session")
def tiny(tiny_region: tuple[Path, Summary]) -> Path:
    return tiny_region[0]
