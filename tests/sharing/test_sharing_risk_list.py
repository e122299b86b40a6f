"""The shared risk list on SQLite and PostgreSQL: entries are checked, keyed as the control
book matches them, audited, retracted; only the hub and the operator keep the list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.clock import FixedClock
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.engine.controls import Evidence, ListKind, RiskCategory
from fundwall.engine.controls.changes import load_book
from fundwall.engine.features.inputs import micros
from fundwall.sharing.risk_list import list_risk, retract_risk
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
OPERATOR = Actor.operator("test")
MULE, VERIFIED = RiskCategory.MULE, Evidence.MEMBER_VERIFIED


def test_entries_round_trip_and_are_retracted(uow_factory: Uow, clock: FixedClock) -> None:
    now = clock.now()
    with uow_factory() as uow:
        entry = list_risk(
            uow, HUB, ListKind.IP, "10.0.0.9", MULE, VERIFIED, "301",
            valid_until=now + timedelta(days=30),
        )  # fmt: skip
        account = list_risk(
            uow, HUB, ListKind.ACCOUNT, "6222021234567890123", MULE, VERIFIED, "301", bank="301"
        )
    with uow_factory() as uow:
        loaded = load_book(uow.session)
        first, second = uow.audit.tail(2)
    (ip,) = loaded.entries[ListKind.IP]["10.0.0.9"].values()
    assert (ip.category, ip.evidence, ip.member) == (MULE, VERIFIED, "301")
    assert ip.end_us == micros(now + timedelta(days=30), "t")
    assert (first.actor, first.action, first.subject) == ("user:hub", "list_risk", "risk_list:301")
    assert second.details["key"] == "6222***********0123"
    clock.advance(timedelta(days=1))
    with uow_factory() as uow:
        retract_risk(uow, OPERATOR, entry, "reported in error")
        (record,) = uow.audit.tail(1)
        reloaded = load_book(uow.session)
    assert (record.action, record.details) == (
        "retract_risk",
        {"entry": entry, "member": "301", "reason": "reported in error"},
    )
    assert reloaded.entries[ListKind.IP]["10.0.0.9"][entry].end_us == micros(clock.now(), "t")
    with uow_factory() as uow:
        with pytest.raises(Conflict, match="retracted already"):
            retract_risk(uow, HUB, entry, "again")
        with pytest.raises(NotFound):
            retract_risk(uow, HUB, 12345, "no such entry")
    assert account != entry


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (ListKind.ID_HASH, "350203198001011234"),
        (ListKind.IP, "10.0.0"),
        (ListKind.DEVICE, "has space"),
    ],
)
def test_bad_keys_are_refused(uow_factory: Uow, kind: ListKind, key: str) -> None:
    with uow_factory() as uow:
        with pytest.raises(InvalidInput) as caught:
            list_risk(uow, HUB, kind, key, MULE, VERIFIED, "301")
        assert caught.value.field == "key"
        assert uow.audit.tail(1) == []


def test_only_actors_with_the_right_keep_the_list(uow_factory: Uow) -> None:
    without = [r for r in Role if Permission.MANAGE_RISK_LIST not in ROLE_PERMISSIONS[r]]
    assert Role.MEMBER_ADMIN in without and Role.AUDITOR in without
    with uow_factory() as uow:
        entry = list_risk(uow, OPERATOR, ListKind.DEVICE, "dev-1", MULE, VERIFIED, "301")
    for role in without:
        actor = Actor(ActorKind.USER, "someone", role, "301" if role.needs_member else None, 9)
        with uow_factory() as uow:
            with pytest.raises(PermissionDenied, match="manage_risk_list"):
                list_risk(uow, actor, ListKind.DEVICE, "dev-2", MULE, VERIFIED, "301")
            with pytest.raises(PermissionDenied, match="manage_risk_list"):
                retract_risk(uow, actor, entry, "not mine to retract")
            assert [r.action for r in uow.audit.tail(2)] == ["list_risk"]
