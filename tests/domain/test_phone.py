from __future__ import annotations

import phonenumbers
import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import Carrier, MobilePhone


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-138-1234-5678",
        "86 13812345678",
        "8613812345678",
        " 138-1234-5678 ",
    ],
)
def test_accepted_forms(text: str) -> None:
    phone = MobilePhone.parse(text)
    assert phone.number == "13812345678"
    assert phone.e164 == "+8613812345678"


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("13912345678", Carrier.CHINA_MOBILE),
        ("19812345678", Carrier.CHINA_MOBILE),
        ("18612345678", Carrier.CHINA_UNICOM),
        ("14512345678", Carrier.CHINA_UNICOM),
        ("18912345678", Carrier.CHINA_TELECOM),
        ("14912345678", Carrier.CHINA_TELECOM),
        ("17400123456", Carrier.CHINA_TELECOM),
        ("19212345678", Carrier.CHINA_BROADNET),
        ("17012345678", Carrier.VIRTUAL_OPERATOR),
        ("17112345678", Carrier.VIRTUAL_OPERATOR),
        ("16212345678", Carrier.VIRTUAL_OPERATOR),
        ("16512345678", Carrier.VIRTUAL_OPERATOR),
        ("16712345678", Carrier.VIRTUAL_OPERATOR),
        ("13491234567", None),
        ("13412345678", Carrier.CHINA_MOBILE),
    ],
)
def test_carrier_from_the_segment(number: str, carrier: Carrier | None) -> None:
    assert MobilePhone.parse(number).carrier == carrier


def test_carrier_names_in_chinese() -> None:
    assert Carrier.CHINA_MOBILE.name_zh == "中国移动"
    assert Carrier.VIRTUAL_OPERATOR.name_zh == "虚拟运营商"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty mobile number"),
        ("12345678901", "the second digit of a mainland mobile number is 3 to 9"),
        ("23812345678", "a mainland mobile number starts with 1"),
        ("1381234567", "a mainland mobile number has 11 digits, got 10"),
        ("138123456789", "a mainland mobile number has 11 digits, got 12"),
        ("15412345678", "number segment 154 is not allocated to mobile service"),
        ("17491234567", "number segment 174 is not allocated to mobile service"),
        ("16012345678", "number segment 160 is not allocated to mobile service"),
        ("+1 415 555 0100", "not a mainland China number: the country code must be +86"),
        ("0044 7700 900123", "not a mainland China number: the country code must be 0086"),
        ("138.1234.5678", "a mobile number holds only digits, spaces, hyphens and a +86 prefix"),
        (
            "１３８１２３４５６７８",
            "a mobile number holds only digits, spaces, hyphens and a +86 prefix",
        ),
        ("+86", "no number after the country code"),
        ("0086 ", "no number after the country code"),
    ],
)
def test_refused_numbers(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        MobilePhone.parse(text)
    assert (caught.value.reason, caught.value.field) == (reason, "phone")


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="expected mobile number as text, got int"):
        MobilePhone.parse(13812345678)  # type: ignore[arg-type]


def _accepted(number: str) -> bool:
    try:
        MobilePhone.parse(number)
    except InvalidInput:
        return False
    return True


def test_segments_agree_with_libphonenumber_except_data_cards() -> None:
    # The table follows the public allocations; libphonenumber mirrors them for voice service
    # and leaves out the 149 data-card segment, which the table keeps (cards get SMS).
    disagreements = []
    for prefix in range(13000, 20000):
        number = f"{prefix}123456"
        expected = phonenumbers.is_valid_number(phonenumbers.parse("+86" + number))
        if _accepted(number) != expected and not number.startswith("149"):
            disagreements.append(number[:5])
    assert disagreements == []


def test_printing_masks_the_number() -> None:
    phone = MobilePhone.parse("+86 138 1234 5678")
    assert phone.masked() == "138****5678"
    assert str(phone) == "138****5678"
    assert repr(phone) == "MobilePhone('138****5678')"


def test_direct_construction_validates() -> None:
    with pytest.raises(InvalidInput) as caught:
        MobilePhone("+8613812345678")
    assert caught.value.field == "number"
