"""Risk tiers (风险等级): low, medium, high, per account or for all of a person's accounts at
a member, with the measures each tier brings, enforced by the engine's hard controls.

- **low**: no measure.
- **medium**: a daily outflow cap outside a counter (HC18,
  `policy.medium_tier_outflow_daily_cap_fen`).
- **high**: non-counter business suspended (HC06) until the holder's identity is checked again
  at a counter; the member then sets a lower tier, saying so.

A tier is set by an analyst or the member's system (`source` from the actor), a screening run
or simplified opening (their callers say so). Setting one lifts the measures of the tier before and
writes the new tier's as account restrictions whose `reference` is `tier:<change id>`, with
the change's history row and audit records, in one transaction; the running decision
service reads them at its next decision. A member sets tiers of its own accounts only
(another member's account is unknown), never of a closed account.

    set_risk_tier(uow, actor, "6222021234567890123", RiskTier.HIGH, policy,
                  reason="phone bound to 6 people at 4 banks")
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from fundwall.accounts.controls import own_account
from fundwall.accounts.model import TierChange, TierSource
from fundwall.accounts.queries import tier_view, write_tier
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import visible_account
from fundwall.auth.usecase import use_case
from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.changes import stated_reason
from fundwall.store.engine_tables import AccountTierChangeRow
from fundwall.store.tables import AccountRow
from fundwall.store.uow import UnitOfWork

PARTY_ID_MAX: Final = 64
"""The longest customer (party) id taken."""
TIER_REASON_MAX: Final = 200
"""A tier's reason, short enough for its measures' reasons, which add the tier's name."""


def _reason(reason: str) -> str:
    why = stated_reason(reason)
    if len(why) > TIER_REASON_MAX:
        raise InvalidInput(f"at most {TIER_REASON_MAX} characters", "reason")
    return why


def _source(actor: Actor, source: TierSource | None) -> TierSource:
    if source is not None:
        return TierSource(source)
    return TierSource.ANALYST if actor.kind is ActorKind.USER else TierSource.MEMBER_SYSTEM


def _member(actor: Actor) -> str:
    if actor.member is None:
        raise PermissionDenied(f"a risk tier is set by the member holding the account ({actor})")
    return actor.member


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
    why = _reason(reason)
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
    tier already keep it); returns the changes. NotFound when the member holds none (another
    member's customer reads as unknown)."""
    tier = _tier(tier)
    why = _reason(reason)
    if not isinstance(party_id, str) or not 0 < len(party_id) <= PARTY_ID_MAX:
        raise InvalidInput(f"1 to {PARTY_ID_MAX} characters", "party_id")
    return _person_tier(uow, actor, _member(actor), party_id, tier, why, source, policy)


@use_case(Permission.SET_RISK_TIERS)
def set_holder_tier(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    tier: RiskTier,
    policy: PolicySettings,
    *,
    reason: str,
    source: TierSource | None = None,
) -> list[TierChange]:
    """`set_person_tier` for the holder of one of the member's accounts: every open account
    the holder has at the member, this one with them."""
    tier = _tier(tier)
    why = _reason(reason)
    member = _member(actor)
    row = own_account(uow, member, account_no)
    return _person_tier(uow, actor, member, row.party_id, tier, why, source, policy)


def _person_tier(
    uow: UnitOfWork,
    actor: Actor,
    member: str,
    party_id: str,
    tier: RiskTier,
    why: str,
    source: TierSource | None,
    policy: PolicySettings,
) -> list[TierChange]:
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
        raise NotFound("customer", party_id[:PARTY_ID_MAX])
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
    return [tier_view(c) for c in changes]


def _tier(value: RiskTier | str) -> RiskTier:
    try:
        return RiskTier(value)
    except ValueError:
        raise InvalidInput("one of low, medium, high", "tier") from None
