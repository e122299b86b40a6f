"""Clues in the console tests' region: what the route access test asks about.

Each bank's analyst opens a case about the bank's own account and sends a clue from it to a
police unit that is not the demo officer's (so the officer finds neither). The first bank's
analyst also opens another case about the same account, adds an evidence file and sends
that case's clue to the demo officer's unit: the clue the officer answers and downloads from
(answering shows no account: it returns to the page). Everything goes through the use cases
the console and the API call (`open_case`, `add_evidence`, `send_clue`), as the analysts.
"""

from __future__ import annotations

from sqlalchemy import select

from fundwall.auth import Actor
from fundwall.bootstrap import Platform
from fundwall.cases import CaseKind, add_evidence, open_case
from fundwall.clues import send_clue
from fundwall.domain.institutions import InstitutionKind
from fundwall.members import get_user
from fundwall.store import UnitOfWork
from fundwall.store.police_tables import ClueRow
from fundwall.store.tables import InstitutionRow

SUMMARY = "The account took in scam money and paid it straight on."
EVIDENCE = b"date,account,amount\n2024-03-01,statement of the case,100.00\n"


def _case(uow: UnitOfWork, analyst: Actor, account_no: str) -> int:
    """A case of the analyst's bank about its account `account_no`, with no alert."""
    return open_case(uow, analyst, CaseKind.ACCOUNT, account_no, title="Clue route test").case.id


def add_clues(platform: Platform, banks: dict[str, tuple[str, str]], police_unit: str) -> None:
    """`banks`: each bank's code → (its account, the analyst who opens and sends)."""
    with platform.unit_of_work() as uow:
        other_unit = uow.session.scalars(
            select(InstitutionRow.code).where(
                InstitutionRow.kind == InstitutionKind.POLICE_UNIT.value,
                InstitutionRow.code != police_unit,
            )
        ).first()
        assert other_unit is not None, "the region has one police unit only"
        first = next(iter(banks))
        for bank, (account, user) in banks.items():
            analyst = get_user(uow, platform.operator, user).actor()
            send_clue(uow, analyst, _case(uow, analyst, account), other_unit, SUMMARY, tx_ids=[])
            if bank == first:
                police_case = _case(uow, analyst, account)
                add_evidence(
                    uow,
                    analyst,
                    police_case,
                    "statement.csv",
                    "text/csv",
                    EVIDENCE,
                    platform.keyring,
                )
                send_clue(uow, analyst, police_case, police_unit, SUMMARY, tx_ids=[])


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
