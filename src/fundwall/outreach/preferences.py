"""What a phone's holder and a member choose about messages: opting out of campaigns (退订),
and the member's own campaign templates. Use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import OutreachSettings, get_settings
from fundwall.domain.errors import Conflict, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.outreach.model import OptOutChannel, SmsPurpose
from fundwall.outreach.queries import phone_hash
from fundwall.outreach.templates import BUILT_IN, SmsTemplate, check_template
from fundwall.store.outreach_tables import SmsOptOutRow, SmsTemplateRow
from fundwall.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class OptOut:
    phone: str
    """Masked."""
    channel: OptOutChannel
    opted_out_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "phone": self.phone,
            "channel": self.channel.value,
            "opted_out_at": self.opted_out_at.isoformat(),
        }


@use_case(Permission.RECORD_OPT_OUTS)
def record_opt_out(uow: UnitOfWork, actor: Actor, phone: str, channel: OptOutChannel) -> OptOut:
    """Record that `phone`'s holder wants no more campaign messages from any member (the
    codes, notices, appeal answers and warnings owed to them still go). Kept by the phone's
    keyed hash only; 409 when it opted out already."""
    mobile = MobilePhone.parse(phone, field="phone")
    hashed = phone_hash(uow.keyring, mobile)
    existing = uow.session.get(SmsOptOutRow, hashed)
    if existing is not None:
        raise Conflict(f"{mobile} opted out already, on {existing.opted_out_at.date()}")
    record = uow.audit.record(actor, "sms_opt_out", f"phone:{mobile}", {"channel": channel.value})
    uow.session.add(
        SmsOptOutRow(
            phone_hash=hashed,
            recorded_by=actor.audit_id,
            member=actor.member,
            channel=channel.value,
            opted_out_at=record.ts,
        )
    )
    uow.commit()
    return OptOut(str(mobile), channel, record.ts)


def _member(actor: Actor) -> str:
    if actor.member is None or actor.role.is_police:
        raise PermissionDenied(f"campaigns are a member's ({actor.audit_id})")
    return actor.member


@use_case(Permission.RUN_CAMPAIGNS)
def sms_templates(uow: UnitOfWork, actor: Actor) -> list[SmsTemplate]:
    """The templates the member may send: the built-in ones, then its own by name."""
    member = _member(actor)
    own = uow.session.scalars(
        select(SmsTemplateRow).where(SmsTemplateRow.member == member).order_by(SmsTemplateRow.name)
    )
    return [*BUILT_IN.values(), *(_template(row) for row in own)]


@use_case(Permission.RUN_CAMPAIGNS)
def add_template(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    text: str,
    settings: OutreachSettings | None = None,
) -> SmsTemplate:
    """Add a campaign template of the member's own: `name` (lower-case letters, digits, '_';
    not a built-in's, not one of its own already: 409) and `text` with `{variables}`,
    whose fixed part fits the longest message with the signature."""
    config = settings if settings is not None else get_settings().outreach
    member = _member(actor)
    variables = check_template(
        name, text, signature=config.signature, max_segments=config.max_segments
    )
    taken = uow.session.scalar(
        select(SmsTemplateRow.id).where(
            SmsTemplateRow.member == member, SmsTemplateRow.name == name
        )
    )
    if taken is not None:
        raise Conflict(f"the member has a template named {name} already")
    record = uow.audit.record(
        actor,
        "add_sms_template",
        f"sms_template:{member}/{name}",
        {"variables": list(variables), "characters": len(text)},
    )
    row = SmsTemplateRow(
        member=member, name=name, text=text, created_at=record.ts, created_by=actor.audit_id
    )
    uow.session.add(row)
    uow.commit()
    return _template(row)


def _template(row: SmsTemplateRow) -> SmsTemplate:
    return SmsTemplate(row.name, SmsPurpose.CAMPAIGN, row.text, row.member)
