"""The accounts' mule scores: a tiny region in a SQLite store, an accounts champion, refreshed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fundwall import bootstrap
from fundwall.auth import Passwords
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.cli import app
from fundwall.cli.serve import ScoreRefresh
from fundwall.clock import FixedClock
from fundwall.config import load_settings
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.models.account_features import account_feature_names
from fundwall.models.registry import register_model, set_state
from fundwall.models.scores import account_score, refresh_account_scores
from fundwall.sharing.risk_list import list_risk
from fundwall.sim.load import load_region
from fundwall.store.migrate import upgrade
from fundwall.store.model_tables import AccountScoreRow
from fundwall.store.police_tables import CaseAccountRow, CaseRow
from fundwall.store.tables import AccountRow

from .factory import make_model

NOW = datetime(2024, 3, 18, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def template(tiny_region: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the tiny region loaded (no model yet)."""
    root = tmp_path_factory.mktemp("scores_store")
    database = root / "template.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    settings = load_settings(config_file=None, data_dir=root, database_url=url)
    with bootstrap.opened(settings, clock=FixedClock(NOW), operator="test") as platform:
        load_region(tiny_region, platform.database, platform.keyring)
    return root


@contextmanager
def _platform(template: Path, folder: Path) -> Iterator[Platform]:
    shutil.copytree(template / "keys", folder / "keys")
    shutil.copyfile(template / "template.db", folder / "store.db")
    settings = load_settings(
        config_file=None, data_dir=folder, database_url=f"sqlite:///{folder / 'store.db'}"
    )
    with bootstrap.opened(
        settings, clock=FixedClock(NOW), operator="test", passwords=Passwords.fast_for_tests()
    ) as platform:
        yield platform


@pytest.fixture
def bare(template: Path, tmp_path: Path) -> Iterator[Platform]:
    with _platform(template, tmp_path) as platform:
        yield platform


@pytest.fixture
def store(bare: Platform) -> Platform:
    """The store with an accounts champion trained on the account features."""
    model = make_model(account_feature_names(), Target.ACCOUNTS)
    with bare.unit_of_work() as uow:
        register_model(uow, bare.operator, model)
        set_state(uow, bare.operator, model.version, ModelState.CHAMPION, "scores test")
    return bare


def _scores(platform: Platform) -> list[Any]:
    """The stored scores, as rows of their columns (they outlive the unit of work)."""
    with platform.unit_of_work() as uow:
        return list(uow.session.execute(select(*AccountScoreRow.__table__.columns)))


def _analyst(bank: str) -> Actor:
    return Actor(ActorKind.USER, f"analyst@{bank}", Role.MEMBER_ANALYST, bank)


def test_refresh_scores_every_account_and_explains_only_the_flagged(store: Platform) -> None:
    with store.unit_of_work() as uow:
        run = refresh_account_scores(uow, store.operator)
        accounts = uow.session.scalar(select(func.count()).select_from(AccountRow))
    rows = _scores(store)
    assert run.accounts == len(rows) == accounts
    assert sum(run.actions.values()) == len(rows)
    flagged = [row for row in rows if row.action != Action.PASS.value]
    assert flagged and len(flagged) < len(rows), run.actions
    assert run.explained == len(flagged)
    for row in rows:
        assert 0.0 <= row.probability <= 1.0
        assert (row.contributions is not None) == (row.action != Action.PASS.value)
    top = json.loads(flagged[0].contributions or "")
    assert 0 < len(top) <= 5
    assert [item["contribution"] for item in top] == sorted(
        (item["contribution"] for item in top), reverse=True
    )
    assert all(item["contribution"] > 0 for item in top)


def test_flagged_accounts_become_cases_once(store: Platform) -> None:
    with store.unit_of_work() as uow:
        first = refresh_account_scores(uow, store.operator)
    assert first.cases
    with store.unit_of_work() as uow:
        cases = uow.session.execute(
            select(*CaseRow.__table__.columns).where(CaseRow.id.in_(first.cases))
        ).all()
        named = {
            account_no: case_id
            for case_id, account_no in uow.session.execute(
                select(CaseAccountRow.case_id, CaseAccountRow.account_no)
            )
        }
    flagged = {row.account_no: row.bank for row in _scores(store) if row.action != "pass"}
    assert set(named) == set(flagged)  # every flagged account in exactly one case
    for case in cases:
        mine = sorted(a for a, case_id in named.items() if case_id == case.id)
        assert case.subject == f"mule-score:{mine[0]}"
        assert case.kind == ("network" if len(mine) > 1 else "account")
        assert {flagged[a] for a in mine} == {case.member_code}
        assert case.opened_by == f"system:mule-score@{case.member_code}"
        assert "Mule score" in case.title and "涉诈账户风险评分" in case.title
    with store.unit_of_work() as uow:
        second = refresh_account_scores(uow, store.operator)
    assert second.cases == ()
    assert second.actions == first.actions


def test_accounts_on_the_risk_list_are_the_known_fraud(store: Platform) -> None:
    listed = _scores_of_one_account(store)
    with store.unit_of_work() as uow:
        bank = uow.session.get_one(AccountRow, listed).institution_code
        list_risk(
            uow,
            store.operator,
            ListKind.ACCOUNT,
            listed,
            RiskCategory.MULE,
            Evidence.POLICE_CONFIRMED,
            "301",
            bank=bank,
            valid_from=datetime(2024, 1, 1, tzinfo=UTC),
        )
        run = refresh_account_scores(uow, store.operator)
    assert run.seeds == 1


def _scores_of_one_account(platform: Platform) -> str:
    with platform.unit_of_work() as uow:
        return str(uow.session.scalars(select(AccountRow.account_no).limit(1)).one())


def test_without_a_champion_refresh_says_so(bare: Platform) -> None:
    with bare.unit_of_work() as uow, pytest.raises(NotFound, match="champion model of accounts"):
        refresh_account_scores(uow, bare.operator)


def test_a_member_analyst_cannot_refresh(store: Platform) -> None:
    with store.unit_of_work() as uow, pytest.raises(PermissionDenied, match="promote_models"):
        refresh_account_scores(uow, _analyst("301"))


def test_a_member_reads_its_own_accounts_scores_only(store: Platform) -> None:
    with store.unit_of_work() as uow:
        refresh_account_scores(uow, store.operator)
    flagged = next(row for row in _scores(store) if row.action != "pass")
    other_bank = next(row.bank for row in _scores(store) if row.bank != flagged.bank)
    with store.unit_of_work() as uow:
        score = account_score(uow, _analyst(flagged.bank), flagged.account_no)
        assert score is not None
        assert score.probability == pytest.approx(flagged.probability)
        assert score.action is Action(flagged.action)
        assert score.contributions
        assert all(item.zh and item.en for item in score.contributions)
        with pytest.raises(NotFound):
            account_score(uow, _analyst(other_bank), flagged.account_no)


def test_an_account_without_a_score_reads_none(store: Platform) -> None:
    account_no = _scores_of_one_account(store)
    with store.unit_of_work() as uow:
        bank = uow.session.get(AccountRow, account_no)
        assert bank is not None
        assert account_score(uow, _analyst(bank.institution_code), account_no) is None


def test_the_command_refreshes_as_the_operator(
    store: Platform, tmp_path: Path, own_settings: pytest.MonkeyPatch
) -> None:
    own_settings.setenv("FUNDWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["scores", "refresh", "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)
    assert run["accounts"] == len(_scores(store)) and run["cases"]
    again = CliRunner().invoke(app, ["scores", "refresh"])
    assert again.exit_code == 0 and "0 cases opened" in again.output


def test_the_command_without_a_champion_fails_clearly(
    bare: Platform, tmp_path: Path, own_settings: pytest.MonkeyPatch
) -> None:
    own_settings.setenv("FUNDWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["scores", "refresh"])
    assert isinstance(result.exception, NotFound)  # `fundwall` prints it and exits with 2
    assert "champion model of accounts" in str(result.exception)


def test_the_servers_timer_refreshes_and_outlives_a_failure(
    store: Platform, template: Path, tmp_path: Path
) -> None:
    (tmp_path / "other").mkdir()
    with _platform(template, tmp_path / "other") as bare:
        assert ScoreRefresh(bare, 3600).sweep() is None  # no champion: the next sweep retries
    timer = ScoreRefresh(store, 3600)
    timer.start()
    run = timer.sweep()
    timer.stop()
    assert not timer.is_alive()
    assert run is not None and run.accounts == len(_scores(store))
