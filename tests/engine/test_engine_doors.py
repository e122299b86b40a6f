"""The narrow doors to the hard controls on SQLite and PostgreSQL: each change is checked,
written with an audit record that names no raw identity, and read back into a control book."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from engine_store import seed
from sqlalchemy import Engine

from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.engine.controls import (
    ControlBook,
    Evidence,
    ListKind,
    RestrictionKind,
    RiskCategory,
)
from fundwall.engine.controls.doors import (
    apply_changes,
    lift_punishment,
    lift_restriction,
    list_risk,
    load_book,
    punish,
    restrict,
    retract_risk,
    set_account_status,
)
from fundwall.engine.controls.model import NEVER_US
from fundwall.engine.features.inputs import micros
from fundwall.store import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
OFFICER = "user:officer@PSB350200"


@pytest.fixture
def hashes(database: Engine, keyring: Keyring) -> dict[str, tuple[str, str]]:
    return seed(database, keyring)


def book(uow_factory: UowFactory) -> ControlBook:
    with uow_factory() as uow:
        return load_book(uow.session)


def us(moment: datetime) -> int:
    return micros(moment, "t")


def test_load_book_reads_statuses_bound_accounts_and_holders_hashes(
    uow_factory: UowFactory, hashes: dict[str, tuple[str, str]]
) -> None:
    loaded = book(uow_factory)
    assert loaded.statuses == {}
    assert loaded.bound == {"C2": "A1", "C3": "B1"}
    assert loaded.party_keys["B1"] == hashes["P2"]


def test_status_changes_are_audited_and_reach_a_running_book(
    uow_factory: UowFactory, hashes: dict[str, tuple[str, str]]
) -> None:
    running = book(uow_factory)
    with uow_factory() as uow:
        revision = uow.audit.tail(1)[0].seq if uow.audit.tail(1) else 0
        previous = set_account_status(uow, OFFICER, "A1", AccountStatus.CLOSED, "销户申请")
    with uow_factory() as uow:
        (record,) = uow.audit.tail(1)
        apply_changes(uow.session, running, revision)
    assert previous is AccountStatus.NORMAL
    assert running.statuses == {"A1": AccountStatus.CLOSED}
    assert (record.action, record.subject) == ("set_account_status", "account:*1")
    assert record.details == {"from": "normal", "to": "closed", "reason": "销户申请"}
    assert book(uow_factory).statuses == {"A1": AccountStatus.CLOSED}


def test_restrictions_are_time_bounded_and_lifted(
    uow_factory: UowFactory, clock: FixedClock, hashes: dict[str, tuple[str, str]]
) -> None:
    now = clock.now()
    with uow_factory() as uow:
        stop = restrict(
            uow, OFFICER, "6222021234567890123", RestrictionKind.STOP_PAYMENT,
            reason="紧急止付", ends_at=now + timedelta(hours=48), order_reference="ZF-2024-42",
        )  # fmt: skip
        freeze = restrict(
            uow, OFFICER, "A1", RestrictionKind.FREEZE, reason="冻结", amount_fen=5_000_00,
            starts_at=now + timedelta(hours=1),
        )  # fmt: skip
        (record,) = uow.audit.tail(1)
    assert record.subject == "account:*1"
    with uow_factory() as uow:
        first = uow.audit.tail(2)[0]
    assert first.subject == "account:6222***********0123"
    assert first.details["reference"] == "ZF-2024-42"
    loaded = book(uow_factory)
    (stopped,) = loaded.restrictions["6222021234567890123"].values()
    assert (stopped.start_us, stopped.end_us) == (us(now), us(now + timedelta(hours=48)))
    assert stopped.whole and stopped.reference == "ZF-2024-42"
    (frozen,) = loaded.restrictions["A1"].values()
    assert (frozen.amount_fen, frozen.end_us) == (5_000_00, NEVER_US)
    clock.advance(timedelta(hours=2))
    with uow_factory() as uow:
        lift_restriction(uow, OFFICER, freeze, "解冻")
    (lifted,) = book(uow_factory).restrictions["A1"].values()
    assert lifted.end_us == us(clock.now())
    with uow_factory() as uow, pytest.raises(Conflict, match="lifted already"):
        lift_restriction(uow, OFFICER, freeze, "again")
    assert stop != freeze


def test_risk_entries_and_punishment_listings_round_trip(
    uow_factory: UowFactory, clock: FixedClock, hashes: dict[str, tuple[str, str]]
) -> None:
    now = clock.now()
    with uow_factory() as uow:
        entry = list_risk(
            uow, OFFICER, ListKind.IP, "10.0.0.9", RiskCategory.MULE, Evidence.MEMBER_VERIFIED,
            "301", valid_until=now + timedelta(days=30),
        )  # fmt: skip
        listing = punish(
            uow, OFFICER, hashes["P2"][0], "card dealer (卡商)",
            listed_from=now, listed_until=now + timedelta(days=730),
        )  # fmt: skip
    loaded = book(uow_factory)
    (ip,) = loaded.entries[ListKind.IP]["10.0.0.9"].values()
    assert (ip.category, ip.evidence, ip.member) == (
        RiskCategory.MULE,
        Evidence.MEMBER_VERIFIED,
        "301",
    )
    (listed,) = loaded.punished[hashes["P2"][0]].values()
    assert listed.end_us == us(now + timedelta(days=730))
    clock.advance(timedelta(days=1))
    with uow_factory() as uow:
        retract_risk(uow, OFFICER, entry)
        lift_punishment(uow, OFFICER, listing, "appeal upheld")
        actions = [r.action for r in uow.audit.tail(4)]
    assert actions == ["list_risk", "punish", "retract_risk", "lift_punishment"]
    reloaded = book(uow_factory)
    assert reloaded.entries[ListKind.IP]["10.0.0.9"][entry].end_us == us(clock.now())
    assert reloaded.punished[hashes["P2"][0]][listing].end_us == us(clock.now())
    with uow_factory() as uow, pytest.raises(Conflict):
        retract_risk(uow, OFFICER, entry)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow: set_account_status(uow, OFFICER, "A1", AccountStatus.FROZEN_PARTIAL, "x"),
         "status"),
        (lambda uow: set_account_status(uow, OFFICER, "A1", AccountStatus.CLOSED, "  "), "reason"),
        (lambda uow: restrict(uow, OFFICER, "A1", RestrictionKind.FREEZE, reason="x",
                              amount_fen=0), "amount_fen"),
        (lambda uow: restrict(uow, OFFICER, "A1", RestrictionKind.NON_COUNTER_SUSPENSION,
                              reason="x", amount_fen=100), "amount_fen"),
        (lambda uow: restrict(uow, OFFICER, "A 1", RestrictionKind.FREEZE, reason="x"),
         "account_no"),
        (lambda uow: restrict(uow, OFFICER, "A1", RestrictionKind.FREEZE, reason="x",
                              ends_at=uow.clock.now() - timedelta(seconds=1)), "ends_at"),
        (lambda uow: restrict(uow, OFFICER, "A1", RestrictionKind.FREEZE, reason="x",
                              ends_at=datetime(2030, 1, 1)), "ends_at"),
        (lambda uow: list_risk(uow, OFFICER, ListKind.ID_HASH, "350203198001011234",
                               RiskCategory.MULE, Evidence.MEMBER_VERIFIED, "301"), "key"),
        (lambda uow: list_risk(uow, OFFICER, ListKind.IP, "10.0.0", RiskCategory.MULE,
                               Evidence.MEMBER_VERIFIED, "301"), "key"),
        (lambda uow: list_risk(uow, OFFICER, ListKind.DEVICE, "has space", RiskCategory.MULE,
                               Evidence.MEMBER_VERIFIED, "301"), "key"),
    ],
)  # fmt: skip
def test_bad_changes_are_refused_naming_the_field(
    uow_factory: UowFactory,
    hashes: dict[str, tuple[str, str]],
    call: Callable[[UnitOfWork], object],
    field: str,
) -> None:
    with uow_factory() as uow:
        with pytest.raises(InvalidInput) as caught:
            call(uow)
        assert caught.value.field == field
        assert uow.audit.tail(1) == []


def test_unknown_rows_are_not_found(
    uow_factory: UowFactory, hashes: dict[str, tuple[str, str]]
) -> None:
    with uow_factory() as uow:
        with pytest.raises(NotFound, match=r"account not found: \*\*\*UCH"):
            set_account_status(uow, OFFICER, "NOSUCH", AccountStatus.CLOSED, "x")
        with pytest.raises(NotFound):
            lift_restriction(uow, OFFICER, 12345, "x")
        with pytest.raises(NotFound):
            retract_risk(uow, OFFICER, 12345)
        with pytest.raises(NotFound):
            lift_punishment(uow, OFFICER, 12345, "x")


def test_a_reason_with_a_raw_id_number_never_enters_the_audit_log(
    uow_factory: UowFactory, hashes: dict[str, tuple[str, str]]
) -> None:
    with uow_factory() as uow, pytest.raises(InvalidInput, match="ID number in the clear"):
        restrict(uow, OFFICER, "A1", RestrictionKind.FREEZE, reason="holder 11010519491231002X")
