"""Risk tiers on SQLite and PostgreSQL: each tier's measures reach the running decision
service at once and leave with the tier; the history says who set it and why; a member
tiers its own open accounts only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from auth import world
from fundwall.accounts.controls import set_account_status
from fundwall.accounts.model import TierSource
from fundwall.accounts.tiers import set_holder_tier, set_person_tier, set_risk_tier, tier_history
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import PolicySettings
from fundwall.domain.accounts import (
    Account,
    AccountClass,
    AccountStatus,
    OpeningChannel,
    RiskTier,
)
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.service import DecisionService
from fundwall.store.mapping import account_row
from fundwall.store.tables import AccountRow

from .conftest import OPERATOR, Uow

ANALYST_A = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 3)
SYSTEM_B = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, world.BANK_B)
POLICE = Actor(ActorKind.USER, "pol", Role.POLICE_OFFICER, "PSB1", 4)
POLICY = PolicySettings()
CAP = POLICY.medium_tier_outflow_daily_cap_fen


@pytest.fixture
def service(stocked: Uow, platform: Platform) -> Iterator[DecisionService]:
    running = platform.decision_service()
    try:
        yield running
    finally:
        running.close()


def _pay(clock: FixedClock, n: int, fen: int, channel: Channel = Channel.MOBILE) -> Transaction:
    clock.advance(timedelta(minutes=1))
    return Transaction(
        tx_id=f"TT{n}", ts=clock.now(), kind=TransactionKind.TRANSFER, payer_account="A1",
        payee_account="B1", payer_bank=world.BANK_A, payee_bank=world.BANK_B,
        amount=Money.of_fen(fen), channel=channel,
    )  # fmt: skip


def _controls(service: DecisionService, tx: Transaction) -> tuple[Action, list[str]]:
    decision = service.decide(tx, member=world.BANK_A)
    return decision.action, [r.rule_id for r in decision.reasons if r.rule_id.startswith("HC")]


def test_each_tier_brings_its_measures_and_takes_them_away(
    stocked: Uow, service: DecisionService, clock: FixedClock
) -> None:
    with stocked() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.HIGH, POLICY, reason="phone of 6 people")
    assert _controls(service, _pay(clock, 1, 100_00)) == (Action.BLOCK, ["HC06"])
    assert _controls(service, _pay(clock, 2, 100_00, Channel.COUNTER))[1] == []
    with stocked() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.MEDIUM, POLICY,
                      reason="identity checked again at the counter")  # fmt: skip
    assert _controls(service, _pay(clock, 3, CAP - 100_00))[1] == []  # ¥100 paid at the counter
    assert _controls(service, _pay(clock, 4, 1)) == (Action.BLOCK, ["HC18"])
    with stocked() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.LOW, POLICY, reason="reviewed: a family")
        history = tier_history(uow, ANALYST_A, "A1")
        row = uow.session.get(AccountRow, "A1")
        assert row is not None and row.risk_tier == "low"
    assert _controls(service, _pay(clock, 5, 1))[1] == []
    assert [(c.tier, c.previous, c.source) for c in history] == [
        (RiskTier.LOW, RiskTier.MEDIUM, TierSource.ANALYST),
        (RiskTier.MEDIUM, RiskTier.HIGH, TierSource.ANALYST),
        (RiskTier.HIGH, RiskTier.LOW, TierSource.ANALYST),
    ]
    assert history[-1].reason == "phone of 6 people"


def _account(number: str, party: str, bank: str = world.BANK_A) -> Account:
    return Account(
        number, bank, party, AccountClass.CLASS_II, AccountStatus.NORMAL, RiskTier.LOW,
        world.START - timedelta(days=30), OpeningChannel.MOBILE,
    )  # fmt: skip


def test_a_persons_tier_covers_their_open_accounts_at_the_member_only(stocked: Uow) -> None:
    with stocked() as uow:
        uow.session.add(account_row(_account("A3", "P1")))
        uow.session.add(account_row(_account("A4", "P1")))
        uow.commit()
        set_account_status(uow, OPERATOR, "A4", AccountStatus.CLOSED, "销户")
        changes = set_person_tier(uow, ANALYST_A, "P1", RiskTier.MEDIUM, POLICY,
                                  reason="many accounts", source=TierSource.SCREENING)  # fmt: skip
        assert len(changes) == 2  # A1 and A3; A4 is closed
        assert [c.source for c in tier_history(uow, ANALYST_A, "A3")] == [TierSource.SCREENING]
        with pytest.raises(NotFound):
            set_person_tier(uow, ANALYST_A, "P3", RiskTier.HIGH, POLICY, reason="B1's holder")


def test_a_member_tiers_its_own_open_accounts_only(stocked: Uow) -> None:
    with stocked() as uow:
        with pytest.raises(NotFound):
            set_risk_tier(uow, SYSTEM_B, "A1", RiskTier.HIGH, POLICY, reason="not ours")
        with pytest.raises(NotFound):
            tier_history(uow, SYSTEM_B, "A1")
        with pytest.raises(PermissionDenied):
            set_risk_tier(uow, POLICE, "A1", RiskTier.HIGH, POLICY, reason="police")
        with pytest.raises(Conflict, match="low risk already"):
            set_risk_tier(uow, ANALYST_A, "A1", RiskTier.LOW, POLICY, reason="again")
        with pytest.raises(InvalidInput, match="200"):
            set_risk_tier(uow, ANALYST_A, "A1", RiskTier.HIGH, POLICY, reason="x" * 201)
        with pytest.raises(InvalidInput, match="tier"):
            set_risk_tier(uow, ANALYST_A, "A1", "severe", POLICY, reason="?")  # type: ignore[arg-type]
        set_account_status(uow, OPERATOR, "A2", AccountStatus.CLOSED, "销户")
        with pytest.raises(Conflict, match="closed"):
            set_risk_tier(uow, ANALYST_A, "A2", RiskTier.HIGH, POLICY, reason="closed")
        made = set_risk_tier(uow, SYSTEM_B, "B1", RiskTier.HIGH, POLICY, reason="api")
        assert tier_history(uow, SYSTEM_B, "B1") == [made]
    assert made.source is TierSource.MEMBER_SYSTEM


def test_the_holder_of_an_account_is_tiered_at_its_member_only(stocked: Uow) -> None:
    with stocked() as uow:
        uow.session.add(account_row(_account("A3", "P1")))
        uow.commit()
        with pytest.raises(NotFound):
            set_holder_tier(uow, SYSTEM_B, "A1", RiskTier.HIGH, POLICY, reason="not ours")
        changes = set_holder_tier(uow, ANALYST_A, "A1", RiskTier.HIGH, POLICY, reason="phone")
        assert sorted(c.account_no for c in changes) == ["A1", "A3"]
        with pytest.raises(InvalidInput) as bad:
            set_person_tier(uow, ANALYST_A, "P" * 65, RiskTier.LOW, POLICY, reason="x")
        assert bad.value.field == "party_id"
        with pytest.raises(NotFound):  # B001 holds none of P3's accounts (B1 is at B002)
            set_person_tier(uow, ANALYST_A, "P3", RiskTier.LOW, POLICY, reason="x")
