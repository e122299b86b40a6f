"""Resident identity card numbers (居民身份证号码, GB 11643-1999).

Eighteen characters: a six-digit region code (where the number was first issued), the birth
date as YYYYMMDD, a three-digit sequence whose last digit is odd for men and even for women,
and a check character (0-9 or X) computed with ISO 7064 MOD 11-2.

Numbers issued before 1999 had 15 digits (two-digit year, no check character). They are no
longer valid on their own: `ResidentId.parse` refuses them and says how to convert, and
`upgrade_legacy_id` performs the conversion, so a caller that knows its data is old can
upgrade on purpose instead of having it happen silently.

The check character is python-stdnum's (`stdnum.cn.ric`). Its validation differs from ours
on purpose, and `tests/domain/test_identity_vs_stdnum.py` holds the two to these differences
and no others:

- County codes. Ours checks the province-level division; stdnum looks the six-digit code up in
  its county table (from Wikipedia) with the years each code was in use, and refuses a code
  not in use in the birth year. But the code names the place where the number was first
  issued, not where the holder was born: people born before the numbers began (1984) and
  people who moved their household registration carry codes younger than themselves, such as
  Pudong's 310115 (1992) on the number of someone born in 1936, and stdnum refuses them. The
  other way round, a code retired before the birth year is one no office could have issued;
  stdnum refuses it and ours accepts it, as it accepts codes missing from stdnum's table
  (for which stdnum raises KeyError rather than refusing). We keep no county table on purpose:
  the check character catches typing errors, and a table that misses a code refuses real
  people.
- Birth dates before 1900 or in the future: ours refuses them, stdnum sets no bounds.
- Full-width digits: stdnum reads them as ASCII; ours, as every identity type, takes ASCII
  digits only and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

from stdnum.cn import ric

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity._base import MaskedIdentity, clean, is_digits, mask_middle
from fundwall.domain.regions import PROVINCES, city_name

LENGTH: Final = 18
LEGACY_LENGTH: Final = 15
EARLIEST_BIRTH: Final = date(1900, 1, 1)
_CHINA_TIME: Final = timezone(timedelta(hours=8))


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


def resident_id_check_char(first17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits of an ID number."""
    if not isinstance(first17, str) or len(first17) != LENGTH - 1 or not is_digits(first17):
        raise InvalidInput("the check character is computed from exactly 17 digits", "first17")
    # ISO 7064 MOD 11-2. stdnum takes a whole number and ignores its last character.
    return ric.calc_check_digit(first17 + "0")


def upgrade_legacy_id(number15: str, *, field: str = "id_number") -> str:
    """Convert a 15-digit legacy number to 18 characters: '19' before the year, check char.

    Only the shape is checked here; pass the result to `ResidentId.parse` to validate it.
    """
    number = clean(number15, what="legacy ID number", field=field)
    if len(number) != LEGACY_LENGTH or not is_digits(number):
        raise InvalidInput(f"a legacy ID number has 15 digits, got {len(number)} characters", field)
    first17 = number[:6] + "19" + number[6:]
    return first17 + resident_id_check_char(first17)


def _birth_date_or_none(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def _problem(number: object) -> str | None:
    """Why `number` is not a well-formed 18-character ID number, or None if it is one."""
    if not isinstance(number, str):
        return f"expected the ID number as text, got {type(number).__name__}"
    if len(number) == LEGACY_LENGTH and is_digits(number):
        return (
            "this is an old 15-digit ID number; convert it to the 18-character form "
            "(insert 19 before the two-digit year and add the check character)"
        )
    if len(number) != LENGTH:
        return f"an ID number has 18 characters, got {len(number)}"
    if not is_digits(number[:-1]):
        return "the first 17 characters of an ID number must be digits"
    if number[-1] not in "0123456789X":
        return "the last character of an ID number must be a digit or X"
    if number[:2] not in PROVINCES:
        return f"no province-level division has code {number[:2]!r}"
    birth = _birth_date_or_none(number)
    if birth is None:
        return f"birth date {number[6:14]} is not a real date"
    if birth < EARLIEST_BIRTH:
        return f"birth date {number[6:14]} is before 1900"
    if resident_id_check_char(number[:-1]) != number[-1]:
        return "the check character does not match the other 17 digits (a typing error?)"
    return None


def _today_in_china() -> date:
    return datetime.now(_CHINA_TIME).date()


@dataclass(frozen=True, slots=True, repr=False)
class ResidentId(MaskedIdentity):
    """A valid 18-character resident ID number; `number` is the raw value, `str()` masks it.

    Constructing one directly checks everything but the future birth date, which needs a
    clock: use `parse` for input.
    """

    number: str

    def __post_init__(self) -> None:
        reason = _problem(self.number)
        if reason is not None:
            raise InvalidInput(reason, "number")

    @classmethod
    def parse(cls, text: str, *, today: date | None = None, field: str = "id_number") -> ResidentId:
        """Validate an ID number typed or imported as text.

        Surrounding whitespace is ignored and a lowercase x is read as X. `today` (the date
        in China by default) bounds the birth date.
        """
        number = clean(text, what="ID number", field=field).upper()
        reason = _problem(number)
        if reason is None:
            birth = _birth_date_or_none(number)
            if birth is not None and birth > (today or _today_in_china()):
                reason = f"birth date {number[6:14]} is in the future"
        if reason is not None:
            raise InvalidInput(reason, field)
        return cls(number)

    @property
    def region_code(self) -> str:
        """The six-digit division code of the place that issued the number."""
        return self.number[:6]

    @property
    def birth_date(self) -> date:
        return date(int(self.number[6:10]), int(self.number[10:12]), int(self.number[12:14]))

    @property
    def sex(self) -> Sex:
        return Sex.MALE if int(self.number[16]) % 2 else Sex.FEMALE

    @property
    def province(self) -> str:
        return PROVINCES[self.number[:2]]

    @property
    def city(self) -> str | None:
        """The prefecture-level division, or None where the table does not know the code."""
        return city_name(self.number)

    def age(self, on: date) -> int:
        """Completed years of age on the given day (a 29 February birthday counts on 1 March)."""
        if isinstance(on, datetime) or not isinstance(on, date):
            raise InvalidInput(f"expected a calendar date, got {type(on).__name__}", "on")
        birth = self.birth_date
        if on < birth:
            raise InvalidInput(f"{on.isoformat()} is before the birth date", "on")
        return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))

    def masked(self) -> str:
        """First four and last four characters: 3502**********1234."""
        return mask_middle(self.number, head=4, tail=4)
