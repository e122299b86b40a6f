from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import ResidentId, Sex, resident_id_check_char, upgrade_legacy_id
from fundwall.domain.regions import PROVINCES

# The worked example of GB 11643-1999.
STANDARD_EXAMPLE = "11010519491231002X"
TODAY = date(2024, 6, 1)


def make(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def reason_of(text: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidInput) as caught:
        ResidentId.parse(text, today=today)
    assert caught.value.field == "id_number"
    return caught.value.reason


def test_standard_example_parses_with_derived_facts() -> None:
    rid = ResidentId.parse(STANDARD_EXAMPLE, today=TODAY)
    assert rid.number == STANDARD_EXAMPLE
    assert rid.region_code == "110105"
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex is Sex.FEMALE
    assert rid.province == "北京市"
    assert rid.city == "北京市辖区"


def test_odd_sequence_digit_is_male_and_city_comes_from_the_table() -> None:
    rid = ResidentId.parse(make("35020319900101123"), today=TODAY)
    assert rid.sex is Sex.MALE
    assert (rid.province, rid.city) == ("福建省", "厦门市")
    assert rid.birth_date == date(1990, 1, 1)


def test_lowercase_x_and_whitespace_are_normalised() -> None:
    rid = ResidentId.parse("  " + STANDARD_EXAMPLE.lower() + "\n", today=TODAY)
    assert rid.number == STANDARD_EXAMPLE


@pytest.mark.parametrize("code", sorted(PROVINCES))
def test_every_province_level_code_is_accepted(code: str) -> None:
    rid = ResidentId.parse(make(f"{code}0101" + "19800101" + "001"), today=TODAY)
    assert rid.province == PROVINCES[code]


@pytest.mark.parametrize("code", ["710000", "810000", "820000", "359900"])
def test_unknown_city_within_a_valid_province_is_accepted(code: str) -> None:
    rid = ResidentId.parse(make(code + "19800101001"), today=TODAY)
    assert rid.city is None


def test_wrong_check_character() -> None:
    reason = reason_of(STANDARD_EXAMPLE[:-1] + "5")
    assert reason.startswith("the check character does not match")


def test_error_does_not_echo_the_number() -> None:
    with pytest.raises(InvalidInput) as caught:
        ResidentId.parse(STANDARD_EXAMPLE[:-1] + "5", today=TODAY)
    assert STANDARD_EXAMPLE[:-1] not in str(caught.value)


def test_impossible_date() -> None:
    assert reason_of(make("11010519990230001")) == "birth date 19990230 is not a real date"


def test_month_thirteen() -> None:
    assert reason_of(make("11010519991301001")) == "birth date 19991301 is not a real date"


def test_birth_before_1900() -> None:
    assert reason_of(make("11010518991231001")) == "birth date 18991231 is before 1900"


def test_future_birth_date_against_the_given_day() -> None:
    number = make("11010520240602001")
    assert reason_of(number) == "birth date 20240602 is in the future"
    assert ResidentId.parse(number, today=date(2024, 6, 2)).birth_date == date(2024, 6, 2)


def test_future_birth_date_against_the_clock_by_default() -> None:
    with pytest.raises(InvalidInput, match="in the future"):
        ResidentId.parse(make("11010529990101001"))


@pytest.mark.parametrize("region", ["00", "99", "10", "72"])
def test_bad_province_code(region: str) -> None:
    number = make(f"{region}0105" + "19800101001")
    assert reason_of(number) == f"no province-level division has code {region!r}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty ID number"),
        ("1101051949123100", "an ID number has 18 characters, got 16"),
        (STANDARD_EXAMPLE + "1", "an ID number has 18 characters, got 19"),
        ("11010519491231A02X", "the first 17 characters of an ID number must be digits"),
        (
            "１１０１０５１９４９１２３１００２Ｘ",
            "the first 17 characters of an ID number must be digits",
        ),
        ("11010519491231002A", "the last character of an ID number must be a digit or X"),
    ],
)
def test_malformed_numbers(text: str, reason: str) -> None:
    assert reason_of(text) == reason


def test_non_text_input() -> None:
    with pytest.raises(InvalidInput, match="expected ID number as text, got int"):
        ResidentId.parse(110105194912310020)  # type: ignore[arg-type]


def test_legacy_15_digit_number_is_refused_with_the_way_to_convert() -> None:
    reason = reason_of("110105491231002")
    assert "15-digit" in reason
    assert "insert 19 before the two-digit year and add the check character" in reason


def test_upgrade_legacy_id() -> None:
    upgraded = upgrade_legacy_id(" 110105491231002 ")
    assert upgraded == STANDARD_EXAMPLE
    assert ResidentId.parse(upgraded, today=TODAY).birth_date == date(1949, 12, 31)


@pytest.mark.parametrize("text", ["11010549123100", "1101054912310021", "11010549123100X", ""])
def test_upgrade_legacy_id_refuses_other_shapes(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        upgrade_legacy_id(text)
    assert caught.value.field == "id_number"


def test_check_char_refuses_bad_input() -> None:
    for bad in ["1101051949123100", "1101051949123100A", 12345678901234567]:
        with pytest.raises(InvalidInput) as caught:
            resident_id_check_char(bad)  # type: ignore[arg-type]
        assert caught.value.field == "first17"


@given(
    code=st.sampled_from(sorted(PROVINCES)),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_generated_numbers_parse_back(code: str, born: date, sequence: int) -> None:
    number = make(f"{code}0000{born:%Y%m%d}{sequence:03d}")
    rid = ResidentId.parse(number, today=TODAY)
    assert rid.birth_date == born
    assert rid.sex is (Sex.MALE if sequence % 2 else Sex.FEMALE)


def test_age() -> None:
    rid = ResidentId.parse(make("35020319900615123"), today=TODAY)
    assert rid.age(date(1990, 6, 15)) == 0
    assert rid.age(date(2024, 6, 14)) == 33
    assert rid.age(date(2024, 6, 15)) == 34


def test_age_of_a_leap_day_birthday() -> None:
    rid = ResidentId.parse(make("35020320000229123"), today=TODAY)
    assert rid.age(date(2001, 2, 28)) == 0
    assert rid.age(date(2001, 3, 1)) == 1
    assert rid.age(date(2004, 2, 29)) == 4


def test_age_before_birth_and_of_a_datetime_are_refused() -> None:
    rid = ResidentId.parse(make("35020319900615123"), today=TODAY)
    with pytest.raises(InvalidInput, match="before the birth date"):
        rid.age(date(1990, 6, 14))
    with pytest.raises(InvalidInput, match="expected a calendar date, got datetime"):
        rid.age(datetime(2024, 1, 1))


def test_printing_masks_the_number() -> None:
    number = make("35020319900101123")
    rid = ResidentId.parse(number, today=TODAY)
    assert rid.masked() == "3502**********" + number[-4:]
    assert str(rid) == rid.masked()
    assert f"{rid}" == rid.masked()
    assert repr(rid) == f"ResidentId({rid.masked()!r})"
    assert number not in repr([rid])


def test_direct_construction_validates() -> None:
    assert ResidentId(STANDARD_EXAMPLE).number == STANDARD_EXAMPLE
    with pytest.raises(InvalidInput) as caught:
        ResidentId(STANDARD_EXAMPLE.lower())
    assert caught.value.field == "number"


def test_values_compare_and_hash_by_number() -> None:
    assert ResidentId(STANDARD_EXAMPLE) == ResidentId.parse(STANDARD_EXAMPLE.lower())
    assert len({ResidentId(STANDARD_EXAMPLE), ResidentId(STANDARD_EXAMPLE)}) == 1
