"""The audit chain keyed outside the database, and signed checkpoints of its head: whoever can
write the database, but holds neither the audit key nor the checkpoint file, can no longer
rewrite the chain or cut its tail unseen. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import logging
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, update

from fundwall.clock import FixedClock
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.store import AuditSeal, ChainBreak, ChainReport, UnitOfWork, open_database
from fundwall.store.audit_chain import GENESIS_HASH
from fundwall.store.migrate import alembic_config, upgrade
from fundwall.store.tables import AuditHeadRow, AuditRow

UowFactory = Callable[[], UnitOfWork]
KEY = bytes(range(32, 64))
EPOCH = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def seal(tmp_path: Path) -> AuditSeal:
    return AuditSeal(KEY, tmp_path / "audit-checkpoints.jsonl")


@pytest.fixture
def uow_factory(database: Engine, clock: FixedClock, seal: AuditSeal) -> UowFactory:
    return lambda: UnitOfWork(database, clock=clock, audit_seal=seal)


def append(uow_factory: UowFactory, commits: int, *, per_commit: int = 1) -> None:
    for _ in range(commits):
        with uow_factory() as uow:
            for _ in range(per_commit):
                uow.audit.record("user:clerk@B001", "view_account", "account:A1", {"n": 1})
            uow.commit()


def verify(uow_factory: UowFactory) -> ChainReport:
    with uow_factory() as uow:
        return uow.audit.verify()


def problem_of(uow_factory: UowFactory) -> ChainBreak:
    problem = verify(uow_factory).problem
    assert problem is not None, "the chain was reported intact"
    return problem


def checkpoint_lines(seal: AuditSeal) -> list[dict[str, object]]:
    text = seal.checkpoints.read_text(encoding="ascii")
    return [json.loads(line) for line in text.splitlines()]


def public_sm3(version: int, row: Mapping[str, object], prev_hash: str) -> str:
    """The record hash as the documented encoding gives it, with plain SM3: what anyone can
    compute without the key."""
    ts = row["ts"]
    assert isinstance(ts, datetime)
    fields = [version, row["seq"], ts.astimezone(UTC).isoformat(timespec="microseconds")]
    fields += [row["actor"], row["action"], row["subject"], row["details"], prev_hash]
    encoded = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.new("sm3", encoded).hexdigest()


def rehash_from(database: Engine, first: int, *, version: int, edit: int) -> None:
    """Edit record `edit`, then re-hash every record from `first` on with the public SM3 and
    move the chain head to the new last hash, as a database writer without the key would."""
    with database.begin() as connection:
        rows = connection.execute(select(AuditRow).order_by(AuditRow.seq)).all()
        prev_hash = GENESIS_HASH if first == 1 else rows[first - 2].hash
        for row in rows[first - 1 :]:
            subject = "account:A999" if row.seq == edit else row.subject
            new_hash = public_sm3(version, {**row._asdict(), "subject": subject}, prev_hash)
            connection.execute(
                update(AuditRow)
                .where(AuditRow.seq == row.seq)
                .values(subject=subject, version=version, prev_hash=prev_hash, hash=new_hash)
            )
            prev_hash = new_hash
        connection.execute(update(AuditHeadRow).values(hash=prev_hash))


def cut_tail(database: Engine, keep: int) -> None:
    """Delete every record after `keep` and move the chain head back onto record `keep`."""
    with database.begin() as connection:
        kept = connection.scalar(select(AuditRow.hash).where(AuditRow.seq == keep))
        connection.execute(AuditRow.__table__.delete().where(AuditRow.seq > keep))
        connection.execute(update(AuditHeadRow).values(seq=keep, hash=kept or GENESIS_HASH))


def test_a_clean_chain_verifies_against_every_checkpoint(
    uow_factory: UowFactory, seal: AuditSeal
) -> None:
    append(uow_factory, 5)
    report = verify(uow_factory)
    assert (report.intact, report.records, report.checkpoints, report.checkpointed_seq) == (
        True,
        5,
        5,
        5,
    )
    lines = checkpoint_lines(seal)
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert lines[-1]["hash"] == report.head_hash
    assert lines[-1]["time"] == "2024-06-01T08:00:00.000000+00:00"
    assert stat.S_IMODE(seal.checkpoints.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("first", "version", "named"),
    [
        # Re-hashed as keyed records, but with plain SM3: the first one fails its keyed hash.
        (2, 2, "record 2 altered: its stored hash does not match its contents"),
        # Re-hashed as unkeyed records after keyed ones: refused as a rewrite.
        (2, 1, "record 2 altered: an unkeyed record after keyed ones"),
        # The whole chain passed off as written before keying: the checkpoints disagree.
        (1, 1, "record 1 altered: its hash differs from the one in checkpoint line 1"),
    ],
)
def test_chain_rehashed_with_public_sm3_after_an_edit_is_found(
    uow_factory: UowFactory, database: Engine, first: int, version: int, named: str
) -> None:
    append(uow_factory, 5)
    rehash_from(database, first, version=version, edit=3)
    assert str(problem_of(uow_factory)).startswith(named)


def test_tail_deleted_and_head_moved_back_is_found(
    uow_factory: UowFactory, database: Engine
) -> None:
    append(uow_factory, 5)
    cut_tail(database, keep=3)
    report = verify(uow_factory)
    assert report.records == 3
    assert str(report.problem) == (
        "record 4 deleted: the chain ends at seq 3, but checkpoint line 4, signed "
        "2024-06-01T08:00:00.000000+00:00, holds seq 4: records from seq 4 on were deleted "
        "and the chain head moved back"
    )


def test_whole_chain_deleted_and_head_reset_is_found(
    uow_factory: UowFactory, database: Engine
) -> None:
    append(uow_factory, 2)
    cut_tail(database, keep=0)
    assert (problem_of(uow_factory).seq, problem_of(uow_factory).kind) == (1, "deleted")


def test_chain_cut_back_and_written_on_differs_from_its_checkpoints(
    uow_factory: UowFactory, database: Engine, clock: FixedClock
) -> None:
    # As a restore from an older copy followed by new work: a sound keyed chain, but not the
    # one the checkpoints signed.
    append(uow_factory, 5)
    cut_tail(database, keep=3)
    clock.advance(timedelta(minutes=5))
    append(uow_factory, 3)
    problem = problem_of(uow_factory)
    assert (problem.seq, problem.kind) == (4, "altered")
    assert "checkpoint line 4" in problem.detail
    assert "restored from an older copy" in problem.detail


def forge_with_another_key(seal: AuditSeal, report: ChainReport) -> None:
    other = AuditSeal(bytes(32), seal.checkpoints)
    other.append(other.checkpoint(report.records, report.head_hash, EPOCH))


def alter_last_hash(seal: AuditSeal, report: ChainReport) -> None:
    lines = seal.checkpoints.read_text(encoding="ascii").splitlines()
    lines.append(lines[-1].replace(report.head_hash, "f" * 64))
    seal.checkpoints.write_text("\n".join(lines) + "\n", encoding="ascii")


def append_bytes(data: bytes) -> Callable[[AuditSeal, ChainReport], None]:
    def write(seal: AuditSeal, _report: ChainReport) -> None:
        with seal.checkpoints.open("ab") as out:
            out.write(data)

    return write


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (forge_with_another_key, "its signature does not verify with the audit key"),
        (alter_last_hash, "its signature does not verify with the audit key"),
        (append_bytes(b'{"seq":9,"hash":"x"}\n'), "not the fields hash, seq, sig, time"),
        (append_bytes(b"checkpoint 9\n"), "not JSON"),
        (append_bytes(b"{" + b" " * 5000 + b"}\n"), "longer than 512 bytes"),
        (append_bytes(b'{"seq":5'), "cut short"),
    ],
)
def test_forged_checkpoint_line_is_found(
    uow_factory: UowFactory,
    seal: AuditSeal,
    forge: Callable[[AuditSeal, ChainReport], None],
    reason: str,
) -> None:
    append(uow_factory, 5)
    forge(seal, verify(uow_factory))
    problem = problem_of(uow_factory)
    assert (problem.kind, problem.line) == ("forged", 6)
    assert str(problem).startswith(f"checkpoint line 6 forged: {reason}")


def test_a_checkpoint_follows_each_commit_not_each_record(
    uow_factory: UowFactory, seal: AuditSeal
) -> None:
    append(uow_factory, 1, per_commit=3)
    with uow_factory() as uow:
        uow.audit.record("user:a", "view", "party:P1")
        uow.rollback()  # a record that never was must not be vouched for
        uow.audit.record("user:a", "view", "party:P2")
    assert [line["seq"] for line in checkpoint_lines(seal)] == [3]
    assert verify(uow_factory).records == 3


def test_checkpoint_every_n_records_signs_when_a_multiple_is_crossed(
    database: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    sparse = AuditSeal(KEY, tmp_path / "sparse.jsonl", checkpoint_every=5)
    append(lambda: UnitOfWork(database, clock=clock, audit_seal=sparse), 5, per_commit=2)
    assert [line["seq"] for line in checkpoint_lines(sparse)] == [6, 10]


def test_a_checkpoint_that_cannot_be_written_leaves_the_commit_and_says_why(
    database: Engine, clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory", encoding="ascii")
    unwritable = AuditSeal(KEY, blocked / "audit-checkpoints.jsonl")
    factory: UowFactory = lambda: UnitOfWork(database, clock=clock, audit_seal=unwritable)  # noqa: E731
    with caplog.at_level(logging.ERROR, logger="fundwall.store.audit_seal"):
        append(factory, 1)
    assert "audit checkpoint of seq 1 not written to" in caplog.text
    with factory() as uow:
        assert [record.seq for record in uow.audit.tail()] == [1]
        with pytest.raises(InvalidInput, match="cannot read the audit checkpoint file") as caught:
            uow.audit.verify()
    assert caught.value.field == "audit.checkpoints"


def test_checkpoint_on_request_verifies_first(uow_factory: UowFactory, database: Engine) -> None:
    with uow_factory() as uow:
        assert uow.audit.checkpoint() == (verify(uow_factory), None)  # empty: nothing to sign
    append(uow_factory, 2)
    with uow_factory() as uow:
        report, checkpoint = uow.audit.checkpoint()
    assert checkpoint is not None
    assert (checkpoint.seq, checkpoint.hash) == (2, report.head_hash)
    rehash_from(database, 2, version=2, edit=2)
    with uow_factory() as uow:
        broken, refused = uow.audit.checkpoint()
    assert (broken.intact, refused) == (False, None)


def test_checkpoints_written_while_verifying_are_left_for_the_next_run(
    uow_factory: UowFactory, seal: AuditSeal, database: Engine
) -> None:
    append(uow_factory, 2)
    with uow_factory() as reader:
        first = reader.audit.verify()
        append(uow_factory, 2)  # appended, and checkpointed, behind the reader's back
        again = reader.audit.verify()
    assert (first.intact, first.checkpoints) == (True, 2)
    assert again.intact
    assert verify(uow_factory).checkpoints == 4


# A database made before the chain was keyed -------------------------------------------------


def legacy_records(url: str, count: int) -> None:
    """Records as the code before revision 0004 wrote them: plain SM3, no version column."""
    database = open_database(url)
    try:
        with database.begin() as connection:
            prev_hash = GENESIS_HASH
            for seq in range(1, count + 1):
                values: dict[str, object] = {
                    "seq": seq,
                    "ts": EPOCH,
                    "actor": "user:old",
                    "action": "view",
                    "subject": f"party:P{seq}",
                    "details": "{}",
                    "prev_hash": prev_hash,
                }
                values["hash"] = prev_hash = public_sm3(1, values, prev_hash)
                connection.execute(insert(AuditRow.__table__), values)
            connection.execute(update(AuditHeadRow).values(seq=count, hash=prev_hash))
    finally:
        database.dispose()


def test_chain_made_before_keying_verifies_and_goes_on_keyed(
    database_url: str, tmp_path: Path
) -> None:
    upgrade(database_url, "0003")
    legacy_records(database_url, 3)
    upgrade(database_url)
    seal = AuditSeal(KEY, tmp_path / "audit-checkpoints.jsonl")
    database = open_database(database_url)
    factory: UowFactory = lambda: UnitOfWork(database, audit_seal=seal)  # noqa: E731
    try:
        before = verify(factory)
        assert (before.intact, before.records, before.checkpoints) == (True, 3, 0)
        append(factory, 2)
        after = verify(factory)
        assert (after.intact, after.records, after.checkpoints) == (True, 5, 2)
        with factory() as uow:
            assert [record.version for record in uow.audit.tail(5)] == [1, 1, 1, 2, 2]
        with database.begin() as connection:
            connection.execute(update(AuditRow).where(AuditRow.seq == 2).values(actor="user:x"))
        assert str(problem_of(factory)).startswith("record 2 altered")
    finally:
        database.dispose()


def test_downgrade_below_keying_is_refused_once_records_are_keyed(
    database_url: str, tmp_path: Path
) -> None:
    upgrade(database_url)
    database = open_database(database_url)
    try:
        append(lambda: UnitOfWork(database, audit_seal=AuditSeal(KEY, tmp_path / "c.jsonl")), 1)
        with (
            database.begin() as connection,
            pytest.raises(Conflict, match="1 audit records are keyed"),
        ):
            command.downgrade(alembic_config(connection), "0003")
    finally:
        database.dispose()
