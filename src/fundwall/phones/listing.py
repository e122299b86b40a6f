"""From a phone investigation's finding to what an entry of the shared risk list needs.

`listing_draft` turns one row of an investigation (named by its view and binding id) into a
`ListingDraft`: which kind of identifier (a phone or the person's resident ID), the raw
identifier (for the publishing use case to hash under the region's sharing key; it never
leaves the process raw), the proposed category, the evidence level and a reason without any
personal number. The finding is read again through the view itself, so a draft exists only
for a row the member can see now. Publishing it is the sharing hub's use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import Keyring
from fundwall.domain.errors import NotFound
from fundwall.engine.controls.model import Evidence, ListKind
from fundwall.phones.investigations import many_phones, recycled_still_bound, shared_phones
from fundwall.store.mapping import party_of
from fundwall.store.phone_tables import PhoneBindingRow
from fundwall.store.tables import PartyRow
from fundwall.store.uow import UnitOfWork


class Finding(StrEnum):
    """Which investigation a row comes from."""

    SHARED_PHONE = "shared_phone"
    MANY_PHONES = "many_phones"
    RECYCLED_PHONE = "recycled_phone"


@dataclass(frozen=True, slots=True)
class ListingDraft:
    """What a shared-list entry needs from a finding. `identifier` is raw: hash it under the
    sharing key before it goes anywhere (its `repr` leaves it out)."""

    kind: ListKind
    identifier: str
    category: str
    """The category proposed for the entry: the finding's name (`recycled_phone`, …)."""
    evidence: Evidence
    reason: str

    def __repr__(self) -> str:
        return (
            f"ListingDraft(kind={self.kind.value}, category={self.category}, "
            f"evidence={self.evidence.value}, reason={self.reason!r})"
        )


@use_case(Permission.VIEW_CUSTOMER_DATA)
def listing_draft(
    uow: UnitOfWork, actor: Actor, finding: Finding, binding_id: int, keyring: Keyring
) -> ListingDraft:
    """The draft of a shared-list entry for the row of `finding`'s view whose binding is
    `binding_id`; NotFound when the member's view has no such row (another member's binding
    included). A recycled number is verified by the registry (`member_verified`); a shared
    phone or a person with many phones is a sign, not a proof (`member_suspected`)."""
    finding = Finding(finding)
    if finding is Finding.SHARED_PHONE:
        shared = next(
            (row for row in shared_phones(uow, actor, keyring) if binding_id in row.binding_ids),
            None,
        )
        if shared is not None:
            reason = (
                f"phone bound to {shared.people} people, at {shared.other_members + 1} institutions"
            )
            return _draft(uow, binding_id, keyring, finding, Evidence.MEMBER_SUSPECTED, reason)
    elif finding is Finding.MANY_PHONES:
        many = next(
            (row for row in many_phones(uow, actor, keyring) if row.binding_id == binding_id),
            None,
        )
        if many is not None:
            reason = f"person with {many.phones} phones, at {many.other_members + 1} institutions"
            return _draft(uow, binding_id, keyring, finding, Evidence.MEMBER_SUSPECTED, reason)
    else:
        recycled = next(
            (
                row
                for row in recycled_still_bound(uow, actor, keyring)
                if row.binding_id == binding_id
            ),
            None,
        )
        if recycled is not None:
            given_up = recycled.released_at.date().isoformat() if recycled.released_at else None
            reason = "number given up by the person it is bound to" + (
                f" on {given_up}" if given_up else ""
            )
            return _draft(uow, binding_id, keyring, finding, Evidence.MEMBER_VERIFIED, reason)
    raise NotFound(f"{finding.value} finding", str(binding_id))


def _draft(
    uow: UnitOfWork,
    binding_id: int,
    keyring: Keyring,
    finding: Finding,
    evidence: Evidence,
    reason: str,
) -> ListingDraft:
    binding = uow.session.get(PhoneBindingRow, binding_id)
    assert binding is not None  # the view just found it
    if finding is Finding.MANY_PHONES:
        party = uow.session.get(PartyRow, binding.party_id)
        assert party is not None  # foreign key
        identifier = party_of(party, keyring).id_number.number
        kind = ListKind.ID_HASH
    else:
        identifier = keyring.decrypt(binding.phone_enc)
        kind = ListKind.PHONE_HASH
    return ListingDraft(kind, identifier, finding.value, evidence, reason)
