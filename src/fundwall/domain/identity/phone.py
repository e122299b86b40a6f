"""Mainland China mobile numbers (手机号码).

Eleven digits beginning with 1 and a second digit from 3 to 9. The first three to five digits
are the number segment (号段) that the Ministry of Industry and Information Technology
allocates to an operator. The table below follows the public segment allocations as
published by MIIT and mirrored in libphonenumber's metadata (2024): a number in an
unallocated segment is refused; a segment allocated to a service whose operator the table
does not name (the 1349 satellite segment) is accepted with carrier None. The 145, 147 and
149 data-card segments are accepted because cards in them receive text messages.

Numbers resold by virtual operators (虚拟运营商: 162, 165, 167, 170, 171) report
`Carrier.VIRTUAL_OPERATOR`, since the reseller, not the host network, holds the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity._base import MaskedIdentity, clean, is_digits, mask_middle

LENGTH: Final = 11
COUNTRY_CODE: Final = "86"


class Carrier(StrEnum):
    CHINA_MOBILE = "china_mobile"
    CHINA_UNICOM = "china_unicom"
    CHINA_TELECOM = "china_telecom"
    CHINA_BROADNET = "china_broadnet"
    VIRTUAL_OPERATOR = "virtual_operator"

    @property
    def name_zh(self) -> str:
        return _CARRIER_NAMES_ZH[self]


_CARRIER_NAMES_ZH: Final[Mapping[Carrier, str]] = MappingProxyType(
    {
        Carrier.CHINA_MOBILE: "中国移动",
        Carrier.CHINA_UNICOM: "中国联通",
        Carrier.CHINA_TELECOM: "中国电信",
        Carrier.CHINA_BROADNET: "中国广电",
        Carrier.VIRTUAL_OPERATOR: "虚拟运营商",
    }
)


def _segments() -> dict[str, Carrier | None]:
    table: dict[str, Carrier | None] = {}
    by_carrier: dict[Carrier, str] = {
        Carrier.CHINA_MOBILE: "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 "
        "182 183 184 187 188 195 197 198",
        Carrier.CHINA_UNICOM: "130 131 132 145 155 156 166 175 176 185 186 196",
        Carrier.CHINA_TELECOM: "133 149 153 173 177 180 181 189 190 191 193 199 "
        "17400 17401 17402 17403 17404 17405",
        Carrier.CHINA_BROADNET: "192 1610",
        Carrier.VIRTUAL_OPERATOR: "162 165 167 170 171",
    }
    for carrier, prefixes in by_carrier.items():
        table.update(dict.fromkeys(prefixes.split(), carrier))
    # Satellite service inside a China Mobile segment, operated by neither network.
    table["1349"] = None
    return table


SEGMENTS: Final[Mapping[str, Carrier | None]] = MappingProxyType(_segments())
"""Allocated segment prefix (3 to 5 digits) -> operator; the longest matching prefix wins."""


def _segment_of(number: str) -> str | None:
    for length in (5, 4, 3):
        if number[:length] in SEGMENTS:
            return number[:length]
    return None


def _national(text: str, field: str) -> str:
    """The eleven national digits, without separators or the +86 / 0086 / 86 prefix."""
    digits = clean(text, what="mobile number", field=field, separators=" -")
    if digits.startswith("+"):
        if not digits.startswith("+" + COUNTRY_CODE):
            raise InvalidInput("not a mainland China number: the country code must be +86", field)
        digits = digits[1 + len(COUNTRY_CODE) :]
    elif digits.startswith("00"):
        if not digits.startswith("00" + COUNTRY_CODE):
            raise InvalidInput("not a mainland China number: the country code must be 0086", field)
        digits = digits[2 + len(COUNTRY_CODE) :]
    elif digits.startswith(COUNTRY_CODE) and len(digits) == len(COUNTRY_CODE) + LENGTH:
        digits = digits[len(COUNTRY_CODE) :]
    if not digits:
        raise InvalidInput("no number after the country code", field)
    return digits


def _problem(number: object) -> str | None:
    if not isinstance(number, str):
        return f"expected the mobile number as text, got {type(number).__name__}"
    if not is_digits(number):
        return "a mobile number holds only digits, spaces, hyphens and a +86 prefix"
    if len(number) != LENGTH:
        return f"a mainland mobile number has 11 digits, got {len(number)}"
    if number[0] != "1":
        return "a mainland mobile number starts with 1"
    if number[1] not in "3456789":
        return "the second digit of a mainland mobile number is 3 to 9"
    if _segment_of(number) is None:
        return f"number segment {number[:3]} is not allocated to mobile service"
    return None


@dataclass(frozen=True, slots=True, repr=False)
class MobilePhone(MaskedIdentity):
    """A mainland mobile number; `number` is the raw 11 digits, `str()` masks it."""

    number: str

    def __post_init__(self) -> None:
        reason = _problem(self.number)
        if reason is not None:
            raise InvalidInput(reason, "number")

    @classmethod
    def parse(cls, text: str, *, field: str = "phone") -> MobilePhone:
        """Accept 13812345678, +86 138 1234 5678, +8613812345678, 0086-138-1234-5678, 86 …"""
        number = _national(text, field)
        reason = _problem(number)
        if reason is not None:
            raise InvalidInput(reason, field)
        return cls(number)

    @property
    def e164(self) -> str:
        """The international form, +8613812345678."""
        return f"+{COUNTRY_CODE}{self.number}"

    @property
    def carrier(self) -> Carrier | None:
        """The operator holding the segment, or None where the allocation names none."""
        segment = _segment_of(self.number)
        return None if segment is None else SEGMENTS[segment]

    def masked(self) -> str:
        """First three and last four digits: 138****5678."""
        return mask_middle(self.number, head=3, tail=4)
