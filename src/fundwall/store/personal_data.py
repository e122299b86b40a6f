"""A guard that keeps raw ID and phone numbers out of records that are never encrypted.

The audit log is append-only and hash-chained: whatever enters it cannot be taken out again
without breaking the chain. So it must never hold a raw PRC resident ID number (18 characters,
valid check digit and birth date) or a mainland mobile number (11 digits starting 13–19,
optionally after +86). Callers record the masked form (3502**********1234) or the keyed hash
instead. Names cannot be recognised by pattern; callers mask them, as the domain types do.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence

from stdnum.cn import ric

from fundwall.domain.errors import InvalidInput

_MOBILE = re.compile(r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])")
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
_DIGIT_SEPARATORS = re.compile(r"(?<=[0-9])[\s\-]+(?=[0-9Xx])")
_HEX_DIGEST = re.compile(r"(?<![0-9A-Z])(?=[0-9]*[A-F])[0-9A-F]{32,}(?![0-9A-Z])")
"""A hash in hex (32 or more hex digits, a letter among them): what callers are told to
record, whose digits may by chance run like a phone number (one SHA-256 in a few hundred)."""


def _is_id_number(candidate: str) -> bool:
    if ric.calc_check_digit(candidate) != candidate[-1]:
        return False
    try:
        birth = dt.date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= birth


def personal_data_in(text: str) -> str | None:
    """ "an ID number" or "a phone number" if `text` contains one in the clear, else None.

    Digits split by spaces or hyphens ("138 1234 5678") count as well, and full-width digits
    are read as digits; hex digests (keyed hashes, fingerprints) are not read.
    """
    normal = _HEX_DIGEST.sub(" ", unicodedata.normalize("NFKC", text).upper())
    for variant in (normal, _DIGIT_SEPARATORS.sub("", normal)):
        if any(_is_id_number(m.group()) for m in _ID_NUMBER.finditer(variant)):
            return "an ID number"
        if _MOBILE.search(variant):
            return "a phone number"
    return None


def ensure_no_personal_data(value: object, field: str) -> None:
    """InvalidInput naming `field` (dotted path) if any string in `value` holds raw data."""
    if isinstance(value, str):
        found = personal_data_in(value)
        if found is not None:
            raise InvalidInput(
                f"contains {found} in the clear; record its masked form or keyed hash", field
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            ensure_no_personal_data(str(key), f"{field} (a key)")
            ensure_no_personal_data(item, f"{field}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for index, item in enumerate(value):
            ensure_no_personal_data(item, f"{field}[{index}]")
