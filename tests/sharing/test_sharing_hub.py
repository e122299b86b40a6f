"""The sharing hub's use cases on SQLite and PostgreSQL: members publish (one, or many all
or nothing), query, bulk-match and follow the feed; what each sees of another's entries;
retraction, suspension, key rotation and retirement, the hub's counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from fundwall.clock import FixedClock
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.engine.controls import Evidence, ListKind, RiskCategory
from fundwall.ingest.errors import InvalidRecords
from fundwall.sharing.files import IDENTIFIER_COLUMNS, TableFile, read_file, write_table
from fundwall.sharing.index import RiskIndex
from fundwall.sharing.keys import (
    export_sharing_key,
    retire_sharing_key,
    rotate_sharing_key,
    sharing_key_versions,
)
from fundwall.sharing.matching import match_identifiers
from fundwall.sharing.model import EntryStatus, EventKind, NewEntry
from fundwall.sharing.risk_list import (
    entries_of,
    entries_to_rekey,
    list_risk,
    publish_entries,
    query_identifier,
    read_entry,
    resume_publishing,
    retract_entry,
    retract_risk,
    risk_feed,
    risk_list_counts,
    suspend_publishing,
)
from fundwall.store import UnitOfWork
from fundwall.store.engine_tables import RiskListEntryRow
from sharing.hub import BANK_A, BANK_A_ANALYST, BANK_B, HUB, OPERATOR, phone, resident_id, sharing

Uow = Callable[[], UnitOfWork]
FRAUD, MULE, VICTIM = RiskCategory.FRAUD_ACCOUNT, RiskCategory.MULE, RiskCategory.AT_RISK_VICTIM
POLICE, VERIFIED = Evidence.POLICE_CONFIRMED, Evidence.MEMBER_VERIFIED


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """The platform's keys directory (its data directory is tmp_path)."""
    return tmp_path / "keys"


@pytest.fixture
def hub(institutions: Uow, keys_dir: Path) -> Uow:
    """The two banks and the hub, with sharing key v1."""
    with institutions() as uow:
        rotate_sharing_key(uow, OPERATOR, keys_dir)
    return institutions


def account(number: str, bank: str = "B002", category: RiskCategory = FRAUD) -> NewEntry:
    return NewEntry(ListKind.ACCOUNT, number, category, POLICE, bank=bank)


def test_a_published_entry_is_seen_whole_by_its_reporter_and_without_the_reporter_by_others(
    hub: Uow, keys_dir: Path
) -> None:
    shared = sharing(keys_dir, 1).hash("id", resident_id(1))
    entry = NewEntry(ListKind.ID_HASH, shared, MULE, VERIFIED, reference="CUST-7", note="开卡即转")
    with hub() as uow:
        published = publish_entries(uow, BANK_A, [entry])
    (entry_id,) = published.ids
    with hub() as uow:
        mine = read_entry(uow, BANK_A_ANALYST, entry_id)
        theirs = read_entry(uow, BANK_B, entry_id)
        central = read_entry(uow, HUB, entry_id)
        (found,) = query_identifier(uow, BANK_B, ListKind.ID_HASH, shared)
    assert (mine.own, mine.reporting_member, mine.reference, mine.note) == (
        True, "B001", "CUST-7", "开卡即转",
    )  # fmt: skip
    assert (theirs.own, theirs.reporting_member, theirs.reference, theirs.note) == (
        False, None, None, None,
    )  # fmt: skip
    assert (theirs.key, theirs.category, theirs.status) == (shared, MULE, EntryStatus.ACTIVE)
    assert (central.reporting_member, central.reference) == ("B001", "CUST-7")
    assert found.id == entry_id and found.reporting_member is None


def test_a_file_with_a_bad_row_is_refused_whole_naming_row_and_field(
    hub: Uow, keys_dir: Path
) -> None:
    good = {"kind": "account", "key": "6222021234567890128", "bank": "B002",
            "category": "fraud_account", "evidence": "police_confirmed"}  # fmt: skip
    records = [
        good,
        {**good, "kind": "id_hash", "key": resident_id(2), "bank": None},  # raw, not hashed
        {**good, "category": "villain"},
        {**good, "kind": "phone_hash", "key": "v9:" + "a" * 64, "bank": None},
    ]
    with pytest.raises(InvalidRecords) as caught:
        entries_of(records, lambda i: f"line {i + 2}")
    assert [(e.record, e.field) for e in caught.value.errors] == [
        ("line 3", "key"),
        ("line 4", "category"),
    ]
    entries = entries_of([good, records[3]], lambda i: f"line {i + 2}")
    with hub() as uow, pytest.raises(InvalidInput) as unknown:
        publish_entries(uow, BANK_A, entries, locate=lambda i: f"line {i + 2}")
    assert (unknown.value.record, unknown.value.field) == ("line 3", "key")
    assert "version 9, which the hub does not know" in unknown.value.reason
    with hub() as uow:
        assert uow.session.scalars(select(RiskListEntryRow)).all() == []


def test_a_member_retracts_its_own_entries_only(hub: Uow) -> None:
    with hub() as uow:
        (entry_id,) = publish_entries(uow, BANK_A, [account("6222021234567890128")]).ids
    with hub() as uow, pytest.raises(PermissionDenied, match="another member published it"):
        retract_entry(uow, BANK_B, entry_id, "not theirs")
    with hub() as uow:
        retract_entry(uow, BANK_A, entry_id, "the account was cleared")
    with hub() as uow:
        with pytest.raises(Conflict, match="retracted already"):
            retract_risk(uow, HUB, entry_id, "again")
        view = read_entry(uow, BANK_B, entry_id)
        assert (view.status, view.retract_reason) == (EntryStatus.RETRACTED, None)
        assert read_entry(uow, BANK_A, entry_id).retract_reason == "the account was cleared"
        assert query_identifier(uow, BANK_B, ListKind.ACCOUNT, "6222021234567890128") == []


def test_a_suspended_member_cannot_publish_until_the_hub_resumes_it(hub: Uow) -> None:
    with hub() as uow:
        suspend_publishing(uow, HUB, "B001", "too many entries retracted as wrong")
    with hub() as uow, pytest.raises(PermissionDenied, match="suspended by the hub"):
        publish_entries(uow, BANK_A, [account("6222021234567890128")])
    with hub() as uow:
        publish_entries(uow, BANK_B, [account("6222021234567890128", bank="B001")])
        resume_publishing(uow, HUB, "B001", "reviewed")
    with hub() as uow:
        assert publish_entries(uow, BANK_A, [account("6222021234567890128")]).entries == 1
        actions = [record.action for record in uow.audit.tail(4)]
    assert actions[:2] == ["suspend_publishing", "publish_risk"]


def test_a_member_publishes_only_for_itself(hub: Uow) -> None:
    with hub() as uow, pytest.raises(PermissionDenied, match="publish for member B002"):
        publish_entries(uow, BANK_A, [account("6222021234567890128")], member="B002")
    with hub() as uow, pytest.raises(InvalidInput, match="name the member"):
        publish_entries(uow, OPERATOR, [account("6222021234567890128")])


def test_a_member_cannot_backdate_an_entry_beyond_a_clocks_difference(
    hub: Uow, clock: FixedClock
) -> None:
    """An entry is in force from its publication: a member's entry said to be valid from a
    year ago is refused naming the record and field, one from a minute ago (its clock
    behind the hub's) is taken; the hub may list one from an earlier date."""
    year_ago, minute_ago = clock.now() - timedelta(days=365), clock.now() - timedelta(minutes=1)
    entry = NewEntry(ListKind.DEVICE, "dev-old", MULE, VERIFIED, valid_from=year_ago)
    with hub() as uow, pytest.raises(InvalidInput) as refused:
        publish_entries(uow, BANK_A, [account("6222021234567890128"), entry])
    assert (refused.value.record, refused.value.field) == ("1", "valid_from")
    assert "in force from its publication" in refused.value.reason
    with hub() as uow:
        assert uow.session.scalars(select(RiskListEntryRow)).all() == []
        (recent,) = publish_entries(uow, BANK_A, [replace(entry, valid_from=minute_ago)]).ids
        listed = list_risk(uow, OPERATOR, ListKind.DEVICE, "dev-older", MULE, VERIFIED, "B001",
                           valid_from=year_ago)  # fmt: skip
    with hub() as uow:
        assert read_entry(uow, BANK_B, recent).valid_from == minute_ago
        assert read_entry(uow, BANK_B, listed).valid_from == year_ago


def test_the_feed_tells_publications_and_retractions_after_a_cursor(hub: Uow) -> None:
    with hub() as uow:
        first, second = publish_entries(
            uow, BANK_A, [account("6222021234567890128"), account("6222021234567890136")]
        ).ids
    with hub() as uow:
        page = risk_feed(uow, BANK_B, 0, limit=1)
    assert [(e.event, e.entry.id) for e in page.events] == [(EventKind.PUBLISHED, first)]
    assert page.more and page.events[0].entry.reporting_member is None
    with hub() as uow:
        retract_risk(uow, HUB, first, "police withdrew the notice")
    with hub() as uow:
        rest = risk_feed(uow, BANK_B, page.cursor)
    assert [(e.event, e.entry.id) for e in rest.events] == [
        (EventKind.PUBLISHED, second),
        (EventKind.RETRACTED, first),
    ]
    assert not rest.more
    with hub() as uow:
        assert risk_feed(uow, BANK_B, rest.cursor).events == []
        with pytest.raises(InvalidInput):
            risk_feed(uow, BANK_B, -1)


def test_rotation_keeps_old_entries_until_re_keyed_and_retirement_retracts_them(
    hub: Uow, keys_dir: Path, clock: FixedClock
) -> None:
    old = sharing(keys_dir, 1).hash("phone", phone(3))
    with hub() as uow:
        (old_id,) = publish_entries(
            uow, BANK_A, [NewEntry(ListKind.PHONE_HASH, old, VICTIM, VERIFIED, reference="C-3")]
        ).ids
        assert rotate_sharing_key(uow, HUB, keys_dir) == 2
    new = sharing(keys_dir, 2).hash("phone", phone(3))
    assert new != old and new.startswith("v2:")
    with hub() as uow:
        (todo,) = entries_to_rekey(uow, BANK_A)
        assert (todo.id, todo.reference) == (old_id, "C-3")
        assert entries_to_rekey(uow, BANK_B) == []
        assert len(query_identifier(uow, BANK_B, ListKind.PHONE_HASH, old)) == 1
        with pytest.raises(Conflict, match="newest"):
            retire_sharing_key(uow, HUB, 2, "no")
    with hub() as uow:
        rekeyed = publish_entries(
            uow, BANK_A, [NewEntry(ListKind.PHONE_HASH, new, VICTIM, VERIFIED, replaces=old_id)]
        )
    assert rekeyed.replaced == 1
    with hub() as uow:
        assert entries_to_rekey(uow, BANK_A) == []
        assert read_entry(uow, BANK_A, old_id).status is EntryStatus.RETRACTED
        (still,) = publish_entries(
            uow, BANK_B, [NewEntry(ListKind.PHONE_HASH, old, VICTIM, VERIFIED)]
        ).ids
    clock.advance(timedelta(minutes=1))
    with hub() as uow:
        assert retire_sharing_key(uow, HUB, 1, "rotated a month ago") == 1
    with hub() as uow:
        assert read_entry(uow, HUB, still).status is EntryStatus.RETRACTED
        with pytest.raises(InvalidInput, match=r"retired on .*hash it again with v2") as caught:
            query_identifier(uow, BANK_B, ListKind.PHONE_HASH, old)
        assert caught.value.field == "key"
        versions = sharing_key_versions(uow, BANK_B)
        with pytest.raises(InvalidInput, match="retired"):
            export_sharing_key(uow, HUB, keys_dir, 1)
        assert export_sharing_key(uow, HUB, keys_dir, 2).startswith("fundwall-sharing-key")
    assert [(v.version, v.current, v.retired_at is None, v.entries) for v in versions] == [
        (2, True, True, 1),
        (1, False, False, 0),
    ]


def test_bulk_match_finds_entries_in_force_and_refuses_a_bad_row(hub: Uow, keys_dir: Path) -> None:
    keys = sharing(keys_dir, 1)
    listed = [keys.hash("id", resident_id(n)) for n in range(3)]
    with hub() as uow:
        publish_entries(
            uow, BANK_A, [NewEntry(ListKind.ID_HASH, key, MULE, VERIFIED) for key in listed]
            + [account("6222021234567890128", bank="B002")]
        )  # fmt: skip
        publish_entries(uow, BANK_B, [NewEntry(ListKind.ID_HASH, listed[1], FRAUD, POLICE)])
    asked = pa.table(
        {
            "kind": ["id_hash"] * 4 + ["account", "account"],
            "key": [listed[1], keys.hash("id", resident_id(9)), listed[2], listed[0],
                    "6222021234567890128", "6222021234567890128"],
            "bank": [None] * 4 + ["B002", "B001"],
            "ref": ["c1", "c2", "c3", "c4", "c5", "c6"],
        }
    )  # fmt: skip
    index = RiskIndex()
    with hub() as uow:
        result = match_identifiers(uow, BANK_B, index, TableFile(asked, "parquet"))
    hits = result.hits.to_pylist()
    assert [(h["row"], h["ref"], h["category"], h["own"]) for h in hits] == [
        (0, "c1", "mule", False),
        (0, "c1", "fraud_account", True),
        (2, "c3", "mule", False),
        (3, "c4", "mule", False),
        (4, "c5", "fraud_account", False),  # the account at B002; not the number at B001
    ]
    assert "reporting_member" not in result.hits.column_names
    with hub() as uow:
        retract_risk(uow, HUB, hits[0]["entry"], "wrong person")
    with hub() as uow:
        central = match_identifiers(uow, HUB, index, TableFile(asked, "parquet")).hits
    assert central.num_rows == 4 and set(central["reporting_member"].to_pylist()) == {
        "B001",
        "B002",
    }
    bad = asked.set_column(1, "key", pa.array([listed[0], "v1:XYZ", *asked["key"][2:].to_pylist()]))
    csv = read_file(write_table(bad, "csv"), "csv", IDENTIFIER_COLUMNS, ("kind", "key"))
    with hub() as uow, pytest.raises(InvalidInput) as caught:
        match_identifiers(uow, BANK_B, index, csv)
    assert (caught.value.record, caught.value.field) == ("line 3", "key")


def test_the_hub_counts_entries_by_category_member_and_month(hub: Uow) -> None:
    with hub() as uow:
        publish_entries(uow, BANK_A, [account("6222021234567890128"), account("62220200001")])
        publish_entries(uow, BANK_B, [account("6222021234567890136", category=MULE)])
    with hub() as uow:
        counts = risk_list_counts(uow, HUB)
        with pytest.raises(PermissionDenied):
            risk_list_counts(uow, BANK_A)
    assert sorted((c.member, c.category.value, c.month, c.entries, c.active) for c in counts) == [
        ("B001", "fraud_account", "2024-06", 2, 2),
        ("B002", "mule", "2024-06", 1, 1),
    ]


def test_a_hash_that_holds_a_run_of_phone_like_digits_is_published_and_queried(
    hub: Uow,
) -> None:
    """The audit log's guard refuses a run of 11 digits starting 13–19 (a phone number); a
    shared hash may hold one by chance, so the log records a hash by its first digits."""
    key = "v1:ab" + "13912345678" + "c" * 51
    with hub() as uow:
        (entry,) = publish_entries(uow, BANK_A, [NewEntry(ListKind.PHONE_HASH, key, VICTIM,
                                                          VERIFIED)]).ids  # fmt: skip
        assert [e.id for e in query_identifier(uow, BANK_B, ListKind.PHONE_HASH, key)] == [entry]
        assert uow.audit.tail(1)[0].details["key"] == "v1:ab139123…"
