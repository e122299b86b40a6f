"""Identities: resident ID numbers, credit codes, mobile numbers, card and account numbers.

Each type validates at the door (`parse`, raising `InvalidInput` with a reason and a field)
and is a frozen value afterwards.

The masking rule: `str()` and `repr()` of every identity give its masked form
(3502**********1234, 138****5678, 622202******1234), so nothing prints a raw identity by
accident, in a log line, an f-string or an error. The raw value is read on purpose from the
attribute named `number`, and callers that show it to a person audit that unmasking.
Error messages never echo the rejected input either; they name what is wrong with it.
"""

from fundwall.domain.identity.account_number import (
    AccountNumber,
    AccountRule,
    luhn_check_digit,
    luhn_valid,
    mask_account,
)
from fundwall.domain.identity.credit_code import (
    CreditCode,
    credit_code_check_char,
    organisation_code_check_char,
)
from fundwall.domain.identity.phone import Carrier, MobilePhone
from fundwall.domain.identity.resident_id import (
    ResidentId,
    Sex,
    resident_id_check_char,
    upgrade_legacy_id,
)

__all__ = [
    "AccountNumber",
    "AccountRule",
    "Carrier",
    "CreditCode",
    "MobilePhone",
    "ResidentId",
    "Sex",
    "credit_code_check_char",
    "luhn_check_digit",
    "luhn_valid",
    "mask_account",
    "organisation_code_check_char",
    "resident_id_check_char",
    "upgrade_legacy_id",
]
