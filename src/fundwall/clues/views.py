"""Reading clues: the bank's outbox, the police unit's inbox, a clue with its package and
history, the evidence files of a package, and the hub's counts.

The police unit a clue was sent to reads its holders in full (the accounts the sending
member holds): each such read is audited as an access to personal data, like unmasking a
holder on the account page. The sending bank reads its clue without holders (it has them on
its own account pages); the hub reads counts only.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.clues.model import (
    ANSWERS,
    ClueAccount,
    ClueCounts,
    ClueEvidence,
    ClueFilter,
    ClueHolder,
    ClueItem,
    ClueView,
)
from fundwall.clues.queries import (
    clue_item,
    clue_page,
    evidence_of,
    find_clue,
    package_accounts,
    plain_accounts,
    sent_by_member,
    sent_to_unit,
    view_of,
)
from fundwall.crypto import Keyring
from fundwall.domain.errors import NotFound
from fundwall.domain.identity import mask_account
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.police import ClueStatus
from fundwall.store.mapping import party_of
from fundwall.store.paging import Page
from fundwall.store.police_tables import CaseEvidenceRow, ClueAccountRow, ClueRow
from fundwall.store.tables import InstitutionRow, PartyRow
from fundwall.store.uow import UnitOfWork

ClueListing = Callable[[UnitOfWork, Actor, ClueFilter], Page[ClueItem]]
"""`clue_outbox` or `clue_inbox`: the entrypoints list either the same way."""


@use_case(Permission.SEND_CLUES)
def clue_outbox(uow: UnitOfWork, actor: Actor, wanted: ClueFilter) -> Page[ClueItem]:
    """The clues the member sent, latest change first."""
    return clue_page(uow.session, sent_by_member(actor), wanted)


@use_case(Permission.ANSWER_CLUES)
def clue_inbox(uow: UnitOfWork, actor: Actor, wanted: ClueFilter) -> Page[ClueItem]:
    """The clues sent to the actor's police unit, latest change first."""
    return clue_page(uow.session, sent_to_unit(actor), wanted)


@use_case(Permission.SEND_CLUES)
def sent_clue(uow: UnitOfWork, actor: Actor, clue_id: int) -> ClueView:
    """One of the member's clues with its package (no holders) and history; NotFound for
    any other."""
    clue = find_clue(uow.session, clue_id, sent_by_member(actor))
    return view_of(uow.session, clue, plain_accounts(uow.session, clue))


@use_case(Permission.SEND_CLUES)
def case_clues(uow: UnitOfWork, actor: Actor, case_id: int) -> list[ClueItem]:
    """The clues the member sent from one of its cases, oldest first (none for a case that
    is not the member's)."""
    count = (
        select(func.count())
        .where(ClueAccountRow.clue_id == ClueRow.id)
        .correlate(ClueRow)
        .scalar_subquery()
    )
    rows = uow.session.execute(
        select(ClueRow, count)
        .where(ClueRow.case_id == case_id, sent_by_member(actor))
        .order_by(ClueRow.id)
    ).all()
    return [clue_item(row) for row in rows]


@use_case(Permission.SEND_CLUES)
def police_units(uow: UnitOfWork, actor: Actor) -> list[tuple[str, str, str]]:
    """The police units a clue may go to: code, Chinese and English name."""
    rows = uow.session.execute(
        select(InstitutionRow.code, InstitutionRow.name_zh, InstitutionRow.name_en)
        .where(InstitutionRow.kind == InstitutionKind.POLICE_UNIT.value)
        .order_by(InstitutionRow.code)
    ).all()
    return [(code, zh, en) for code, zh, en in rows]


@use_case(Permission.ANSWER_CLUES)
def get_clue(uow: UnitOfWork, actor: Actor, clue_id: int, keyring: Keyring) -> ClueView:
    """A clue sent to the actor's police unit, with its package as the police see it: the
    holders of the accounts the sending member holds in full. The read is audited (which
    parties, which fields) and committed; NotFound for another unit's clue."""
    session = uow.session
    clue = find_clue(session, clue_id, sent_to_unit(actor))
    accounts = []
    parties = []
    for number, row in package_accounts(session, clue):
        holder = None
        if row is not None and row.institution_code == clue.member_code:
            party_row = session.get(PartyRow, row.party_id)
            assert party_row is not None  # foreign key
            party = party_of(party_row, keyring)
            holder = ClueHolder(
                party.party_id,
                party.kind,
                party.name,
                party.id_number.number,
                party.phone.number if party.phone else None,
            )
            parties.append(party.party_id)
        accounts.append(ClueAccount(number, row.institution_code if row else None, holder))
    if parties:
        uow.audit.record(
            actor,
            "unmask_personal_data",
            f"clue:{clue.id}",
            {
                "parties": parties,
                "accounts": [mask_account(a.account_no) for a in accounts if a.holder],
                "fields": ["name", "id_number", "phone"],
                "purpose": f"clue {clue.id} sent to {clue.police_unit}",
            },
        )
        uow.commit()
    current = ClueStatus(clue.status)
    answers = tuple(status for status, after in ANSWERS.items() if current in after)
    return view_of(session, clue, tuple(accounts), answers)


@use_case(Permission.ANSWER_CLUES)
def clue_evidence(
    uow: UnitOfWork, actor: Actor, clue_id: int, evidence_id: int, keyring: Keyring
) -> tuple[ClueEvidence, bytes]:
    """An evidence file of a clue sent to the actor's police unit, decrypted; audited and
    committed. NotFound for a file the clue's package does not hold."""
    session = uow.session
    clue = find_clue(session, clue_id, sent_to_unit(actor))
    row = session.get(CaseEvidenceRow, evidence_id)
    if row is None or evidence_id not in clue.package["evidence_ids"]:
        raise NotFound("evidence", str(evidence_id))
    content = keyring.decrypt_bytes(row.content_enc)
    uow.audit.record(
        actor,
        "clue_evidence_read",
        f"clue:{clue.id}",
        {"evidence": row.id, "sm3": row.sm3, "bytes": row.size_bytes},
    )
    uow.commit()
    return evidence_of(row), content


@use_case(Permission.VIEW_REGION)
def clue_counts(uow: UnitOfWork, actor: Actor) -> ClueCounts:
    """How many clues are in each status, in the region and member by member; no content."""
    rows = uow.session.execute(
        select(ClueRow.member_code, ClueRow.status, func.count()).group_by(
            ClueRow.member_code, ClueRow.status
        )
    ).all()
    by_status = dict.fromkeys(ClueStatus, 0)
    by_member: dict[str, dict[ClueStatus, int]] = {}
    for member, status, count in sorted(rows):
        by_status[ClueStatus(status)] += count
        by_member.setdefault(member, dict.fromkeys(ClueStatus, 0))[ClueStatus(status)] += count
    return ClueCounts(by_status, by_member)
