"""What the account workflows exchange: an account opening and its holder, a risk tier's
change and the measures each tier brings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.config import PolicySettings
from fundwall.domain.accounts import Account, AccountClass, OpeningChannel, RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict
from fundwall.domain.identity import AccountNumber, CreditCode, MobilePhone, ResidentId
from fundwall.domain.parties import PartyKind
from fundwall.engine.controls.model import RestrictionKind


class Verification(StrEnum):
    """How the holder's identity was checked for an online request (线上销户)."""

    MEMBER_CHANNEL = "member_channel"
    """The member's own app or site: ID number and a code sent to the bound phone."""
    PUBLIC_PORTAL = "public_portal"
    """Fundwall's public portal: ID number and a code sent to the bound phone."""


@dataclass(eq=False)
class ClosureRefused(Conflict):
    """An online closure refused (409): `reason` names every blocker in English, `reason_zh`
    in Chinese (what the public portal shows a Chinese reader)."""

    reason_zh: str = ""


@dataclass(frozen=True, slots=True)
class Closure:
    account: Account
    """The account, closed (its balance zero: moved out before, by a decided transfer)."""
    move_to: str | None
    """The account the holder named for the balance, if they did."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a reported account: a person by resident ID or a firm by credit code."""

    kind: PartyKind
    id_number: ResidentId | CreditCode
    name: str
    phone: MobilePhone | None = None


@dataclass(frozen=True, slots=True)
class AccountOpening:
    """An account a member opened (账户开立), and how: the device, IP address and agent it
    was opened through, where known (what shows accounts opened in a batch)."""

    account_no: AccountNumber
    account_class: AccountClass
    opened_at: datetime
    opening_channel: OpeningChannel
    holder: Holder
    bound_account: AccountNumber | None = None
    balance_fen: int = 0
    opening_device: str | None = None
    opening_ip: str | None = None
    opening_agent: str | None = None


class TierSource(StrEnum):
    """Who set a tier."""

    ANALYST = "analyst"
    MEMBER_SYSTEM = "member_system"
    SCREENING = "screening"
    ONBOARDING = "onboarding"
    """Simplified opening opened the account restricted."""
    APPEAL = "appeal"
    """The member lifted the tier's measures on the holder's appeal (异议申诉)."""
    MODEL = "model"
    """The account's mule score (the accounts champion) at a refresh of the scores."""


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


MEMBER_MEASURES: Final = frozenset(
    {RestrictionKind.NON_COUNTER_SUSPENSION, RestrictionKind.OUTFLOW_CAP}
)
"""Restrictions a bank puts on its own accounts by itself; the others are legal orders."""
TIER_RANK: Final = {RiskTier.LOW: 0, RiskTier.MEDIUM: 1, RiskTier.HIGH: 2}


def model_tier(action: str, policy: PolicySettings) -> RiskTier:
    """The tier a mule score's action puts its account in (`policy.model_*_tier_action`):
    high from the high-tier action up, medium from the medium-tier one up, low below both."""
    severity = Action(action).severity
    for tier, chosen in (
        (RiskTier.HIGH, policy.model_high_tier_action),
        (RiskTier.MEDIUM, policy.model_medium_tier_action),
    ):
        if chosen is not None and severity >= Action(chosen).severity:
            return tier
    return RiskTier.LOW
