"""What outreach is made of: why a message is sent, where it stands, what a phone received,
what a dispatch round did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SmsPurpose(StrEnum):
    """Why an SMS is sent. Only `campaign` messages respect an opt-out: the others are owed
    to the person (a code asked for, a measure taken on their account, the answer to their
    appeal, a warning while a scam is under way)."""

    CODE = "code"
    """A one-time code (验证码) the person asked for."""
    NOTICE = "notice"
    """A restriction notice: a measure on the person's account, why, where to appeal."""
    APPEAL = "appeal"
    """An appeal received or answered."""
    WARNING = "warning"
    """A dissuasion warning (预警劝阻) while a payment is held."""
    CAMPAIGN = "campaign"
    """Publicity (反诈宣传) to a segment of a member's customers."""

    @property
    def respects_opt_out(self) -> bool:
        return self is SmsPurpose.CAMPAIGN


class SmsStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    """Claimed by a dispatcher, offered to the gateway."""
    SENT = "sent"
    """Taken by the gateway; its delivery not yet reported."""
    DELIVERED = "delivered"
    FAILED = "failed"
    OPTED_OUT = "opted_out"
    """A campaign message to a phone that opted out: kept to be counted, never sent."""
    LIMITED = "limited"
    """A campaign message over the phone's hourly limit: kept to be counted, never sent."""


class OptOutChannel(StrEnum):
    """Where a person asked for no more campaign messages."""

    SMS_REPLY = "sms_reply"
    """Replied TD (退订) to a message."""
    COUNTER = "counter"
    PHONE_CALL = "phone_call"
    PORTAL = "portal"


@dataclass(frozen=True, slots=True)
class ReceivedSms:
    """A message as the handset of the local gateway received it."""

    message_id: int
    member: str | None
    purpose: SmsPurpose
    template: str
    text: str
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class DispatchCounts:
    """What one round of the dispatcher did: messages delivered, sent (taken by the gateway,
    delivery to come), failed for good, and left queued for a later round (the gateway did
    not answer)."""

    delivered: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0

    @property
    def offered(self) -> int:
        return self.delivered + self.sent + self.failed + self.retrying

    def to_dict(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "sent": self.sent,
            "failed": self.failed,
            "retrying": self.retrying,
        }
