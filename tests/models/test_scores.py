"""The accounts' mule scores: a tiny region in a SQLite store, an accounts champion, refreshed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fundwall import bootstrap
from fundwall.accounts.model import TierSource, model_tier
from fundwall.accounts.tiers import set_risk_tier
from fundwall.auth import Passwords
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.cases.casework import case_queue, close_case, get_case
from fundwall.cases.model import CaseFilter, Outcome
from fundwall.cases.scoring import open_score_cases
from fundwall.cli import app
from fundwall.cli.serve import ScoreRefresh
from fundwall.clock import FixedClock
from fundwall.config import PolicySettings, load_settings
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.domain.identity.account_number import mask_account
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.models.account_features import account_feature_names
from fundwall.models.queries import known_fraud
from fundwall.models.registry import register_model, set_state
from fundwall.models.scores import (
    RISK_FLOW,
    account_score,
    refresh_account_scores,
    refresh_if_due,
)
from fundwall.sharing.risk_list import list_risk
from fundwall.sim.load import load_region
from fundwall.store import UnitOfWork
from fundwall.store.engine_tables import AccountRestrictionRow, AccountTierChangeRow
from fundwall.store.migrate import upgrade
from fundwall.store.model_tables import AccountScoreRow, ScoreRunRow
from fundwall.store.police_tables import CaseAccountRow, CaseRow
from fundwall.store.tables import AccountRow, LoginEventRow, TransactionRow

from .factory import make_model

NOW = datetime(2024, 3, 18, 2, 0, tzinfo=UTC)
POLICY = PolicySettings()
SCORED_FEATURES = 68


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
    """The store with an accounts champion trained on the account features (the first
    ones, a fixed set: a feature added later leaves the scores these tests read as they are)."""
    model = make_model(account_feature_names()[:SCORED_FEATURES], Target.ACCOUNTS)
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
        run = refresh_account_scores(uow, store.operator, POLICY)
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
        first = refresh_account_scores(uow, store.operator, POLICY)
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
    bank = {row.account_no: row.bank for row in _scores(store)}
    flagged = {row.account_no for row in _scores(store) if row.action != "pass"}
    # Every flagged account is in exactly one case; the others are a network's ties.
    assert set(flagged) <= set(named)
    kinds = {case.id: case.kind for case in cases}
    assert all(kinds[named[account_no]] == "network" for account_no in set(named) - set(flagged))
    assert first.tied == len(set(named) - set(flagged))
    assert first.networks == len({case.subject for case in cases if case.kind == "network"})
    for case in cases:
        mine = sorted(a for a, case_id in named.items() if case_id == case.id)
        if case.kind == "network":
            assert case.subject.startswith("network:")
            assert "Mule network" in case.title and "涉诈账户网络" in case.title
        else:
            assert case.subject == f"mule-score:{mine[0]}" and len(mine) == 1
            assert "Mule score" in case.title and "涉诈账户风险评分" in case.title
        assert {bank[a] for a in mine} == {case.member_code}
        assert case.opened_by == f"system:mule-score@{case.member_code}"
    with store.unit_of_work() as uow:
        second = refresh_account_scores(uow, store.operator, POLICY)
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
        run = refresh_account_scores(uow, store.operator, POLICY)
    assert run.seeds == 1


def _scores_of_one_account(platform: Platform) -> str:
    with platform.unit_of_work() as uow:
        return str(uow.session.scalars(select(AccountRow.account_no).limit(1)).one())


def test_without_a_champion_refresh_says_so(bare: Platform) -> None:
    with bare.unit_of_work() as uow, pytest.raises(NotFound, match="champion model of accounts"):
        refresh_account_scores(uow, bare.operator, POLICY)


def test_a_member_analyst_cannot_refresh(store: Platform) -> None:
    with store.unit_of_work() as uow, pytest.raises(PermissionDenied, match="promote_models"):
        refresh_account_scores(uow, _analyst("301"), POLICY)


def test_a_member_reads_its_own_accounts_scores_only(store: Platform) -> None:
    with store.unit_of_work() as uow:
        refresh_account_scores(uow, store.operator, POLICY)
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


def test_the_servers_timer_refreshes_when_due_and_outlives_a_failure(
    store: Platform, template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other").mkdir()
    with _platform(template, tmp_path / "other") as bare:
        idle = ScoreRefresh(bare, 60, 3600)
        assert idle.sweep() is None and idle.sweep() is None  # no champion: the next retries
    assert capsys.readouterr().out.count("champion model of accounts") == 1  # printed once
    timer = ScoreRefresh(store, 60, 3600)
    timer.start()
    run = timer.sweep()
    assert timer.sweep() is None  # nothing arrived since
    timer.stop()
    assert not timer.is_alive()
    assert run is not None and run.accounts == len(_scores(store))


def _clock(platform: Platform) -> FixedClock:
    assert isinstance(platform.clock, FixedClock)
    return platform.clock


def _add_transfer(platform: Platform, ts: datetime, payer: str | None = None) -> None:
    """A copy of the first transfer (of `payer`, if given), under a new id and at `ts`."""
    transfers = select(TransactionRow).where(TransactionRow.kind == "transfer")
    if payer is not None:
        transfers = transfers.where(TransactionRow.payer_account == payer)
    with platform.unit_of_work() as uow:
        first = uow.session.scalars(transfers.limit(1)).one()
        columns = {c.name: getattr(first, c.name) for c in TransactionRow.__table__.columns}
        uow.session.add(TransactionRow(**{**columns, "tx_id": f"NEW-{ts:%H%M%S}", "ts": ts}))
        uow.commit()


def test_a_refresh_is_due_when_the_data_the_seeds_or_the_time_say_so(store: Platform) -> None:
    hour = timedelta(hours=1)
    due = partial(refresh_if_due, actor=store.operator, max_age=hour, policy=POLICY)
    with store.unit_of_work() as uow:
        first = due(uow)
        assert first is not None
        assert due(uow) is None
    # A transfer dated before the latest one still counts: it is new to the scores.
    _add_transfer(store, datetime(2024, 3, 2, tzinfo=UTC))
    with store.unit_of_work() as uow:
        assert due(uow) is not None and due(uow) is None
    with store.unit_of_work() as uow:
        account = _scores_of_one_account(store)
        list_risk(
            uow,
            store.operator,
            ListKind.ACCOUNT,
            account,
            RiskCategory.FRAUD_ACCOUNT,
            Evidence.POLICE_CONFIRMED,
            "301",
            bank=uow.session.get_one(AccountRow, account).institution_code,
        )
        listed = due(uow)
        assert listed is not None and listed.seeds == first.seeds + 1
    _clock(store).advance(hour)
    with store.unit_of_work() as uow:
        assert due(uow) is not None  # an hour old: the features' windows moved on


def test_a_refresh_records_what_it_read_and_each_accounts_risk_flow(store: Platform) -> None:
    with store.unit_of_work() as uow:
        run = refresh_account_scores(uow, store.operator, POLICY)
        latest = max(
            uow.session.scalar(select(func.max(table.ts)))
            for table in (TransactionRow, LoginEventRow)
        )
        runs = uow.session.execute(
            select(ScoreRunRow.id, ScoreRunRow.computed_at, ScoreRunRow.data_until)
        ).all()
    (run_id, computed_at, data_until), *others = runs
    assert (computed_at, data_until, others) == (NOW, latest, [])
    assert run.data_until == latest and run.seconds > 0
    rows = _scores(store)
    assert {row.run_id for row in rows} == {run_id}
    # Without known fraud the risk flow is unknown; the share of fraud among them is not 0.
    assert all(row.seed_rank_downstream is None for row in rows)
    with store.unit_of_work() as uow:
        busiest = _busiest_account(uow)
        list_risk(
            uow,
            store.operator,
            ListKind.ACCOUNT,
            busiest,
            RiskCategory.MULE,
            Evidence.POLICE_CONFIRMED,
            "301",
            bank=uow.session.get_one(AccountRow, busiest).institution_code,
            valid_from=datetime(2024, 1, 1, tzinfo=UTC),
        )
        refresh_account_scores(uow, store.operator, POLICY)
    rows = _scores(store)
    assert any(row.seed_rank_downstream for row in rows)
    assert any(row.seed_share_1hop for row in rows)
    reached = max(rows, key=lambda row: row.seed_rank_downstream or 0)
    with store.unit_of_work() as uow:
        score = account_score(uow, _analyst(reached.bank), reached.account_no)
    assert score is not None and score.data_until == latest
    assert [figure.name for figure in score.risk_flow] == list(RISK_FLOW)
    assert score.risk_flow[0].value == pytest.approx(reached.seed_rank_downstream)
    assert score.risk_flow[0].zh == "来自涉诈账户的资金关联度"


def _busiest_account(uow: UnitOfWork) -> str:
    """The account that paid the most transfers: one whose risk reaches many others."""
    return str(
        uow.session.execute(
            select(TransactionRow.payer_account)
            .where(TransactionRow.kind == "transfer")
            .group_by(TransactionRow.payer_account)
            .order_by(func.count().desc(), TransactionRow.payer_account)
            .limit(1)
        ).scalar_one()
    )


def test_accounts_of_cases_closed_as_mules_are_known_fraud(store: Platform) -> None:
    with store.unit_of_work() as uow:
        opened = refresh_account_scores(uow, store.operator, POLICY).cases
    assert len(opened) >= 2
    mule, fraud = opened[:2]
    with store.unit_of_work() as uow:
        accounts = {
            case_id: set(
                uow.session.scalars(
                    select(CaseAccountRow.account_no).where(CaseAccountRow.case_id == case_id)
                )
            )
            for case_id in (mule, fraud)
        }
        members = {
            case_id: uow.session.get(CaseRow, case_id).member_code  # type: ignore[union-attr]
            for case_id in (mule, fraud)
        }
        before = known_fraud(uow.session, NOW)
        close_case(uow, _analyst(members[mule]), mule, Outcome.MULE, "sold the account")
        close_case(uow, _analyst(members[fraud]), fraud, Outcome.CONFIRMED_FRAUD, "the victim")
        assert known_fraud(uow.session, NOW - timedelta(seconds=1)) == before  # not yet closed
        assert known_fraud(uow.session, NOW) == before | accounts[mule]
    assert not accounts[mule] & before


def _bank(platform: Platform, account_no: str) -> str:
    with platform.unit_of_work() as uow:
        row = uow.session.get(AccountRow, account_no)
        assert row is not None
        return row.institution_code


def _accounts_of_two_members(platform: Platform) -> tuple[list[str], list[str]]:
    with platform.unit_of_work() as uow:
        rows = uow.session.execute(
            select(AccountRow.account_no, AccountRow.institution_code).order_by(
                AccountRow.account_no
            )
        ).all()
    banks = sorted({bank for _, bank in rows})[:2]
    return (
        [no for no, bank in rows if bank == banks[0]][:4],
        [no for no, bank in rows if bank == banks[1]][:2],
    )


def _cases(platform: Platform, ids: list[int]) -> list[tuple[Any, list[str]]]:
    with platform.unit_of_work() as uow:
        cases = uow.session.execute(
            select(*CaseRow.__table__.columns).where(CaseRow.id.in_(ids)).order_by(CaseRow.id)
        ).all()
        held = uow.session.execute(select(CaseAccountRow.case_id, CaseAccountRow.account_no))
        accounts: dict[int, list[str]] = {}
        for case_id, account_no in held:
            accounts.setdefault(case_id, []).append(account_no)
    return [(case, sorted(accounts.get(case.id, []))) for case in cases]


def _payers_of_one_member(platform: Platform) -> tuple[str, list[str]]:
    """A member and two of its accounts that have paid a transfer."""
    with platform.unit_of_work() as uow:
        rows = uow.session.execute(
            select(AccountRow.institution_code, AccountRow.account_no)
            .join(TransactionRow, TransactionRow.payer_account == AccountRow.account_no)
            .where(TransactionRow.kind == "transfer")
            .distinct()
            .order_by(AccountRow.institution_code, AccountRow.account_no)
        ).all()
    bank = rows[0][0]
    return bank, [no for member, no in rows if member == bank][:2]


def test_a_closed_case_holds_its_account_back_until_something_new(bare: Platform) -> None:
    bank, (renewed, quiet) = _payers_of_one_member(bare)
    flagged = {renewed: bank, quiet: bank}
    clock = _clock(bare)
    with bare.unit_of_work() as uow:
        latest = uow.session.scalar(select(func.max(TransactionRow.ts)))
    assert latest is not None
    clock.set(latest + timedelta(hours=1))

    def raised() -> set[str]:
        with bare.unit_of_work() as uow:
            opened = open_score_cases(uow, bare.operator, flagged)
        return {account for _, accounts in _cases(bare, opened) for account in accounts}

    with bare.unit_of_work() as uow:
        for case_id in open_score_cases(uow, bare.operator, flagged):
            close_case(uow, _analyst(bank), case_id, Outcome.FALSE_POSITIVE, "payroll")
    clock.advance(timedelta(hours=1))
    assert raised() == set()
    # A transfer dated after the closing is something new; an older one arriving is not.
    _add_transfer(bare, latest - timedelta(minutes=5), payer=quiet)
    _add_transfer(bare, clock.now(), payer=renewed)
    assert raised() == {renewed}
    clock.advance(timedelta(days=load_settings(config_file=None).cases.score_hold_days))
    assert raised() == {quiet}


def test_a_network_across_members_is_one_case_at_each_naming_only_its_own_accounts(
    bare: Platform,
) -> None:
    mine, theirs = _accounts_of_two_members(bare)
    a_bank, b_bank = _bank(bare, mine[0]), _bank(bare, theirs[0])
    flagged = {mine[0]: a_bank, mine[1]: a_bank, mine[2]: a_bank, theirs[0]: b_bank}
    network = {mine[0], mine[1], theirs[0]}
    with bare.unit_of_work() as uow:
        ids = open_score_cases(uow, bare.operator, flagged, [network])
    opened = _cases(bare, ids)
    assert [(case.member_code, case.kind, accounts) for case, accounts in opened] == [
        (a_bank, "network", sorted(mine[:2])),
        (b_bank, "network", [theirs[0]]),
        (a_bank, "account", [mine[2]]),
    ]
    first, second, alone = (case for case, _ in opened)
    assert first.subject == second.subject and first.subject.startswith("network:")
    assert alone.subject == f"mule-score:{mine[2]}"
    for case, accounts in opened[:2]:
        assert "3 accounts at 2 institutions" in case.title
        assert "3个账户，2家机构" in case.title
        others = [no for no in flagged if no not in accounts]
        for other in others:
            # Not another member's account, nor its masked form, nor the member's own
            # accounts of another case.
            assert other not in case.title and mask_account(other) not in case.title
    assert mask_account(min(mine[:2])) in first.title
    # The network grows at both members: the new accounts only, under the same key.
    grown = {**flagged, mine[3]: a_bank, theirs[1]: b_bank}
    with bare.unit_of_work() as uow:
        again = open_score_cases(uow, bare.operator, grown, [network | {mine[3], theirs[1]}])
    later = _cases(bare, again)
    assert [(case.member_code, accounts) for case, accounts in later] == [
        (a_bank, [mine[3]]),
        (b_bank, [theirs[1]]),
    ]
    assert {case.subject for case, _ in later} == {first.subject}
    assert "5 accounts at 2 institutions" in later[0][0].title
    with bare.unit_of_work() as uow:
        assert open_score_cases(uow, bare.operator, grown, [network | {mine[3], theirs[1]}]) == []


def test_a_member_sees_only_its_own_part_of_a_network(bare: Platform) -> None:
    mine, theirs = _accounts_of_two_members(bare)
    banks = {no: _bank(bare, no) for no in (mine[0], theirs[0])}
    with bare.unit_of_work() as uow:
        open_score_cases(uow, bare.operator, banks, [set(banks)])
    for account_no, bank in banks.items():
        with bare.unit_of_work() as uow:
            queue = case_queue(uow, _analyst(bank), CaseFilter())
        seen = [case for case in queue.items if case.subject.startswith("network:")]
        assert len(seen) == 1
        with bare.unit_of_work() as uow:
            detail = get_case(uow, _analyst(bank), seen[0].id)
        assert list(detail.accounts) == [account_no]


def _tiers(platform: Platform) -> dict[str, tuple[str, str]]:
    with platform.unit_of_work() as uow:
        return {
            row.account_no: (row.risk_tier, row.status)
            for row in uow.session.scalars(select(AccountRow))
        }


def _tier_sources(platform: Platform) -> dict[str, str]:
    """Each account's latest tier change's source."""
    with platform.unit_of_work() as uow:
        changes = select(AccountTierChangeRow).order_by(AccountTierChangeRow.id)
        return {change.account_no: change.source for change in uow.session.scalars(changes)}


def test_scores_set_the_risk_tiers_they_lead_to(store: Platform) -> None:
    alerts_too = PolicySettings(model_medium_tier_action="alert")
    with store.unit_of_work() as uow:
        run = refresh_account_scores(uow, store.operator, alerts_too)
    tiers = _tiers(store)
    expected = {
        row.account_no: model_tier(row.action, alerts_too).value
        for row in _scores(store)
        if tiers[row.account_no][1] != AccountStatus.CLOSED.value
    }
    raised = {account for account, tier in expected.items() if tier != "low"}
    assert {"medium", "high"} <= set(expected.values()), run.actions
    assert run.tiers_changed == len(raised)
    assert {account: tiers[account][0] for account in expected} == expected
    assert _tier_sources(store) == dict.fromkeys(raised, TierSource.MODEL.value)
    with store.unit_of_work() as uow:
        held = set(
            uow.session.scalars(
                select(AccountRestrictionRow.account_no).where(
                    AccountRestrictionRow.reference.like("tier:%"),
                    AccountRestrictionRow.lifted_at.is_(None),
                )
            )
        )
        again = refresh_account_scores(uow, store.operator, alerts_too)
    assert held == raised
    assert again.tiers_changed == 0  # the same scores change nothing


def test_the_model_lowers_only_the_tiers_it_set(store: Platform) -> None:
    with store.unit_of_work() as uow:
        refresh_account_scores(uow, store.operator, POLICY)
    tiers = _tiers(store)
    passed = next(
        row
        for row in _scores(store)
        if row.action == "pass" and tiers[row.account_no] == ("low", AccountStatus.NORMAL.value)
    )
    with store.unit_of_work() as uow:
        set_risk_tier(
            uow, _analyst(passed.bank), passed.account_no, RiskTier.HIGH, POLICY, reason="kyc"
        )
    model_set = {account for account, (tier, _) in _tiers(store).items() if tier != "low"}
    model_set.discard(passed.account_no)
    reviewed = min(model_set)
    with store.unit_of_work() as uow:
        set_risk_tier(
            uow, _analyst(_bank_of(store, reviewed)), reviewed, RiskTier.LOW, POLICY, reason="ok"
        )
    model_set.discard(reviewed)
    people_only = PolicySettings(model_medium_tier_action=None, model_high_tier_action=None)
    with store.unit_of_work() as uow:
        run = refresh_account_scores(uow, store.operator, people_only)
    after = _tiers(store)
    assert run.tiers_changed == len(model_set) > 0
    assert all(after[account][0] == "low" for account in model_set)
    assert after[passed.account_no][0] == "high"  # the analyst's tier stands
    with store.unit_of_work() as uow:
        live = set(
            uow.session.scalars(
                select(AccountRestrictionRow.account_no).where(
                    AccountRestrictionRow.reference.like("tier:%"),
                    AccountRestrictionRow.lifted_at.is_(None),
                )
            )
        )
    assert live == {passed.account_no}
    with store.unit_of_work() as uow:
        refresh_account_scores(uow, store.operator, POLICY)
    again = _tiers(store)
    assert again[reviewed][0] == "low"  # a person's review is not undone by the next refresh
    assert all(again[account][0] == "high" for account in model_set)


def _bank_of(platform: Platform, account_no: str) -> str:
    with platform.unit_of_work() as uow:
        return uow.session.get_one(AccountRow, account_no).institution_code
