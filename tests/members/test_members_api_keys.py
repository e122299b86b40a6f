"""API keys: made for a member that holds accounts, shown once and stored as a digest, listed
without their secrets, revoked for good; each change audited, each member's keys its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from fundwall.auth import Actor, ActorKind, Role, actor_for_key
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.members import create_api_key, list_api_keys, revoke_api_key
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ApiKeyRow

from .conftest import BANK_A, BANK_B, HUB, OPERATOR

Uow = Callable[[], UnitOfWork]


def test_a_key_is_shown_once_and_only_its_digest_is_stored(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, OPERATOR, BANK_A, "core banking")
    assert text.startswith(f"fwk_{key.key_id}_")
    secret = text[len(f"fwk_{key.key_id}_") :]
    with institutions() as uow:
        row = uow.session.scalars(select(ApiKeyRow)).one()
        stored = (row.key_id, row.member_code, row.label, row.secret_hash, row.created_by)
        (record,) = uow.audit.tail(1)
        listed = list_api_keys(uow, OPERATOR, BANK_A)
    assert stored[:3] == (key.key_id, BANK_A, "core banking")
    assert secret not in stored[3] and len(stored[3]) == 64
    assert stored[4] == "system:test"
    assert (record.action, record.subject) == ("apikey_add", f"apikey:{key.key_id}")
    assert secret not in str(record.details)
    assert [k.key_id for k in listed] == [key.key_id]


def test_a_revoked_key_stops_working_and_revoking_is_audited_once(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, OPERATOR, BANK_A)
    with institutions() as uow:
        revoked = revoke_api_key(uow, OPERATOR, key.key_id)
        again = revoke_api_key(uow, OPERATOR, key.key_id)
        assert actor_for_key(uow, text) is None
        actions = [record.action for record in uow.audit.tail(3)]
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    assert actions == ["apikey_add", "apikey_revoke"]
    with institutions() as uow, pytest.raises(NotFound):
        revoke_api_key(uow, OPERATOR, "nosuchkey")


def test_keys_are_for_members_that_hold_accounts(institutions: Uow) -> None:
    with institutions() as uow, pytest.raises(InvalidInput, match="member banks"):
        create_api_key(uow, OPERATOR, HUB)
    with institutions() as uow, pytest.raises(NotFound):
        create_api_key(uow, OPERATOR, "B999")
    with institutions() as uow, pytest.raises(InvalidInput, match="phone number"):
        create_api_key(uow, OPERATOR, BANK_A, "call 13812345678")


def test_only_the_members_own_admin_manages_its_keys(institutions: Uow) -> None:
    admin = Actor(ActorKind.USER, "admin", Role.MEMBER_ADMIN, BANK_A, 1)
    with institutions() as uow:
        ours, _ = create_api_key(uow, admin, BANK_A)
        theirs, _ = create_api_key(uow, OPERATOR, BANK_B)
    with institutions() as uow, pytest.raises(PermissionDenied):
        create_api_key(uow, admin, BANK_B)
    with institutions() as uow:
        assert [key.key_id for key in list_api_keys(uow, admin)] == [ours.key_id]
        assert len(list_api_keys(uow, OPERATOR)) == 2
    with institutions() as uow, pytest.raises(PermissionDenied):
        list_api_keys(uow, admin, BANK_B)
    # Another member's key reads as a key no one made.
    with institutions() as uow, pytest.raises(NotFound):
        revoke_api_key(uow, admin, theirs.key_id)
    for role, member in ((Role.MEMBER_ANALYST, BANK_A), (Role.HUB_SUPERVISOR, None)):
        someone = Actor(ActorKind.USER, "someone", role, member, 3)
        with institutions() as uow, pytest.raises(PermissionDenied, match="manage_api_keys"):
            create_api_key(uow, someone, BANK_A)
        with institutions() as uow, pytest.raises(PermissionDenied, match="manage_api_keys"):
            list_api_keys(uow, someone)
