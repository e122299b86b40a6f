"""The member's SMS as a list (短信发送记录): the records behind the statistics' SMS figures
(SMS sent, delivered, warnings, campaign messages), filtered as the figures count them.

A member's actors read their own member's messages only (the messages it queued: notices,
appeal answers, warnings, campaigns); one-time codes are no member's and listed to nobody.
The phone is shown masked and the text not at all: the template says what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.outreach.model import SmsPurpose, SmsStatus
from fundwall.store.outreach_tables import SmsMessageRow
from fundwall.store.uow import UnitOfWork

MESSAGES_LIMIT: Final = 500
"""At most this many messages a list shows, the latest first; the figures count them all."""


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages a list shows: handed to the gateway from `sent_from` until before
    `sent_until` (either open), of a purpose, in a status."""

    sent_from: datetime | None = None
    sent_until: datetime | None = None
    purpose: SmsPurpose | None = None
    status: SmsStatus | None = None


@dataclass(frozen=True, slots=True)
class MessageView:
    """One of the member's messages, as its staff read it."""

    id: int
    purpose: SmsPurpose
    template: str
    phone: str
    """Masked (138****5678)."""
    status: SmsStatus
    queued_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    failure: str | None
    attempts: int
    campaign_id: int | None


@dataclass(frozen=True, slots=True)
class MessageList:
    messages: tuple[MessageView, ...]
    more: bool
    """More messages match than the list shows (`MESSAGES_LIMIT`)."""


@use_case(Permission.RUN_CAMPAIGNS)
def list_messages(uow: UnitOfWork, actor: Actor, wanted: MessageFilter) -> MessageList:
    """The member's messages matching `wanted`, the latest first (by when they were sent,
    then queued), at most `MESSAGES_LIMIT`. A period filter lists the messages handed to
    the gateway in it, as the statistics count them."""
    member = actor.customer_member
    if member is None:
        raise PermissionDenied(f"the SMS are a member's, to its customers ({actor.audit_id})")
    for moment, name in ((wanted.sent_from, "sent_from"), (wanted.sent_until, "sent_to")):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", name)
    sms = SmsMessageRow
    query = select(sms).where(sms.member == member)
    if wanted.sent_from is not None:
        query = query.where(sms.sent_at >= wanted.sent_from)
    if wanted.sent_until is not None:
        query = query.where(sms.sent_at < wanted.sent_until)
    if wanted.purpose is not None:
        query = query.where(sms.purpose == wanted.purpose.value)
    if wanted.status is not None:
        query = query.where(sms.status == wanted.status.value)
    query = query.order_by(sms.sent_at.desc(), sms.queued_at.desc(), sms.id.desc())
    rows = list(uow.session.scalars(query.limit(MESSAGES_LIMIT + 1)))
    shown = tuple(
        MessageView(
            id=row.id,
            purpose=SmsPurpose(row.purpose),
            template=row.template,
            phone=str(MobilePhone(uow.keyring.decrypt(row.phone_enc))),
            status=SmsStatus(row.status),
            queued_at=row.queued_at,
            sent_at=row.sent_at,
            delivered_at=row.delivered_at,
            failed_at=row.failed_at,
            failure=row.failure,
            attempts=row.attempts,
            campaign_id=row.campaign_id,
        )
        for row in rows[:MESSAGES_LIMIT]
    )
    return MessageList(shown, more=len(rows) > MESSAGES_LIMIT)
