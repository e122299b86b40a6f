"""Our identity checks against python-stdnum's, over 40,000 generated numbers.

Resident ID numbers (`stdnum.cn.ric`), unified social credit codes (`stdnum.cn.uscc`) and
Luhn numbers (`stdnum.luhn`) are drawn from one seeded generator: real and made-up region
codes, birth dates from 1880 to beyond today, right and wrong check characters, corrupted,
shortened and reformatted numbers. Where the two libraries check the same thing they must
give the same verdict. Every disagreement must be one of the intended differences named in
`RESIDENT_ID`, `CREDIT_CODE` and `LUHN` (each explained there and in the docstring of
`fundwall.domain.identity.resident_id`, `.credit_code` or `.account_number`), and each named
difference must occur in the sample, so the list cannot go stale. A disagreement that no
difference explains fails the test.
"""

from __future__ import annotations

import functools
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import pytest
from stdnum import luhn, numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import (
    CreditCode,
    ResidentId,
    credit_code_check_char,
    luhn_check_digit,
    luhn_valid,
    organisation_code_check_char,
    resident_id_check_char,
)
from fundwall.domain.identity.credit_code import ALPHABET
from fundwall.domain.regions import PREFECTURES, PROVINCES

SEED: Final = 20261204
TODAY: Final = date(2026, 6, 1)
RESIDENT_IDS: Final = 20_000
CREDIT_CODES: Final = 16_000
LUHN_NUMBERS: Final = 4_000

ACCEPTED: Final = "accepted"
_FULL_WIDTH: Final = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


# -- stdnum's county table: six-digit code -> the years each of its names was in use ---------


def _years(name: str) -> tuple[int, int]:
    """'[1992-]浦东新区' -> (1992, 9999); a name without a bracket is in use every year."""
    found = re.match(r"\[(\d*)-(\d*)\]", name)
    if found is None:
        return (0, 9999)
    return (int(found.group(1) or 0), int(found.group(2) or 9999))


def _stdnum_counties() -> dict[str, list[tuple[int, int]]]:
    counties: dict[str, list[tuple[int, int]]] = {}
    for _, province, _, _, children in numdb.get("cn/loc").prefixes:
        for _, county, _, props, _ in children:
            names = props.get("county", "")
            counties[province + county] = [_years(name) for name in names.split(",") if name]
    return counties


STDNUM_COUNTIES: Final = _stdnum_counties()


# -- verdicts ---------------------------------------------------------------------------------


def _ours(parse: Callable[[str], object], text: str) -> str:
    """ACCEPTED or the reason of our refusal."""
    try:
        parse(text)
    except InvalidInput as refused:
        return refused.reason
    return ACCEPTED


def _theirs(validate: Callable[[str], object], text: str) -> str:
    """ACCEPTED or the name of stdnum's exception (KeyError: county codes it does not list)."""
    try:
        validate(text)
    except (ValidationError, KeyError) as refused:
        return type(refused).__name__
    return ACCEPTED


@dataclass(frozen=True)
class Difference:
    """An intended disagreement: which side accepts, and the numbers it concerns."""

    name: str
    ours_accepts: bool
    concerns: Callable[[str, str, str], bool]
    """(text, our verdict, stdnum's verdict) -> whether this difference explains them."""


def _unexplained(
    numbers: Iterator[tuple[str, str, str]], differences: tuple[Difference, ...]
) -> tuple[list[tuple[str, str, str]], Counter[str]]:
    unexplained: list[tuple[str, str, str]] = []
    seen: Counter[str] = Counter()
    for text, ours, theirs in numbers:
        if (ours == ACCEPTED) == (theirs == ACCEPTED):
            continue
        names = [
            d.name
            for d in differences
            if d.ours_accepts == (ours == ACCEPTED) and d.concerns(text, ours, theirs)
        ]
        if names:
            seen.update(names)
        else:
            unexplained.append((text, ours, theirs))
    return unexplained, seen


def _check(numbers: Iterator[tuple[str, str, str]], differences: tuple[Difference, ...]) -> None:
    unexplained, seen = _unexplained(numbers, differences)
    assert unexplained[:10] == [], f"{len(unexplained)} disagreements no difference explains"
    named = {difference.name for difference in differences}
    assert named - set(seen) == set(), "named differences that no longer occur"


def _non_ascii(text: str) -> bool:
    return not text.isascii()


# -- resident ID numbers ----------------------------------------------------------------------


def _birth_year(text: str) -> int:
    return int(text.strip()[6:10])


def _born(text: str) -> date:
    digits = text.strip()[6:14]
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _county_years(text: str) -> list[tuple[int, int]]:
    """The years stdnum's table gives the number's county code; none if it has no entry."""
    return STDNUM_COUNTIES.get(text.strip()[:6], [])


def _county_younger(text: str, ours: str, theirs: str) -> bool:
    years, born = _county_years(text), _birth_year(text)
    return (
        theirs == "InvalidComponent"
        and not any(start <= born <= end for start, end in years)
        and any(start > born for start, _ in years)
    )


def _county_retired(text: str, ours: str, theirs: str) -> bool:
    years, born = _county_years(text), _birth_year(text)
    return theirs == "InvalidComponent" and bool(years) and all(end < born for _, end in years)


def _county_unknown(text: str, ours: str, theirs: str) -> bool:
    return theirs in {"KeyError", "InvalidComponent"} and not _county_years(text)


RESIDENT_ID: Final = (
    # stdnum reads digits 1-6 as the place of birth and refuses a county code that its table
    # (from Wikipedia) dates after the birth year. But the code names the place where the
    # number was first issued: people born before 1984, when the numbers began, and people
    # who moved their household registration carry codes younger than themselves, such as
    # Pudong's 310115 (1992) on a number of someone born in 1936. Ours checks the province.
    Difference("county code younger than the holder", True, _county_younger),
    # The reverse case: a county code retired before the birth year. No office could have
    # issued it, and stdnum is right to refuse; we keep no county table (a typing error is
    # caught by the check character, and a table that misses a code would refuse real
    # people), so ours accepts it, as it accepts any county of a valid province.
    Difference("county code retired before the holder's birth", True, _county_retired),
    # A county code stdnum's table does not list at all. For codes within a province it does
    # list, stdnum's `is_valid` and `validate` raise KeyError instead of refusing.
    Difference("county code not in stdnum's table", True, _county_unknown),
    # Ours refuses births before 1900 and in the future (`ResidentId.parse(today=...)`); stdnum
    # has no bounds beyond its county years.
    Difference(
        "birth before 1900",
        False,
        lambda text, ours, theirs: ours.endswith("is before 1900") and _birth_year(text) < 1900,
    ),
    Difference(
        "birth in the future",
        False,
        lambda text, ours, theirs: ours.endswith("is in the future") and _born(text) > TODAY,
    ),
    # stdnum reads full-width digits (and other Unicode look-alikes) as ASCII; ours takes
    # ASCII only, as every identity type does, and says so.
    Difference(
        "full-width digits",
        False,
        lambda text, ours, theirs: (
            _non_ascii(text) and ours.startswith(("the first 17 characters", "the last character"))
        ),
    ),
)


def _region_codes(rng: random.Random) -> tuple[list[str], ...]:
    """Pools of region codes: stdnum's, ours with a county, a province's, any six digits.

    Pools (1,500 codes in all) rather than a fresh code for every number, because stdnum
    looks a code up by scanning its table (about 1 ms); the lookups are cached.
    """
    provinces, prefectures = sorted(PROVINCES), sorted(PREFECTURES)
    return (
        rng.sample(sorted(STDNUM_COUNTIES), 800),
        [rng.choice(prefectures) + f"{rng.randrange(0, 40):02d}" for _ in range(400)],
        [rng.choice(provinces) + f"{rng.randrange(10**4):04d}" for _ in range(150)],
        [f"{rng.randrange(10**6):06d}" for _ in range(150)],
    )


def _resident_ids(rng: random.Random) -> Iterator[str]:
    stdnum_codes, ours, provinces, anything = _region_codes(rng)
    earliest = date(1880, 1, 1)
    span = (date(2030, 12, 31) - earliest).days
    for _ in range(RESIDENT_IDS):
        pick = rng.random()
        if pick < 0.5:
            region = rng.choice(stdnum_codes)
        elif pick < 0.8:
            region = rng.choice(ours)
        elif pick < 0.9:
            region = rng.choice(provinces)
        else:
            region = rng.choice(anything)
        pick = rng.random()
        if pick < 0.85:
            born = f"{earliest + timedelta(days=rng.randrange(span)):%Y%m%d}"
        elif pick < 0.95:
            edge = rng.choice([date(1899, 12, 31), date(1900, 1, 1), TODAY, TODAY + timedelta(1)])
            born = f"{edge:%Y%m%d}"
        else:
            born = f"{rng.randrange(10**8):08d}"
        first17 = f"{region}{born}{rng.randrange(1000):03d}"
        check = resident_id_check_char(first17)
        if rng.random() < 0.1:
            check = rng.choice("0123456789X")
        yield _varied(rng, first17 + check, legacy=True)


def _varied(rng: random.Random, number: str, *, legacy: bool = False) -> str:
    """The number as typed: mostly as it is, sometimes changed in one of several ways."""
    pick = rng.random()
    if pick < 0.85:
        return number
    if pick < 0.88:
        return number.lower()
    if pick < 0.9:
        return f" {number}\t"
    if pick < 0.92:
        return number.translate(_FULL_WIDTH)
    if pick < 0.95:
        at = rng.randrange(len(number))
        return number[:at] + rng.choice("AIOSVZ.-/ x") + number[at + 1 :]
    if pick < 0.97:
        at = rng.randrange(len(number))
        return number[:at] + number[at + 1 :] if rng.random() < 0.5 else number + "7"
    if legacy:
        return number[:6] + number[8:17]
    return number[:4] + " " + number[4:10] + "-" + number[10:]


def test_resident_ids_differ_from_stdnum_only_where_intended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = numdb.get("cn/loc")
    monkeypatch.setattr(table, "info", functools.cache(table.info))

    def parse(text: str) -> ResidentId:
        return ResidentId.parse(text, today=TODAY)

    numbers = (
        (text, _ours(parse, text), _theirs(ric.validate, text))
        for text in _resident_ids(random.Random(SEED))
    )
    _check(numbers, RESIDENT_ID)


def test_pudong_for_a_holder_born_in_1936() -> None:
    first17 = "310115" + "19360101" + "001"
    number = first17 + resident_id_check_char(first17)
    assert ResidentId.parse(number, today=TODAY).region_code == "310115"
    assert not ric.is_valid(number)


# -- unified social credit codes --------------------------------------------------------------

_AUTHORITY_TYPES: Final = tuple(
    authority + entity_type
    for authority, entity_types in [
        ("1", "1239"), ("2", "19"), ("3", "123459"), ("4", "19"), ("5", "1239"), ("6", "129"),
        ("7", "129"), ("8", "19"), ("9", "123"), ("A", "19"), ("N", "1239"), ("Y", "1"),
    ]
    for entity_type in entity_types
)  # fmt: skip
"""Every registration authority and entity type GB 32100-2015 lists (as `CreditCode` does)."""


def _organisation_check_is_wrong(text: str, ours: str, theirs: str) -> bool:
    code = text.strip().upper()
    return ours.startswith("the organisation code") and (
        organisation_code_check_char(code[8:16]) != code[16]
    )


CREDIT_CODE: Final = (
    # Characters 9-17 are an organisation code (GB 11714) with a check character of its own;
    # ours verifies it, stdnum only the final one.
    Difference(
        "the organisation code's check character (GB 11714)", False, _organisation_check_is_wrong
    ),
    # stdnum wants digits in the first eight characters, but GB 32100-2015 and its later
    # additions give letters to registration authorities: A (中央军委改革和编制办公室),
    # N (农业) and Y (其他). Ours accepts the authorities the standard lists.
    Difference(
        "registration authorities with letter codes (A, N, Y)",
        True,
        lambda text, ours, theirs: text.strip().upper()[0] in "ANY" and theirs == "InvalidFormat",
    ),
    # Ours refuses an authority or entity type the standard does not list and a region code
    # of no province; stdnum checks neither.
    Difference(
        "unknown registration authority or entity type",
        False,
        lambda text, ours, theirs: (
            ours.startswith("no registration authority has code") or "has no entity type" in ours
        ),
    ),
    Difference(
        "region code of no province",
        False,
        lambda text, ours, theirs: ours.startswith("no province-level division has code"),
    ),
    # stdnum drops spaces and hyphens inside a code and reads full-width characters as ASCII;
    # ours takes the code as the 18 characters printed on the licence.
    Difference(
        "spaces, hyphens or full-width characters inside the code",
        False,
        lambda text, ours, theirs: _non_ascii(text) or bool(re.search(r"\S[ -]+\S", text)),
    ),
)


def _credit_codes(rng: random.Random) -> Iterator[str]:
    prefectures = sorted(PREFECTURES)
    digits = "0123456789"
    for _ in range(CREDIT_CODES):
        if rng.random() < 0.7:
            authority_type = rng.choice(_AUTHORITY_TYPES)
        else:
            authority_type = rng.choice(ALPHABET) + rng.choice(ALPHABET)
        pick = rng.random()
        if pick < 0.6:
            region = rng.choice(prefectures) + f"{rng.randrange(0, 40):02d}"
        elif pick < 0.7:
            region = "100000"
        elif pick < 0.9:
            region = f"{rng.randrange(10**6):06d}"
        else:
            region = "".join(rng.choice(ALPHABET) for _ in range(6))
        alphabet = digits if rng.random() < 0.7 else ALPHABET
        body = "".join(rng.choice(alphabet) for _ in range(8))
        organisation_check = organisation_code_check_char(body)
        if rng.random() < 0.12:
            organisation_check = rng.choice(ALPHABET)
        first17 = authority_type + region + body + organisation_check
        check = credit_code_check_char(first17)
        if rng.random() < 0.1:
            check = rng.choice(ALPHABET)
        yield _varied(rng, first17 + check)


def test_credit_codes_differ_from_stdnum_only_where_intended() -> None:
    numbers = (
        (text, _ours(CreditCode.parse, text), _theirs(uscc.validate, text))
        for text in _credit_codes(random.Random(SEED))
    )
    _check(numbers, CREDIT_CODE)


# -- Luhn -------------------------------------------------------------------------------------

LUHN: Final = (
    # A lone digit is a check digit with no number to check; stdnum accepts "0".
    Difference("a lone digit", False, lambda text, ours, theirs: len(text) == 1),
)


def _luhn_numbers(rng: random.Random) -> Iterator[str]:
    for _ in range(LUHN_NUMBERS):
        payload = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 24)))
        right = payload and rng.random() < 0.6
        check = luhn_check_digit(payload) if right else rng.choice("0123456789")
        number = payload + check
        pick = rng.random()
        if pick < 0.03:
            number = number.translate(_FULL_WIDTH)
        elif pick < 0.06:
            at = rng.randrange(len(number))
            number = number[:at] + rng.choice("a -²٣") + number[at + 1 :]
        yield number


def test_luhn_differs_from_stdnum_only_where_intended() -> None:
    def ours(text: str) -> None:
        if not luhn_valid(text):
            raise InvalidInput("fails the Luhn check", "number")

    numbers = (
        (text, _ours(ours, text), _theirs(luhn.validate, text))
        for text in _luhn_numbers(random.Random(SEED))
    )
    _check(numbers, LUHN)
