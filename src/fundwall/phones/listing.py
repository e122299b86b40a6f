"""From a phone investigation's finding to an entry of the shared risk list.

`listing_draft` turns one row of an investigation (named by its view and binding id) into a
`ListingDraft`: which kind of identifier (a phone or the person's resident ID), the raw
identifier, the category, the evidence level and a reason without any personal number. The
finding is read again through the view itself, so a draft exists only for a row the member
can see now. `publish_finding` hashes the identifier under the region's current sharing key
on the member's side and publishes it through the hub's use case (the raw identifier never
leaves the process).

A recycled number goes on the list as `recycled_phone`, verified (the registry said so); a
phone bound to several people, or a person with many phones, as `card_dealer`, suspected: the
pattern of a dealer opening batches of accounts on numbers they control, and a sign only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring, SharingKeys
from fundwall.domain.errors import Conflict, NotFound
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.phones.investigations import (
    MAX_DAYS,
    many_phones,
    recycled_still_bound,
    shared_phones,
)
from fundwall.sharing.model import NewEntry, Published
from fundwall.sharing.queries import in_force
from fundwall.sharing.risk_list import publish_entries
from fundwall.store.engine_tables import RiskListEntryRow
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
    category: RiskCategory
    evidence: Evidence
    reason: str

    def __repr__(self) -> str:
        return (
            f"ListingDraft(kind={self.kind.value}, category={self.category.value}, "
            f"evidence={self.evidence.value}, reason={self.reason!r})"
        )


@use_case(Permission.VIEW_CUSTOMER_DATA)
def listing_draft(
    uow: UnitOfWork, actor: Actor, finding: Finding, binding_id: int, keyring: Keyring
) -> ListingDraft:
    """The draft of a shared-list entry for the row of `finding`'s view whose binding is
    `binding_id`; NotFound when the member's view has no such row (another member's binding
    included). A recycled number is a finding however long ago it was given up."""
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
                for row in recycled_still_bound(uow, actor, keyring, days=MAX_DAYS)
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
    category = (
        RiskCategory.RECYCLED_PHONE
        if finding is Finding.RECYCLED_PHONE
        else RiskCategory.CARD_DEALER
    )
    return ListingDraft(kind, identifier, category, evidence, reason)


_HASH_KIND = {ListKind.PHONE_HASH: PHONE_HASH_KIND, ListKind.ID_HASH: ID_HASH_KIND}


@use_case(Permission.PUBLISH_RISK)
def publish_finding(
    uow: UnitOfWork,
    actor: Actor,
    finding: Finding,
    binding_id: int,
    keyring: Keyring,
    sharing: SharingKeys,
    *,
    reference: str | None = None,
) -> Published:
    """Publish the finding of `finding`'s view at `binding_id` to the shared risk list for the
    actor's member: its phone or person hashed under the current sharing key, its category
    and evidence as `listing_draft` says, the draft's reason as the entry's note (it names no
    personal number). The view's own check applies: NotFound for a row the member cannot
    see; Conflict when the member lists it in that category already."""
    draft = listing_draft(uow, actor, finding, binding_id, keyring)
    key = sharing.hash(_HASH_KIND[draft.kind], draft.identifier)
    listed = uow.session.scalar(
        select(RiskListEntryRow.id).where(
            RiskListEntryRow.kind == draft.kind.value,
            RiskListEntryRow.key == key,
            RiskListEntryRow.category == draft.category.value,
            RiskListEntryRow.reporting_member == actor.customer_member,
            in_force(uow.clock.now()),
        )
    )
    if listed is not None:  # a second click, or a second person of one phone
        raise Conflict(f"the member already lists it as {draft.category.value} (entry {listed})")
    entry = NewEntry(
        draft.kind, key, draft.category, draft.evidence, reference=reference, note=draft.reason
    )
    return publish_entries(uow, actor, [entry])
