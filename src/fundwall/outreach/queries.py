"""The writes and reads outreach's use cases share, and that other workflows call inside
their own use cases: queuing an SMS (`queue_sms`), finding a template, whether a phone
opted out, cancelling a warned payment (`write_cancellation`). Nothing here commits;
`queue_sms` writes no audit record either: the caller's use case does both, so a message
stands or falls with the change it tells of.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.tenancy import visible_transaction
from fundwall.config import OutreachSettings, get_settings
from fundwall.crypto import PHONE_HASH_KIND, Keyring
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.outreach.model import SmsPurpose, SmsStatus
from fundwall.outreach.templates import BUILT_IN, SmsTemplate, render
from fundwall.store.engine_tables import REASON, PaymentCancellationRow
from fundwall.store.outreach_tables import SmsMessageRow, SmsOptOutRow, SmsTemplateRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import AccountRow, DecisionRow
from fundwall.store.uow import UnitOfWork

MAX_IDEMPOTENCY_KEY = 64
HOUR = timedelta(hours=1)
LIMITED_PURPOSES = frozenset({SmsPurpose.CODE, SmsPurpose.CAMPAIGN})
"""The messages a phone's hourly limit holds back; the others are owed to the person."""


def find_template(session: Session, name: str, member: str | None) -> SmsTemplate:
    """The built-in template `name`, else `member`'s own; InvalidInput naming `template`
    when neither exists (another member's template is not found either)."""
    built_in = BUILT_IN.get(name)
    if built_in is not None:
        return built_in
    if member is not None:
        row = session.scalars(
            select(SmsTemplateRow).where(
                SmsTemplateRow.member == member, SmsTemplateRow.name == name
            )
        ).one_or_none()
        if row is not None:
            return SmsTemplate(row.name, SmsPurpose.CAMPAIGN, row.text, row.member)
    raise InvalidInput(f"no template named {name!r}", "template")


def phone_hash(keyring: Keyring, phone: MobilePhone) -> str:
    return keyring.keyed_hash(PHONE_HASH_KIND, phone.number)


def opted_out(session: Session, hashed_phone: str) -> bool:
    """Whether the phone (by its keyed hash) asked for no campaign messages."""
    return bool(session.scalar(select(exists().where(SmsOptOutRow.phone_hash == hashed_phone))))


def queued_within(
    session: Session, hashed_phone: str, since: datetime, purpose: SmsPurpose | None = None
) -> int:
    """Messages queued for the phone since `since`, of `purpose` only when given (those not
    sent for an opt-out or the limit do not count)."""
    query = select(func.count()).where(
        SmsMessageRow.phone_hash == hashed_phone,
        SmsMessageRow.queued_at >= since,
        SmsMessageRow.status.not_in([SmsStatus.OPTED_OUT.value, SmsStatus.LIMITED.value]),
    )
    if purpose is not None:
        query = query.where(SmsMessageRow.purpose == purpose.value)
    return int(session.scalar(query) or 0)


def queue_sms(
    uow: UnitOfWork,
    actor: Actor,
    *,
    phone: str,
    template: str,
    variables: Mapping[str, str],
    member: str | None,
    purpose: SmsPurpose,
    party_id: str | None = None,
    idempotency_key: str | None = None,
    campaign_id: int | None = None,
    settings: OutreachSettings | None = None,
) -> int:
    """Put one SMS in the outbox, inside the caller's transaction (no commit, no audit
    record: the caller's use case writes both); the message's id.

    `template` (a built-in or `member`'s own) is rendered with `variables` and must be of
    `purpose`; `member` is whose message it is (an actor of a member queues its own member's
    only; None for a message of the hub or the portal), `party_id` the customer it is for
    (then one of `member`'s). The phone is kept encrypted beside its keyed hash.

    `idempotency_key` (at most 64 characters, unique per member): the same key again
    returns the message queued with it, and refuses (409) a different message under it.
    A campaign message to a phone that opted out, or past the phone's hourly limit, is kept
    as `opted_out` or `limited` and never sent; a one-time code past the limit is refused
    (409). `campaign_id` ties a campaign's messages to it. InvalidInput names the field:
    `phone`, `template`, `purpose`, `variables.<name>`, `idempotency_key`, `member`,
    `party_id`."""
    config = settings if settings is not None else get_settings().outreach
    session, keyring, now = uow.session, uow.keyring, uow.clock.now()
    if member is not None and actor.member is not None and member != actor.member:
        raise PermissionDenied(f"send messages for member {member} ({actor.audit_id})")
    mobile = MobilePhone.parse(phone, field="phone")
    found = find_template(session, template, member)
    if found.purpose is not purpose:
        raise InvalidInput(
            f"template {template} is for {found.purpose.value} messages, not {purpose.value}",
            "purpose",
        )
    rendered = render(
        found, variables, signature=config.signature, max_segments=config.max_segments
    )
    if party_id is not None:
        if member is None:
            raise InvalidInput("a customer's message names the member it is from", "member")
        held = exists().where(
            AccountRow.institution_code == member, AccountRow.party_id == party_id
        )
        if not session.scalar(select(held)):
            raise NotFound("customer", party_id)
    key = _scoped_key(member, idempotency_key)
    hashed = phone_hash(keyring, mobile)
    if key is not None:
        existing = session.scalars(
            select(SmsMessageRow).where(SmsMessageRow.idempotency_key == key)
        ).one_or_none()
        if existing is not None:
            return _same_message(existing, keyring, hashed, found, rendered.text)
    status = SmsStatus.QUEUED
    if purpose.respects_opt_out and opted_out(session, hashed):
        status = SmsStatus.OPTED_OUT
    elif purpose is SmsPurpose.CODE:
        # Codes count among codes: the notices, answers and warnings a person is owed do not
        # use up the codes they need to sign in and read them.
        if queued_within(session, hashed, now - HOUR, SmsPurpose.CODE) >= config.phone_per_hour:
            raise Conflict(
                f"{mobile} was sent {config.phone_per_hour} codes within the hour; "
                "ask for a code again later"
            )
    elif purpose in LIMITED_PURPOSES and (
        queued_within(session, hashed, now - HOUR) >= config.phone_per_hour
    ):
        status = SmsStatus.LIMITED
    row = SmsMessageRow(
        member=member,
        party_id=party_id,
        purpose=purpose.value,
        template=found.name,
        phone_enc=keyring.encrypt(mobile.number),
        phone_hash=hashed,
        text_enc=keyring.encrypt(rendered.text),
        segments=rendered.segments,
        idempotency_key=key,
        message_key=secrets.token_hex(16),
        status=status.value,
        attempts=0,
        queued_at=now,
        queued_by=actor.audit_id,
        campaign_id=campaign_id,
    )
    session.add(row)
    session.flush()
    return row.id


def _scoped_key(member: str | None, key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise InvalidInput(f"1 to {MAX_IDEMPOTENCY_KEY} printable characters", "idempotency_key")
    return f"{member or '*'}/{key}"


def _same_message(
    existing: SmsMessageRow, keyring: Keyring, hashed: str, template: SmsTemplate, text: str
) -> int:
    same = (
        existing.phone_hash == hashed
        and existing.template == template.name
        and keyring.decrypt(existing.text_enc) == text
    )
    if not same:
        raise Conflict(
            f"idempotency key already used for message {existing.id}, a different message"
        )
    return existing.id


CANCELLABLE: Final = frozenset({Action.WARN.value, Action.DELAY.value})
"""Only a payment the engine held for a warning or delayed has money left to keep: a passed
one has moved, a blocked one never will."""


def live_decision(session: Session, tx_id: str) -> DecisionRow | None:
    """The transaction's live (enforced) decision."""
    return session.scalars(
        select(DecisionRow)
        .where(DecisionRow.tx_id == tx_id, DecisionRow.shadow.is_(False))
        .order_by(DecisionRow.id.desc())
        .limit(1)
    ).one_or_none()


def cancellation_of(session: Session, tx_id: str) -> PaymentCancellationRow | None:
    return session.scalars(
        select(PaymentCancellationRow).where(PaymentCancellationRow.tx_id == tx_id)
    ).one_or_none()


def write_cancellation(
    uow: UnitOfWork, actor: Actor, tx_id: str, reason: str
) -> PaymentCancellationRow:
    """Cancel a warned or delayed payment for its payer (劝阻止付), audited, not committed.

    Another member's transaction, and one the actor may not see, is not found; a member
    that only receives it may not cancel it (403); a payment passed or blocked, or
    cancelled already, is a conflict (409); the reason is required, at most 500 characters,
    with no ID or phone number in it."""
    session = uow.session
    row = visible_transaction(session, actor, tx_id)
    member = actor.member if actor.member is not None else row.payer_bank
    if row.payer_account is None or row.payer_bank != member:
        raise PermissionDenied(f"only the payer's bank cancels payment {tx_id}")
    text = reason.strip()
    if not text or len(text) > REASON:
        raise InvalidInput(f"1 to {REASON} characters", "reason")
    ensure_no_personal_data(text, "reason")
    decision = live_decision(session, tx_id)
    if decision is None or decision.action not in CANCELLABLE:
        action = "undecided" if decision is None else decision.action
        raise Conflict(
            f"payment {tx_id} was {action}: only a warned or delayed payment can be cancelled"
        )
    done = cancellation_of(session, tx_id)
    if done is not None:
        raise Conflict(f"payment {tx_id} was cancelled already, at {done.cancelled_at}")
    assert member is not None  # the payer's bank
    record = uow.audit.record(
        actor,
        "cancel_payment",
        f"transaction:{tx_id}",
        {"decision": decision.id, "action": decision.action, "amount_fen": row.amount_fen},
    )
    cancellation = PaymentCancellationRow(
        tx_id=tx_id,
        decision_id=decision.id,
        member=member,
        reason=text,
        cancelled_at=record.ts,
        cancelled_by=actor.audit_id,
        revision=record.seq,
    )
    session.add(cancellation)
    session.flush()
    return cancellation
