"""Publicity (反诈宣传): warning SMS campaigns to a segment of a member's own customers, and
the on-site and online events members hold. Use cases; a member reads and writes its own
only (another member's campaign or event is not found).

Segments are computed from the records as of a moment (never later than now):

- `elderly`: persons born more than `outreach.elderly_age` (60) years before it (by the
  birth year the records keep);
- `new_payee`: persons who paid, from one of their accounts at the member, a payee that
  account had never paid before, in the `outreach.segment_days` (7) days before it;
- `new_account`: holders of an account the member opened in the `outreach.new_account_days`
  (31) days before it.

A campaign's messages go to each customer's phone bound at the member (none bound: not
sent, counted as `no_phone`), skipping opted-out phones and those past their hourly limit
(kept and counted); all are queued in the campaign's one transaction, or none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import aliased

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import OutreachSettings, get_settings
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.domain.moments import past_moment
from fundwall.domain.parties import PartyKind
from fundwall.outreach.model import SmsPurpose, SmsStatus
from fundwall.outreach.queries import find_template, opted_out, phone_hash, queue_sms
from fundwall.outreach.templates import render
from fundwall.phones.queries import current_binding
from fundwall.store.outreach_tables import CampaignRow, OutreachEventRow, SmsMessageRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import AccountRow, InstitutionRow, PartyRow, TransactionRow
from fundwall.store.uow import UnitOfWork

BEIJING: Final = timedelta(hours=8)
"""Event dates are Beijing dates."""
TITLE_MAX: Final = 200
MAX_HEADCOUNT: Final = 100_000_000
"""More people than an event could reach (a national broadcast reaches fewer)."""


class Segment(StrEnum):
    ELDERLY = "elderly"
    NEW_PAYEE = "new_payee"
    NEW_ACCOUNT = "new_account"


class EventKind(StrEnum):
    """Where an event was held (宣传活动)."""

    BRANCH = "branch"
    COMMUNITY = "community"
    COMPANY = "company"
    SCHOOL = "school"
    ONLINE = "online"


@dataclass(frozen=True, slots=True)
class SegmentPreview:
    """How many of the member's customers a segment holds, how many have a bound phone, and
    how many of those opted out."""

    segment: Segment
    as_of: datetime
    customers: int
    with_phone: int
    opted_out: int

    def to_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment.value,
            "as_of": self.as_of.isoformat(),
            "customers": self.customers,
            "with_phone": self.with_phone,
            "opted_out": self.opted_out,
        }


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign and its delivery figures: `queued` every message written, of which
    `sent` taken by the gateway (`delivered` reported so), `failed`, `opted_out` and
    `limited` never sent, `waiting` not yet offered; `no_phone` customers without one."""

    id: int
    title: str
    template: str
    segment: Segment
    as_of: datetime
    created_at: datetime
    created_by: str
    audience: int
    queued: int
    sent: int
    delivered: int
    failed: int
    opted_out: int
    limited: int
    waiting: int
    no_phone: int

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "template": self.template,
            "segment": self.segment.value,
            "as_of": self.as_of.isoformat(),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "audience": self.audience,
            "queued": self.queued,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "opted_out": self.opted_out,
            "limited": self.limited,
            "waiting": self.waiting,
            "no_phone": self.no_phone,
        }


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    kind: EventKind
    title: str
    held_on: date
    place: str
    attendance: int
    reach: int
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.title,
            "held_on": self.held_on.isoformat(),
            "place": self.place,
            "attendance": self.attendance,
            "reach": self.reach,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def _member(actor: Actor) -> str:
    member = actor.customer_member
    if member is None:
        raise PermissionDenied(f"campaigns are a member's, to its customers ({actor.audit_id})")
    return member


def _segment(
    member: str, segment: Segment, as_of: datetime, config: OutreachSettings
) -> Select[str]:
    """The party ids of the member's customers in `segment` as of `as_of`."""
    customers = select(AccountRow.party_id).where(AccountRow.institution_code == member)
    if segment is Segment.ELDERLY:
        born_before = as_of.year - config.elderly_age
        return (
            select(PartyRow.party_id)
            .where(
                PartyRow.party_id.in_(customers),
                PartyRow.kind == PartyKind.PERSON.value,
                PartyRow.birth_year < born_before,
            )
            .order_by(PartyRow.party_id)
        )
    if segment is Segment.NEW_ACCOUNT:
        since = as_of - timedelta(days=config.new_account_days)
        return (
            select(AccountRow.party_id)
            .where(
                AccountRow.institution_code == member,
                AccountRow.opened_at >= since,
                AccountRow.opened_at <= as_of,
            )
            .distinct()
            .order_by(AccountRow.party_id)
        )
    since = as_of - timedelta(days=config.segment_days)
    earlier = aliased(TransactionRow)
    return (
        select(AccountRow.party_id)
        .join(TransactionRow, TransactionRow.payer_account == AccountRow.account_no)
        .where(
            AccountRow.institution_code == member,
            TransactionRow.payer_bank == member,
            TransactionRow.payee_account.is_not(None),
            TransactionRow.ts >= since,
            TransactionRow.ts <= as_of,
            ~exists().where(
                and_(
                    earlier.payer_account == TransactionRow.payer_account,
                    earlier.payee_account == TransactionRow.payee_account,
                    earlier.ts < TransactionRow.ts,
                )
            ),
        )
        .distinct()
        .order_by(AccountRow.party_id)
    )


@dataclass(frozen=True, slots=True)
class _Recipient:
    party_id: str
    phone: str | None


def _recipients(
    uow: UnitOfWork, member: str, segment: Segment, as_of: datetime, config: OutreachSettings
) -> list[_Recipient]:
    found = []
    for party_id in uow.session.scalars(_segment(member, segment, as_of, config)):
        binding = current_binding(uow.session, member, party_id)
        phone = uow.keyring.decrypt(binding.phone_enc) if binding is not None else None
        found.append(_Recipient(party_id, phone))
    return found


@use_case(Permission.RUN_CAMPAIGNS)
def preview_campaign(
    uow: UnitOfWork,
    actor: Actor,
    segment: Segment,
    as_of: datetime | None = None,
    settings: OutreachSettings | None = None,
) -> SegmentPreview:
    """How many of the member's customers `segment` holds as of `as_of` (default now), with
    a bound phone, and of those opted out; nothing is written."""
    config = settings if settings is not None else get_settings().outreach
    member = _member(actor)
    moment = past_moment(as_of, uow.clock.now())
    recipients = _recipients(uow, member, segment, moment, config)
    phones = [r.phone for r in recipients if r.phone is not None]
    out = sum(opted_out(uow.session, phone_hash(uow.keyring, MobilePhone(p))) for p in phones)
    return SegmentPreview(segment, moment, len(recipients), len(phones), out)


@use_case(Permission.RUN_CAMPAIGNS)
def send_campaign(
    uow: UnitOfWork,
    actor: Actor,
    title: str,
    template: str,
    segment: Segment,
    variables: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
    settings: OutreachSettings | None = None,
) -> CampaignView:
    """Queue `template` (a campaign template, built-in or the member's own) to every
    customer of `segment` as of `as_of` with a bound phone; `{bank}` is the member's name,
    `variables` the template's others. All messages in one transaction with one audit
    record: a bad variable refuses the campaign whole, naming it."""
    config = settings if settings is not None else get_settings().outreach
    member = _member(actor)
    moment = past_moment(as_of, uow.clock.now())
    text = title.strip()
    if not text or len(text) > TITLE_MAX:
        raise InvalidInput(f"1 to {TITLE_MAX} characters", "title")
    ensure_no_personal_data(text, "title")
    found = find_template(uow.session, template, member)
    if found.purpose is not SmsPurpose.CAMPAIGN:
        raise InvalidInput(f"{template} is not a campaign template", "template")
    given = dict(variables or {})
    if "bank" in found.variables:
        if "bank" in given:
            raise InvalidInput("the member's own name is used", "variables.bank")
        bank = uow.session.get(InstitutionRow, member)
        given["bank"] = bank.name_zh if bank is not None else member
    # Checked once whoever is in the segment, so a bad campaign is refused even when no
    # customer of it has a phone to send to.
    render(found, given, signature=config.signature, max_segments=config.max_segments)
    recipients = _recipients(uow, member, segment, moment, config)
    record = uow.audit.record(
        actor,
        "send_campaign",
        f"campaign:{member}",
        {
            "title": text,
            "template": found.name,
            "segment": segment.value,
            "as_of": moment.isoformat(),
            "audience": len(recipients),
        },
    )
    campaign = CampaignRow(
        member=member,
        title=text,
        template=found.name,
        segment=segment.value,
        as_of=moment,
        variables={k: v for k, v in given.items() if k != "bank"},
        audience=len(recipients),
        created_at=record.ts,
        created_by=actor.audit_id,
    )
    uow.session.add(campaign)
    uow.session.flush()
    for recipient in recipients:
        if recipient.phone is None:
            continue
        queue_sms(
            uow,
            actor,
            phone=recipient.phone,
            template=found.name,
            variables=given,
            member=member,
            purpose=SmsPurpose.CAMPAIGN,
            party_id=recipient.party_id,
            idempotency_key=f"campaign:{campaign.id}:{recipient.party_id}",
            campaign_id=campaign.id,
            settings=config,
        )
    uow.commit()
    return _view(uow, campaign)


@use_case(Permission.RUN_CAMPAIGNS)
def list_campaigns(uow: UnitOfWork, actor: Actor) -> list[CampaignView]:
    """The member's campaigns with their figures, newest first (at most 200)."""
    member = _member(actor)
    rows = uow.session.scalars(
        select(CampaignRow)
        .where(CampaignRow.member == member)
        .order_by(CampaignRow.created_at.desc(), CampaignRow.id.desc())
        .limit(200)
    )
    return [_view(uow, row) for row in rows]


@use_case(Permission.RUN_CAMPAIGNS)
def get_campaign(uow: UnitOfWork, actor: Actor, campaign_id: int) -> CampaignView:
    """One of the member's campaigns; another member's is not found."""
    row = uow.session.get(CampaignRow, campaign_id)
    if row is None or row.member != _member(actor):
        raise NotFound("campaign", str(campaign_id))
    return _view(uow, row)


def _view(uow: UnitOfWork, row: CampaignRow) -> CampaignView:
    counts: Counter[str] = Counter(
        dict(
            uow.session.execute(
                select(SmsMessageRow.status, func.count())
                .where(SmsMessageRow.campaign_id == row.id)
                .group_by(SmsMessageRow.status)
            ).all()
        )
    )
    queued = sum(counts.values())
    delivered = counts[SmsStatus.DELIVERED.value]
    return CampaignView(
        id=row.id,
        title=row.title,
        template=row.template,
        segment=Segment(row.segment),
        as_of=row.as_of,
        created_at=row.created_at,
        created_by=row.created_by,
        audience=row.audience,
        queued=queued,
        sent=counts[SmsStatus.SENT.value] + delivered,
        delivered=delivered,
        failed=counts[SmsStatus.FAILED.value],
        opted_out=counts[SmsStatus.OPTED_OUT.value],
        limited=counts[SmsStatus.LIMITED.value],
        waiting=counts[SmsStatus.QUEUED.value] + counts[SmsStatus.SENDING.value],
        no_phone=row.audience - queued,
    )


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not text or len(text) > TITLE_MAX:
        raise InvalidInput(f"1 to {TITLE_MAX} characters", field)
    ensure_no_personal_data(text, field)
    return text


def _headcount(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("a whole number", field)
    if not 0 <= value <= MAX_HEADCOUNT:
        raise InvalidInput(f"0 to {MAX_HEADCOUNT:,} people", field)
    return value


@use_case(Permission.RUN_CAMPAIGNS)
def record_event(
    uow: UnitOfWork,
    actor: Actor,
    kind: EventKind,
    title: str,
    held_on: date,
    place: str,
    attendance: int,
    reach: int,
    settings: OutreachSettings | None = None,
) -> EventView:
    """Record an event the member held: its kind, title and place (1 to 200 characters, no
    ID or phone number), the Beijing date it was held (not after today, not more than
    `outreach.event_max_age_days` before), the people attending and reached (0 or more)."""
    config = settings if settings is not None else get_settings().outreach
    member = _member(actor)
    today = (uow.clock.now() + BEIJING).date()
    if held_on > today:
        raise InvalidInput("an event is recorded once held: not after today", "held_on")
    if held_on < today - timedelta(days=config.event_max_age_days):
        raise InvalidInput(
            f"more than {config.event_max_age_days} days ago: too old to record", "held_on"
        )
    row = OutreachEventRow(
        member=member,
        kind=kind.value,
        title=_text(title, "title"),
        held_on=held_on,
        place=_text(place, "place"),
        attendance=_headcount(attendance, "attendance"),
        reach=_headcount(reach, "reach"),
        created_by=actor.audit_id,
    )
    record = uow.audit.record(
        actor,
        "record_event",
        f"event:{member}",
        {
            "kind": kind.value,
            "held_on": held_on.isoformat(),
            "attendance": row.attendance,
            "reach": row.reach,
        },
    )
    row.created_at = record.ts
    uow.session.add(row)
    uow.commit()
    return event_view(row)


@use_case(Permission.RUN_CAMPAIGNS)
def list_events(
    uow: UnitOfWork, actor: Actor, start: date | None = None, end: date | None = None
) -> list[EventView]:
    """The member's events held from `start` to `end` (inclusive), latest first (at most
    500)."""
    member = _member(actor)
    if start is not None and end is not None and end < start:
        raise InvalidInput("the period ends on or after its start", "end")
    query = select(OutreachEventRow).where(OutreachEventRow.member == member)
    if start is not None:
        query = query.where(OutreachEventRow.held_on >= start)
    if end is not None:
        query = query.where(OutreachEventRow.held_on <= end)
    rows = uow.session.scalars(
        query.order_by(OutreachEventRow.held_on.desc(), OutreachEventRow.id.desc()).limit(500)
    )
    return [event_view(row) for row in rows]


def event_view(row: OutreachEventRow) -> EventView:
    return EventView(
        row.id,
        EventKind(row.kind),
        row.title,
        row.held_on,
        row.place,
        row.attendance,
        row.reach,
        row.created_at,
        row.created_by,
    )
