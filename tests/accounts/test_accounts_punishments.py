"""The punishment list (联合惩戒) on SQLite and PostgreSQL: a listing by keyed hash holds for
its period and is lifted, audited; only the hub and the operator list or lift."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auth import world  # tests/auth/world.py
from fundwall.accounts.punishments import lift_punishment, punish
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.clock import FixedClock
from fundwall.crypto import ID_HASH_KIND, Keyring
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.engine.controls.changes import load_book
from fundwall.engine.features.inputs import micros

from .conftest import OPERATOR, Uow, actor_of


def test_a_listing_holds_for_its_period_and_is_lifted(
    stocked: Uow, clock: FixedClock, keyring: Keyring
) -> None:
    id_hash = keyring.keyed_hash(ID_HASH_KIND, world.person(2).id_number)
    now = clock.now()
    hub = actor_of(Role.HUB_SUPERVISOR)
    with stocked() as uow:
        listing = punish(
            uow, hub, id_hash, "card dealer (卡商)",
            listed_from=now, listed_until=now + timedelta(days=730),
        )  # fmt: skip
    with stocked() as uow:
        (listed,) = load_book(uow.session).punished[id_hash].values()
    assert listed.end_us == micros(now + timedelta(days=730), "t")
    clock.advance(timedelta(days=1))
    with stocked() as uow:
        lift_punishment(uow, OPERATOR, listing, "appeal upheld")
        records = uow.audit.tail(2)
        (lifted,) = load_book(uow.session).punished[id_hash].values()
    assert [(r.actor, r.action) for r in records] == [
        ("user:someone-hub_supervisor", "punish"),
        ("system:test", "lift_punishment"),
    ]
    assert world.person(2).id_number not in str([r.details for r in records])
    assert lifted.end_us == micros(clock.now(), "t")
    with stocked() as uow:
        with pytest.raises(Conflict, match="lifted already"):
            lift_punishment(uow, OPERATOR, listing, "again")
        with pytest.raises(NotFound):
            lift_punishment(uow, OPERATOR, 12345, "x")


def test_a_raw_id_number_is_not_a_listing(stocked: Uow, clock: FixedClock) -> None:
    now = clock.now()
    with stocked() as uow, pytest.raises(InvalidInput) as caught:
        punish(
            uow, OPERATOR, world.person(2).id_number, "x",
            listed_from=now, listed_until=now + timedelta(days=1),
        )  # fmt: skip
    assert caught.value.field == "id_hash"


def test_only_actors_with_the_right_punish_or_lift(stocked: Uow, clock: FixedClock) -> None:
    without = [r for r in Role if Permission.PUNISH not in ROLE_PERMISSIONS[r]]
    assert Role.MEMBER_ADMIN in without and Role.POLICE_OFFICER in without
    now, id_hash = clock.now(), "ab" * 32
    with stocked() as uow:
        listing = punish(
            uow, OPERATOR, id_hash, "x", listed_from=now, listed_until=now + timedelta(days=1)
        )
    for role in without:
        actor = actor_of(role)
        with stocked() as uow:
            with pytest.raises(PermissionDenied, match="punish"):
                punish(
                    uow, actor, id_hash, "x", listed_from=now, listed_until=now + timedelta(days=1)
                )
            with pytest.raises(PermissionDenied, match="punish"):
                lift_punishment(uow, actor, listing, "x")
            assert [r.action for r in uow.audit.tail(2)] == ["punish"]
