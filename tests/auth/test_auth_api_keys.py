"""API keys: shown once, stored as a digest, acting as their member until revoked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from fundwall.auth import (
    Actor,
    ActorKind,
    Permission,
    Role,
    SystemActor,
    actor_for_key,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from fundwall.clock import FixedClock
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ApiKeyRow

from .conftest import BANK_A, BANK_B, HUB

Uow = Callable[[], UnitOfWork]
CLI = SystemActor("cli")


def test_a_key_is_shown_once_and_only_its_digest_is_stored(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, CLI, BANK_A, "core banking")
    assert text.startswith(f"fwk_{key.key_id}_")
    secret = text[len(f"fwk_{key.key_id}_") :]
    with institutions() as uow:
        row = uow.session.scalars(select(ApiKeyRow)).one()
        stored = (row.key_id, row.member_code, row.label, row.secret_hash)
        (record,) = uow.audit.tail(1)
        listed = list_api_keys(uow, BANK_A)
    assert stored[:3] == (key.key_id, BANK_A, "core banking")
    assert secret not in stored[3] and len(stored[3]) == 64
    assert (record.action, record.subject) == ("apikey_add", f"apikey:{key.key_id}")
    assert secret not in str(record.details)
    assert [k.key_id for k in listed] == [key.key_id]


def test_a_key_acts_as_its_member_system(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, CLI, BANK_A)
    with institutions() as uow:
        actor = actor_for_key(uow, text)
    assert actor == Actor(ActorKind.API_KEY, key.key_id, Role.MEMBER_SYSTEM, BANK_A)
    assert actor.can(Permission.SUBMIT_TRANSACTIONS)
    assert actor.can(Permission.VIEW_CUSTOMER_DATA)
    assert not actor.can(Permission.UNMASK_PERSONAL_DATA)
    assert actor.audit_id == f"apikey:{key.key_id}@{BANK_A}"


@pytest.mark.parametrize("change", ["secret", "id", "prefix", "garbage", "empty"])
def test_a_wrong_or_malformed_key_is_no_actor(institutions: Uow, change: str) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, CLI, BANK_A)
    presented = {
        "secret": text[:-1] + ("A" if text[-1] != "A" else "B"),
        "id": text.replace(key.key_id, "zzzzzzzzzzzz"),
        "prefix": "xyz" + text[3:],
        "garbage": "Bearer hello",
        "empty": "",
    }[change]
    with institutions() as uow:
        assert actor_for_key(uow, presented) is None


def test_a_revoked_key_stops_working_and_revoking_is_audited_once(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, CLI, BANK_A)
    with institutions() as uow:
        revoked = revoke_api_key(uow, CLI, key.key_id)
        again = revoke_api_key(uow, CLI, key.key_id)
        assert actor_for_key(uow, text) is None
        actions = [record.action for record in uow.audit.tail(3)]
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    assert actions == ["apikey_add", "apikey_revoke"]
    with institutions() as uow, pytest.raises(NotFound):
        revoke_api_key(uow, CLI, "nosuchkey")


def test_keys_are_for_members_that_hold_accounts(institutions: Uow) -> None:
    with institutions() as uow, pytest.raises(InvalidInput, match="member banks"):
        create_api_key(uow, CLI, HUB)
    with institutions() as uow, pytest.raises(NotFound):
        create_api_key(uow, CLI, "B999")
    with institutions() as uow, pytest.raises(InvalidInput, match="phone number"):
        create_api_key(uow, CLI, BANK_A, "call 13812345678")


def test_only_the_members_own_admin_manages_its_keys(institutions: Uow) -> None:
    admin = Actor(ActorKind.USER, "admin", Role.MEMBER_ADMIN, BANK_A, 1)
    with institutions() as uow:
        key, _ = create_api_key(uow, admin, BANK_A)
    with institutions() as uow, pytest.raises(PermissionDenied):
        create_api_key(uow, admin, BANK_B)
    other = Actor(ActorKind.USER, "admin2", Role.MEMBER_ADMIN, BANK_B, 2)
    with institutions() as uow, pytest.raises(PermissionDenied):
        revoke_api_key(uow, other, key.key_id)
    analyst = Actor(ActorKind.USER, "clerk", Role.MEMBER_ANALYST, BANK_A, 3)
    with institutions() as uow, pytest.raises(PermissionDenied):
        create_api_key(uow, analyst, BANK_A)


def test_use_is_recorded_at_most_once_a_minute(institutions: Uow, clock: FixedClock) -> None:
    with institutions() as uow:
        _, text = create_api_key(uow, CLI, BANK_A)
    first = clock.now()
    with institutions() as uow:
        actor_for_key(uow, text)
    clock.advance(timedelta(seconds=59))
    with institutions() as uow:
        actor_for_key(uow, text)
        assert uow.session.scalars(select(ApiKeyRow.last_used_at)).one() == first
    clock.advance(timedelta(seconds=1))
    with institutions() as uow:
        actor_for_key(uow, text)
        assert uow.session.scalars(select(ApiKeyRow.last_used_at)).one() == clock.now()
