"""The account profile and its holder, masked or unmasked on purpose, on SQLite and
PostgreSQL, over the small two-bank world of tests/auth/world.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.accounts.views import account_profile, mask_account, masked_holder, unmask_holder
from fundwall.auth import Actor, ActorKind, Role
from fundwall.crypto import Keyring
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]

HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
KEY_A = Actor(ActorKind.API_KEY, "k", Role.MEMBER_SYSTEM, world.BANK_A)


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
        world.add_users(uow)
    return uow_factory


def _user(uow: UnitOfWork, name: str) -> Actor:
    return world.user_actor(uow, name)


def test_an_account_profile_shows_flows_and_alerts(stocked: Uow, keyring: Keyring) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        profile = account_profile(uow, ann, "A1", keyring)
        with pytest.raises(NotFound):
            account_profile(uow, ann, "B1", keyring)
    assert profile.holder.name == "张*"
    assert "*" in profile.holder.id_number and "*" in (profile.holder.phone or "")
    assert [t.tx_id for t in profile.flows.items] == ["T2", "T1"]
    assert (profile.in_fen, profile.out_fen) == (0, 300_000)
    assert [a.tx_id for a in profile.alerts] == ["T2", "T1"]


def test_a_deposits_alert_is_on_the_profile_of_the_account_it_filled(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        world.add_deposit(uow)
        profile = account_profile(uow, _user(uow, "bob"), "B1", keyring)
    assert [t.tx_id for t in profile.flows.items] == ["D1", "T4", "T3", "T2"]
    assert [a.tx_id for a in profile.alerts] == ["D1", "T4", "T3"]


def test_a_members_system_reads_the_profile_without_its_alerts(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        profile = account_profile(uow, KEY_A, "A1", keyring)
    assert profile.alerts == () and [t.tx_id for t in profile.flows.items] == ["T2", "T1"]


def test_unmasking_is_for_a_stated_purpose_and_audited_without_the_raw_values(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        with pytest.raises(InvalidInput, match="say why"):
            unmask_holder(uow, ann, "A1", " ", keyring)
        with pytest.raises(InvalidInput, match="phone number"):
            unmask_holder(uow, ann, "A1", "caller 13812345678", keyring)
        uow.rollback()
        holder = unmask_holder(uow, ann, "A1", "customer called about a block", keyring)
        (record,) = uow.audit.tail(1)
        masked = masked_holder(uow, ann, "A1", keyring)
        with pytest.raises(PermissionDenied):
            unmask_holder(uow, HUB, "A1", "curious", keyring)
        with pytest.raises(PermissionDenied, match="unmask_personal_data"):
            unmask_holder(uow, KEY_A, "A1", "our system wants it", keyring)
    assert holder.id_number == world.person(1).id_number
    assert holder.phone == world.person(1).phone
    assert masked.id_number != holder.id_number and "*" in masked.id_number
    assert (record.action, record.subject, record.details["party"]) == (
        "unmask_personal_data",
        f"account:{mask_account('A1')}",
        "P1",
    )
    assert holder.id_number not in str(record.details)


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, keyring: account_profile(uow, HUB, "A1", keyring),
        lambda uow, keyring: masked_holder(uow, HUB, "A1", keyring),
    ],
    ids=["account_profile", "masked_holder"],
)
def test_roles_without_customer_data_are_refused(
    stocked: Uow, keyring: Keyring, call: Callable[[UnitOfWork, Keyring], object]
) -> None:
    with stocked() as uow, pytest.raises(PermissionDenied, match="view_customer_data"):
        call(uow, keyring)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("6222020200112233446", "622202*********3446"),  # a card: the issuer's six digits
        ("6222020200112233445", "6222***********3445"),  # no card (check digit): four and four
        ("ACC-000123-XYZ", "ACC-******-XYZ"),  # an imported identifier
        ("X9", "*9"),
    ],
)
def test_masked_account_numbers_keep_the_issuer_or_the_ends(number: str, masked: str) -> None:
    assert mask_account(number) == masked
