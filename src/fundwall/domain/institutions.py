"""Institutions: banks, payment institutions, the sharing hub and police units."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fundwall.domain._fields import member, reference, set_field, text
from fundwall.domain.regions import parse_region_code

NAME_MAX: Final = 100


class InstitutionKind(StrEnum):
    BANK = "bank"
    PAYMENT_INSTITUTION = "payment_institution"
    """A non-bank payment institution (非银行支付机构) holding payment accounts."""
    HUB = "hub"
    """The risk-information sharing hub between members."""
    POLICE_UNIT = "police_unit"

    @property
    def holds_accounts(self) -> bool:
        """Whether customers hold accounts here, so it can stop, freeze and screen them."""
        return self in (InstitutionKind.BANK, InstitutionKind.PAYMENT_INSTITUTION)


@dataclass(frozen=True, slots=True)
class Institution:
    """A member of the deployment; `region` is its six-digit division code (100000 national)."""

    code: str
    name_zh: str
    name_en: str
    kind: InstitutionKind
    region: str

    def __post_init__(self) -> None:
        set_field(self, "code", reference(self.code, "code"))
        set_field(self, "name_zh", text(self.name_zh, "name_zh", max_len=NAME_MAX))
        set_field(self, "name_en", text(self.name_en, "name_en", max_len=NAME_MAX))
        set_field(self, "kind", member(InstitutionKind, self.kind, "kind"))
        set_field(self, "region", parse_region_code(self.region, field="region"))
