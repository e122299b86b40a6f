from __future__ import annotations

import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import (
    CreditCode,
    credit_code_check_char,
    organisation_code_check_char,
)
from fundwall.domain.identity.credit_code import ALPHABET

# Published on the business licences of well-known firms.
PUBLISHED = ["91110108551385082Q", "9144030071526726XG", "91110000600037341L"]


def make(authority_type_region: str, organisation_body: str) -> str:
    first17 = (
        authority_type_region + organisation_body + organisation_code_check_char(organisation_body)
    )
    return first17 + credit_code_check_char(first17)


def reason_of(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        CreditCode.parse(text)
    assert caught.value.field == "credit_code"
    return caught.value.reason


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert CreditCode.parse(code).number == code


def test_computed_enterprise_code_and_its_parts() -> None:
    number = make("91350200", "MA2Y4K7B")
    code = CreditCode.parse(number.lower())
    assert code.number == number
    assert (code.authority_code, code.type_code) == ("9", "1")
    assert (code.authority, code.entity_type) == ("工商", "企业")
    assert code.region_code == "350200"
    assert code.province == "福建省"
    assert code.organisation_code == number[8:17]


@pytest.mark.parametrize(
    ("prefix", "authority", "entity_type"),
    [
        ("92", "工商", "个体工商户"),
        ("93", "工商", "农民专业合作社"),
        ("12", "机构编制", "事业单位"),
        ("53", "民政", "基金会"),
        ("31", "司法行政", "律师执业机构"),
        ("N2", "农业", "村级集体经济组织"),
        ("A1", "中央军委改革和编制办公室", "军队事业单位"),
        ("Y1", "其他", "其他"),
    ],
)
def test_authorities_and_types(prefix: str, authority: str, entity_type: str) -> None:
    code = CreditCode.parse(make(prefix + "440300", "12345678"))
    assert (code.authority, code.entity_type) == (authority, entity_type)


def test_national_body_has_no_province() -> None:
    code = CreditCode.parse(make("11100000", "00001312"))
    assert code.region_code == "100000"
    assert code.province is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty credit code"),
        ("91350200MA2Y4K7B", "a credit code has 18 characters, got 16"),
        ("91350200MA2Y4K7BIO", "a credit code uses only 0-9 and A-H J-N P Q R T U W X Y, not 'IO'"),
        ("91350200MA2Y4K7BSZ", "a credit code uses only 0-9 and A-H J-N P Q R T U W X Y, not 'SZ'"),
        ("B1350200MA2Y4K7B00", "no registration authority has code 'B'"),
        ("94350200MA2Y4K7B00", "registration authority 9 has no entity type '4'"),
        ("Y2350200MA2Y4K7B00", "registration authority Y has no entity type '2'"),
        ("913502A0MA2Y4K7B00", "characters 3-8 of a credit code are a six-digit region code"),
        ("91990200MA2Y4K7B00", "no province-level division has code '99'"),
    ],
)
def test_malformed_codes(text: str, reason: str) -> None:
    assert reason_of(text) == reason


def test_wrong_final_check_character() -> None:
    number = make("91350200", "MA2Y4K7B")
    other = next(char for char in ALPHABET if char != number[-1])
    assert reason_of(number[:-1] + other).startswith("the check character does not match")


def test_wrong_organisation_check_character() -> None:
    body = "MA2Y4K7B"
    wrong = "1" if organisation_code_check_char(body) != "1" else "2"
    first17 = "91350200" + body + wrong
    number = first17 + credit_code_check_char(first17)
    assert reason_of(number) == (
        "the organisation code (characters 9-17) has a wrong check character"
    )


@pytest.mark.parametrize(
    ("body", "check"), [("55138508", "2"), ("71526726", "X"), ("00000000", "0")]
)
def test_organisation_code_check_char(body: str, check: str) -> None:
    assert organisation_code_check_char(body) == check


@pytest.mark.parametrize("bad", ["5513850", "5513850a", "5513850!", 55138508])
def test_organisation_code_check_char_refuses_bad_input(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        organisation_code_check_char(bad)  # type: ignore[arg-type]
    assert caught.value.field == "first8"


@pytest.mark.parametrize("bad", ["9135020", "91350200MA2Y4K7BI", 1])
def test_credit_code_check_char_refuses_bad_input(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        credit_code_check_char(bad)  # type: ignore[arg-type]
    assert caught.value.field == "first17"


def test_printing_masks_the_code() -> None:
    number = make("91350200", "MA2Y4K7B")
    code = CreditCode.parse(number)
    assert code.masked() == "9135**********" + number[-4:]
    assert str(code) == code.masked()
    assert repr(code) == f"CreditCode({code.masked()!r})"


def test_direct_construction_validates() -> None:
    with pytest.raises(InvalidInput) as caught:
        CreditCode(PUBLISHED[0].lower())
    assert caught.value.field == "number"
