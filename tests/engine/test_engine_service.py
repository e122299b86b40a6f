"""The decision service over the store, on SQLite and PostgreSQL: idempotency, the log,
shadow packs, restarts, snapshots, and changes that take effect on the next transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from engine_fixtures import COUNTING_PACK, STRICTER_PACK, TEST_PACK
from engine_store import phone, seed, service_opener, transaction
from sqlalchemy import Engine, event, func, insert, select
from state_values import engine_values

from fundwall.accounts.controls import lift_restriction, restrict, set_account_status
from fundwall.auth.actor import Actor
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring, SharingKeys
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.errors import Conflict
from fundwall.domain.transactions import Channel, Transaction
from fundwall.engine.controls import Evidence, ListKind, RestrictionKind, RiskCategory
from fundwall.engine.features import TxEvent
from fundwall.engine.registry import ENGINE_ACTOR, PackStatus, pack_records
from fundwall.engine.rules import default_pack
from fundwall.engine.service import DecisionService
from fundwall.rulepacks.registry import promote, register_pack, set_shadow
from fundwall.sharing.keys import rotate_sharing_key
from fundwall.sharing.risk_list import list_risk
from fundwall.store import DatabaseUnavailableError, UnitOfWork
from fundwall.store.engine_tables import EngineSnapshotRow
from fundwall.store.tables import Base, DecisionRow, TransactionRow

UowFactory = Callable[[], UnitOfWork]
ACTOR = Actor.operator("test")


@pytest.fixture
def hashes(database: Engine, keyring: Keyring) -> dict[str, tuple[str, str]]:
    return seed(database, keyring)


@pytest.fixture
def open_service(
    database: Engine, keyring: Keyring, clock: FixedClock, hashes: dict[str, tuple[str, str]]
) -> Iterator[Callable[..., DecisionService]]:
    """Opens services over the test database; closes them at the end."""
    with service_opener(database, clock, keyring) as make:
        yield make


def live(uow_factory: UowFactory, content: bytes, name: str) -> str:
    with uow_factory() as uow:
        version = register_pack(uow, ACTOR, content, name=name).version
    with uow_factory() as uow:
        promote(uow, ACTOR, version)
    return version


class Stream:
    """Transactions one minute apart, at the test clock's time, which follows them."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.count = 0

    def __call__(
        self, payer: str | None, payee: str | None, fen: int, channel: Channel = Channel.MOBILE
    ) -> Transaction:
        self.count += 1
        when = self.clock.advance(timedelta(minutes=1))
        return transaction(f"S{self.count:04d}", when, payer, payee, fen, channel)


@pytest.fixture
def stream(clock: FixedClock) -> Stream:
    return Stream(clock)


def rows(database: Engine, table: str) -> int:
    with database.connect() as connection:
        return int(
            connection.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0
        )


def test_default_pack_goes_live_on_first_use(
    open_service: Callable[..., DecisionService], uow_factory: UowFactory
) -> None:
    service = open_service()
    assert service.live_pack.version == default_pack().version
    assert service.shadow_pack is None
    with uow_factory() as uow:
        (record,) = pack_records(uow.session)
        actions = [(r.actor, r.action) for r in uow.audit.tail(5)]
    assert (record.status, record.promoted_by) == (PackStatus.LIVE, ENGINE_ACTOR)
    assert actions == [(ENGINE_ACTOR, "register_rule_pack"), (ENGINE_ACTOR, "promote_rule_pack")]


def test_a_repeated_id_gets_its_first_decision_and_counts_once(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    database: Engine,
    stream: Stream,
) -> None:
    live(uow_factory, COUNTING_PACK, "counting.yaml")
    service = open_service()
    first = stream("A1", "B1", 100)
    decision = service.decide(first)
    assert service.decide(first) == decision
    assert service.decide_batch([first]) == [decision]
    # Counted once: the next transfer has one earlier transfer in its hour, not three.
    assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
    assert service.decide(stream("A1", "B1", 100)).action is Action.ALERT
    assert rows(database, "transactions") == rows(database, "decisions") == 3


def test_a_batch_is_logged_at_once_and_repeats_inside_it_get_the_first_decision(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    service = open_service()
    one, two = stream("A1", "B1", 100), stream("B1", "A1", 200)
    answers = service.decide_batch([one, two, one])
    assert [a.tx_id for a in answers] == [one.tx_id, two.tx_id, one.tx_id]
    assert answers[2] is answers[0]
    assert rows(database, "transactions") == 2


def test_shadow_pack_is_logged_and_never_enforced(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    database: Engine,
    stream: Stream,
) -> None:
    live_version = live(uow_factory, TEST_PACK, "test.yaml")
    with uow_factory() as uow:
        trial = register_pack(uow, ACTOR, STRICTER_PACK, name="stricter.yaml")
    assert trial.version != live_version
    service = open_service()
    with uow_factory() as uow:
        set_shadow(uow, ACTOR, trial.version)
    tx = stream("A1", "B1", 500_00)
    decision = service.decide(tx)
    assert (decision.action, decision.pack_version, decision.shadow) == (
        Action.ALERT,
        live_version,
        False,
    )
    with database.connect() as connection:
        logged = connection.execute(
            select(DecisionRow.action, DecisionRow.pack_version, DecisionRow.shadow)
            .where(DecisionRow.tx_id == tx.tx_id)
            .order_by(DecisionRow.id)
        ).all()
    assert [tuple(r) for r in logged] == [
        ("alert", live_version, False),
        ("block", trial.version, True),
    ]
    assert service.decide(tx) == decision


def test_restart_folds_the_log_and_answers_repeats_from_it(
    open_service: Callable[..., DecisionService], uow_factory: UowFactory, stream: Stream
) -> None:
    live(uow_factory, COUNTING_PACK, "counting.yaml")
    first = open_service()
    sent = [stream("A1", "B1", 100), stream("A1", "D1", 100)]
    answered = first.decide_batch(sent)
    first.close()
    again = open_service()
    assert [again.decide(tx) for tx in sent] == answered
    third = again.decide(stream("A1", "B1", 100))
    assert third.action is Action.ALERT
    assert third.reasons[0].values == {"payer_out_count_1h": 2}


def test_changes_to_the_controls_hold_from_the_next_transaction(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    stream: Stream,
    hashes: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> None:
    live(uow_factory, TEST_PACK, "test.yaml")
    keys_dir = tmp_path / "keys"
    service = open_service(keys_dir=keys_dir)
    assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
    with uow_factory() as uow:
        stop = restrict(uow, ACTOR, "A1", RestrictionKind.STOP_PAYMENT, reason="止付令 2024-7")
    blocked = service.decide(stream("A1", "B1", 100))
    assert (blocked.action, blocked.reasons[0].rule_id) == (Action.BLOCK, "HC02")
    with uow_factory() as uow:
        lift_restriction(uow, ACTOR, stop, "order withdrawn")
    assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
    with uow_factory() as uow:
        set_account_status(uow, ACTOR, "B1", AccountStatus.CLOSED, "closed online")
    assert service.decide(stream("A1", "B1", 100)).reasons[0].rule_id == "HC07"
    # A sharing key made while the service runs: it hashes its customers under it at once.
    with uow_factory() as uow:
        version = rotate_sharing_key(uow, ACTOR, keys_dir)
    shared = SharingKeys.load(keys_dir, (version,)).hash("phone", phone("P4"))
    with uow_factory() as uow:
        list_risk(
            uow, ACTOR, ListKind.PHONE_HASH, shared, RiskCategory.AT_RISK_VICTIM,
            Evidence.MEMBER_VERIFIED, "301",
        )  # fmt: skip
    warned = service.decide(stream("D1", "A1", 100))
    assert (warned.action, warned.reasons[0].rule_id) == (Action.WARN, "HC25")


def test_a_call_after_a_change_reads_only_the_kinds_of_rows_that_changed(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    database: Engine,
    stream: Stream,
) -> None:
    """The head moves for every audited change; the rows the engine reads are read only
    when a change of their kind came (a case note moves it, and nothing is read but the
    newest revision of each kind)."""
    service = open_service()
    service.decide(stream("A1", "B1", 100))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    def reads_of_changes() -> list[str]:
        return [re.findall(r"FROM (\w+)", s)[0] for s in statements if "revision >" in s]

    event.listen(database, "before_cursor_execute", seen)
    try:
        with uow_factory() as uow:
            uow.audit.record("user:analyst@B001", "add_case_note", "case:C1")
            uow.commit()
        statements.clear()
        assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
        assert reads_of_changes() == []
        assert sum("max(" in s for s in statements) == 1  # the newest revisions, once
        with uow_factory() as uow:
            restrict(uow, ACTOR, "A1", RestrictionKind.STOP_PAYMENT, reason="止付令 2024-7")
        statements.clear()
        blocked = service.decide(stream("A1", "B1", 100))
        assert (blocked.action, blocked.reasons[0].rule_id) == (Action.BLOCK, "HC02")
        assert reads_of_changes() == [
            "account_restrictions",
            "risk_list_entries",
            "punishment_list",
            "account_status_changes",
        ]
    finally:
        event.remove(database, "before_cursor_execute", seen)


def test_a_promoted_pack_decides_the_next_transaction(
    open_service: Callable[..., DecisionService], uow_factory: UowFactory, stream: Stream
) -> None:
    service = open_service()
    assert service.decide(stream("A1", "B1", 100)).pack_version == default_pack().version
    version = live(uow_factory, TEST_PACK, "test.yaml")
    assert service.decide(stream("A1", "B1", 100)).pack_version == version
    assert service.live_pack.version == version


def test_a_failed_write_counts_nothing(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    database: Engine,
    stream: Stream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live(uow_factory, COUNTING_PACK, "counting.yaml")
    service = open_service()
    tx = stream("A1", "B1", 100)
    assert service.log is not None
    append = service.log.append_group

    def fail(writes: object) -> None:
        raise DatabaseUnavailableError("sqlite://", "disk I/O error")

    monkeypatch.setattr(service.log, "append_group", fail)
    with pytest.raises(DatabaseUnavailableError):
        service.decide(tx)
    monkeypatch.setattr(service.log, "append_group", append)
    assert service.decide(tx).action is Action.PASS
    # tx counted once: the next one sees one earlier transfer, not two.
    assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
    assert rows(database, "transactions") == 2


def test_history_without_decisions_is_folded_but_not_decided_again(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    database: Engine,
    stream: Stream,
) -> None:
    live(uow_factory, COUNTING_PACK, "counting.yaml")
    loaded = stream("A1", "B1", 30_000_00)
    with database.begin() as connection:
        connection.execute(
            insert(Base.metadata.tables[TransactionRow.__tablename__]), loaded.as_row()
        )
    service = open_service()
    # accounts.balance_fen is the balance after the loaded history.
    assert service.core.controls.balance("A1") == 100_000_00
    assert service.core.controls.balance("B1") == 50_000_00
    assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
    assert service.decide(stream("A1", "B1", 100)).action is Action.ALERT
    with pytest.raises(Conflict, match="history loaded without a decision"):
        service.decide(loaded)


def test_a_restart_from_a_snapshot_and_its_tail_equals_a_full_fold(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    service = open_service(snapshot_every=2)
    for payer, payee in [("A1", "B1"), ("B1", "C2"), ("C2", "C3"), ("D1", "A1"), ("A1", "F1")]:
        service.decide(stream(payer, payee, 1_000_00))
    assert service.log is not None
    service.log.close()  # gone without saving its state, as in a crash
    assert rows(database, EngineSnapshotRow.__tablename__) == 1
    restarted = open_service()
    assert restarted.folded == 1  # the snapshot was taken after the fourth
    with database.begin() as connection:
        connection.execute(Base.metadata.tables[EngineSnapshotRow.__tablename__].delete())
    full = open_service()
    assert full.folded == 5
    assert state_of(full) == state_of(restarted)


def test_closing_saves_the_state_so_the_next_start_folds_nothing(
    open_service: Callable[..., DecisionService], stream: Stream
) -> None:
    service = open_service()
    decision = service.decide(stream("A1", "B1", 100))
    service.close()
    again = open_service()
    assert again.folded == 0
    assert again.decide(stream("A1", "B1", 100)).tx_id != decision.tx_id
    assert again.core.controls.balance("A1") == 100_000_00 - 200


def state_of(service: DecisionService) -> dict[str, object]:
    """The engine's state as plain values."""
    return engine_values(service.core)


def test_late_stamps_are_decided_as_of_the_latest_time(
    open_service: Callable[..., DecisionService], database: Engine, clock: FixedClock
) -> None:
    service = open_service()
    now = clock.now()
    late = transaction("LATE", now - timedelta(seconds=5), "A1", "B1", 100)
    decisions: list[Decision] = service.decide_batch(
        [transaction("ON-TIME", now, "A1", "B1", 100), late]
    )
    assert [d.action for d in decisions] == [Action.PASS, Action.PASS]
    with database.connect() as connection:
        stamped = connection.scalar(select(TransactionRow.ts).where(TransactionRow.tx_id == "LATE"))
    assert stamped == late.ts


def test_a_batch_failing_half_way_is_not_counted_twice(
    open_service: Callable[..., DecisionService],
    uow_factory: UowFactory,
    database: Engine,
    stream: Stream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live(uow_factory, COUNTING_PACK, "counting.yaml")
    service = open_service()
    one, two = stream("A1", "B1", 100), stream("A1", "B1", 100)
    real = service.core.controls.check_many

    def failing(events: Sequence[TxEvent], *args: Sequence[int]) -> object:
        real(events, *args)
        if any(event.tx_id == two.tx_id for event in events):
            raise RuntimeError("a control reason too long to record")
        return None

    # Both transactions are folded into the features, and booked in the ledger, when the
    # batch's controls fail (before any decision is made).
    monkeypatch.setattr(service.core.controls, "check_many", failing)
    with pytest.raises(RuntimeError):
        service.decide_batch([one, two])
    assert rows(database, "transactions") == 0
    # The service rebuilt its state from the log: `one` is decided afresh, and counted once.
    assert [d.action for d in service.decide_batch([one, two])] == [Action.PASS, Action.PASS]
    assert service.decide(stream("A1", "B1", 100)).action is Action.ALERT
    assert rows(database, "transactions") == 3


def test_a_transaction_logged_by_another_process_is_a_conflict(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    service = open_service()
    tx = stream("A1", "B1", 100)
    with database.begin() as connection:
        connection.execute(insert(Base.metadata.tables[TransactionRow.__tablename__]), tx.as_row())
    core = service.core
    # Read from the log before anything is decided: refused as such, nothing to rebuild.
    for _ in range(2):
        with pytest.raises(Conflict, match="history loaded without a decision"):
            service.decide(tx)
    assert service.decide(stream("A1", "B1", 100)).action is Action.PASS
    assert service.core is core
