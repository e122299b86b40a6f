"""A case at each bank of the two-bank world (tests/auth/world.py) to send clues from, a
second police unit, and the actors of both sides.

The cases are table rows written here directly (the case workflow has its own tests):

    case A   at B001   accounts A1 (its own) and B1 (B002's, which A1 paid in T2)
                       alerts T1, T2; one evidence file (a PDF)
    case B   at B002   account B2, alert T4; no evidence
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Role
from fundwall.crypto import Keyring, sm3_hex
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.store import UnitOfWork
from fundwall.store.mapping import institution_row
from fundwall.store.police_tables import CaseAccountRow, CaseAlertRow, CaseEvidenceRow, CaseRow

Uow = Callable[[], UnitOfWork]

UNIT = "PSB1"
OTHER_UNIT = "PSB2"
EVIDENCE = b"%PDF-1.4 statement of the account holder's bank card sale\n"
OFFICER = Actor(ActorKind.USER, "pat", Role.POLICE_OFFICER, UNIT, 90)
UNIT_KEY = Actor(ActorKind.API_KEY, "kp1", Role.POLICE_SYSTEM, UNIT)
OTHER_OFFICER = Actor(ActorKind.USER, "quinn", Role.POLICE_OFFICER, OTHER_UNIT, 91)
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 92)
SUMMARY = "A1 received card-sale money and paid it on to B1 within the hour."


@dataclass(frozen=True)
class Cases:
    bank_a: int
    bank_b: int
    evidence: int


def add_case(
    uow: UnitOfWork,
    member: str,
    accounts: tuple[str, ...],
    alerts: tuple[str, ...],
    *,
    merged_into: int | None = None,
) -> int:
    """A case row of `member` with its accounts and alerts; flushed, not committed."""
    now = uow.clock.now()
    case = CaseRow(
        member_code=member,
        kind="account",
        subject=accounts[0],
        title=f"Case of {accounts[0]}",
        status="closed" if merged_into else "open",
        priority="high",
        opened_at=now,
        opened_by="user:ann@B001",
        deadline=now + timedelta(days=3),
        merged_into=merged_into,
        updated_at=now,
    )
    uow.session.add(case)
    uow.session.flush()
    uow.session.add_all(CaseAccountRow(case_id=case.id, account_no=a) for a in accounts)
    uow.session.add_all(CaseAlertRow(tx_id=t, case_id=case.id, added_at=now) for t in alerts)
    uow.session.flush()
    return case.id


@pytest.fixture
def cases(stocked: Uow, keyring: Keyring) -> Cases:
    with stocked() as uow:
        uow.session.add(
            institution_row(
                Institution(
                    OTHER_UNIT, OTHER_UNIT, OTHER_UNIT, InstitutionKind.POLICE_UNIT, "350200"
                )
            )
        )
        bank_a = add_case(uow, world.BANK_A, ("A1", "B1"), ("T1", "T2"))
        bank_b = add_case(uow, world.BANK_B, ("B2",), ("T4",))
        evidence = CaseEvidenceRow(
            case_id=bank_a,
            filename="statement.pdf",
            media_type="application/pdf",
            size_bytes=len(EVIDENCE),
            sm3=sm3_hex(EVIDENCE),
            content_enc=keyring.encrypt_bytes(EVIDENCE),
            added_at=uow.clock.now(),
            added_by="user:ann@B001",
        )
        uow.session.add(evidence)
        uow.session.flush()
        found = Cases(bank_a, bank_b, evidence.id)
        uow.commit()
    return found
