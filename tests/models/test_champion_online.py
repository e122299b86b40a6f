"""The registry's transactions models in the durable service: the champion decides beside the
rules from the next transaction after a promotion, the shadow model is tried in the logged
shadow decision, never enforced."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fundwall import bootstrap
from fundwall.auth import Passwords
from fundwall.clock import FixedClock
from fundwall.config import load_settings
from fundwall.domain.errors import Conflict
from fundwall.domain.transactions import Transaction
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Model, Target
from fundwall.models.registry import register_model, set_state
from fundwall.models.training import train_region
from fundwall.region import read_table
from fundwall.sim.load import load_region
from fundwall.store.migrate import upgrade
from fundwall.store.tables import DecisionRow

NOW = datetime(2024, 3, 18, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def trial_model(tiny_region: Path) -> Model:
    """A second transactions model of the region (trained on less history)."""
    ts = read_table(tiny_region, "transactions")["ts"]
    return train_region(tiny_region, Target.TRANSACTIONS, until=ts[int(len(ts) * 0.75)].as_py())


def _copies(folder: Path, count: int) -> list[Transaction]:
    """The region's last transfers again, with new ids, at the clock's time."""
    rows = read_table(folder, "transactions").to_pylist()[-count:]
    return [
        replace(Transaction.from_mapping(row), tx_id=f"NEW{i:05d}", ts=NOW + timedelta(seconds=i))
        for i, row in enumerate(rows)
    ]


def test_the_champion_decides_and_the_shadow_model_is_only_tried(
    tiny_region: Path, tiny_model: Model, trial_model: Model, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    settings = load_settings(config_file=None, data_dir=tmp_path, database_url=url)
    with bootstrap.opened(
        settings, clock=FixedClock(NOW), operator="test", passwords=Passwords.fast_for_tests()
    ) as platform:
        load_region(tiny_region, platform.database, platform.keyring)
        service = platform.decision_service()
        first, second = _copies(tiny_region, 20)[:10], _copies(tiny_region, 20)[10:]
        assert all(d.model_version is None for d in service.decide_batch(first[:5]))

        with platform.unit_of_work() as uow:
            for model in (tiny_model, trial_model):
                register_model(uow, platform.operator, model)
            set_state(uow, platform.operator, tiny_model.version, ModelState.CHAMPION, "test")
            set_state(uow, platform.operator, trial_model.version, ModelState.SHADOW, "trial")
        decided = service.decide_batch(first[5:])
        assert {d.model_version for d in decided} == {tiny_model.version}
        with platform.unit_of_work() as uow:
            shadows = uow.session.scalars(
                select(DecisionRow.model_version).where(
                    DecisionRow.shadow.is_(True), DecisionRow.tx_id.in_([t.tx_id for t in first])
                )
            ).all()
        assert set(shadows) == {trial_model.version}

        with platform.unit_of_work() as uow:  # the trial model becomes the champion
            set_state(uow, platform.operator, trial_model.version, ModelState.CHAMPION, "won")
        assert {d.model_version for d in service.decide_batch(second)} == {trial_model.version}
        service.close()


def test_one_model_cannot_be_champion_and_shadow_at_once(
    tiny_region: Path, tiny_model: Model
) -> None:
    from fundwall.engine.service import DecisionService

    service = DecisionService.from_region(tiny_region, model=tiny_model)
    with pytest.raises(Conflict):
        service.core.set_model(tiny_model, tiny_model)
