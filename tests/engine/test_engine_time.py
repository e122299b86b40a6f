"""No transaction's stamp moves the engine's clock past the service's: over the store a
transaction is decided as of min(its time, the service's clock), never before the engine's
current time, and a restart folds each at the time it was decided as."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from engine_fixtures import ACCOUNTS, book, directory, quiet_pack, tx
from engine_store import seed, service_opener, transaction
from sqlalchemy import Engine, select
from state_values import engine_values

from fundwall.auth.actor import Actor
from fundwall.clock import FixedClock
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.domain.transactions import Transaction
from fundwall.engine.core import DecisionCore, Instant
from fundwall.engine.decision_log import Logged
from fundwall.engine.features.inputs import micros
from fundwall.engine.service import DecisionService
from fundwall.rulepacks.registry import promote, register_pack
from fundwall.store import UnitOfWork
from fundwall.store.engine_tables import EngineSnapshotRow
from fundwall.store.tables import Base, DecisionRow

CLOCK_PACK = """
pack:
  id: clock
  version: "1"
  description: {zh: "时间规则包", en: "clock pack"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: C001
    name: {zh: "报告时间", en: "report the time"}
    typology: velocity
    when: amount > 0
    score: 30
    reason:
      zh: "{hour}时，开户{payer_age_days}，收款方{payee_idle_days}"
      en: "hour {hour}, payer opened {payer_age_days}, payee idle {payee_idle_days}"
""".encode()
"""Alerts on every transaction and quotes the features that read the engine's clock."""

FAR_AHEAD = datetime(9999, 12, 31, tzinfo=UTC)
OPENED = datetime(2023, 1, 1, tzinfo=UTC)
"""When `engine_store.seed` opens every account."""


@pytest.fixture
def open_service(
    database: Engine, keyring: Keyring, clock: FixedClock
) -> Iterator[Callable[[], DecisionService]]:
    """Opens services over the seeded test database with CLOCK_PACK live."""
    seed(database, keyring)
    with UnitOfWork(database, clock=clock) as uow:
        version = register_pack(uow, Actor.operator("test"), CLOCK_PACK, name="clock").version
    with UnitOfWork(database, clock=clock) as uow:
        promote(uow, Actor.operator("test"), version)
    with service_opener(database, clock, keyring) as make:
        yield make


def of_member(tx_id: str, when: datetime, payer: str, payee: str, fen: int = 100_00) -> Transaction:
    """A transfer paid by `payer`, submitted by the member that holds it."""
    bank = next(a[1] for a in ACCOUNTS if a[0] == payer)
    return dataclasses.replace(transaction(tx_id, when, payer, payee, fen), payer_bank=bank)


def quoted(decision: Decision) -> dict[str, int | float | str]:
    (reason,) = decision.reasons
    return dict(reason.values)


def state_of(service: DecisionService | DecisionCore) -> dict[str, object]:
    """The engine's state as plain values."""
    return engine_values(service.core if isinstance(service, DecisionService) else service)


def test_a_transaction_an_hour_ahead_does_not_move_the_clock_of_another_member(
    open_service: Callable[[], DecisionService], clock: FixedClock
) -> None:
    service = open_service()
    now = clock.now()  # 16:00 in Beijing
    service.decide(of_member("AHEAD", now + timedelta(hours=1), "A1", "B1"))
    assert service.core.clock_us == micros(now, "now")
    clock.advance(timedelta(minutes=1))
    other = service.decide(of_member("OTHER", clock.now(), "D1", "C3"))
    assert quoted(other)["hour"] == 16
    assert service.core.clock_us == micros(clock.now(), "now")


def test_a_transaction_dated_9999_ages_no_account(
    open_service: Callable[[], DecisionService], clock: FixedClock
) -> None:
    service = open_service()
    ahead = service.decide(of_member("AHEAD", FAR_AHEAD, "A1", "B1", 1))
    assert quoted(ahead)["payer_age_days"] == (clock.now() - OPENED).days
    clock.advance(timedelta(minutes=1))
    other = service.decide(of_member("OTHER", clock.now(), "D1", "B1"))
    assert quoted(other)["payer_age_days"] == (clock.now() - OPENED).days  # 517, not millions
    assert quoted(other)["payee_idle_days"] == 0  # B1 received ¥0.01 a minute before


def test_the_log_keeps_the_stamp_sent_and_the_instant_decided(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    service = open_service()
    service.decide_batch(
        [
            of_member("AHEAD", FAR_AHEAD, "A1", "B1"),
            of_member("ON-TIME", clock.now(), "D1", "B1"),
        ]
    )
    assert service.log is not None
    logged = {each.event.tx_id: each for each in service.log.history() if isinstance(each, Logged)}
    assert logged["AHEAD"].event.ts == FAR_AHEAD
    assert logged["AHEAD"].decided_at == logged["ON-TIME"].decided_at == clock.now()
    with database.connect() as connection:
        stamps = set(connection.scalars(select(DecisionRow.decided_at)))
    assert stamps == {clock.now()}


def test_a_restart_folds_capped_transactions_at_the_time_they_were_decided_as(
    open_service: Callable[[], DecisionService], clock: FixedClock, database: Engine
) -> None:
    service = open_service()
    service.decide(of_member("AHEAD", FAR_AHEAD, "A1", "B1"))
    clock.advance(timedelta(minutes=1))
    service.decide(of_member("SOON", clock.now() + timedelta(minutes=3), "B1", "C3"))
    clock.advance(timedelta(minutes=1))
    service.decide(of_member("ON-TIME", clock.now(), "D1", "A1"))
    assert service.log is not None
    service.log.close()  # gone without saving its state, as in a crash
    assert not _snapshots(database)
    restarted = open_service()
    assert restarted.folded == 3
    assert state_of(restarted) == state_of(service)
    assert restarted.core.clock_us == micros(clock.now(), "now")
    clock.advance(timedelta(minutes=1))
    after = restarted.decide(of_member("AFTER", clock.now(), "C2", "B1"))
    assert quoted(after)["payer_age_days"] == (clock.now() - OPENED).days


def test_a_service_clock_set_back_never_moves_the_engine_back(
    open_service: Callable[[], DecisionService], clock: FixedClock
) -> None:
    service = open_service()
    now = clock.now()
    service.decide(of_member("FIRST", now, "A1", "B1"))
    clock.set(now - timedelta(hours=2))  # the machine's clock was corrected
    second = service.decide(of_member("SECOND", now + timedelta(minutes=1), "D1", "C3"))
    assert quoted(second)["hour"] == 16  # as of the engine's time, not 14:00
    assert service.core.clock_us == micros(now, "now")
    assert service.log is not None
    service.log.close()
    assert state_of(open_service()) == state_of(service)


def _snapshots(database: Engine) -> int:
    table = Base.metadata.tables[EngineSnapshotRow.__tablename__]
    with database.connect() as connection:
        return len(connection.execute(select(table.c.id)).all())


def test_the_engine_caps_a_time_at_until_and_never_goes_back(policy: PolicySettings) -> None:
    core = DecisionCore(directory(), book(), policy, quiet_pack())
    until = Instant.of(tx(10, "A1", "B1", 100).ts)
    core.decide(tx(60, "A1", "B1", 100), until)
    assert core.clock_us == until.us
    core.decide(tx(5, "D1", "C3", 100), until)  # late: as of the engine's time
    assert core.clock_us == until.us
    core.decide(tx(20, "D1", "C3", 100))  # no `until`, as in memory: its own time
    assert core.clock_us == micros(tx(20, "D1", "C3", 100).ts, "x")


def test_folding_with_the_same_until_gives_the_same_state(policy: PolicySettings) -> None:
    events = [tx(60 * 24 * 365, "A1", "B1", 100), tx(2, "D1", "C3", 100), tx(3, "B1", "C2", 5)]
    until = Instant.of(tx(1, "A1", "B1", 100).ts)
    decided = DecisionCore(directory(), book(), policy, quiet_pack())
    folded = DecisionCore(directory(), book(), policy, quiet_pack())
    for event in events:
        decided.decide(event, until)
        folded.fold(event, None, until)
    assert state_of(folded) == state_of(decided)
    assert decided.clock_us == until.us
