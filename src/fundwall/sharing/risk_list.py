"""The shared risk list (风险名单): accounts, shared hashes of resident IDs, credit codes and
phones, devices, IPs and merchants that the region's members found serving fraud, each with
its category, the evidence behind it, the reporting member and a validity period.

Members publish their own entries (one, or a file of many, all or nothing) and retract
them; the hub lists entries for a member, retracts any entry and suspends a member's
publishing. Each use case writes its rows, an event per entry changed (`risk_list_events`,
the feed) and one audit record in one transaction, and stamps the rows with the record's
sequence number (`revision`): the running decision service reads them at its next decision,
so an entry is in force for every member from the moment it is published and gone at its
retraction. A resident ID, credit code or phone is only ever its shared hash, made by the
member with the regional sharing key (`fundwall.crypto.SharingKeys`); a hash of a version
the hub does not know or has retired is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.changes import check_period, list_key, reference, stated_reason
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
from fundwall.sharing.model import (
    BACKDATE_MAX,
    FEED_PAGE,
    NOTE_MAX,
    PUBLISH_MAX_ROWS,
    EntryView,
    EventKind,
    Feed,
    ListCount,
    NewEntry,
    Published,
)
from fundwall.sharing.queries import (
    check_versions,
    entry_row,
    entry_view,
    feed_events,
    feed_query,
    in_force,
    key_version,
    key_versions,
    mark_retracted,
    month_of,
    suspension,
    write_events,
)
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.sharing_tables import PublishingSuspensionRow, RiskListEventRow
from fundwall.store.uow import UnitOfWork

HASH_PREFIX = 8
REKEYED = "re-published under a newer sharing key version (the entry naming it in `replaces`)"
Locate = Callable[[int], str]
"""How an input names its i-th record ("line 7", "row 5", "entries[3]")."""


def _index(i: int) -> str:
    return str(i)


def entry_of(values: Mapping[str, Any]) -> NewEntry:
    """A `NewEntry` from a record's fields (text, as a CSV row or a JSON object gives them);
    InvalidInput naming the field. The key's form is checked (`list_key`), not its version."""

    def text(name: str) -> str | None:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value if isinstance(value, str) else str(value)

    def choice(name: str, kind: type[ListKind] | type[RiskCategory] | type[Evidence]) -> Any:
        given = text(name)
        if given is None:
            raise InvalidInput("required", name)
        try:
            return kind(given.strip())
        except ValueError:
            raise InvalidInput(f"one of {', '.join(kind)}", name) from None

    def moment(name: str) -> datetime | None:
        given = values.get(name)
        if given is None or isinstance(given, datetime):
            return given
        if not isinstance(given, str):
            raise InvalidInput("an ISO 8601 time with a UTC offset", name)
        if not given.strip():
            return None
        try:
            parsed = datetime.fromisoformat(given.strip())
        except ValueError:
            raise InvalidInput("an ISO 8601 time with a UTC offset", name) from None
        if parsed.utcoffset() is None:
            raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", name)
        return parsed

    kind = choice("kind", ListKind)
    key = text("key")
    if key is None:
        raise InvalidInput("required", "key")
    key = list_key(kind, key.strip())
    bank = text("bank")
    if kind is ListKind.ACCOUNT:
        if bank is None:
            raise InvalidInput("an account is (bank, number): name its bank", "bank")
        bank = reference(bank.strip(), "bank")
    elif bank is not None:
        raise InvalidInput("only an account names a bank", "bank")
    note = text("note")
    if note is not None:
        note = note.strip()
        if len(note) > NOTE_MAX or not note.isprintable():
            raise InvalidInput(f"at most {NOTE_MAX} printable characters", "note")
        ensure_no_personal_data(note, "note")
    own_reference = text("reference")
    if own_reference is not None:
        own_reference = reference(own_reference.strip(), "reference")
        ensure_no_personal_data(own_reference, "reference")
    replaces = text("replaces")
    replaced: int | None = None
    if replaces is not None:
        if not replaces.strip().isdigit():
            raise InvalidInput("the id of the entry it replaces", "replaces")
        replaced = int(replaces)
    return NewEntry(
        kind,
        key,
        choice("category", RiskCategory),
        choice("evidence", Evidence),
        bank=bank,
        valid_from=moment("valid_from"),
        valid_until=moment("valid_until"),
        reference=own_reference,
        note=note,
        replaces=replaced,
    )


def entries_of(records: Sequence[Mapping[str, Any]], locate: Locate = _index) -> list[NewEntry]:
    """Every record as a `NewEntry`, or one InvalidInput naming up to MAX_ERRORS bad records
    and fields (nothing is taken from an input with a bad record)."""
    if len(records) > PUBLISH_MAX_ROWS:
        raise InvalidInput(
            f"{len(records):,} entries; publish at most {PUBLISH_MAX_ROWS:,} at once", "entries"
        )
    entries: list[NewEntry] = []
    errors: list[InvalidInput] = []
    for i, record in enumerate(records):
        try:
            entries.append(entry_of(record))
        except InvalidInput as error:
            errors.append(error.at(locate(i)))
            if len(errors) > MAX_ERRORS:
                raise InvalidRecords.of(errors[:MAX_ERRORS], more=True) from None
    if errors:
        raise InvalidRecords.of(errors)
    if not entries:
        raise InvalidInput("no entries to publish", "entries")
    return entries


def _shown(kind: ListKind, key: str) -> str:
    """A key as the audit log records it: an account or merchant masked; a shared hash by its
    version and first 8 hex digits (enough to find the entry; a whole hash can hold a run of
    digits that the audit log's guard takes for a phone number); a device or IP whole."""
    if kind in (ListKind.ACCOUNT, ListKind.MERCHANT):
        return mask_account(key)
    if kind.hash_kind is not None:
        return key[: key.index(":") + 1 + HASH_PREFIX] + "…"
    return key


def _publish(
    uow: UnitOfWork,
    actor: Actor,
    member: str,
    entries: Sequence[NewEntry],
    locate: Locate,
    action: str,
    *,
    backdated: bool = False,
) -> Published:
    """Write `entries` for `member`, all or nothing (see the module docstring). Only the hub
    lists an entry `backdated` further than BACKDATE_MAX before now."""
    member = reference(member, "member")
    now = uow.clock.now()
    earliest = None if backdated else now - BACKDATE_MAX
    versions = key_versions(uow.session)
    errors: list[InvalidInput] = []
    rows: list[dict[str, Any]] = []
    replaced: dict[int, tuple[str, ListKind]] = {}
    for i, entry in enumerate(entries):
        try:
            version = key_version(entry.kind, entry.key)
            if version is not None:
                check_versions(versions, (version,), "key")
            start = entry.valid_from if entry.valid_from is not None else now
            check_period(start, entry.valid_until, "valid_until")
            if entry.valid_until is not None and entry.valid_until <= now:
                raise InvalidInput("the entry would have expired already", "valid_until")
            if earliest is not None and start < earliest:
                raise InvalidInput(
                    "an entry is in force from its publication: it may be valid from at most "
                    f"{BACKDATE_MAX.seconds // 60} minutes before it, not from "
                    f"{start.isoformat()}",
                    "valid_from",
                )
            if entry.replaces is not None:
                if entry.replaces in replaced:
                    raise InvalidInput("another entry of the input replaces it too", "replaces")
                replaced[entry.replaces] = (locate(i), entry.kind)
        except InvalidInput as error:
            errors.append(error.at(locate(i)))
            if len(errors) >= MAX_ERRORS:
                break
            continue
        rows.append(
            {
                "kind": entry.kind.value,
                "key": entry.key,
                "bank": entry.bank,
                "key_version": version,
                "category": entry.category.value,
                "evidence": entry.evidence.value,
                "reporting_member": member,
                "reference": entry.reference,
                "note": entry.note,
                "valid_from": start,
                "valid_until": entry.valid_until,
                "replaces": entry.replaces,
            }
        )
    if errors:
        raise InvalidRecords.of(errors, more=len(errors) >= MAX_ERRORS)
    old = _replaced_rows(uow, member, replaced)
    kinds = Counter(row["kind"] for row in rows)
    details: dict[str, Any] = {"member": member, "entries": len(rows), "kinds": dict(kinds)}
    if len(rows) == 1:
        only = entries[0]
        details["key"] = _shown(only.kind, only.key)
        details["category"] = only.category.value
    if old:
        details["replaces"] = len(old)
    record = uow.audit.record(actor, action, f"risk_list:{member}", details)
    stamp = {"created_at": record.ts, "created_by": record.actor, "revision": record.seq}
    for row in rows:
        row.update(stamp)
    table = RiskListEntryRow.metadata.tables[RiskListEntryRow.__tablename__]
    inserted = uow.session.connection().execute(table.insert().returning(table.c.id), rows)
    ids = sorted(inserted.scalars())
    events = [(entry_id, EventKind.PUBLISHED) for entry_id in ids]
    if old:
        mark_retracted(uow, record, old, REKEYED)
        events += [(entry_id, EventKind.RETRACTED) for entry_id in old]
    write_events(uow, record, events)
    uow.commit()
    return Published(len(ids), ids, len(old))


def _replaced_rows(
    uow: UnitOfWork, member: str, replaced: Mapping[int, tuple[str, ListKind]]
) -> list[int]:
    """The ids of the entries the input replaces, each checked: the member's own, in force,
    of the same kind; else InvalidInput naming the record that names it."""
    if not replaced:
        return []
    found = {
        row.id: row
        for row in uow.session.scalars(
            select(RiskListEntryRow).where(RiskListEntryRow.id.in_(list(replaced)))
        )
    }
    for entry_id, (where, kind) in replaced.items():
        row = found.get(entry_id)
        if row is None or row.reporting_member != member:
            raise InvalidInput(
                f"entry {entry_id} is not one of the member's entries", "replaces", where
            )
        if row.retracted_at is not None:
            raise InvalidInput(f"entry {entry_id} was retracted already", "replaces", where)
        if row.kind != kind.value:
            raise InvalidInput(
                f"entry {entry_id} names a {row.kind}, not a {kind}", "replaces", where
            )
    return sorted(replaced)


def _publishing_member(uow: UnitOfWork, actor: Actor, member: str | None) -> str:
    """Whom a publication is for: the actor's member (naming another is refused); an actor
    of no member (the operator) names one. A suspended member publishes nothing."""
    if actor.member is not None:
        if member is not None and member != actor.member:
            raise PermissionDenied(f"publish for member {member} as a user of {actor.member}")
        member = actor.member
    if member is None:
        raise InvalidInput("name the member the entries are published for", "member")
    suspended = suspension(uow.session, member)
    if suspended is not None:
        raise PermissionDenied(
            f"publishing to the risk list: member {member}'s publishing was suspended by the "
            f"hub on {suspended.suspended_at.date().isoformat()} ({suspended.reason})"
        )
    return member


@use_case(Permission.PUBLISH_RISK)
def publish_entries(
    uow: UnitOfWork,
    actor: Actor,
    entries: Sequence[NewEntry],
    *,
    member: str | None = None,
    locate: Locate = _index,
) -> Published:
    """Publish entries for the actor's member (the operator names `member`), all or
    nothing: a bad entry (named by `locate`) refuses the whole input and writes nothing."""
    if not entries:
        raise InvalidInput("no entries to publish", "entries")
    if len(entries) > PUBLISH_MAX_ROWS:
        raise InvalidInput(f"publish at most {PUBLISH_MAX_ROWS:,} entries at once", "entries")
    publisher = _publishing_member(uow, actor, member)
    return _publish(uow, actor, publisher, entries, locate, "publish_risk")


@use_case(Permission.MANAGE_RISK_LIST)
def list_risk(
    uow: UnitOfWork,
    actor: Actor,
    kind: ListKind,
    key: str,
    category: RiskCategory,
    evidence: Evidence,
    reporting_member: str,
    *,
    bank: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> int:
    """The hub puts an identifier on the list for `reporting_member` (an ID, credit code or
    phone as its shared hash, never raw) from `valid_from` (now by default) until
    `valid_until` (open when None); returns the entry's id."""
    kind = ListKind(kind)
    entry = entry_of(
        {
            "kind": kind.value,
            "key": key,
            "category": RiskCategory(category).value,
            "evidence": Evidence(evidence).value,
            "bank": bank,
        }
    )
    entry = NewEntry(
        entry.kind,
        entry.key,
        entry.category,
        entry.evidence,
        bank=entry.bank,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    published = _publish(uow, actor, reporting_member, [entry], _index, "list_risk", backdated=True)
    return published.ids[0]


def _retract(uow: UnitOfWork, actor: Actor, row: RiskListEntryRow, reason: str) -> None:
    if row.retracted_at is not None:
        raise Conflict(f"risk list entry {row.id} was retracted already")
    why = stated_reason(reason)
    ensure_no_personal_data(why, "reason")
    record = uow.audit.record(
        actor,
        "retract_risk",
        f"risk_list:{row.kind}",
        {"entry": row.id, "member": row.reporting_member, "reason": why},
    )
    mark_retracted(uow, record, [row.id], why)
    write_events(uow, record, [(row.id, EventKind.RETRACTED)])
    uow.commit()


@use_case(Permission.PUBLISH_RISK)
def retract_entry(uow: UnitOfWork, actor: Actor, entry_id: int, reason: str) -> None:
    """The reporter retracts one of its own entries from now on (撤销), saying why; another
    member's entry is refused (its reporter or the hub retracts it)."""
    row = entry_row(uow, entry_id)
    if actor.member is not None and row.reporting_member != actor.member:
        raise PermissionDenied(
            f"retract risk list entry {entry_id}: another member published it, and only its "
            "reporter or the hub may retract it"
        )
    _retract(uow, actor, row, reason)


@use_case(Permission.MANAGE_RISK_LIST)
def retract_risk(uow: UnitOfWork, actor: Actor, entry_id: int, reason: str) -> None:
    """The hub retracts any entry from now on (撤销), saying why."""
    _retract(uow, actor, entry_row(uow, entry_id), reason)


@use_case(Permission.QUERY_RISK_LIST)
def query_identifier(
    uow: UnitOfWork, actor: Actor, kind: ListKind, key: str, *, bank: str | None = None
) -> list[EntryView]:
    """The entries in force on one identifier (an account at `bank` when given; an ID,
    credit code or phone by its shared hash), oldest first; the lookup is audited."""
    kind = ListKind(kind)
    key = list_key(kind, key)
    version = key_version(kind, key)
    if version is not None:
        check_versions(key_versions(uow.session), (version,), "key")
    if bank is not None:
        bank = reference(bank, "bank")
    now = uow.clock.now()
    query = select(RiskListEntryRow).where(
        RiskListEntryRow.kind == kind.value, RiskListEntryRow.key == key, in_force(now)
    )
    rows = [
        row
        for row in uow.session.scalars(query.order_by(RiskListEntryRow.id))
        if bank is None or row.bank is None or row.bank == bank
    ]
    uow.audit.record(
        actor,
        "query_risk",
        f"risk_list:{kind.value}",
        {"key": _shown(kind, key), "found": len(rows)},
    )
    uow.commit()
    return [entry_view(row, actor, now) for row in rows]


@use_case(Permission.QUERY_RISK_LIST)
def read_entry(uow: UnitOfWork, actor: Actor, entry_id: int) -> EntryView:
    """One entry, as the actor may see it (retracted and expired ones too)."""
    return entry_view(entry_row(uow, entry_id), actor, uow.clock.now())


@use_case(Permission.QUERY_RISK_LIST)
def risk_feed(uow: UnitOfWork, actor: Actor, after: int = 0, limit: int = FEED_PAGE) -> Feed:
    """The list's changes after cursor `after`, oldest first, at most `limit` (up to
    FEED_PAGE): each entry published or retracted, as the actor may see the entry. A
    member's system polls it with the cursor it last got."""
    if after < 0:
        raise InvalidInput("a cursor is a number from 0", "after")
    if not 1 <= limit <= FEED_PAGE:
        raise InvalidInput(f"from 1 to {FEED_PAGE}", "limit")
    query = feed_query().where(RiskListEventRow.id > after).order_by(RiskListEventRow.id)
    found = feed_events(uow, actor, query.limit(limit + 1))
    events = found[:limit]
    return Feed(events, events[-1].cursor if events else after, len(found) > limit)


@use_case(Permission.PUBLISH_RISK)
def entries_to_rekey(uow: UnitOfWork, actor: Actor, member: str | None = None) -> list[EntryView]:
    """The member's entries in force under a sharing key version older than the current
    one: what it re-publishes (with `replaces`) after a rotation, from its own references."""
    owner = actor.member if actor.member is not None else member
    if owner is None:
        raise InvalidInput("name the member whose entries to re-key", "member")
    if actor.member is not None and member not in (None, actor.member):
        raise PermissionDenied(f"list member {member}'s entries as a user of {actor.member}")
    accepted = [v for v, retired in key_versions(uow.session).items() if retired is None]
    if not accepted:
        return []
    now = uow.clock.now()
    query = (
        select(RiskListEntryRow)
        .where(
            RiskListEntryRow.reporting_member == owner,
            RiskListEntryRow.key_version < max(accepted),
            RiskListEntryRow.retracted_at.is_(None),
            or_(RiskListEntryRow.valid_until.is_(None), RiskListEntryRow.valid_until > now),
        )
        .order_by(RiskListEntryRow.id)
    )
    return [entry_view(row, actor, now) for row in uow.session.scalars(query)]


@use_case(Permission.MANAGE_RISK_LIST)
def suspend_publishing(uow: UnitOfWork, actor: Actor, member: str, reason: str) -> None:
    """The hub suspends a member's publishing (its entries stay in force; retract them one by
    one if they must go)."""
    member = reference(member, "member")
    if suspension(uow.session, member) is not None:
        raise Conflict(f"member {member}'s publishing is suspended already")
    why = stated_reason(reason)
    record = uow.audit.record(actor, "suspend_publishing", f"member:{member}", {"reason": why})
    uow.session.add(
        PublishingSuspensionRow(
            member=member, reason=why, suspended_at=record.ts, suspended_by=record.actor
        )
    )
    uow.commit()


@use_case(Permission.MANAGE_RISK_LIST)
def resume_publishing(uow: UnitOfWork, actor: Actor, member: str, reason: str) -> None:
    """The hub lifts a member's publishing suspension."""
    member = reference(member, "member")
    row = suspension(uow.session, member)
    if row is None:
        raise Conflict(f"member {member}'s publishing is not suspended")
    why = stated_reason(reason)
    record = uow.audit.record(actor, "resume_publishing", f"member:{member}", {"reason": why})
    row.lifted_at, row.lifted_by, row.lift_reason = record.ts, record.actor, why
    uow.commit()


@use_case(Permission.MANAGE_RISK_LIST)
def risk_list_counts(uow: UnitOfWork, actor: Actor) -> list[ListCount]:
    """Entries shared by category, member and month (Beijing time), with how many of them
    are in force now; newest month first."""
    now = uow.clock.now()
    month = month_of(uow.session.get_bind().dialect.name, RiskListEntryRow.created_at)
    active = func.sum(case((in_force(now), 1), else_=0))
    query = (
        select(
            RiskListEntryRow.category,
            RiskListEntryRow.reporting_member,
            month,
            func.count(),
            active,
        )
        .group_by(RiskListEntryRow.category, RiskListEntryRow.reporting_member, month)
        .order_by(month.desc(), RiskListEntryRow.reporting_member, RiskListEntryRow.category)
    )
    return [
        ListCount(RiskCategory(category), member, str(when), int(count), int(live or 0))
        for category, member, when, count, live in uow.session.execute(query)
    ]
