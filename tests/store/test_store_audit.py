"""The hash-chained audit log: appends link up, and any alteration, deletion, reordering or
insertion behind its back is found and named, on SQLite and PostgreSQL. (The key and the
signed checkpoints against whole-chain rewrites and cut tails: test_store_audit_seal.py.)"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from fundwall.clock import FixedClock
from fundwall.domain.errors import InvalidInput
from fundwall.store import AuditSeal, ChainBreak, ChainReport, UnitOfWork, audit_chain
from fundwall.store.audit_chain import GENESIS_HASH, canonical_json, keyed_hash
from fundwall.store.tables import AuditRow

UowFactory = Callable[[], UnitOfWork]
KEY = bytes(range(32))


@pytest.fixture
def seal(tmp_path: Path) -> AuditSeal:
    return AuditSeal(KEY, tmp_path / "audit-checkpoints.jsonl")


@pytest.fixture
def uow_factory(database: Engine, clock: FixedClock, seal: AuditSeal) -> UowFactory:
    """Units of work keying the chain with this module's key and checkpoint file."""
    return lambda: UnitOfWork(database, clock=clock, audit_seal=seal)


def append(uow_factory: UowFactory, count: int, start: int = 1) -> None:
    with uow_factory() as uow:
        for n in range(start, start + count):
            uow.audit.record(
                f"user:analyst{n % 3}@B001",
                "view_party",
                f"party:P{n}",
                {"n": n, "id_hash": f"{n:064x}", "shown": "3502**********1234"},
            )
        uow.commit()


def verify(uow_factory: UowFactory) -> ChainReport:
    with uow_factory() as uow:
        return uow.audit.verify()


def problem_of(uow_factory: UowFactory) -> ChainBreak:
    problem = verify(uow_factory).problem
    assert problem is not None, "the chain was reported intact"
    return problem


def sql(database: Engine, statement: str, **params: object) -> None:
    with database.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def five(uow_factory: UowFactory) -> UowFactory:
    """Five records in the log."""
    append(uow_factory, 5)
    return uow_factory


def test_records_link_from_the_genesis_hash(uow_factory: UowFactory) -> None:
    append(uow_factory, 3)
    with uow_factory() as uow:
        records = uow.audit.tail(10)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert records[1].details == {"n": 2, "id_hash": f"{2:064x}", "shown": "3502**********1234"}


def test_hash_is_hmac_sm3_over_the_documented_canonical_encoding(
    uow_factory: UowFactory,
) -> None:
    with uow_factory() as uow:
        record = uow.audit.record("user:a", "freeze", "account:6222…1234", {"b": 1, "a": "冻结"})
    fields = ["account:6222…1234", '{"a":"冻结","b":1}', GENESIS_HASH]
    encoded = json.dumps(
        [2, 1, record.ts.isoformat(timespec="microseconds"), "user:a", "freeze", *fields],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    label = b"fundwall/audit-record/v2\x00"
    assert record.version == 2
    assert record.hash == hmac.new(KEY, label + encoded, "sm3").hexdigest()
    assert record.hash != hashlib.new("sm3", encoded).hexdigest()


def test_verify_on_an_empty_and_on_an_intact_log(uow_factory: UowFactory) -> None:
    empty = verify(uow_factory)
    assert (empty.intact, empty.records, empty.head_hash) == (True, 0, GENESIS_HASH)
    append(uow_factory, 7)
    report = verify(uow_factory)
    assert (report.intact, report.records, report.problem) == (True, 7, None)


def test_verify_reports_progress_in_batches(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_chain, "VERIFY_BATCH", 10)
    append(uow_factory, 25)
    seen: list[int] = []
    with uow_factory() as uow:
        assert uow.audit.verify(on_progress=seen.append).records == 25
    assert seen == [10, 20]


def test_altered_details_are_found(five: UowFactory, database: Engine) -> None:
    sql(database, "UPDATE audit_log SET details = :d WHERE seq = 3", d='{"n":333}')
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (3, "altered")
    assert str(problem) == "record 3 altered: its stored hash does not match its contents"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "user:someone-else"),
        ("action", "nothing"),
        ("subject", "party:P999"),
        ("ts", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_any_altered_field_is_found(
    five: UowFactory, database: Engine, column: str, value: object
) -> None:
    if column == "ts" and database.dialect.name == "sqlite":
        value = "2020-01-01 00:00:00.000000"
    sql(database, f"UPDATE audit_log SET {column} = :v WHERE seq = 2", v=value)
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (2, "altered")


def test_altered_and_rehashed_record_is_named_by_its_successor(
    five: UowFactory, database: Engine, seal: AuditSeal
) -> None:
    # Even whoever holds the key cannot re-hash one record alone: its successor links to it.
    with five() as uow:
        row = uow.session.get_one(AuditRow, 3)
        forged = keyed_hash(
            seal,
            seq=3,
            ts=row.ts,
            actor="user:forger",
            action=row.action,
            subject=row.subject,
            details=row.details,
            prev_hash=row.prev_hash,
        )
    sql(database, "UPDATE audit_log SET actor = 'user:forger', hash = :h WHERE seq = 3", h=forged)
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (3, "altered")
    assert "record 4 links to" in problem.detail


def test_rehashed_last_record_is_found_through_the_chain_head(
    five: UowFactory, database: Engine, seal: AuditSeal
) -> None:
    with five() as uow:
        row = uow.session.get_one(AuditRow, 5)
        forged = keyed_hash(
            seal,
            seq=5,
            ts=row.ts,
            actor=row.actor,
            action="nothing_to_see",
            subject=row.subject,
            details=row.details,
            prev_hash=row.prev_hash,
        )
    sql(
        database,
        "UPDATE audit_log SET action = 'nothing_to_see', hash = :h WHERE seq = 5",
        h=forged,
    )
    report = verify(five)
    assert report.records == 4
    assert str(report.problem) == (
        "record 5 altered: its hash differs from the chain head's: it was rewritten and re-hashed"
    )


@pytest.mark.parametrize(("deleted", "named"), [(3, "seq 3 missing"), (1, "seq 1 missing")])
def test_deleted_record_is_found(
    five: UowFactory, database: Engine, deleted: int, named: str
) -> None:
    sql(database, "DELETE FROM audit_log WHERE seq = :s", s=deleted)
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (deleted, "deleted")
    assert named in problem.detail


def test_several_deleted_records_are_named_as_a_range(five: UowFactory, database: Engine) -> None:
    sql(database, "DELETE FROM audit_log WHERE seq IN (2, 3)")
    assert str(problem_of(five)) == "record 2 deleted: seq 2–3 missing before record 4"


def test_deleted_last_record_is_found_through_the_chain_head(
    five: UowFactory, database: Engine
) -> None:
    sql(database, "DELETE FROM audit_log WHERE seq = 5")
    assert verify(five).records == 4
    assert (problem_of(five).seq, problem_of(five).kind) == (5, "deleted")


def test_deleted_chain_head_is_found(five: UowFactory, database: Engine) -> None:
    sql(database, "DELETE FROM audit_head")
    assert problem_of(five).kind == "deleted"
    with five() as uow, pytest.raises(Exception, match="chain head is missing"):
        uow.audit.record("user:a", "x", "y")


def test_records_swapped_by_seq_are_found_as_reordered(five: UowFactory, database: Engine) -> None:
    sql(database, "UPDATE audit_log SET seq = -3 WHERE seq = 3")
    sql(database, "UPDATE audit_log SET seq = 3 WHERE seq = 5")
    sql(database, "UPDATE audit_log SET seq = 5 WHERE seq = -3")
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (3, "reordered")
    assert problem.detail == "it links to record 4, so it belongs at seq 5, not after record 2"


def test_adjacent_records_with_swapped_contents_are_found_as_reordered(
    five: UowFactory, database: Engine
) -> None:
    columns = ["ts", "actor", "action", "subject", "details", "prev_hash", "hash"]
    with database.begin() as connection:
        rows = {
            seq: connection.execute(
                text(f"SELECT {', '.join(columns)} FROM audit_log WHERE seq = :s"), {"s": seq}
            ).one()
            for seq in (2, 3)
        }
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        for seq, other in ((2, 3), (3, 2)):
            values = dict(zip(columns, rows[other], strict=True))
            connection.execute(
                text(f"UPDATE audit_log SET {assignments} WHERE seq = :s"), {**values, "s": seq}
            )
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (2, "reordered")


def test_record_added_behind_the_logs_back_is_found(five: UowFactory, database: Engine) -> None:
    ts = "2024-06-01 08:00:00.000000" if database.dialect.name == "sqlite" else "2024-06-01T08:00Z"
    sql(
        database,
        "INSERT INTO audit_log (seq, ts, actor, action, subject, details, prev_hash, hash) "
        "VALUES (6, :ts, 'user:x', 'x', 'x', '{}', :p, :h)",
        ts=ts,
        p="0" * 64,
        h="1" * 64,
    )
    problem = problem_of(five)
    assert (problem.seq, problem.kind) == (6, "inserted")


def test_intact_log_stays_intact_while_verification_runs_alongside_appends(
    five: UowFactory,
) -> None:
    with five() as reader:
        report = reader.audit.verify(on_progress=None)
        append(five, 2, start=6)
        assert report.intact
    assert verify(five).records == 7


def test_concurrent_writers_cannot_fork_the_chain(
    database: Engine, uow_factory: UowFactory, seal: AuditSeal
) -> None:
    writers, each = 4, 10

    def write(number: int) -> None:
        for n in range(each):
            with UnitOfWork(database, audit_seal=seal) as uow:
                uow.audit.record(f"user:w{number}", "write", f"item:{n}")
                uow.commit()

    with ThreadPoolExecutor(max_workers=writers) as pool:
        for done in [pool.submit(write, number) for number in range(writers)]:
            done.result()  # re-raises a writer's failure here
    report = verify(uow_factory)
    # Every commit signed a checkpoint, in whatever order the writers got to the file.
    assert (report.intact, report.records) == (True, writers * each)
    assert (report.checkpoints, report.checkpointed_seq) == (writers * each, writers * each)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("details", {"id_number": "35020319900101123X"}),
        ("details", {"contact": {"phones": ["13812345678"]}}),
        ("details", {"note": "customer called from +86 138 1234 5678"}),
        ("subject", "person:35020319900101123X"),
        ("actor", "phone:13812345678"),
        ("details", {"note": "deadbeef13812345678"}),
    ],
)
def test_raw_id_and_phone_numbers_never_enter_the_log(
    uow_factory: UowFactory, where: str, value: object
) -> None:
    arguments: dict[str, Any] = {"actor": "user:a", "action": "view", "subject": "party:P1"}
    arguments[where] = value
    with uow_factory() as uow, pytest.raises(InvalidInput, match="in the clear") as caught:
        uow.audit.record(**arguments)
    assert caught.value.field is not None
    assert caught.value.field.startswith(where)
    assert verify(uow_factory).records == 0


def test_masked_values_and_keyed_hashes_are_welcome(uow_factory: UowFactory) -> None:
    # a SHA-256 whose digits happen to run like a mobile number is a hash, not a phone
    digest = "9f0e" + "13812345678" + "ab" * 24 + "c"
    details = {
        "id": "350203********123X",
        "phone": "138****5678",
        "account": "6222020000000001",
        "sha256": digest,
    }
    with uow_factory() as uow:
        assert uow.audit.record("user:a", "view", "party:P1", details).details == details


@dataclass(frozen=True)
class Officer:
    badge: str

    @property
    def audit_id(self) -> str:
        return f"police:{self.badge}"


def test_actor_may_be_any_object_with_an_audit_id(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert (
            uow.audit.record(Officer("0042"), "stop_payment", "account:A1").actor == "police:0042"
        )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"action": " padded "}, "action"),
        ({"subject": "x" * 257}, "subject"),
        ({"details": {"amount": float("nan")}}, "details.amount"),
        ({"details": {"when": datetime(2024, 1, 1)}}, "details"),
        ({"details": {1: "non-text key"}}, "details"),
    ],
)
def test_malformed_records_are_refused(
    uow_factory: UowFactory, arguments: dict[str, Any], field: str
) -> None:
    full: dict[str, Any] = {"actor": "user:a", "action": "view", "subject": "party:P1"}
    with uow_factory() as uow, pytest.raises(InvalidInput) as caught:
        uow.audit.record(**{**full, **arguments})
    assert caught.value.field == field


def test_tail_shows_the_latest_oldest_first(uow_factory: UowFactory) -> None:
    append(uow_factory, 6)
    with uow_factory() as uow:
        assert [r.seq for r in uow.audit.tail(3)] == [4, 5, 6]
        with pytest.raises(InvalidInput):
            uow.audit.tail(0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="abc中*-_ "),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_canonical_json_does_not_depend_on_key_order(details: dict[str, Any]) -> None:
    reordered = dict(reversed(list(details.items())))
    assert canonical_json(reordered) == canonical_json(details)
    assert json.loads(canonical_json(details)) == details


@given(
    st.sampled_from(["seq", "actor", "action", "subject", "details", "prev_hash"]),
    st.text(min_size=1, max_size=5),
)
def test_every_field_is_under_the_hash(field: str, suffix: str) -> None:
    seal = AuditSeal(KEY, Path("unused"))
    base: dict[str, Any] = {
        "seq": 7,
        "ts": datetime(2024, 6, 1, tzinfo=UTC),
        "actor": "user:a",
        "action": "view",
        "subject": "party:P1",
        "details": "{}",
        "prev_hash": GENESIS_HASH,
    }
    changed = {**base, field: base[field] + 1 if field == "seq" else base[field] + suffix}
    assert keyed_hash(seal, **changed) != keyed_hash(seal, **base)
