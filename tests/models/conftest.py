"""Fixtures of the model tests: a tiny simulated region and the transactions and accounts models
trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwall.engine.models.artifact import Model, Target
from fundwall.models.training import train_region
from fundwall.sim.run import simulate


@pytest.fixture(scope="session")
def tiny_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models_region") / "tiny"
    simulate("tiny", 1, out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_region: Path) -> Model:
    return train_region(tiny_region, Target.TRANSACTIONS)


ACCOUNTS_MODEL_GROUP = "accounts_model"
"""The `xdist_group` of the tests that use `accounts_model`: on one worker, it is trained once."""


@pytest.fixture(scope="session")
def accounts_model(tiny_region: Path) -> Model:
    """An accounts model (the mule score) trained on `tiny_region`; mark the tests that use
    it `pytest.mark.xdist_group(ACCOUNTS_MODEL_GROUP)`."""
    return train_region(tiny_region, Target.ACCOUNTS)
