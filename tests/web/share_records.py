"""Entries of the sharing hub the console tests publish on their own console: each bank's,
with references and notes only their reporter may read, and a hashed ID under the region's
sharing key v1 (tests/web/phone_records.py makes it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fundwall.auth import Actor
from fundwall.crypto import SharingKeys
from fundwall.engine.controls import Evidence, ListKind, RiskCategory
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries

from .conftest import Console

FIRST_ACCOUNT: Final = "6222029999990017"
"""An account of the first bank that it lists (outside the simulated region)."""
FIRST_REFERENCE: Final = "CASE-A-17"
FIRST_NOTE: Final = "opened online, emptied within the hour"
SECOND_DEVICE: Final = "dev-b2-77"
SECOND_REFERENCE: Final = "B2-REF-9"
SECOND_NOTE: Final = "device shared by five new customers"
RESIDENT_ID: Final = "350203198001011237"


@dataclass(frozen=True)
class SharedEntries:
    first_account: int
    """The first bank's account entry (mule, its reference and note)."""
    second_device: int
    """The second bank's device entry (its reference and note)."""
    first_id_hash: int
    """The first bank's hashed resident ID (fraud account)."""
    id_hash: str
    """That ID's shared hash (v1), as a member's tool makes it."""


def share_entries(console: Console) -> SharedEntries:
    """The entries each bank publishes."""
    region, operator = console.region, Actor.operator("test")
    id_hash = SharingKeys.load(region.keys, (1,)).hash("id", RESIDENT_ID)
    with console.uow() as uow:
        first_account, first_id_hash = publish_entries(
            uow,
            operator,
            [
                NewEntry(ListKind.ACCOUNT, FIRST_ACCOUNT, RiskCategory.MULE,
                         Evidence.MEMBER_VERIFIED, bank=region.first_bank,
                         reference=FIRST_REFERENCE, note=FIRST_NOTE),
                NewEntry(ListKind.ID_HASH, id_hash, RiskCategory.FRAUD_ACCOUNT,
                         Evidence.POLICE_CONFIRMED),
            ],
            member=region.first_bank,
        ).ids  # fmt: skip
        (second_device,) = publish_entries(
            uow,
            operator,
            [NewEntry(ListKind.DEVICE, SECOND_DEVICE, RiskCategory.CARD_DEALER,
                      Evidence.MEMBER_SUSPECTED, reference=SECOND_REFERENCE, note=SECOND_NOTE)],
            member=region.second_bank,
        ).ids  # fmt: skip
    return SharedEntries(first_account, second_device, first_id_hash, id_hash)
