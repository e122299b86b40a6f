"""Parties: the people and firms who hold accounts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fundwall.domain._fields import member, reference, set_field, text
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.domain.regions import parse_region_code

NAME_MAX: Final = 100


class PartyKind(StrEnum):
    PERSON = "person"
    FIRM = "firm"


def mask_name(name: str) -> str:
    """A person's name as screens show it: the family name and a star per other character."""
    return name[:1] + "*" * (len(name) - 1)


@dataclass(frozen=True, slots=True, repr=False)
class Party:
    """A person identified by a resident ID or a firm identified by a credit code.

    `repr()` masks a person's name as it masks identities; firm names are public on the
    business licence and show in full.
    """

    party_id: str
    kind: PartyKind
    name: str
    id_number: ResidentId | CreditCode
    phone: MobilePhone | None
    home_region: str

    def __post_init__(self) -> None:
        set_field(self, "party_id", reference(self.party_id, "party_id"))
        set_field(self, "kind", member(PartyKind, self.kind, "kind"))
        set_field(self, "name", text(self.name, "name", max_len=NAME_MAX))
        expected = ResidentId if self.kind == PartyKind.PERSON else CreditCode
        if not isinstance(self.id_number, expected):
            raise InvalidInput(
                f"a {self.kind.value} is identified by a {expected.__name__}, "
                f"got {type(self.id_number).__name__}",
                "id_number",
            )
        if self.phone is not None and not isinstance(self.phone, MobilePhone):
            raise InvalidInput(
                f"expected a MobilePhone or nothing, got {type(self.phone).__name__}", "phone"
            )
        set_field(self, "home_region", parse_region_code(self.home_region, field="home_region"))

    @property
    def shown_name(self) -> str:
        """The name safe to show: masked for a person, in full for a firm."""
        return mask_name(self.name) if self.kind == PartyKind.PERSON else self.name

    def __repr__(self) -> str:
        return (
            f"Party(party_id={self.party_id!r}, kind={self.kind.value!r}, "
            f"name={self.shown_name!r}, id_number={self.id_number!r}, phone={self.phone!r}, "
            f"home_region={self.home_region!r})"
        )
