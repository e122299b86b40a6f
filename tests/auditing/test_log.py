"""The audit log as auditors read it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auditing import AuditFilter, audit_records, verify_audit_chain
from fundwall.auth import Actor, ActorKind, Role
from fundwall.domain.errors import PermissionDenied
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
AUDITOR = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 98)


def test_the_audit_log_filters_by_actor_prefix_action_and_subject(stocked: Uow) -> None:
    with stocked() as uow:
        everything = audit_records(uow, AUDITOR, AuditFilter())
        users = audit_records(uow, AUDITOR, AuditFilter(subject="user:a"))
        literal = audit_records(uow, AUDITOR, AuditFilter(subject="user:_%"))
        by_action = audit_records(uow, AUDITOR, AuditFilter(action="user_add"))
        with pytest.raises(PermissionDenied):
            audit_records(uow, world.user_actor(uow, "ann"), AuditFilter())
    assert [r.seq for r in everything.items] == [3, 2, 1]
    assert {r.subject for r in users.items} == {"user:ann", "user:amy"}
    assert literal.items == []
    assert len(by_action.items) == 3


def test_the_chain_is_verified_for_auditors_only(stocked: Uow) -> None:
    with stocked() as uow:
        report = verify_audit_chain(uow, AUDITOR)
        with pytest.raises(PermissionDenied, match="view_audit_log"):
            verify_audit_chain(uow, world.user_actor(uow, "ann"))
    assert report.intact and report.records == 3
