"""Every hand-computed feature test runs against both executions of the catalogue."""

from __future__ import annotations

import pytest
from feature_streams import Run, run_bulk, run_online


@pytest.fixture(params=["online", "bulk"])
def features(request: pytest.FixtureRequest) -> Run:
    """Feature rows of a stream of transactions, computed online or in bulk."""
    run: Run = run_online if request.param == "online" else run_bulk
    return run
