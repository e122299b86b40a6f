"""Simplified opening on SQLite and PostgreSQL: each check's finding in words, the strictest
one deciding, the account opened (restricted in the medium tier) only when the outcome
allows, counted per member; bad input refused naming the field, nothing recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from auth import world
from fundwall.accounts.onboarding import (
    Applicant,
    Application,
    Outcome,
    decide_onboarding,
    onboarding_counts,
)
from fundwall.accounts.punishments import punish
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.config import PolicySettings
from fundwall.crypto import ID_HASH_KIND, Keyring, SharingKeys
from fundwall.domain.accounts import AccountClass, RiskTier
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.domain.identity.resident_id import resident_id_check_char
from fundwall.engine.controls.model import Evidence, ListKind, RestrictionKind, RiskCategory
from fundwall.phones.local import LocalRegistry
from fundwall.sharing.keys import rotate_sharing_key
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.governance_tables import OnboardingDecisionRow
from fundwall.store.tables import AccountRow
from phones.conftest import register

from .conftest import OPERATOR, Uow

BANK = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
OTHER_BANK = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, world.BANK_B)
POLICE = Actor(ActorKind.USER, "cop", Role.POLICE_OFFICER, "PSB1", 4)
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 3)
POLICY = PolicySettings()
FIRM_CODE = "91350200MA2Y3K4LX9"


def newcomer(n: int, born: str = "19920202") -> tuple[str, str]:
    """A resident ID and phone of someone with no account yet."""
    first17 = f"350203{born}{n:03d}"
    return first17 + resident_id_check_char(first17), f"1391234{n:04d}"


def card(n: int) -> str:
    from fundwall.domain.identity.account_number import luhn_check_digit

    number = f"622202000000{n:06d}"
    return number + luhn_check_digit(number)


@pytest.fixture
def registry(platform: Platform, keyring: Keyring) -> LocalRegistry:
    return LocalRegistry(platform.database, keyring, platform.clock)


def _apply(uow, keyring, registry, application, actor=BANK, sharing=None):  # type: ignore[no-untyped-def]
    return decide_onboarding(uow, actor, application, keyring, registry, POLICY, sharing)


def _registered(uow_factory: Uow, keyring: Keyring, id_number: str, phone: str) -> None:
    with uow_factory() as uow:
        register(uow, keyring, MobilePhone(phone), ResidentId(id_number))


def test_a_clean_newcomer_is_opened_at_once_with_a_class_i_account(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    id_number, phone = newcomer(1)
    _registered(stocked, keyring, id_number, phone)
    application = Application(Applicant.FLEXIBLE_WORKER, id_number, "王五", phone,
                              account_no=card(1))  # fmt: skip
    with stocked() as uow:
        decision = _apply(uow, keyring, registry, application)
        opened = uow.session.get(AccountRow, card(1))
        assert opened is not None
        held = (opened.institution_code, opened.risk_tier)
        counts = onboarding_counts(uow, Actor(ActorKind.USER, "a", Role.MEMBER_ANALYST, "B001", 5))
        assert onboarding_counts(uow, HUB)[world.BANK_A]["opened"] == 1
    assert (decision.outcome, decision.account_class, decision.tier) == (
        Outcome.OPEN, AccountClass.CLASS_I, RiskTier.LOW,
    )  # fmt: skip
    assert decision.account_no == card(1) and held == (world.BANK_A, "low")
    assert [f.check for f in decision.findings] == ["identity", "phone"]
    assert counts == {world.BANK_A: {"open": 1, "opened": 1}}


def test_a_phone_of_someone_else_refers_to_the_counter_and_opens_nothing(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    id_number, phone = newcomer(2)
    _registered(stocked, keyring, newcomer(3)[0], phone)
    application = Application(Applicant.FLEXIBLE_WORKER, id_number, "赵六", phone,
                              account_no=card(2))  # fmt: skip
    with stocked() as uow:
        decision = _apply(uow, keyring, registry, application)
        assert uow.session.get(AccountRow, card(2)) is None
    assert decision.outcome is Outcome.REFER and decision.account_class is None
    (phone_finding,) = [f for f in decision.findings if f.check == "phone"]
    assert "counter" in phone_finding.en and "他人" in phone_finding.zh


def test_a_card_dealer_on_the_shared_list_opens_restricted_in_the_medium_tier(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry, tmp_path: Path
) -> None:
    id_number, phone = newcomer(4)
    _registered(stocked, keyring, id_number, phone)
    with stocked() as uow:
        version = rotate_sharing_key(uow, OPERATOR, tmp_path)
    keys = SharingKeys.load(tmp_path, (version,))
    with stocked() as uow:
        dealer = NewEntry(ListKind.PHONE_HASH, keys.hash("phone", phone), RiskCategory.CARD_DEALER,
                          Evidence.MEMBER_SUSPECTED)  # fmt: skip
        publish_entries(uow, OTHER_BANK, [dealer])
        application = Application(Applicant.FLEXIBLE_WORKER, id_number, "钱七", phone,
                                  account_no=card(4))  # fmt: skip
        decision = _apply(uow, keyring, registry, application, sharing=keys)
        cap = uow.session.execute(
            select(AccountRestrictionRow.kind, AccountRestrictionRow.amount_fen).where(
                AccountRestrictionRow.account_no == card(4)
            )
        ).one()
    assert (decision.outcome, decision.account_class, decision.tier) == (
        Outcome.OPEN_RESTRICTED, AccountClass.CLASS_II, RiskTier.MEDIUM,
    )  # fmt: skip
    assert tuple(cap) == (
        RestrictionKind.OUTFLOW_CAP.value,
        POLICY.medium_tier_outflow_daily_cap_fen,
    )
    assert any("card_dealer" in f.en for f in decision.findings)


def test_a_customer_with_a_class_i_account_here_gets_a_class_ii_one(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    p1 = world.person(1)  # holds A1, class I, at B001
    _registered(stocked, keyring, p1.id_number, p1.phone)
    application = Application(Applicant.FLEXIBLE_WORKER, p1.id_number, p1.name, p1.phone)
    with stocked() as uow:
        here = _apply(uow, keyring, registry, application)
        elsewhere = _apply(uow, keyring, registry, application, actor=OTHER_BANK)
    assert (here.outcome, here.account_class) == (Outcome.OPEN, AccountClass.CLASS_II)
    assert (elsewhere.outcome, elsewhere.account_class) == (Outcome.OPEN, AccountClass.CLASS_I)
    assert here.account_no is None  # a decision only: no number given


def test_the_punished_and_the_young_are_referred(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry, clock: object
) -> None:
    punished, phone = newcomer(5)
    young, young_phone = newcomer(6, born="20150101")
    _registered(stocked, keyring, punished, phone)
    _registered(stocked, keyring, young, young_phone)
    with stocked() as uow:
        now = uow.clock.now()
        until = now + timedelta(days=365)
        punish(uow, OPERATOR, keyring.keyed_hash(ID_HASH_KIND, punished), "涉诈惩戒",
               listed_from=now - timedelta(days=1), listed_until=until)  # fmt: skip
        worker = Applicant.FLEXIBLE_WORKER
        listed = _apply(uow, keyring, registry, Application(worker, punished, "孙八", phone))
        minor = _apply(uow, keyring, registry, Application(worker, young, "李九", young_phone))
    assert listed.outcome is Outcome.REFER
    assert any(f.check == "punishment" for f in listed.findings)
    assert minor.outcome is Outcome.REFER and "under 16" in minor.findings[1].en


def test_a_micro_firm_is_checked_by_its_representative_and_gets_a_basic_account(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    representative, phone = newcomer(7)
    _registered(stocked, keyring, representative, phone)
    application = Application(Applicant.MICRO_FIRM, FIRM_CODE, "某某小店", phone,
                              representative_id=representative, account_no=card(7))  # fmt: skip
    with stocked() as uow:
        decision = _apply(uow, keyring, registry, application)
        # Its one basic account is open: a second application, at any bank, is referred.
        again = _apply(uow, keyring, registry, replace(application, account_no=card(8)),
                       actor=OTHER_BANK)  # fmt: skip
        assert uow.session.get(AccountRow, card(8)) is None
    assert (decision.outcome, decision.account_class) == (Outcome.OPEN, AccountClass.CORPORATE)
    assert (again.outcome, again.account_class, again.account_no) == (Outcome.REFER, None, None)
    assert any("one basic account only" in f.en for f in again.findings)


def test_bad_input_names_its_field_and_records_nothing(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    id_number, phone = newcomer(8)
    bad = [
        (Application(Applicant.FLEXIBLE_WORKER, id_number[:-1] + "0", "周", phone), "id_number"),
        (Application(Applicant.FLEXIBLE_WORKER, id_number, "周", "02512345678"), "phone"),
        (Application(Applicant.FLEXIBLE_WORKER, id_number, " ", phone), "name"),
        (Application(Applicant.MICRO_FIRM, FIRM_CODE, "店", phone), "representative_id"),
        (Application("student", id_number, "周", phone), "applicant"),  # type: ignore[arg-type]
        (Application(Applicant.FLEXIBLE_WORKER, id_number, "周", phone, account_no="12"),
         "account_no"),
    ]  # fmt: skip
    with stocked() as uow:
        for application, field in bad:
            with pytest.raises(InvalidInput) as refused:
                _apply(uow, keyring, registry, application)
            assert refused.value.field == field
        with pytest.raises(PermissionDenied):
            _apply(uow, keyring, registry, bad[0][0], actor=POLICE)
        assert uow.session.scalar(select(func.count(OnboardingDecisionRow.id))) == 0


def test_many_accounts_across_the_region_open_restricted_without_telling_how_many(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    from fundwall.domain.accounts import Account, AccountStatus, OpeningChannel
    from fundwall.store.mapping import account_row

    p1 = world.person(1)  # holds A1 at B001; six more at B002
    _registered(stocked, keyring, p1.id_number, p1.phone)
    with stocked() as uow:
        for n in range(6):
            uow.session.add(account_row(Account(
                card(100 + n), world.BANK_B, "P1", AccountClass.CLASS_II, AccountStatus.NORMAL,
                RiskTier.LOW, world.START - timedelta(days=30), OpeningChannel.MOBILE,
            )))  # fmt: skip
        uow.commit()
        application = Application(Applicant.FLEXIBLE_WORKER, p1.id_number, p1.name, p1.phone)
        decision = _apply(uow, keyring, registry, application)
        where_full = _apply(uow, keyring, registry, application, actor=OTHER_BANK)
    (many,) = [f for f in decision.findings if f.check == "existing_accounts"]
    assert (decision.outcome, decision.tier) == (Outcome.OPEN_RESTRICTED, RiskTier.MEDIUM)
    assert decision.account_class is AccountClass.CLASS_II
    assert "5 or more accounts" in many.en and "7" not in many.en + many.zh
    # Restricted is a class II account; at a bank holding its most of them, none is opened.
    assert (where_full.outcome, where_full.account_class) == (Outcome.REFER, None)
    assert any("no restricted class II" in f.en for f in where_full.findings)
