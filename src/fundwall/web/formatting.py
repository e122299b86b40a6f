"""How values read on the console: money in yuan, Beijing time, and words for codes.

Every label is an English message marked with `N_` and translated where it is shown, so the
catalogue holds them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.accounts.model import TierSource
from fundwall.accounts.onboarding import Applicant
from fundwall.accounts.onboarding import Outcome as OnboardingOutcome
from fundwall.auth.roles import Role
from fundwall.cases import (
    AlertStatus,
    AssigneeFilter,
    CaseKind,
    CaseStatus,
    Disposition,
    Outcome,
    Priority,
)
from fundwall.domain.accounts import AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.parties import PartyKind
from fundwall.domain.police import ClueStatus, OrderEventKind, OrderKind, OrderStatus
from fundwall.domain.screening import Check, ScreeningAction
from fundwall.domain.screening import Outcome as ScreeningOutcome
from fundwall.domain.transactions import Channel, TransactionKind
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.engine.registry import PackStatus
from fundwall.engine.rules import format_money
from fundwall.fund_returns.allocation import AllocationMethod
from fundwall.fund_returns.model import ObjectionDecision, Objector, PlanStatus
from fundwall.outreach.model import SmsPurpose, SmsStatus
from fundwall.phones.registry import CheckTrigger, PhoneResult
from fundwall.sharing.model import EntryStatus, EventKind
from fundwall.web.i18n import N_
from fundwall.web.params import LOCAL_ZONE


def money(fen: int | None) -> str:
    """¥1,234.56; an em dash for no amount."""
    return "—" if fen is None else format_money(int(fen))


def when(moment: datetime | None, *, seconds: bool = True) -> str:
    """Beijing time: 2024-03-05 14:30:12."""
    if moment is None:
        return "—"
    return moment.astimezone(LOCAL_ZONE).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def figure(unit: str, value: object, *, signed: bool = False) -> str | None:
    """A backtest figure as it reads: money, a percentage, minutes or a count; None when
    not available. `signed` writes a change (+12, -¥3.00, +1.5 pp)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    sign = "+" if signed and value > 0 else ""
    if unit == "money":
        return sign + money(int(value))
    if unit == "share":
        return f"{sign}{value * 100:.1f}{' pp' if signed else '%'}"
    if unit == "minutes":
        return f"{sign}{value:,.1f} min"
    if isinstance(value, float) and not value.is_integer():
        return f"{sign}{value:,.3f}"
    return f"{sign}{int(value):,}"


_LABELS: Final[Mapping[type[StrEnum], Mapping[str, str]]] = {
    OrderKind: {
        "query": N_("Account query"),
        "stop_payment": N_("Emergency stop-payment"),
        "freeze": N_("Freeze"),
        "renewal": N_("Renewal"),
        "release": N_("Release"),
    },
    OrderStatus: {
        "issued": N_("Issued"),
        "executed": N_("Executed"),
        "refused": N_("Refused"),
        "expired": N_("Expired"),
        "released": N_("Released"),
    },
    OrderEventKind: {
        "issued": N_("Issued"),
        "executed": N_("Executed"),
        "refused": N_("Refused"),
        "renewed": N_("Renewed"),
        "expired": N_("Expired"),
        "released": N_("Released"),
    },
    Action: {
        "pass": N_("Pass"),
        "alert": N_("Alert"),
        "warn": N_("Warn"),
        "delay": N_("Delay"),
        "block": N_("Block"),
    },
    AccountStatus: {
        "normal": N_("Normal"),
        "non_counter_suspended": N_("Non-counter business suspended"),
        "stop_paid": N_("Emergency stop-payment"),
        "frozen_full": N_("Frozen (whole balance)"),
        "frozen_partial": N_("Frozen (part of the balance)"),
        "closed": N_("Closed"),
        "dormant": N_("Dormant"),
    },
    AccountClass: {
        "I": N_("Class I"),
        "II": N_("Class II"),
        "III": N_("Class III"),
        "corporate": N_("Corporate"),
    },
    RiskTier: {"low": N_("Low risk"), "medium": N_("Medium risk"), "high": N_("High risk")},
    TierSource: {
        "analyst": N_("An analyst"),
        "member_system": N_("The member's system"),
        "screening": N_("A screening run"),
        "onboarding": N_("Simplified opening"),
        "appeal": N_("An appeal"),
        "model": N_("The mule score"),
    },
    Applicant: {"flexible_worker": N_("Flexible worker"), "micro_firm": N_("Micro-firm")},
    OnboardingOutcome: {
        "open": N_("May open"),
        "open_restricted": N_("May open, restricted"),
        "refer": N_("Refer to a counter"),
    },
    OpeningChannel: {
        "counter": N_("At a counter"),
        "mobile": N_("Mobile app"),
        "online": N_("Online"),
        "agent": N_("Through an agent"),
    },
    Channel: {
        "counter": N_("Counter"),
        "atm": N_("ATM"),
        "mobile": N_("Mobile"),
        "online": N_("Online banking"),
        "pos": N_("POS"),
    },
    TransactionKind: {
        "transfer": N_("Transfer"),
        "withdrawal": N_("Withdrawal"),
        "deposit": N_("Deposit"),
    },
    PartyKind: {"person": N_("Person"), "firm": N_("Firm")},
    Role: {
        "hub_supervisor": N_("Hub supervisor"),
        "member_admin": N_("Member administrator"),
        "member_analyst": N_("Member analyst"),
        "police_officer": N_("Police officer"),
        "auditor": N_("Auditor"),
        "member_system": N_("Member system"),
    },
    AlertStatus: {"new": N_("New"), "in_progress": N_("In progress"), "closed": N_("Closed")},
    Disposition: {
        "confirmed_fraud": N_("Confirmed fraud"),
        "mule_account": N_("Mule account"),
        "customer_warned": N_("Customer warned"),
        "referred_to_police": N_("Referred to the police"),
        "false_positive": N_("False positive"),
    },
    AssigneeFilter: {"anyone": N_("Anyone"), "me": N_("Me"), "nobody": N_("Nobody")},
    CaseKind: {
        "account": N_("By account"),
        "person": N_("By holder"),
        "scam": N_("By scam type"),
        "network": N_("By network"),
    },
    CaseStatus: {"open": N_("Open"), "in_progress": N_("In progress"), "closed": N_("Closed")},
    Priority: {
        "low": N_("Low"),
        "normal": N_("Normal"),
        "high": N_("High"),
        "urgent": N_("Urgent"),
    },
    Outcome: {
        "confirmed_fraud": N_("Confirmed fraud"),
        "mule": N_("Mule"),
        "false_positive": N_("False positive"),
        "inconclusive": N_("Inconclusive"),
    },
    PackStatus: {
        "registered": N_("Registered"),
        "live": N_("Live"),
        "shadow": N_("Shadow"),
        "retired": N_("Retired"),
    },
    ModelState: {
        "registered": N_("Registered"),
        "challenger": N_("Challenger"),
        "shadow": N_("Shadow"),
        "champion": N_("Champion"),
        "retired": N_("Retired"),
    },
    Target: {
        "transactions": N_("Transaction models"),
        "accounts": N_("Account models"),
    },
    SmsStatus: {
        "queued": N_("Queued"),
        "sending": N_("Being sent"),
        "sent": N_("Sent to the carrier"),
        "delivered": N_("Delivered"),
        "failed": N_("Failed"),
        "opted_out": N_("Opted out"),
        "limited": N_("Over the phone's limit"),
    },
    SmsPurpose: {
        "code": N_("One-time code"),
        "notice": N_("Restriction notice"),
        "appeal": N_("Appeal received or answered"),
        "warning": N_("Dissuasion warning"),
        "campaign": N_("Campaign"),
    },
    ClueStatus: {
        "sent": N_("Sent"),
        "received": N_("Received"),
        "accepted": N_("Accepted (case opened)"),
        "rejected": N_("Rejected"),
        "result": N_("Result reported"),
    },
    PhoneResult: {
        "match": N_("Registered to the holder"),
        "mismatch": N_("Registered to someone else"),
        "not_found": N_("Not registered to anyone"),
        "recycled": N_("Given up by the holder"),
    },
    CheckTrigger: {
        "open_account": N_("Account opening"),
        "bind_phone": N_("Phone bound or changed"),
        "recheck": N_("Re-check"),
    },
    PlanStatus: {
        "draft": N_("Draft"),
        "published": N_("In its objection period"),
        "approved": N_("Approved"),
        "executing": N_("Partly executed"),
        "executed": N_("Executed"),
    },
    AllocationMethod: {
        "direct": N_("Returned directly"),
        "proportional": N_("In proportion to the losses"),
    },
    Objector: {
        "victim": N_("Victim"),
        "account_holder": N_("Holder of the frozen account"),
        "other": N_("Other party"),
    },
    ObjectionDecision: {
        "upheld": N_("Upheld"),
        "dismissed": N_("Dismissed"),
    },
    ListKind: {
        "account": N_("Account"),
        "id_hash": N_("Resident ID (hash)"),
        "phone_hash": N_("Phone (hash)"),
        "credit_code_hash": N_("Credit code (hash)"),
        "device": N_("Device"),
        "ip": N_("IP address"),
        "merchant": N_("Merchant"),
    },
    RiskCategory: {
        "fraud_account": N_("Fraud account"),
        "mule": N_("Mule"),
        "card_dealer": N_("Card dealer"),
        "at_risk_victim": N_("At-risk victim"),
        "punished_person": N_("Under joint punishment"),
        "recycled_phone": N_("Recycled phone number"),
    },
    Evidence: {
        "police_confirmed": N_("Confirmed by the police"),
        "member_verified": N_("Verified by the member"),
        "member_suspected": N_("Suspected by the member"),
    },
    EntryStatus: {
        "active": N_("In force"),
        "pending": N_("Not yet in force"),
        "expired": N_("Expired"),
        "retracted": N_("Retracted"),
    },
    EventKind: {"published": N_("Publication"), "retracted": N_("Retraction")},
    # In Chinese, the words of `fundwall.domain.screening.CHECK_WORDS` and `ACTION_WORDS`
    # (tests/web/test_web_screening.py holds them equal).
    Check: {
        "dormant": N_("Long-dormant account"),
        "new_idle": N_("New account unused for six months"),
        "many_accounts": N_("One person, many accounts"),
        "batch_opened": N_("Opened in a batch"),
        "punished": N_("Holder under joint punishment"),
        "shared_phone": N_("One phone, several people"),
    },
    ScreeningAction: {
        "notify": N_("Notify the holder"),
        "restrict": N_("Restrict non-counter business"),
        "suspend_non_counter": N_("Suspend non-counter business"),
        "mark_dormant": N_("Mark dormant"),
        "close": N_("Close the account"),
        "tier_medium": N_("Set the risk tier to medium"),
        "tier_high": N_("Set the risk tier to high"),
    },
    ScreeningOutcome: {
        "pending": N_("Pending"),
        "done": N_("Done"),
        "refused": N_("Refused"),
        "failed": N_("Failed"),
        "appealed": N_("Lifted on appeal"),
    },
}
"""Words for each code, by enum class: different enums share values ("online" is a
channel and an opening channel) with different words."""


def label_for(kind: type[StrEnum], value: str | StrEnum | None) -> str:
    """The English label of a code of `kind`; the code itself when it has none (a value
    stored by a newer version, say), an em dash for no value."""
    if value is None:
        return "—"
    code = value.value if isinstance(value, StrEnum) else str(value)
    return _LABELS.get(kind, {}).get(code, code)


def labels_of(kind: type[StrEnum]) -> Mapping[str, str]:
    """Every code of `kind` with its English label, in declaration order."""
    return {member.value: label_for(kind, member) for member in kind}
