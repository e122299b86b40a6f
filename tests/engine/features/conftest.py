"""Every hand-computed feature test runs against every execution of the catalogue."""

from __future__ import annotations

import pytest
from feature_streams import Run, run_bulk, run_online, run_online_batches

RUNS: dict[str, Run] = {"online": run_online, "batches": run_online_batches, "bulk": run_bulk}


@pytest.fixture(params=list(RUNS))
def features(request: pytest.FixtureRequest) -> Run:
    """Feature rows of a stream of transactions, computed online one by one, online in
    batches (the transactions between two logins at once) or in bulk."""
    return RUNS[request.param]
