"""API keys as credentials: a key acts as its member's system; a wrong, malformed or revoked
key is no actor; its use is recorded at most once a minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from fundwall.auth import Actor, ActorKind, Permission, Role, actor_for_key
from fundwall.clock import FixedClock
from fundwall.members import create_api_key, revoke_api_key
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ApiKeyRow

from .conftest import BANK_A, OPERATOR

Uow = Callable[[], UnitOfWork]


def test_a_key_acts_as_its_member_system(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, OPERATOR, BANK_A)
    with institutions() as uow:
        actor = actor_for_key(uow, text)
    assert actor == Actor(ActorKind.API_KEY, key.key_id, Role.MEMBER_SYSTEM, BANK_A)
    assert actor.can(Permission.SUBMIT_TRANSACTIONS)
    assert actor.can(Permission.VIEW_CUSTOMER_DATA)
    assert not actor.can(Permission.UNMASK_PERSONAL_DATA)
    assert actor.audit_id == f"apikey:{key.key_id}@{BANK_A}"


@pytest.mark.parametrize("change", ["secret", "id", "prefix", "garbage", "empty", "revoked"])
def test_a_wrong_malformed_or_revoked_key_is_no_actor(institutions: Uow, change: str) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, OPERATOR, BANK_A)
        if change == "revoked":
            revoke_api_key(uow, OPERATOR, key.key_id)
    presented = {
        "secret": text[:-1] + ("A" if text[-1] != "A" else "B"),
        "id": text.replace(key.key_id, "zzzzzzzzzzzz"),
        "prefix": "xyz" + text[3:],
        "garbage": "Bearer hello",
        "empty": "",
        "revoked": text,
    }[change]
    with institutions() as uow:
        assert actor_for_key(uow, presented) is None


def test_use_is_recorded_at_most_once_a_minute(institutions: Uow, clock: FixedClock) -> None:
    with institutions() as uow:
        _, text = create_api_key(uow, OPERATOR, BANK_A)
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
