"""Risk tiers (风险等级): low, medium, high, per account or for all of a person's accounts at
a member, with the measures each tier brings, enforced by the engine's hard controls.

- **low**: no measure.
- **medium**: a daily outflow cap outside a counter (HC18,
  `policy.medium_tier_outflow_daily_cap_fen`).
- **high**: non-counter business suspended (HC06) until the holder's identity is checked again
  at a counter; the member then sets a lower tier, saying so.

A tier is set by an analyst or the member's system (`source` from the actor), a screening run
or a model (their callers say so). Setting one lifts the measures of the tier before and
writes the new tier's as account restrictions whose `reference` is `tier:<change id>`, with
the change's history row and audit records, in one transaction; the running decision
service reads them at its next decision. A member sets tiers of its own accounts only
(another member's account is unknown), never of a closed account.

    set_risk_tier(uow, actor, "6222021234567890123", RiskTier.HIGH, policy,
                  reason="phone bound to 6 people at 4 banks")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.accounts.controls import own_account
from fundwall.accounts.queries import end_restriction, write_restriction
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import visible_account
from fundwall.auth.usecase import use_case
from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.changes import stated_reason
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.engine_tables import AccountRestrictionRow, AccountTierChangeRow
from fundwall.store.tables import AccountRow
from fundwall.store.uow import UnitOfWork

TIER_REFERENCE: Final = "tier:"
"""The prefix of the `reference` of a restriction a tier wrote."""


class TierSource(StrEnum):
    """Who set a tier."""

    ANALYST = "analyst"
    MEMBER_SYSTEM = "member_system"
    SCREENING = "screening"
    MODEL = "model"
    ONBOARDING = "onboarding"
    """Simplified opening opened the account restricted."""


@dataclass(frozen=True, slots=True)
class TierChange:
    """One change of an account's tier, as its member sees it."""

    id: int
    account_no: str
    tier: RiskTier
    previous: RiskTier
    source: TierSource
    reason: str
    changed_at: datetime
    changed_by: str


@dataclass(frozen=True, slots=True)
class Measure:
    """A restriction a tier brings: its kind and its amount (a cap's, per day)."""

    kind: RestrictionKind
    amount_fen: int | None


def tier_measures(tier: RiskTier, policy: PolicySettings) -> tuple[Measure, ...]:
    """What `tier` restricts, with the policy's figures."""
    if tier is RiskTier.MEDIUM:
        return (Measure(RestrictionKind.OUTFLOW_CAP, policy.medium_tier_outflow_daily_cap_fen),)
    if tier is RiskTier.HIGH:
        return (Measure(RestrictionKind.NON_COUNTER_SUSPENSION, None),)
    return ()


def _source(actor: Actor, source: TierSource | None) -> TierSource:
    if source is not None:
        return TierSource(source)
    return TierSource.ANALYST if actor.kind is ActorKind.USER else TierSource.MEMBER_SYSTEM


def _member(actor: Actor) -> str:
    if actor.member is None:
        raise PermissionDenied(f"a risk tier is set by the member holding the account ({actor})")
    return actor.member


def write_tier(
    uow: UnitOfWork,
    actor: Actor,
    row: AccountRow,
    tier: RiskTier,
    why: str,
    source: TierSource,
    policy: PolicySettings,
) -> TierChange:
    """Write the change, lift the old tier's measures, write the new one's; not committed.
    Its callers are use cases that checked the actor and the account."""
    previous = RiskTier(row.risk_tier)
    record = uow.audit.record(
        actor,
        "set_risk_tier",
        f"account:{mask_account(row.account_no)}",
        {"from": previous.value, "to": tier.value, "source": source.value, "reason": why},
    )
    change = AccountTierChangeRow(
        account_no=row.account_no,
        tier=tier.value,
        previous=previous.value,
        source=source.value,
        reason=why,
        changed_at=record.ts,
        changed_by=record.actor,
        revision=record.seq,
    )
    uow.session.add(change)
    uow.session.flush()
    row.risk_tier = tier.value
    for old in uow.session.scalars(
        select(AccountRestrictionRow).where(
            AccountRestrictionRow.account_no == row.account_no,
            AccountRestrictionRow.reference.like(f"{TIER_REFERENCE}%"),
            AccountRestrictionRow.lifted_at.is_(None),
        )
    ):
        end_restriction(uow, actor, old, f"risk tier now {tier.value}: {why}")
    for measure in tier_measures(tier, policy):
        write_restriction(
            uow,
            actor,
            row.account_no,
            measure.kind,
            reason=f"risk tier {tier.value}: {why}",
            starts_at=record.ts,
            ends_at=None,
            amount_fen=measure.amount_fen,
            order_reference=f"{TIER_REFERENCE}{change.id}",
        )
    return _view(change)


def _settable(row: AccountRow, tier: RiskTier) -> None:
    if AccountStatus(row.status) is AccountStatus.CLOSED:
        raise Conflict(f"account {mask_account(row.account_no)} is closed")
    if RiskTier(row.risk_tier) is tier:
        raise Conflict(f"account {mask_account(row.account_no)} is {tier.value} risk already")


@use_case(Permission.SET_RISK_TIERS)
def set_risk_tier(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    tier: RiskTier,
    policy: PolicySettings,
    *,
    reason: str,
    source: TierSource | None = None,
) -> TierChange:
    """Set the tier of one of the member's accounts with its measures; returns the change.
    Conflict when the account is closed or in that tier already."""
    tier = _tier(tier)
    why = stated_reason(reason)
    row = own_account(uow, _member(actor), account_no)
    _settable(row, tier)
    change = write_tier(uow, actor, row, tier, why, _source(actor, source), policy)
    uow.commit()
    return change


@use_case(Permission.SET_RISK_TIERS)
def set_person_tier(
    uow: UnitOfWork,
    actor: Actor,
    party_id: str,
    tier: RiskTier,
    policy: PolicySettings,
    *,
    reason: str,
    source: TierSource | None = None,
) -> list[TierChange]:
    """Set the tier of every open account the person holds at the member (those in that
    tier already keep it); returns the changes. NotFound when the member holds none."""
    tier = _tier(tier)
    why = stated_reason(reason)
    member = _member(actor)
    rows = list(
        uow.session.scalars(
            select(AccountRow)
            .where(
                AccountRow.party_id == party_id,
                AccountRow.institution_code == member,
                AccountRow.status != AccountStatus.CLOSED.value,
            )
            .order_by(AccountRow.account_no)
        )
    )
    if not rows:
        raise NotFound("customer", party_id)
    who = _source(actor, source)
    changes = [
        write_tier(uow, actor, row, tier, why, who, policy)
        for row in rows
        if RiskTier(row.risk_tier) is not tier
    ]
    uow.commit()
    return changes


@use_case(Permission.VIEW_CUSTOMER_DATA)
def tier_history(uow: UnitOfWork, actor: Actor, account_no: str) -> list[TierChange]:
    """The account's tier changes, newest first, for an actor who may see the account."""
    visible_account(uow.session, actor, account_no)
    changes = uow.session.scalars(
        select(AccountTierChangeRow)
        .where(AccountTierChangeRow.account_no == account_no)
        .order_by(AccountTierChangeRow.id.desc())
    )
    return [_view(c) for c in changes]


def latest_tier_change(session: Session, account_no: str) -> TierChange | None:
    """The change that set the account's current tier; None when it was never changed."""
    row = session.scalars(
        select(AccountTierChangeRow)
        .where(AccountTierChangeRow.account_no == account_no)
        .order_by(AccountTierChangeRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _view(row)


def _view(row: AccountTierChangeRow) -> TierChange:
    return TierChange(
        row.id,
        row.account_no,
        RiskTier(row.tier),
        RiskTier(row.previous),
        TierSource(row.source),
        row.reason,
        row.changed_at,
        row.changed_by,
    )


def _tier(value: RiskTier | str) -> RiskTier:
    try:
        return RiskTier(value)
    except ValueError:
        raise InvalidInput("one of low, medium, high", "tier") from None
