"""The outbox's dispatcher (短信发送) and the local handset.

`dispatch_outbox` runs in rounds (`fundwall serve` every `outreach.dispatch_seconds`): it
claims what is due, member by member within each member's rate, urgent purposes first,
and commits the claim; then offers each message to the gateway with no transaction open
(a slow provider never holds the database); then records what became of each, with one
audit record for the round. A claim left by a dispatcher that died is taken back after
`STALE_CLAIM`; offered again under the same message key, the provider sends it once.

`collect_receipts` asks the gateway what became of the messages it took (`sent`): a minute
after sending, then after as long again as the message has waited (2, 4, 8 … minutes, at
most hourly), for `RECEIPT_WAIT`; a message with no receipt by then stays `sent`. Of a sent
message `next_attempt_at` is when its receipt is asked for next (none: never again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from fundwall.config import OutreachSettings, get_settings
from fundwall.domain.identity import MobilePhone
from fundwall.outreach.gateway import (
    RECEIPT_BATCH,
    GatewayRefused,
    GatewayUnavailable,
    LocalGateway,
    OutgoingSms,
    ReceiptStatus,
    SendStatus,
    SmsGateway,
)
from fundwall.outreach.model import (
    DispatchCounts,
    ReceiptCounts,
    ReceivedSms,
    SmsPurpose,
    SmsStatus,
)
from fundwall.outreach.queries import phone_hash
from fundwall.store.engine_tables import REASON
from fundwall.store.outreach_tables import SmsMessageRow
from fundwall.store.uow import UnitOfWork

DISPATCHER: Final = "system:outbox"
"""Who the audit log says sent a round."""
STALE_CLAIM: Final = timedelta(minutes=5)
"""A claim older than this was left by a dispatcher that stopped: the longest offer (six
tries of 30 s with their waits, the settings' bounds) takes about 3 minutes."""
FIRST_RETRY: Final = timedelta(minutes=1)
"""A message the gateway did not take waits this long for the next round's offer, twice as
long after each further failure."""
RATE_WINDOW: Final = timedelta(minutes=1)
FIRST_RECEIPT: Final = timedelta(minutes=1)
"""A sent message's receipt is first asked for this long after sending."""
LONGEST_RECEIPT_WAIT: Final = timedelta(hours=1)
RECEIPT_WAIT: Final = timedelta(days=2)
"""Receipts are asked for this long: carriers keep trying a phone that is off for a day or
two, then give up (and the provider's receipt says so)."""
URGENCY: Final = case(
    {
        SmsPurpose.CODE.value: 0,
        SmsPurpose.WARNING.value: 1,
        SmsPurpose.NOTICE.value: 2,
        SmsPurpose.APPEAL.value: 3,
    },
    value=SmsMessageRow.purpose,
    else_=4,
)
"""Codes first (someone is waiting at a screen), then warnings, notices, appeal answers,
and campaigns last."""


@dataclass(frozen=True, slots=True)
class _Offer:
    row: SmsMessageRow
    status: SmsStatus
    provider_id: str | None = None
    failure: str | None = None


def dispatch_outbox(
    uow: UnitOfWork,
    gateway: SmsGateway,
    *,
    limit: int = 500,
    settings: OutreachSettings | None = None,
) -> DispatchCounts:
    """One round: offer at most `limit` due messages to `gateway` and record what became of
    them (one audit record when any was offered)."""
    config = settings if settings is not None else get_settings().outreach
    session, keyring = uow.session, uow.keyring
    now = uow.clock.now()
    _release_stale(session, now)
    claimed = _claim(session, now, limit, config.member_per_minute)
    uow.commit()
    if not claimed:
        return DispatchCounts()
    offers = []
    for row in claimed:
        message = OutgoingSms(
            row.id,
            row.message_key,
            MobilePhone(keyring.decrypt(row.phone_enc)),
            keyring.decrypt(row.text_enc),
            row.segments,
        )
        try:
            result = gateway.send(message)
        except GatewayRefused as refused:
            offers.append(_Offer(row, SmsStatus.FAILED, failure=refused.message()))
            continue
        except GatewayUnavailable as unavailable:
            failed = row.attempts >= config.max_attempts
            status = SmsStatus.FAILED if failed else SmsStatus.QUEUED
            offers.append(_Offer(row, status, failure=unavailable.message()))
            continue
        sent = SmsStatus.DELIVERED if result.status is SendStatus.DELIVERED else SmsStatus.SENT
        offers.append(_Offer(row, sent, provider_id=result.provider_id))
    counts = _record(uow.clock.now(), gateway.name, offers)
    uow.audit.record(DISPATCHER, "sms_dispatch", f"gateway:{gateway.name}", counts.to_dict())
    uow.commit()
    return counts


def _release_stale(session: Session, now: datetime) -> None:
    session.execute(
        update(SmsMessageRow)
        .where(
            SmsMessageRow.status == SmsStatus.SENDING.value,
            SmsMessageRow.claimed_at < now - STALE_CLAIM,
        )
        .values(status=SmsStatus.QUEUED.value)
    )


def _claim(session: Session, now: datetime, limit: int, per_minute: int) -> list[SmsMessageRow]:
    """Claim the due messages, each member's within its rate; the rows claimed."""
    due = (
        SmsMessageRow.status == SmsStatus.QUEUED.value,
        or_(SmsMessageRow.next_attempt_at.is_(None), SmsMessageRow.next_attempt_at <= now),
    )
    members = session.scalars(select(SmsMessageRow.member).where(*due).distinct()).all()
    if not members:
        return []
    offered = dict(
        session.execute(
            select(SmsMessageRow.member, func.count())
            .where(SmsMessageRow.claimed_at > now - RATE_WINDOW)
            .group_by(SmsMessageRow.member)
        ).all()
    )
    wanted: list[int] = []
    for member in sorted(members, key=lambda code: code or ""):
        room = min(per_minute - offered.get(member, 0), limit - len(wanted))
        if room <= 0:
            continue
        of_member = (
            SmsMessageRow.member.is_(None) if member is None else SmsMessageRow.member == member
        )
        wanted += session.scalars(
            select(SmsMessageRow.id)
            .where(*due, of_member)
            .order_by(URGENCY, SmsMessageRow.id)
            .limit(room)
        ).all()
    if not wanted:
        return []
    # Claimed by writing: of two dispatchers, only one moves a row out of `queued`.
    ids = session.scalars(
        update(SmsMessageRow)
        .where(SmsMessageRow.id.in_(wanted), SmsMessageRow.status == SmsStatus.QUEUED.value)
        .values(
            status=SmsStatus.SENDING.value,
            claimed_at=now,
            attempts=SmsMessageRow.attempts + 1,
        )
        .returning(SmsMessageRow.id)
    ).all()
    return list(
        session.scalars(
            select(SmsMessageRow)
            .where(SmsMessageRow.id.in_(ids))
            .order_by(URGENCY, SmsMessageRow.id)
            .execution_options(populate_existing=True)
        )
    )


def _record(now: datetime, gateway: str, offers: list[_Offer]) -> DispatchCounts:
    counted: Counter[SmsStatus] = Counter()
    for offer in offers:
        row = offer.row
        row.status = offer.status.value
        row.gateway = gateway
        if offer.failure is not None:
            row.failure = offer.failure[:REASON]
        if offer.status is SmsStatus.QUEUED:
            row.next_attempt_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
        elif offer.status is SmsStatus.FAILED:
            row.failed_at = now
        else:
            row.sent_at = now
            row.provider_id = offer.provider_id
            row.failure = None
            row.next_attempt_at = now + FIRST_RECEIPT
            if offer.status is SmsStatus.DELIVERED:
                row.delivered_at = now
        counted[offer.status] += 1
    return DispatchCounts(
        delivered=counted[SmsStatus.DELIVERED],
        sent=counted[SmsStatus.SENT],
        failed=counted[SmsStatus.FAILED],
        retrying=counted[SmsStatus.QUEUED],
    )


def collect_receipts(uow: UnitOfWork, gateway: SmsGateway, *, limit: int = 500) -> ReceiptCounts:
    """Ask `gateway` what became of at most `limit` of its sent messages whose receipt is due,
    and record it (one audit record when any receipt came)."""
    now = uow.clock.now()
    waiting = (SmsMessageRow.status == SmsStatus.SENT.value, SmsMessageRow.next_attempt_at <= now)
    # Past the wait, nobody asks any more: out of the index's range of due receipts.
    uow.session.execute(
        update(SmsMessageRow)
        .where(*waiting, SmsMessageRow.sent_at <= now - RECEIPT_WAIT)
        .values(next_attempt_at=None)
    )
    due = list(
        uow.session.scalars(
            select(SmsMessageRow)
            .where(
                *waiting,
                SmsMessageRow.gateway == gateway.name,
                SmsMessageRow.provider_id.is_not(None),
            )
            .order_by(SmsMessageRow.next_attempt_at, SmsMessageRow.id)
            .limit(limit)
        )
    )
    uow.commit()
    if not due:
        return ReceiptCounts()
    counted: Counter[ReceiptStatus] = Counter()
    for start in range(0, len(due), RECEIPT_BATCH):
        rows = due[start : start + RECEIPT_BATCH]
        try:
            # No transaction is open while the provider answers.
            found = {
                each.provider_id: each
                for each in gateway.receipts(
                    [row.provider_id for row in rows if row.provider_id is not None]
                )
            }
        except GatewayUnavailable:
            found = {}
        now = uow.clock.now()
        for row in rows:
            receipt = found.get(row.provider_id or "")
            status = receipt.status if receipt is not None else ReceiptStatus.SENT
            counted[status] += 1
            if status is ReceiptStatus.DELIVERED:
                row.status, row.delivered_at = SmsStatus.DELIVERED.value, now
            elif status is ReceiptStatus.FAILED:
                row.status, row.failed_at = SmsStatus.FAILED.value, now
                row.failure = (receipt.reason if receipt else None) or "not delivered"
            else:
                waited = now - (row.sent_at or now)
                row.next_attempt_at = now + min(max(waited, FIRST_RECEIPT), LONGEST_RECEIPT_WAIT)
    counts = ReceiptCounts(
        delivered=counted[ReceiptStatus.DELIVERED],
        failed=counted[ReceiptStatus.FAILED],
        pending=counted[ReceiptStatus.SENT],
    )
    if counts.delivered or counts.failed:
        uow.audit.record(DISPATCHER, "sms_receipts", f"gateway:{gateway.name}", counts.to_dict())
    uow.commit()
    return counts


def delivered_to(uow: UnitOfWork, phone: str) -> list[ReceivedSms]:
    """What `phone` received through the local gateway, oldest first: the embedded handset
    (the demo and the tests read one-time codes from it)."""
    mobile = MobilePhone.parse(phone, field="phone")
    rows = uow.session.scalars(
        select(SmsMessageRow)
        .where(
            SmsMessageRow.phone_hash == phone_hash(uow.keyring, mobile),
            SmsMessageRow.gateway == LocalGateway.name,
            SmsMessageRow.status == SmsStatus.DELIVERED.value,
        )
        .order_by(SmsMessageRow.delivered_at, SmsMessageRow.id)
    )
    return [
        ReceivedSms(
            row.id,
            row.member,
            SmsPurpose(row.purpose),
            row.template,
            uow.keyring.decrypt(row.text_enc),
            row.delivered_at,
        )
        for row in rows
        if row.delivered_at is not None
    ]
