"""Accounts, their classes (账户分类) and statuses, and what each status still allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fundwall.domain._fields import (
    member,
    optional_aware_utc,
    optional_device_id,
    optional_ip_address,
    optional_reference,
    reference,
    set_field,
)
from fundwall.domain.errors import InvalidInput


class AccountClass(StrEnum):
    """Personal account classes I, II, III (Ⅰ/Ⅱ/Ⅲ类户) and company settlement accounts."""

    CLASS_I = "I"
    CLASS_II = "II"
    CLASS_III = "III"
    CORPORATE = "corporate"

    @property
    def is_personal(self) -> bool:
        return self != AccountClass.CORPORATE

    @property
    def may_be_bound(self) -> bool:
        """Class II and III accounts are opened bound to another account of the holder."""
        return self in (AccountClass.CLASS_II, AccountClass.CLASS_III)


class AccountStatus(StrEnum):
    NORMAL = "normal"
    NON_COUNTER_SUSPENDED = "non_counter_suspended"
    """非柜面业务暂停: business only at a counter, with identity checked again."""
    STOP_PAID = "stop_paid"
    """紧急止付: money may come in, nothing may go out (只收不付), for 48 hours."""
    FROZEN_FULL = "frozen_full"
    """冻结 of the whole balance: nothing may go out."""
    FROZEN_PARTIAL = "frozen_partial"
    """冻结 of a limited amount: only the balance above the frozen amount may go out."""
    CLOSED = "closed"
    """销户: no business at all."""
    DORMANT = "dormant"
    """久悬/睡眠账户: inflows only, until the holder reactivates it at a counter."""

    @property
    def can_receive(self) -> bool:
        """Money may come in: every status but closed (stops and freezes are 只收不付)."""
        return self != AccountStatus.CLOSED

    @property
    def can_pay_out(self) -> bool:
        """Some money may go out through some channel (a partial freeze leaves the rest)."""
        return self in (
            AccountStatus.NORMAL,
            AccountStatus.NON_COUNTER_SUSPENDED,
            AccountStatus.FROZEN_PARTIAL,
        )

    @property
    def allows_non_counter(self) -> bool:
        """Mobile, online, ATM and POS business is open (for the unfrozen part, if any)."""
        return self in (AccountStatus.NORMAL, AccountStatus.FROZEN_PARTIAL)

    @property
    def is_restricted(self) -> bool:
        return self != AccountStatus.NORMAL


class RiskTier(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class OpeningChannel(StrEnum):
    COUNTER = "counter"
    MOBILE = "mobile"
    ONLINE = "online"
    AGENT = "agent"
    """代理见证: opened through bank staff who verify the customer in person off-site."""

    @property
    def is_face_to_face(self) -> bool:
        """Identity verified in person, which Class II cash and non-bound inflows require."""
        return self in (OpeningChannel.COUNTER, OpeningChannel.AGENT)


@dataclass(frozen=True, slots=True)
class Account:
    """An account at an institution; `opened_at` is aware and stored in UTC, or None when
    the source does not say (imported public data): its age is then unknown, never taken as
    new.

    Only Class II and III accounts have a `bound_account` (the holder's account they are
    tied to, e.g. a Class I account at another bank); it is never the account itself.

    How it was opened, where known: the device (the holder's phone in an app, an agent's
    tablet), the IP address and the agent (代理见证) — what shows accounts opened in a batch.
    `last_active_at` is the holder's last transaction before the store's own history began
    (a loaded region's; None: never, or not known), which dormancy is measured from.
    """

    account_no: str
    institution_code: str
    party_id: str
    account_class: AccountClass
    status: AccountStatus
    risk_tier: RiskTier
    opened_at: datetime | None
    opening_channel: OpeningChannel
    bound_account: str | None = None
    opening_device: str | None = None
    opening_ip: str | None = None
    opening_agent: str | None = None
    last_active_at: datetime | None = None

    def __post_init__(self) -> None:
        set_field(self, "account_no", reference(self.account_no, "account_no"))
        set_field(self, "institution_code", reference(self.institution_code, "institution_code"))
        set_field(self, "party_id", reference(self.party_id, "party_id"))
        set_field(self, "account_class", member(AccountClass, self.account_class, "account_class"))
        set_field(self, "status", member(AccountStatus, self.status, "status"))
        set_field(self, "risk_tier", member(RiskTier, self.risk_tier, "risk_tier"))
        set_field(self, "opened_at", optional_aware_utc(self.opened_at, "opened_at"))
        set_field(
            self, "opening_channel", member(OpeningChannel, self.opening_channel, "opening_channel")
        )
        set_field(self, "bound_account", optional_reference(self.bound_account, "bound_account"))
        set_field(self, "opening_device", optional_device_id(self.opening_device, "opening_device"))
        set_field(self, "opening_ip", optional_ip_address(self.opening_ip, "opening_ip"))
        set_field(self, "opening_agent", optional_reference(self.opening_agent, "opening_agent"))
        set_field(self, "last_active_at", optional_aware_utc(self.last_active_at, "last_active_at"))
        if self.bound_account is not None:
            if not self.account_class.may_be_bound:
                raise InvalidInput(
                    f"a class {self.account_class.value} account has no bound account",
                    "bound_account",
                )
            if self.bound_account == self.account_no:
                raise InvalidInput("an account cannot be bound to itself", "bound_account")
