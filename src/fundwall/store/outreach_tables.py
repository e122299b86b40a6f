"""Outreach (预警劝阻, 反诈宣传): the SMS outbox, phones that opted out of campaigns, and the
members' own campaign templates.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0018. A message keeps its phone and its text SM4-GCM encrypted
(a text may hold a one-time code) with the phone's keyed hash beside it, for the rate limits,
the opt-outs and the local handset; an opt-out keeps the keyed hash only. Written by
`fundwall.outreach`: a message inside the transaction of the use case it belongs to, its
delivery by the dispatcher.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR, REASON
from fundwall.store.tables import ENUM, HASH_HEX, ID, Base, SurrogateKey
from fundwall.store.types import json_type

IDEMPOTENCY_KEY = 160
"""`<member or *>/<caller's key>`: the caller's key is at most 64 characters."""


class SmsMessageRow(Base):
    """One SMS in the outbox (短信发件箱) and what became of it.

    `status`: queued → sending (claimed by a dispatcher) → sent (the gateway took it) →
    delivered or failed; or opted_out / limited (a campaign message not sent). Times of each
    step; `attempts` the rounds that offered it to a gateway; `message_key` the key the
    gateway gets with it, so a provider takes a message offered twice once."""

    __tablename__ = "sms_outbox"
    __table_args__ = (
        Index(None, "status", "member"),
        Index(None, "phone_hash", "queued_at"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str | None] = mapped_column(String(ID), ForeignKey("institutions.code"))
    party_id: Mapped[str | None] = mapped_column(String(ID), ForeignKey("parties.party_id"))
    purpose: Mapped[str] = mapped_column(String(ENUM))
    template: Mapped[str] = mapped_column(String(ID))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    segments: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY), unique=True)
    message_key: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    status: Mapped[str] = mapped_column(String(ENUM))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime]
    queued_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    gateway: Mapped[str | None] = mapped_column(String(ID))
    provider_id: Mapped[str | None] = mapped_column(String(ID))
    failure: Mapped[str | None] = mapped_column(String(REASON))
    campaign_id: Mapped[int | None] = mapped_column(
        SurrogateKey, ForeignKey("outreach_campaigns.id"), index=True
    )


class CampaignRow(Base):
    """A campaign (反诈宣传短信): a template sent to a segment of the member's own customers as
    of a time; its messages are the outbox rows that name it."""

    __tablename__ = "outreach_campaigns"
    __table_args__ = (Index(None, "member", "created_at"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    title: Mapped[str] = mapped_column(String(REASON))
    template: Mapped[str] = mapped_column(String(ID))
    segment: Mapped[str] = mapped_column(String(ENUM))
    as_of: Mapped[datetime]
    variables: Mapped[Any] = mapped_column(json_type())
    audience: Mapped[int] = mapped_column(Integer)
    """The customers the segment held at `as_of` (with a bound phone or not)."""
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))


class SmsOptOutRow(Base):
    """A phone whose holder asked for no campaign messages (退订), by its keyed hash: which
    member or channel recorded it, when and why."""

    __tablename__ = "sms_opt_outs"

    phone_hash: Mapped[str] = mapped_column(String(HASH_HEX), primary_key=True)
    recorded_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    member: Mapped[str | None] = mapped_column(String(ID), ForeignKey("institutions.code"))
    channel: Mapped[str] = mapped_column(String(ENUM))
    opted_out_at: Mapped[datetime]


class SmsTemplateRow(Base):
    """A member's own campaign template (宣传短信模板): its name, unique at the member and
    never one of the built-in templates', and its Chinese text with `{variables}`."""

    __tablename__ = "sms_templates"
    __table_args__ = (Index(None, "member", "name", unique=True),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    name: Mapped[str] = mapped_column(String(ID))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))


class DissuasionTaskRow(Base):
    """A dissuasion task (预警劝阻任务): a warn decision on a payment by the member's customer,
    a warning SMS to the payer's bound phone (`sms_id`; None without one) and a call due by
    `due_at`, claimed by one of the member's staff, closed with its outcome (dissuaded, not
    reached, paid anyway) and a note."""

    __tablename__ = "dissuasion_tasks"
    __table_args__ = (Index(None, "member", "status", "due_at"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    decision_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    tx_id: Mapped[str] = mapped_column(String(ID), index=True)
    payer_account: Mapped[str] = mapped_column(String(ID))
    party_id: Mapped[str | None] = mapped_column(String(ID), ForeignKey("parties.party_id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    warned_at: Mapped[datetime]
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    sms_id: Mapped[int | None] = mapped_column(SurrogateKey, ForeignKey("sms_outbox.id"))
    status: Mapped[str] = mapped_column(String(ENUM))
    claimed_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    claimed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(ENUM))
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))


class OutreachEventRow(Base):
    """An anti-fraud publicity event (反诈宣传活动) a member held: its kind (branch, community,
    company, school, online), date, place, the people attending and those reached."""

    __tablename__ = "outreach_events"
    __table_args__ = (
        Index(None, "member", "held_on"),
        CheckConstraint("attendance >= 0", name="attendance"),
        CheckConstraint("reach >= 0", name="reach"),
    )

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    kind: Mapped[str] = mapped_column(String(ENUM))
    title: Mapped[str] = mapped_column(String(REASON))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(REASON))
    attendance: Mapped[int] = mapped_column(Integer)
    reach: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
