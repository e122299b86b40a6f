"""Login events through the engine: the core reads them in its decisions, the service admits
them, logs them in one commit and folds them back among the transactions after a restart,
from the whole log or from a snapshot, as the state that never stopped holds them."""

from __future__ import annotations

import dataclasses
import marshal
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from engine_fixtures import book, directory, tx
from engine_store import seed, service_opener, transaction
from sqlalchemy import Engine, insert, select, update
from state_values import engine_values

from fundwall.auth.actor import Actor
from fundwall.clock import FixedClock
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.devices import FaceCheck, LoginEvent
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import LOGIN_ALREADY_USED
from fundwall.engine.core import DecisionCore
from fundwall.engine.features import online_snapshot
from fundwall.engine.rules import RulePack, parse_pack
from fundwall.engine.service import DecisionService
from fundwall.ingest import InvalidRecords
from fundwall.rulepacks.registry import promote, register_pack
from fundwall.store import UnitOfWork
from fundwall.store.engine_tables import EngineSnapshotRow
from fundwall.store.mapping import login_event_values
from fundwall.store.tables import Base, DeviceRow, LoginEventRow

LOGIN_PACK = """
pack:
  id: logins
  version: "1"
  description: {zh: "登录规则包", en: "login pack"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: L001
    name: {zh: "收款账户易主", en: "receiving account changed hands"}
    typology: account_trading
    when: payee_takeover_hours >= 0
    score: 30
    reason:
      zh: "收款账户{payee_takeover_hours}前易主登录，近7天核验失败{payee_face_fail_7d}次"
      en: "payee taken over {payee_takeover_hours} ago, {payee_face_fail_7d} failed checks in 7d"
""".encode()
"""Alerts on a payment into an account with a risky login, and quotes the login features."""

LOGINS = Base.metadata.tables[LoginEventRow.__tablename__]
DEVICES = Base.metadata.tables[DeviceRow.__tablename__]
SNAPSHOTS = Base.metadata.tables[EngineSnapshotRow.__tablename__]


def login_pack() -> RulePack:
    return parse_pack(LOGIN_PACK, "logins.yaml")


def login(
    login_id: str, when: datetime, account: str, device: str | None, face: str = "passed"
) -> LoginEvent:
    return LoginEvent(login_id, account, when, device, "203.0.113.7", "Xiamen", FaceCheck(face))


def quoted(decision: Decision) -> dict[str, int | float | str]:
    (reason,) = decision.reasons
    return dict(reason.values)


def state_of(service: DecisionService) -> dict[str, object]:
    """The engine's state as plain values."""
    return engine_values(service.core)


def test_the_core_reads_a_login_in_its_next_decision(policy: PolicySettings) -> None:
    core = DecisionCore(directory(), book(), policy, login_pack())
    assert core.decide(tx(0, "A1", "B1", 100)).decision.action is Action.PASS
    core.observe_login(login("L1", tx(1, "B1", None, 1).ts, "B1", "OWNER", "mismatch"))
    decision = core.decide(tx(4 * 60 + 30, "A1", "B1", 100)).decision
    assert decision.action is Action.ALERT
    (reason,) = decision.reasons
    assert reason.text_zh == "收款账户4小时前易主登录，近7天核验失败1次"
    assert reason.text_en == "payee taken over 4 hours ago, 1 failed checks in 7d"
    assert core.clock_us is not None
    assert core.features.logins == 1


@pytest.fixture
def open_service(
    database: Engine, keyring: Keyring, clock: FixedClock
) -> Iterator[Callable[..., DecisionService]]:
    """Opens services over the seeded test database with LOGIN_PACK live."""
    seed(database, keyring)
    with UnitOfWork(database, clock=clock) as uow:
        version = register_pack(uow, Actor.operator("test"), LOGIN_PACK, name="logins").version
    with UnitOfWork(database, clock=clock) as uow:
        promote(uow, Actor.operator("test"), version)
    with service_opener(database, clock, keyring) as make:
        yield make


def of_member(tx_id: str, when: datetime, payer: str, payee: str) -> Transaction:
    return dataclasses.replace(transaction(tx_id, when, payer, payee, 100_00), payer_bank="301")


def logged_logins(database: Engine) -> list[str]:
    with database.connect() as connection:
        return list(connection.scalars(select(LOGINS.c.event_id).order_by(LOGINS.c.event_id)))


def traffic(service: DecisionService, clock: FixedClock) -> list[Decision]:
    """Decisions and logins interleaved as they may arrive: a takeover of B1 from a new device,
    a login sent late (stamped before transactions already decided), one stamped ahead of the
    clock."""
    now = clock.now()
    made = [service.decide(of_member("T1", now, "A1", "B1"))]
    service.observe_logins(
        [
            login("L0", now - timedelta(days=1), "B1", "OWNER"),
            login("L1", now + timedelta(seconds=1), "B1", "GANG"),
        ]
    )
    clock.advance(timedelta(hours=2))
    made.append(service.decide(of_member("T2", clock.now(), "A1", "B1")))
    late = login("L2", now + timedelta(minutes=30), "B1", "GANG", "failed")
    ahead = login("L3", clock.now() + timedelta(minutes=3), "B1", "OTHER")
    service.observe_logins([late, ahead])
    clock.advance(timedelta(minutes=1))
    made.append(service.decide(of_member("T3", clock.now(), "A1", "B1")))
    clock.advance(timedelta(minutes=5))
    made.append(service.decide(of_member("T4", clock.now(), "A1", "B1")))
    return made


def test_logins_are_logged_and_read_by_the_next_decisions(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    service = open_service()
    first, second, third, fourth = traffic(service, clock)
    assert first.action is Action.PASS
    # L1 is the first login from GANG, after the owner's: T2 reads it two hours later.
    assert quoted(second)["payee_takeover_hours"] == 1
    # The late failed check (at 0:30) is read from then on; the login ahead from its time.
    assert quoted(third) == {"payee_takeover_hours": 1, "payee_face_fail_7d": 1}
    assert quoted(fourth) == {"payee_takeover_hours": 0, "payee_face_fail_7d": 1}
    assert logged_logins(database) == ["L0", "L1", "L2", "L3"]
    with database.connect() as connection:
        kinds = dict(connection.execute(select(DEVICES.c.device_id, DEVICES.c.kind)).all())
    assert kinds == {"OWNER": "other", "GANG": "other", "OTHER": "other"}


def test_a_restart_folds_the_logins_among_the_transactions(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    service = open_service()
    traffic(service, clock)
    assert service.log is not None
    service.log.close()  # gone without saving its state, as in a crash
    with database.connect() as connection:
        assert connection.execute(select(SNAPSHOTS.c.id)).first() is None
    restarted = open_service()
    assert restarted.folded == 4
    assert state_of(restarted) == state_of(service)
    clock.advance(timedelta(minutes=1))
    after = of_member("AFTER", clock.now(), "D1", "B1")
    again, before = restarted.core.decide(after).decision, service.core.decide(after).decision
    assert quoted(again) == quoted(before) == {"payee_takeover_hours": 0, "payee_face_fail_7d": 1}


def test_a_restart_from_a_snapshot_folds_the_logins_that_came_after_it(
    open_service: Callable[[], DecisionService], clock: FixedClock
) -> None:
    first = open_service()
    traffic(first, clock)
    first.close()  # saves a snapshot
    second = open_service()
    assert second.folded == 0
    clock.advance(timedelta(hours=1))
    second.observe_logins([login("L4", clock.now() - timedelta(hours=3), "B1", "NEWER")])
    second.decide(of_member("T5", clock.now(), "C2", "B1"))
    assert second.log is not None
    second.log.close()  # a crash: the snapshot is the one `first` saved
    third = open_service()
    assert third.folded == 1
    assert state_of(third) == state_of(second)
    assert third.core.features.logins == 5


def test_logins_loaded_beside_the_engine_are_folded_when_it_starts(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    """`fundwall load` writes a region's logins; the service reads them as it starts."""
    loaded = login("LOADED", clock.now() - timedelta(hours=5), "B1", None, "mismatch")
    with database.begin() as connection:
        connection.execute(insert(LOGINS), [login_event_values(loaded)])
    service = open_service()
    decision = service.decide(of_member("T1", clock.now(), "A1", "B1"))
    assert quoted(decision) == {"payee_takeover_hours": 5, "payee_face_fail_7d": 1}


def test_a_snapshot_is_not_used_when_older_logins_were_loaded_after_it(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    first = open_service()
    traffic(first, clock)
    first.close()
    old = login("OLD", clock.now() - timedelta(days=8), "C2", "GANG", "failed")  # GANG is known
    with database.begin() as connection:
        connection.execute(insert(LOGINS), [login_event_values(old)])
    restarted = open_service()
    assert restarted.folded == 4  # the whole log, with the old login in its place
    assert restarted.core.features.logins == 5


@pytest.mark.parametrize("older", ["features part", "marshal"])
def test_a_snapshot_of_another_state_version_is_folded_over(
    open_service: Callable[[], DecisionService],
    clock: FixedClock,
    database: Engine,
    monkeypatch: pytest.MonkeyPatch,
    older: str,
) -> None:
    first = open_service()
    traffic(first, clock)
    with monkeypatch.context() as patch:
        if older == "features part":
            patch.setattr(online_snapshot, "VERSION", online_snapshot.VERSION - 1)
        first.close()
    if older == "marshal":  # the layout before the columnar one
        with database.begin() as connection:
            connection.execute(update(SNAPSHOTS).values(state=marshal.dumps((1, b"", b"", None))))
    restarted = open_service()
    assert restarted.folded == 4
    assert state_of(restarted) == state_of(first)


def test_a_member_sends_logins_of_its_own_accounts_only(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    service = open_service()
    now = clock.now()
    mine = login("M1", now, "A1", "P")  # A1 is held by 301
    with pytest.raises(PermissionDenied, match="record 1, account_no: not an account of member"):
        service.observe_logins([mine, login("M2", now, "C2", "P")], member="301")
    assert logged_logins(database) == []
    assert service.observe_logins([mine], member="301") == 1
    assert service.observe_logins([mine], member="301") == 0  # sent again: taken once
    assert service.core.features.logins == 1
    with pytest.raises(InvalidInput) as used:
        service.observe_logins([dataclasses.replace(mine, account_no="C2")], member="302")
    assert (used.value.record, used.value.field, used.value.reason) == (
        "0",
        "login_id",
        LOGIN_ALREADY_USED,
    )
    with pytest.raises(Conflict, match="face_check differ"):
        service.observe_logins(
            [dataclasses.replace(mine, face_check=FaceCheck.FAILED)], member="301"
        )
    assert logged_logins(database) == ["M1"]


def test_a_login_the_features_can_no_longer_count_is_refused_by_its_record(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    service = open_service()
    service.decide(of_member("T1", clock.now(), "A1", "B1"))
    recent = login("R1", clock.now() - timedelta(days=6), "B1", "P")
    stale = login("R2", clock.now() - timedelta(days=7, seconds=1), "B1", "P")
    unknown = login("R3", clock.now(), "NOBODY", "P")
    with pytest.raises(InvalidRecords) as refused:
        service.observe_logins([recent, stale, unknown])
    assert [(e.record, e.field) for e in refused.value.errors] == [
        ("1", "ts"),
        ("2", "account_no"),
    ]
    assert "7 days before" in refused.value.errors[0].reason
    assert logged_logins(database) == []
