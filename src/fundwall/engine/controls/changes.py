"""The rows through which workflows change what the hard controls enforce, and how the
engine reads them back.

The workflows' use cases (`fundwall.accounts.controls`, `fundwall.accounts.punishments`,
`fundwall.sharing.risk_list`, and `fundwall.accounts.reports` for a member's own status
changes) write restrictions, status changes, risk list entries and punishment listings, each
with an audit record in the same unit of work, and stamp the row with the record's sequence
number (`revision`). The checks here say what such a row may hold. The running decision
service sees the audit head move and reads the rows above the last revision it knew
(`apply_changes`), so a change holds from the next transaction on.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.crypto import SharingKeys, parse_shared_hash
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls.book import (
    ControlBook,
    Listing,
    PartyHasher,
    PartyKeys,
    Restriction,
    RiskEntry,
    period_us,
)
from fundwall.engine.controls.model import Evidence, ListKind, RestrictionKind, RiskCategory
from fundwall.store.audit import AuditRecord
from fundwall.store.engine_tables import (
    REASON,
    AccountRestrictionRow,
    AccountStatusChangeRow,
    PunishmentRow,
    RiskListEntryRow,
)
from fundwall.store.sharing_tables import ShareKeyRow
from fundwall.store.tables import AccountRow, PartyRow
from fundwall.store.uow import UnitOfWork

REFERENCE: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REFERENCE_FORM: Final = "1 to 64 letters, digits, '.', '_', ':' or '-'"
DEVICE: Final = re.compile(r"[!-~]{1,128}")
DEVICE_FORM: Final = "a device id is 1 to 128 visible ASCII characters"


def reference(value: str, field: str) -> str:
    """An account number, member code or order number: 1 to 64 of A-Z a-z 0-9 . _ : -"""
    if not isinstance(value, str) or REFERENCE.fullmatch(value) is None:
        raise InvalidInput(REFERENCE_FORM, field)
    return value


def stated_reason(text: str) -> str:
    """A reason as a change keeps it: stripped, not empty, printable, at most REASON long."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("say why: the reason is empty", "reason")
    if len(stripped) > REASON or not stripped.isprintable():
        raise InvalidInput(f"at most {REASON} printable characters", "reason")
    return stripped


def check_period(start: datetime, end: datetime | None, field: str) -> None:
    """InvalidInput unless both times carry a UTC offset and `end` (if any) comes after
    `start`; `field` names the end."""
    for value, name in ((start, "start"), (end, field)):
        if value is not None and value.utcoffset() is None:
            raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", name)
    if end is not None and end <= start:
        raise InvalidInput("the end must come after the start", field)


def list_key(kind: ListKind, key: str) -> str:
    """A list key as the book matches it: an account or merchant number, a shared hash
    (`vN:<64 lower-case hex>`), an IP address in its canonical form, or a device id."""
    if not isinstance(key, str):
        raise InvalidInput("give the identifier as text", "key")
    if kind in (ListKind.ACCOUNT, ListKind.MERCHANT):
        return reference(key, "key")
    if kind.hash_kind is not None:
        parse_shared_hash(key)
        return key
    if kind is ListKind.IP:
        try:
            return str(ipaddress.ip_address(key))
        except ValueError:
            raise InvalidInput("not an IPv4 or IPv6 address", "key") from None
    if DEVICE.fullmatch(key) is None:
        raise InvalidInput(DEVICE_FORM, "key")
    return key


def stamp_change(
    uow: UnitOfWork,
    row: AccountRestrictionRow | RiskListEntryRow | PunishmentRow,
    record: AuditRecord,
) -> int:
    """Stamp a new control row with its audit record (time, actor, and the record's sequence
    number as the revision `apply_changes` reads from) and add it to the unit of work, not yet
    committed; returns the row's id."""
    row.created_at, row.created_by, row.revision = record.ts, record.actor, record.seq
    uow.session.add(row)
    uow.session.flush()
    return row.id


def commit_change(
    uow: UnitOfWork,
    row: AccountRestrictionRow | RiskListEntryRow | PunishmentRow,
    record: AuditRecord,
) -> int:
    """`stamp_change`, then write the row and its audit record at once."""
    row_id = stamp_change(uow, row, record)
    uow.commit()
    return row_id


def _restriction(row: AccountRestrictionRow) -> Restriction:
    start, end = period_us(row.starts_at, row.ends_at, row.lifted_at)
    return Restriction(
        row.id, row.account_no, RestrictionKind(row.kind), row.amount_fen, start, end, row.reference
    )


def _entry(row: RiskListEntryRow) -> RiskEntry:
    start, end = period_us(row.valid_from, row.valid_until, row.retracted_at)
    return RiskEntry(
        row.id,
        ListKind(row.kind),
        row.key,
        RiskCategory(row.category),
        Evidence(row.evidence),
        row.reporting_member,
        start,
        end,
    )


def _listing(row: PunishmentRow) -> Listing:
    start, end = period_us(row.listed_from, row.listed_until, row.lifted_at)
    return Listing(row.id, row.id_hash, start, end)


def accepted_share_versions(session: Session) -> tuple[int, ...]:
    """The sharing key versions the hub accepts (created, not retired), oldest first."""
    query = select(ShareKeyRow.version).where(ShareKeyRow.retired_at.is_(None))
    return tuple(sorted(session.scalars(query)))


def sharing_keys(session: Session, keys_dir: Path) -> SharingKeys:
    """The sharing keys of every accepted version, from their files under `keys_dir`."""
    return SharingKeys.load(keys_dir, accepted_share_versions(session))


def load_book(session: Session, hasher: PartyHasher | None = None) -> ControlBook:
    """Every control fact in the store: statuses and bound accounts from accounts, holders'
    keys from parties (with `hasher`, the shared hashes too), and all restrictions and list
    entries (expired ones included, so a replay of older transactions sees them)."""
    book = ControlBook()
    query = select(
        AccountRow.account_no,
        AccountRow.status,
        AccountRow.bound_account,
        PartyRow.party_id,
        PartyRow.kind,
        PartyRow.id_number_hash,
        PartyRow.id_number_enc,
        PartyRow.phone_enc,
    ).join(PartyRow, PartyRow.party_id == AccountRow.party_id)
    holders: dict[str, PartyKeys] = {}
    for account_no, status, bound, party, kind, id_hash, id_enc, phone_enc in session.execute(
        query
    ):
        book.set_status(account_no, AccountStatus(status))
        if bound is not None:
            book.bound[account_no] = bound
        keys = holders.get(party)
        if keys is None:
            keys = holders[party] = (
                hasher.of_stored(kind, id_hash, id_enc, phone_enc)
                if hasher is not None
                else PartyKeys(id_hash)
            )
        book.party_keys[account_no] = keys
    apply_changes(session, book, since=0, statuses=False)
    return book


def apply_changes(session: Session, book: ControlBook, since: int, *, statuses: bool = True) -> int:
    """Read into `book` the rows changed after revision `since`; returns how many."""
    changed = 0
    for restriction in session.scalars(
        select(AccountRestrictionRow).where(AccountRestrictionRow.revision > since)
    ):
        book.put_restriction(_restriction(restriction))
        changed += 1
    for entry in session.scalars(select(RiskListEntryRow).where(RiskListEntryRow.revision > since)):
        book.put_entry(_entry(entry))
        changed += 1
    for listing in session.scalars(select(PunishmentRow).where(PunishmentRow.revision > since)):
        book.put_listing(_listing(listing))
        changed += 1
    if statuses:
        query = (
            select(AccountStatusChangeRow)
            .where(AccountStatusChangeRow.revision > since)
            .order_by(AccountStatusChangeRow.revision)
        )
        for change in session.scalars(query):
            book.set_status(change.account_no, AccountStatus(change.status))
            changed += 1
    return changed
