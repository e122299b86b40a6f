"""Unified social credit codes of firms and other organisations (统一社会信用代码, GB 32100-2015).

Eighteen characters from the 31-character alphabet 0-9 A-H J-N P Q R T U W X Y (no I, O, S,
V or Z):

- 1: registration authority (登记管理部门), e.g. 9 for market regulation (工商);
- 2: type of entity within that authority (机构类别), e.g. 1 enterprise, 2 individual business;
- 3-8: division code of the registering authority (GB/T 2260), 100000 for national bodies;
- 9-17: organisation code (组织机构代码, GB 11714): eight characters and their check character;
- 18: check character, weighted sum modulo 31 (GB/T 17710).

The final check character is python-stdnum's (`stdnum.cn.uscc`). Its validation differs from
ours on purpose, and `tests/domain/test_identity_vs_stdnum.py` holds the two to these
differences and no others:

- The organisation code: ours verifies its own check character (GB 11714); stdnum verifies
  only the final one, so a code with a wrong organisation code passes it.
- Registration authorities with letter codes: GB 32100-2015 and its later additions give A
  (中央军委改革和编制办公室), N (农业) and Y (其他); stdnum wants digits in the first eight
  characters and refuses them, ours accepts them.
- Ours refuses an authority or entity type the standard does not list and a region code of
  no province-level division; stdnum checks neither.
- Ours takes the 18 characters as printed on the licence; stdnum also drops spaces and
  hyphens inside the code and reads full-width characters as ASCII.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from stdnum.cn import uscc

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity._base import MaskedIdentity, clean, is_digits, mask_middle
from fundwall.domain.regions import NATIONAL_REGION, PROVINCES, province_name

LENGTH: Final = 18
ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_ORGANISATION_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORGANISATION_BODY: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Authority code -> (authority, {type code -> type of entity}), as GB 32100-2015 lists them.
_AUTHORITIES: Final[Mapping[str, tuple[str, Mapping[str, str]]]] = MappingProxyType(
    {
        "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直管群众团体", "9": "其他"}),
        "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
        "3": (
            "司法行政",
            {
                "1": "律师执业机构",
                "2": "公证处",
                "3": "基层法律服务所",
                "4": "司法鉴定机构",
                "5": "仲裁委员会",
                "9": "其他",
            },
        ),
        "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
        "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
        "6": (
            "旅游",
            {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻代表机构", "9": "其他"},
        ),
        "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
        "8": ("工会", {"1": "基层工会", "9": "其他"}),
        "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
        "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
        "N": (
            "农业",
            {
                "1": "组级集体经济组织",
                "2": "村级集体经济组织",
                "3": "乡镇级集体经济组织",
                "9": "其他",
            },
        ),
        "Y": ("其他", {"1": "其他"}),
    }
)


def credit_code_check_char(first17: str) -> str:
    """The final check character for the first 17 characters of a credit code."""
    if (
        not isinstance(first17, str)
        or len(first17) != LENGTH - 1
        or any(char not in ALPHABET for char in first17)
    ):
        raise InvalidInput(
            "the check character is computed from 17 characters of 0-9 A-H J-N P Q R T U W X Y",
            "first17",
        )
    return uscc.calc_check_digit(first17)


def organisation_code_check_char(first8: str) -> str:
    """The check character (0-9 or X) of a GB 11714 organisation code body of 8 characters."""
    if (
        not isinstance(first8, str)
        or len(first8) != len(_ORGANISATION_WEIGHTS)
        or any(char not in _ORGANISATION_BODY for char in first8)
    ):
        raise InvalidInput(
            "an organisation code check character is computed from 8 digits or capital letters",
            "first8",
        )
    total = sum(
        _ORGANISATION_BODY.index(char) * w
        for char, w in zip(first8, _ORGANISATION_WEIGHTS, strict=True)
    )
    check = -total % 11
    return "X" if check == 10 else str(check)


def _problem(number: object) -> str | None:
    """Why `number` is not a valid credit code, or None if it is one."""
    if not isinstance(number, str):
        return f"expected the credit code as text, got {type(number).__name__}"
    if len(number) != LENGTH:
        return f"a credit code has 18 characters, got {len(number)}"
    bad = sorted({char for char in number if char not in ALPHABET})
    if bad:
        return f"a credit code uses only 0-9 and A-H J-N P Q R T U W X Y, not {''.join(bad)!r}"
    authority = _AUTHORITIES.get(number[0])
    if authority is None:
        return f"no registration authority has code {number[0]!r}"
    if number[1] not in authority[1]:
        return f"registration authority {number[0]} has no entity type {number[1]!r}"
    region = number[2:8]
    if not is_digits(region):
        return "characters 3-8 of a credit code are a six-digit region code"
    if region != NATIONAL_REGION and region[:2] not in PROVINCES:
        return f"no province-level division has code {region[:2]!r}"
    if organisation_code_check_char(number[8:16]) != number[16]:
        return "the organisation code (characters 9-17) has a wrong check character"
    if credit_code_check_char(number[:-1]) != number[-1]:
        return "the check character does not match the other 17 characters (a typing error?)"
    return None


@dataclass(frozen=True, slots=True, repr=False)
class CreditCode(MaskedIdentity):
    """A valid unified social credit code; `number` is the raw value, `str()` masks it."""

    number: str

    def __post_init__(self) -> None:
        reason = _problem(self.number)
        if reason is not None:
            raise InvalidInput(reason, "number")

    @classmethod
    def parse(cls, text: str, *, field: str = "credit_code") -> CreditCode:
        """Validate a credit code; surrounding whitespace is ignored, letters may be lowercase."""
        number = clean(text, what="credit code", field=field).upper()
        reason = _problem(number)
        if reason is not None:
            raise InvalidInput(reason, field)
        return cls(number)

    @property
    def authority_code(self) -> str:
        return self.number[0]

    @property
    def type_code(self) -> str:
        return self.number[1]

    @property
    def authority(self) -> str:
        """The registration authority (登记管理部门), e.g. 工商."""
        return _AUTHORITIES[self.number[0]][0]

    @property
    def entity_type(self) -> str:
        """The type of entity (机构类别), e.g. 企业 or 个体工商户."""
        return _AUTHORITIES[self.number[0]][1][self.number[1]]

    @property
    def region_code(self) -> str:
        """The division code of the registering authority; 100000 for national bodies."""
        return self.number[2:8]

    @property
    def province(self) -> str | None:
        """The province-level division, or None for a nationally registered body."""
        return province_name(self.region_code)

    @property
    def organisation_code(self) -> str:
        """The nine-character organisation code (组织机构代码), check character included."""
        return self.number[8:17]

    def masked(self) -> str:
        """First four and last four characters: 9135**********123X."""
        return mask_middle(self.number, head=4, tail=4)
