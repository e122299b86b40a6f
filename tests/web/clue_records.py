"""Clues in the console tests' region: what the route access test asks about.

Each bank sends a clue from a case about its own account to a police unit that is not the
demo officer's (so the officer finds neither). The first bank also sends one, from another
case about the same account with one evidence file, to the demo officer's unit: the clue
the officer answers and downloads from (answering shows no account: it returns to the page).
Cases are table rows written here (the case workflow has its own tests); clues go through
`send_clue`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fundwall.bootstrap import Platform
from fundwall.clues import send_clue
from fundwall.crypto import sm3_hex
from fundwall.domain.institutions import InstitutionKind
from fundwall.members import get_user
from fundwall.store import UnitOfWork
from fundwall.store.police_tables import CaseAccountRow, CaseEvidenceRow, CaseRow, ClueRow
from fundwall.store.tables import InstitutionRow

SUMMARY = "The account took in scam money and paid it straight on."
EVIDENCE = b"bank statement of the case"


def _case(uow: UnitOfWork, member: str, account_no: str) -> int:
    now = uow.clock.now()
    case = CaseRow(
        member_code=member,
        kind="account",
        subject=account_no,
        title="Clue route test",
        status="open",
        priority="normal",
        opened_at=now,
        opened_by="system:test",
        deadline=now + timedelta(days=3),
        updated_at=now,
    )
    uow.session.add(case)
    uow.session.flush()
    uow.session.add(CaseAccountRow(case_id=case.id, account_no=account_no))
    return case.id


def add_clues(platform: Platform, banks: dict[str, tuple[str, str]], police_unit: str) -> None:
    """`banks`: each bank's code → (its account, the user who sends)."""
    with platform.unit_of_work() as uow:
        other_unit = uow.session.scalars(
            select(InstitutionRow.code).where(
                InstitutionRow.kind == InstitutionKind.POLICE_UNIT.value,
                InstitutionRow.code != police_unit,
            )
        ).first()
        assert other_unit is not None, "the region has one police unit only"
        cases = {bank: _case(uow, bank, account) for bank, (account, _) in banks.items()}
        first = next(iter(banks))
        police_case = _case(uow, first, banks[first][0])
        uow.session.add(
            CaseEvidenceRow(
                case_id=police_case,
                filename="statement.txt",
                media_type="text/plain",
                size_bytes=len(EVIDENCE),
                sm3=sm3_hex(EVIDENCE),
                content_enc=platform.keyring.encrypt_bytes(EVIDENCE),
                added_at=uow.clock.now(),
                added_by="system:test",
            )
        )
        uow.commit()
        for bank, (_, user) in banks.items():
            sender = get_user(uow, platform.operator, user).actor()
            send_clue(uow, sender, cases[bank], other_unit, SUMMARY, tx_ids=[])
            if bank == first:
                send_clue(uow, sender, police_case, police_unit, SUMMARY, tx_ids=[])


def clue_values(uow: UnitOfWork, bank: str, police_unit: str) -> dict[str, str]:
    """The placeholders of the clue routes: the bank's clue and case (`{clue_id}`,
    `{case_id}`), the demo officer's unit (`{police_unit}`) and the clue it has, with its
    evidence file."""
    own = uow.session.scalars(
        select(ClueRow).where(ClueRow.member_code == bank, ClueRow.police_unit != police_unit)
    ).one()
    theirs = uow.session.scalars(select(ClueRow).where(ClueRow.police_unit == police_unit)).one()
    return {
        "clue_id": str(own.id),
        "case_id": str(own.case_id),
        "police_clue_id": str(theirs.id),
        "police_evidence_id": str(theirs.package["evidence_ids"][0]),
        "police_unit": police_unit,
    }
