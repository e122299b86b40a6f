"""The narrow doors through which workflows change what the hard controls enforce.

Police orders, appeals, screening and the sharing hub call these functions, never the tables:
each checks its input, writes its row and an audit record in the caller's unit of work, stamps
the row with the record's sequence number (`revision`) and commits. The running decision
service sees the audit head move and reads the rows above the last revision it knew
(`apply_changes`), so the change holds from the next transaction on.

    restrict(uow, actor, "6222021234567890123", RestrictionKind.STOP_PAYMENT,
             reason="紧急止付 order 2024-0042", ends_at=now + timedelta(hours=48))
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.domain.identity import mask_account as masked
from fundwall.engine.controls.book import ControlBook, Listing, Restriction, RiskEntry, period_us
from fundwall.engine.controls.model import Evidence, ListKind, RestrictionKind, RiskCategory
from fundwall.store.audit import AuditActor
from fundwall.store.engine_tables import (
    REASON,
    AccountRestrictionRow,
    AccountStatusChangeRow,
    PunishmentRow,
    RiskListEntryRow,
)
from fundwall.store.tables import AccountRow, PartyRow
from fundwall.store.uow import UnitOfWork

Actor = str | AuditActor
_HASH: Final = re.compile(r"[0-9a-f]{64}")
_REFERENCE: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_DEVICE: Final = re.compile(r"[!-~]{1,128}")


def reference(value: str, field: str) -> str:
    """An account number, member code or order number: 1 to 64 of A-Z a-z 0-9 . _ : -"""
    if not isinstance(value, str) or _REFERENCE.fullmatch(value) is None:
        raise InvalidInput("1 to 64 letters, digits, '.', '_', ':' or '-'", field)
    return value


def stated_reason(text: str) -> str:
    """A reason as the doors keep it: stripped, not empty, printable, at most REASON long."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("say why: the reason is empty", "reason")
    if len(stripped) > REASON or not stripped.isprintable():
        raise InvalidInput(f"at most {REASON} printable characters", "reason")
    return stripped


def _period(start: datetime, end: datetime | None, field: str) -> None:
    for value, name in ((start, "start"), (end, field)):
        if value is not None and value.utcoffset() is None:
            raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", name)
    if end is not None and end <= start:
        raise InvalidInput("the end must come after the start", field)


def set_account_status(
    uow: UnitOfWork, actor: Actor, account_no: str, status: AccountStatus, reason: str
) -> AccountStatus:
    """Set an account's standing status (销户, 久悬, 非柜面暂停 …); returns the previous one.

    A partial freeze needs its amount: use `restrict(…, RestrictionKind.FREEZE, amount_fen=…)`.
    """
    status = AccountStatus(status)
    if status is AccountStatus.FROZEN_PARTIAL:
        raise InvalidInput(
            "a partial freeze needs an amount: use restrict with kind freeze and amount_fen",
            "status",
        )
    why = stated_reason(reason)
    row = uow.session.get(AccountRow, account_no)
    if row is None:
        raise NotFound("account", masked(account_no))
    previous = AccountStatus(row.status)
    record = uow.audit.record(
        actor,
        "set_account_status",
        f"account:{masked(account_no)}",
        {"from": previous.value, "to": status.value, "reason": why},
    )
    row.status = status.value
    uow.session.add(
        AccountStatusChangeRow(
            account_no=account_no,
            status=status.value,
            previous=previous.value,
            reason=why,
            changed_at=record.ts,
            changed_by=record.actor,
            revision=record.seq,
        )
    )
    uow.commit()
    return previous


def restrict(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    kind: RestrictionKind,
    *,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    amount_fen: int | None = None,
    order_reference: str | None = None,
) -> int:
    """Restrict an account from `starts_at` (now by default) until `ends_at` (open when None):
    a stop-payment or freeze of the whole account or of `amount_fen`, or a non-counter
    suspension. Returns the restriction's id (for `lift_restriction`)."""
    kind = RestrictionKind(kind)
    reference(account_no, "account_no")
    why = stated_reason(reason)
    if amount_fen is not None:
        if type(amount_fen) is not int or amount_fen <= 0:
            raise InvalidInput("a whole, positive number of fen", "amount_fen")
        if kind is RestrictionKind.NON_COUNTER_SUSPENSION:
            raise InvalidInput("a non-counter suspension has no amount", "amount_fen")
    if order_reference is not None:
        reference(order_reference, "order_reference")
    start = starts_at if starts_at is not None else uow.clock.now()
    _period(start, ends_at, "ends_at")
    record = uow.audit.record(
        actor,
        "restrict_account",
        f"account:{masked(account_no)}",
        {
            "kind": kind.value,
            "amount_fen": amount_fen,
            "starts_at": start.isoformat(),
            "ends_at": ends_at.isoformat() if ends_at else None,
            "reference": order_reference,
            "reason": why,
        },
    )
    row = AccountRestrictionRow(
        account_no=account_no,
        kind=kind.value,
        amount_fen=amount_fen,
        starts_at=start,
        ends_at=ends_at,
        reason=why,
        reference=order_reference,
        created_at=record.ts,
        created_by=record.actor,
        revision=record.seq,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.commit()
    return row.id


def lift_restriction(uow: UnitOfWork, actor: Actor, restriction_id: int, reason: str) -> None:
    """End a restriction now (解除止付/解冻, or an appeal upheld)."""
    why = stated_reason(reason)
    row = uow.session.get(AccountRestrictionRow, restriction_id)
    if row is None:
        raise NotFound("account restriction", str(restriction_id))
    if row.lifted_at is not None:
        raise Conflict(f"restriction {restriction_id} was lifted already")
    record = uow.audit.record(
        actor,
        "lift_restriction",
        f"account:{masked(row.account_no)}",
        {"restriction": restriction_id, "kind": row.kind, "reason": why},
    )
    row.lifted_at = record.ts
    row.lifted_by = record.actor
    row.revision = record.seq
    uow.commit()


def _list_key(kind: ListKind, key: str) -> str:
    if kind is ListKind.ACCOUNT:
        return reference(key, "key")
    if kind in (ListKind.ID_HASH, ListKind.PHONE_HASH):
        if _HASH.fullmatch(key) is None:
            raise InvalidInput("a keyed hash is 64 lower-case hex digits", "key")
        return key
    if kind is ListKind.IP:
        try:
            return str(ipaddress.ip_address(key))
        except ValueError:
            raise InvalidInput("not an IPv4 or IPv6 address", "key") from None
    if _DEVICE.fullmatch(key) is None:
        raise InvalidInput("a device id is 1 to 128 visible ASCII characters", "key")
    return key


def list_risk(
    uow: UnitOfWork,
    actor: Actor,
    kind: ListKind,
    key: str,
    category: RiskCategory,
    evidence: Evidence,
    reporting_member: str,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> int:
    """Put an identifier on the shared risk list (an ID or phone as its keyed hash, never
    raw); returns the entry's id."""
    kind, category, evidence = ListKind(kind), RiskCategory(category), Evidence(evidence)
    normal = _list_key(kind, key)
    member = reference(reporting_member, "reporting_member")
    start = valid_from if valid_from is not None else uow.clock.now()
    _period(start, valid_until, "valid_until")
    shown = masked(normal) if kind is ListKind.ACCOUNT else normal
    record = uow.audit.record(
        actor,
        "list_risk",
        f"risk_list:{kind.value}",
        {"key": shown, "category": category.value, "evidence": evidence.value, "member": member},
    )
    row = RiskListEntryRow(
        kind=kind.value,
        key=normal,
        category=category.value,
        evidence=evidence.value,
        reporting_member=member,
        valid_from=start,
        valid_until=valid_until,
        retracted_at=None,
        created_at=record.ts,
        created_by=record.actor,
        revision=record.seq,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.commit()
    return row.id


def retract_risk(uow: UnitOfWork, actor: Actor, entry_id: int) -> None:
    """Retract a risk list entry from now on (撤销)."""
    row = uow.session.get(RiskListEntryRow, entry_id)
    if row is None:
        raise NotFound("risk list entry", str(entry_id))
    if row.retracted_at is not None:
        raise Conflict(f"risk list entry {entry_id} was retracted already")
    record = uow.audit.record(actor, "retract_risk", f"risk_list:{row.kind}", {"entry": entry_id})
    row.retracted_at = record.ts
    row.revision = record.seq
    uow.commit()


def punish(
    uow: UnitOfWork,
    actor: Actor,
    id_hash: str,
    reason: str,
    *,
    listed_from: datetime,
    listed_until: datetime,
) -> int:
    """Put a person (by the keyed hash of the ID number) on the punishment list (联合惩戒)."""
    normal = _list_key(ListKind.ID_HASH, id_hash)
    why = stated_reason(reason)
    _period(listed_from, listed_until, "listed_until")
    record = uow.audit.record(
        actor,
        "punish",
        f"punishment_list:{normal[:16]}",
        {"from": listed_from.isoformat(), "until": listed_until.isoformat(), "reason": why},
    )
    row = PunishmentRow(
        id_hash=normal,
        reason=why,
        listed_from=listed_from,
        listed_until=listed_until,
        lifted_at=None,
        created_at=record.ts,
        created_by=record.actor,
        revision=record.seq,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.commit()
    return row.id


def lift_punishment(uow: UnitOfWork, actor: Actor, listing_id: int, reason: str) -> None:
    """End a punishment listing now (an appeal upheld)."""
    why = stated_reason(reason)
    row = uow.session.get(PunishmentRow, listing_id)
    if row is None:
        raise NotFound("punishment listing", str(listing_id))
    if row.lifted_at is not None:
        raise Conflict(f"punishment listing {listing_id} was lifted already")
    record = uow.audit.record(
        actor, "lift_punishment", f"punishment_list:{row.id_hash[:16]}", {"reason": why}
    )
    row.lifted_at = record.ts
    row.revision = record.seq
    uow.commit()


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


def load_book(session: Session) -> ControlBook:
    """Every control fact in the store: statuses, bound accounts and holders' hashes from
    accounts and parties, and all restrictions and list entries (expired ones included, so a
    replay of older transactions sees them)."""
    book = ControlBook()
    query = select(
        AccountRow.account_no,
        AccountRow.status,
        AccountRow.bound_account,
        PartyRow.id_number_hash,
        PartyRow.phone_hash,
    ).join(PartyRow, PartyRow.party_id == AccountRow.party_id)
    for account_no, status, bound, id_hash, phone_hash in session.execute(query):
        book.set_status(account_no, AccountStatus(status))
        if bound is not None:
            book.bound[account_no] = bound
        book.party_keys[account_no] = (id_hash, phone_hash)
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
