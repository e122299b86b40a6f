"""Bank card and account numbers (银行卡号, 账号), and the one masked form of any of them.

Two rules, and every parsed number says which one it passed:

- `AccountRule.CARD`: a bank card number (借记卡/信用卡) of 16 to 19 digits whose last digit
  is a Luhn check digit (ISO/IEC 7812);
- `AccountRule.ACCOUNT`: any other account number, e.g. a corporate settlement account
  (对公结算账户), of 8 to 32 digits with no check digit to verify.

Spaces and hyphens are ignored. The Luhn arithmetic is python-stdnum's (`stdnum.luhn`); ours
adds the guards in front of it: ASCII digits only (stdnum reads `str()` of whatever it is
given) and at least two of them, because a lone digit is a check digit with no number to
check. That is the one difference `tests/domain/test_identity_vs_stdnum.py` allows: stdnum's
`luhn.is_valid("0")` is true.

`mask_account` is how every screen, API answer, audit record and error message shows an
account: the same characters for the same number wherever it appears. A card number keeps its
first six digits (the issuer identification number, which names the bank) and its last four,
622202******1234, no more than PCI DSS lets a screen show; anything else keeps its first
four and last four characters, 3501**********7890. The form keeps no separators and the same
length; at least four characters are always starred, so short values show fewer leading
characters, and one shorter than eight shows at most its last half (A1 -> *1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from stdnum import luhn

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity._base import MaskedIdentity, clean, is_digits, mask_middle

CARD_LENGTHS: Final = range(16, 20)
ACCOUNT_LENGTHS: Final = range(8, 33)
_MIN_STARS: Final = 4
_TAIL: Final = 4
_CARD_HEAD: Final = 6
_ACCOUNT_HEAD: Final = 4


class AccountRule(StrEnum):
    CARD = "card"
    ACCOUNT = "account"


def luhn_check_digit(payload: str) -> str:
    """The digit that, appended to `payload`, makes a number pass the Luhn check."""
    if not isinstance(payload, str) or not is_digits(payload):
        raise InvalidInput("the Luhn check digit is computed from digits only", "payload")
    return luhn.calc_check_digit(payload)


def luhn_valid(number: str) -> bool:
    """Whether a string of at least two digits ends in the right Luhn check digit."""
    return (
        isinstance(number, str) and len(number) > 1 and is_digits(number) and luhn.is_valid(number)
    )


def mask_account(account_no: str) -> str:
    """The masked form of a card or account number, or of any account identifier.

    622202******1234 for a card number (16 to 19 digits, valid Luhn check digit), first four
    and last four characters otherwise (3501**********7890, ACC-******-XYZ).
    """
    card = len(account_no) in CARD_LENGTHS and luhn_valid(account_no)
    tail = min(_TAIL, len(account_no) // 2)
    head = _CARD_HEAD if card else _ACCOUNT_HEAD
    head = max(0, min(head, len(account_no) - tail - _MIN_STARS))
    return mask_middle(account_no, head=head, tail=tail)


def _problem(number: object, rule: object) -> str | None:
    if not isinstance(number, str):
        return f"expected the account number as text, got {type(number).__name__}"
    if not is_digits(number):
        return "an account number holds only digits (spaces and hyphens are ignored)"
    if rule == AccountRule.CARD:
        if len(number) not in CARD_LENGTHS:
            return f"a bank card number has 16 to 19 digits, got {len(number)}"
        if not luhn_valid(number):
            return "the card number's check digit is wrong (a typing error?)"
        return None
    if rule == AccountRule.ACCOUNT:
        if len(number) not in ACCOUNT_LENGTHS:
            return f"an account number has 8 to 32 digits, got {len(number)}"
        return None
    return f"unknown account rule {rule!r}"


@dataclass(frozen=True, slots=True, repr=False)
class AccountNumber(MaskedIdentity):
    """A card or account number; `number` is the raw digits, `str()` masks them."""

    number: str
    rule: AccountRule

    def __post_init__(self) -> None:
        reason = _problem(self.number, self.rule)
        if reason is not None:
            raise InvalidInput(reason, "number")

    @classmethod
    def parse(
        cls, text: str, *, card: bool | None = None, field: str = "account_no"
    ) -> AccountNumber:
        """Validate a card (`card=True`), an account (`card=False`) or either (`None`).

        Left to decide, a number of 16 to 19 digits that passes the Luhn check is taken for a
        card and anything else of 8 to 32 digits for an account; a mistyped card then reads
        as an account, so say `card=True` whenever the input is known to be a card.
        """
        number = clean(text, what="account number", field=field, separators=" -")
        if card is None:
            is_card = len(number) in CARD_LENGTHS and luhn_valid(number)
            rule = AccountRule.CARD if is_card else AccountRule.ACCOUNT
        else:
            rule = AccountRule.CARD if card else AccountRule.ACCOUNT
        reason = _problem(number, rule)
        if reason is not None:
            raise InvalidInput(reason, field)
        return cls(number, rule)

    @property
    def is_card(self) -> bool:
        return self.rule == AccountRule.CARD

    def masked(self) -> str:
        """`mask_account` of the number: 622202******1234, 1234**********5678."""
        return mask_account(self.number)
