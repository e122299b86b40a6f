"""The shared risk list's vocabulary (风险名单): what an entry names, why it is listed, and how
sure its reporter is. Plain enums, read by the hard controls, the sharing hub and the command
line alike (kept apart from `engine.controls` so that reading them loads no engine)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from fundwall.domain.decisions import Action


class ListKind(StrEnum):
    """What a shared risk list entry names. A resident ID, a credit code and a phone are
    named by their shared hash (`vN:<hex>`, `fundwall.crypto.SharingKeys`), never raw."""

    ACCOUNT = "account"
    """An account number (with the bank holding it, `bank`)."""
    ID_HASH = "id_hash"
    """The shared hash of a resident ID number (`SharingKeys.hash("id", …)`)."""
    PHONE_HASH = "phone_hash"
    """The shared hash of a mobile number (`SharingKeys.hash("phone", …)`)."""
    CREDIT_CODE_HASH = "credit_code_hash"
    """The shared hash of a firm's unified credit code (`SharingKeys.hash("credit_code", …)`)."""
    DEVICE = "device"
    IP = "ip"
    MERCHANT = "merchant"
    """A merchant number: matched by queries and bulk matches (a transaction names none)."""

    @property
    def hash_kind(self) -> str | None:
        """The keyed-hash kind its keys are made with; None for a kind that travels raw."""
        return _HASH_KINDS.get(self)


_HASH_KINDS: Final = {
    ListKind.ID_HASH: "id",
    ListKind.PHONE_HASH: "phone",
    ListKind.CREDIT_CODE_HASH: "credit_code",
}


class RiskCategory(StrEnum):
    """Why an identifier is on the shared risk list, and what a hit on it does."""

    FRAUD_ACCOUNT = "fraud_account"
    """涉诈账户: receives or moves fraud money; transfers touching it are blocked."""
    MULE = "mule"
    """涉案过渡账户/人员: passes fraud money on; blocked."""
    CARD_DEALER = "card_dealer"
    """卡商: trades accounts; an analyst looks (alert)."""
    AT_RISK_VICTIM = "at_risk_victim"
    """潜在受害人: likely being scammed; warn them before they pay (payer side only)."""
    PUNISHED_PERSON = "punished_person"
    """惩戒对象: a member reports a person or firm under joint punishment; an analyst looks
    (the binding restriction is the hub's punishment list, HC08)."""
    RECYCLED_PHONE = "recycled_phone"
    """二次号: a phone number its holder gave up while a bank still has it bound to them;
    verification codes for their accounts reach whoever holds it now, so an analyst looks at
    what those accounts pay (payer side only: the number's new holder is paid as anyone)."""

    @property
    def action(self) -> Action:
        return _CATEGORY_ACTION[self]

    @property
    def payer_side_only(self) -> bool:
        """A victim's entry, or a recycled number's, matters when they pay, not when they
        are paid."""
        return self in (RiskCategory.AT_RISK_VICTIM, RiskCategory.RECYCLED_PHONE)


_CATEGORY_ACTION: Final = {
    RiskCategory.FRAUD_ACCOUNT: Action.BLOCK,
    RiskCategory.MULE: Action.BLOCK,
    RiskCategory.CARD_DEALER: Action.ALERT,
    RiskCategory.AT_RISK_VICTIM: Action.WARN,
    RiskCategory.PUNISHED_PERSON: Action.ALERT,
    RiskCategory.RECYCLED_PHONE: Action.ALERT,
}


class Evidence(StrEnum):
    """How sure the reporting party is."""

    POLICE_CONFIRMED = "police_confirmed"
    MEMBER_VERIFIED = "member_verified"
    MEMBER_SUSPECTED = "member_suspected"
