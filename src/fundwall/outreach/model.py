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
class ReceiptCounts:
    """What one round of asking for receipts learnt: messages delivered, failed, and still
    without a receipt."""

    delivered: int = 0
    failed: int = 0
    pending: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"delivered": self.delivered, "failed": self.failed, "pending": self.pending}


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


class TaskStatus(StrEnum):
    OPEN = "open"
    """Waiting for someone to call the payer."""
    CLAIMED = "claimed"
    """Someone is calling."""
    CLOSED = "closed"


class DissuasionOutcome(StrEnum):
    """How the call ended (劝阻结果)."""

    DISSUADED = "dissuaded"
    """The payer gave the payment up: it is cancelled."""
    NOT_REACHED = "not_reached"
    PAID_ANYWAY = "paid_anyway"


@dataclass(frozen=True, slots=True)
class DissuasionTask:
    """A dissuasion task as the member's staff read it."""

    id: int
    member: str
    tx_id: str
    payer_account: str
    payee_account: str | None
    """Masked: the payee's account is usually another bank's."""
    amount_fen: int
    warned_at: datetime
    created_at: datetime
    due_at: datetime
    status: TaskStatus
    overdue: bool
    """Not closed, and its deadline passed (or closed after it)."""
    phone: str | None
    """The payer's bound phone, masked; None when the member bound none."""
    sms_status: SmsStatus | None
    claimed_by: str | None
    claimed_at: datetime | None
    outcome: DissuasionOutcome | None
    note: str | None
    closed_at: datetime | None
    closed_by: str | None
    cancelled: bool
    """The payment was cancelled (the payer was dissuaded)."""

    def seconds_left(self, now: datetime) -> int:
        """Until the deadline (negative once passed)."""
        return int((self.due_at - now).total_seconds())

    def to_dict(self) -> dict[str, object]:
        def at(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "id": self.id,
            "member": self.member,
            "tx_id": self.tx_id,
            "payer_account": self.payer_account,
            "payee_account": self.payee_account,
            "amount_fen": self.amount_fen,
            "warned_at": at(self.warned_at),
            "created_at": at(self.created_at),
            "due_at": at(self.due_at),
            "status": self.status.value,
            "overdue": self.overdue,
            "phone": self.phone,
            "sms_status": self.sms_status.value if self.sms_status else None,
            "claimed_by": self.claimed_by,
            "claimed_at": at(self.claimed_at),
            "outcome": self.outcome.value if self.outcome else None,
            "note": self.note,
            "closed_at": at(self.closed_at),
            "closed_by": self.closed_by,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True, slots=True)
class DissuasionFigures:
    """A member's dissuasion tasks of a period (by their creation): how many, by outcome,
    still open, and closed or still open past their deadline."""

    member: str
    tasks: int
    outcomes: dict[DissuasionOutcome, int]
    open: int
    overdue: int

    def to_dict(self) -> dict[str, object]:
        return {
            "member": self.member,
            "tasks": self.tasks,
            "outcomes": {outcome.value: n for outcome, n in self.outcomes.items()},
            "open": self.open,
            "overdue": self.overdue,
        }
