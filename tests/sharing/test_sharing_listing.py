"""The list as the console reads it, on SQLite and PostgreSQL: pages of entries by kind,
category, status and reporter, an entry with its changes, the latest changes, and the members
whose publishing the hub suspends; another member's reporter fields are never told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from fundwall.clock import FixedClock
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.engine.controls import Evidence, ListKind, RiskCategory
from fundwall.sharing.listing import (
    entry_history,
    latest_risk_events,
    publishing_members,
    risk_entries,
)
from fundwall.sharing.model import LIST_PAGE, EntryFilter, EntryStatus, EventKind, NewEntry
from fundwall.sharing.risk_list import (
    publish_entries,
    retract_entry,
    suspend_publishing,
)
from fundwall.store import UnitOfWork
from sharing.hub import BANK_A, BANK_A_ANALYST, BANK_B, HUB

Uow = Callable[[], UnitOfWork]
MULE, FRAUD = RiskCategory.MULE, RiskCategory.FRAUD_ACCOUNT


def _entry(
    key: str,
    category: RiskCategory = MULE,
    *,
    note: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> NewEntry:
    return NewEntry(
        ListKind.DEVICE, key, category, Evidence.MEMBER_VERIFIED, reference="CASE-7", note=note,
        valid_from=valid_from, valid_until=valid_until,
    )  # fmt: skip


@pytest.fixture
def listed(institutions: Uow, clock: FixedClock) -> tuple[Uow, dict[str, int]]:
    """B001's entries: one in force, one retracted, one starting tomorrow, one expired; and
    B002's account entry."""
    now = clock.now()
    with institutions() as uow:
        active, retracted, pending = publish_entries(
            uow,
            BANK_A,
            [
                _entry("dev-active", note="opened and emptied"),
                _entry("dev-retracted"),
                _entry("dev-pending", FRAUD, valid_from=now + timedelta(days=1)),
            ],
        ).ids
        (short,) = publish_entries(
            uow, BANK_A, [_entry("dev-short", valid_until=now + timedelta(hours=1))]
        ).ids
        (theirs,) = publish_entries(
            uow,
            BANK_B,
            [NewEntry(ListKind.ACCOUNT, "6222021234567890128", FRAUD, Evidence.POLICE_CONFIRMED,
                      bank="B002", reference="B-REF", note="B's own")],
        ).ids  # fmt: skip
        retract_entry(uow, BANK_A, retracted, "reported in error")
    clock.advance(timedelta(hours=2))  # dev-short has expired
    ids = {"active": active, "retracted": retracted, "pending": pending, "expired": short,
           "theirs": theirs}  # fmt: skip
    return institutions, ids


def _ids(uow: UnitOfWork, actor: object, **wanted: object) -> list[int]:
    page = risk_entries(uow, actor, EntryFilter(**wanted))  # type: ignore[arg-type]
    return [entry.id for entry in page.items]


def test_a_page_of_the_list_filters_by_kind_category_status_and_own(
    listed: tuple[Uow, dict[str, int]],
) -> None:
    hub, ids = listed
    with hub() as uow:
        assert _ids(uow, BANK_B) == sorted(ids.values(), reverse=True)  # newest first
        assert _ids(uow, BANK_B, kind=ListKind.ACCOUNT) == [ids["theirs"]]
        assert _ids(uow, BANK_B, category=FRAUD) == [ids["theirs"], ids["pending"]]
        for status in EntryStatus:
            expected = (
                [ids["theirs"], ids["active"]]
                if status is EntryStatus.ACTIVE
                else [ids[status.value]]
            )
            assert _ids(uow, BANK_B, status=status) == expected, status
        assert _ids(uow, BANK_B, reporter="B002") == [ids["theirs"]]
        assert _ids(uow, HUB, reporter="B001", status=EntryStatus.ACTIVE) == [ids["active"]]


def test_a_member_sees_its_own_entries_whole_and_anothers_without_the_reporter(
    listed: tuple[Uow, dict[str, int]],
) -> None:
    hub, ids = listed
    with hub() as uow:
        page = risk_entries(uow, BANK_A_ANALYST, EntryFilter())
        views = {view.id: view for view in page.items}
        hub_views = {view.id: view for view in risk_entries(uow, HUB, EntryFilter()).items}
    mine, theirs = views[ids["active"]], views[ids["theirs"]]
    assert (mine.own, mine.reporting_member, mine.reference, mine.note) == (
        True, "B001", "CASE-7", "opened and emptied",
    )  # fmt: skip
    assert (theirs.own, theirs.reporting_member, theirs.reference, theirs.note) == (
        False, None, None, None,
    )  # fmt: skip
    assert views[ids["retracted"]].retract_reason == "reported in error"
    assert (hub_views[ids["theirs"]].reporting_member, hub_views[ids["theirs"]].note) == (
        "B002", "B's own",
    )  # fmt: skip


def test_a_member_may_not_list_another_members_entries_by_name(
    listed: tuple[Uow, dict[str, int]],
) -> None:
    hub, _ = listed
    with hub() as uow, pytest.raises(PermissionDenied, match="hub's to know"):
        risk_entries(uow, BANK_A, EntryFilter(reporter="B002"))
    with hub() as uow:
        assert uow.audit.tail(1)[0].action == "retract_risk"  # reading audits nothing


def test_the_list_is_paged(institutions: Uow) -> None:
    with institutions() as uow:
        publish_entries(uow, BANK_A, [_entry(f"dev-{n}") for n in range(LIST_PAGE + 3)])
        first = risk_entries(uow, BANK_B, EntryFilter())
        second = risk_entries(uow, BANK_B, EntryFilter(page=2))
    assert (len(first.items), first.more) == (LIST_PAGE, True)
    assert (len(second.items), second.more) == (3, False)
    assert first.items[-1].id > second.items[0].id


def test_an_entrys_history_tells_who_only_to_its_reporter_and_the_hub(
    listed: tuple[Uow, dict[str, int]],
) -> None:
    hub, ids = listed
    with hub() as uow:
        own = entry_history(uow, BANK_A_ANALYST, ids["retracted"])
        other = entry_history(uow, BANK_B, ids["retracted"])
        central = entry_history(uow, HUB, ids["retracted"])
        with pytest.raises(NotFound):
            entry_history(uow, BANK_B, 9999)
    assert [e.event for e in own.events] == [EventKind.PUBLISHED, EventKind.RETRACTED]
    assert [e.by for e in own.events] == ["apikey:ka@B001", "apikey:ka@B001"]
    assert [e.by for e in central.events] == ["apikey:ka@B001", "apikey:ka@B001"]
    assert [e.by for e in other.events] == [None, None]
    assert other.entry.retract_reason is None and other.entry.status is EntryStatus.RETRACTED
    assert [e.cursor for e in other.events] == [e.cursor for e in own.events]


def test_the_latest_events_come_oldest_first_with_the_cursor_to_follow(
    listed: tuple[Uow, dict[str, int]],
) -> None:
    hub, ids = listed
    with hub() as uow:
        everything = latest_risk_events(uow, BANK_B, 100)
        last_two = latest_risk_events(uow, BANK_A, 2)
    cursors = [event.cursor for event in everything.events]
    assert cursors == sorted(cursors) and len(cursors) == 6  # five published, one retracted
    assert [e.cursor for e in last_two.events] == cursors[-2:]
    assert last_two.cursor == everything.cursor == cursors[-1] and not last_two.more
    assert last_two.events[-1].event is EventKind.RETRACTED
    assert last_two.events[0].entry.id == ids["theirs"]
    assert last_two.events[0].entry.reference is None  # B002's entry, as B001 sees it


def test_the_hub_sees_which_members_may_publish(institutions: Uow) -> None:
    with institutions() as uow:
        suspend_publishing(uow, HUB, "B002", "entries retracted as wrong")
    with institutions() as uow:
        members = publishing_members(uow, HUB)
        with pytest.raises(PermissionDenied, match="manage_risk_list"):
            publishing_members(uow, BANK_A)
    assert [(m.member, m.reason) for m in members] == [
        ("B001", None), ("B002", "entries retracted as wrong"),
    ]  # fmt: skip
    assert members[1].suspended_by == "user:hub" and members[1].suspended_at is not None
