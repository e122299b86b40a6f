"""The shared risk list as members and the hub see it: a new entry, an entry's view (what
the asking actor may see of it), the feed's events, the hub's counts, the key versions.

What an actor sees of an entry: its key, kind, bank, category, evidence level and validity,
always; who reported it, the reporter's own reference and note, and why it was retracted,
only when the actor is its reporter or the hub (an actor of no member).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from fundwall.domain.risk_lists import Evidence, ListKind, RiskCategory

PUBLISH_MAX_ROWS: Final = 1_000_000
"""The most entries one file publishes (larger sets go in several files)."""
MATCH_MAX_ROWS: Final = 2_000_000
"""The most identifiers one bulk match takes (a large bank's customers in a few files)."""
FEED_PAGE: Final = 1_000
"""The most events one read of the feed returns."""
LIST_PAGE: Final = 50
"""Entries on one page of the list."""
NOTE_MAX: Final = 500
BACKDATE_MAX: Final = timedelta(minutes=5)
"""How far before its publication a member's entry may say it is valid from: an entry is in
force from its publication, and members' clocks differ by a little, not by more."""


class EntryStatus(StrEnum):
    ACTIVE = "active"
    """In force now: the engine acts on it, queries and matches find it."""
    PENDING = "pending"
    """Its validity starts later."""
    EXPIRED = "expired"
    RETRACTED = "retracted"


class EventKind(StrEnum):
    """A change of an entry, as the feed tells it."""

    PUBLISHED = "published"
    RETRACTED = "retracted"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to publish. A resident ID, credit code or phone is its shared hash
    (`vN:<hex>`); an account names its bank. `replaces` is the id of the reporter's own entry
    that this one re-publishes under a newer key version (that one is retracted)."""

    kind: ListKind
    key: str
    category: RiskCategory
    evidence: Evidence
    bank: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    reference: str | None = None
    note: str | None = None
    replaces: int | None = None


@dataclass(frozen=True, slots=True)
class EntryView:
    """An entry as one actor sees it; the reporter's fields are None for other members."""

    id: int
    kind: ListKind
    key: str
    bank: str | None
    category: RiskCategory
    evidence: Evidence
    valid_from: datetime
    valid_until: datetime | None
    status: EntryStatus
    retracted_at: datetime | None
    own: bool
    reporting_member: str | None
    reference: str | None
    note: str | None
    retract_reason: str | None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Which entries a page of the list shows: of one kind, category or status, reported by
    one member (a member may name only itself: who reported another's entry is not its to
    know)."""

    kind: ListKind | None = None
    category: RiskCategory | None = None
    status: EntryStatus | None = None
    reporter: str | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class EntryEvent:
    """A change of one entry: its feed cursor, what happened and when; `by` (the audit log's
    actor) only for the entry's reporter and the hub."""

    cursor: int
    event: EventKind
    at: datetime
    by: str | None


@dataclass(frozen=True, slots=True)
class EntryHistory:
    entry: EntryView
    events: list[EntryEvent]


@dataclass(frozen=True, slots=True)
class FeedEvent:
    cursor: int
    event: EventKind
    at: datetime
    entry: EntryView


@dataclass(frozen=True, slots=True)
class Feed:
    """Events after a cursor, oldest first; `cursor` is the one to ask after next time."""

    events: list[FeedEvent]
    cursor: int
    more: bool


@dataclass(frozen=True, slots=True)
class Published:
    """What a publication wrote: how many entries, their ids (ascending), how many of the
    member's older entries they re-keyed."""

    entries: int
    ids: list[int]
    replaced: int


@dataclass(frozen=True, slots=True)
class ListCount:
    """Entries shared by one member in one category in one month (Beijing time)."""

    category: RiskCategory
    member: str
    month: str
    entries: int
    active: int


@dataclass(frozen=True, slots=True)
class MemberPublishing:
    """A member that may publish (a bank or payment institution), and the hub's suspension
    of its publishing in effect, if any."""

    member: str
    name_zh: str
    name_en: str
    suspended_at: datetime | None
    suspended_by: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """A sharing key version: when made, whether retired, whether new hashes use it."""

    version: int
    created_at: datetime
    retired_at: datetime | None
    current: bool
    entries: int
    """Entries in force under it (hashed kinds only)."""
