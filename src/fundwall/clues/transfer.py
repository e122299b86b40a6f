"""Sending a clue from a case to a police unit, and the police's answers: the use cases that
change a clue. Each checks whose clue or case it is, writes the clue's history and an audit
record, and commits once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import transactions_visible
from fundwall.auth.usecase import use_case
from fundwall.cases.queries import accounts_in, alerts_in, evidence_items
from fundwall.clues.model import (
    ANSWERS,
    MAX_ACCOUNTS,
    MAX_EVIDENCE,
    MAX_RECOVERED_FEN,
    MAX_SUSPECTS,
    MAX_TRANSACTIONS,
    SUMMARY_MAX,
    SUMMARY_MIN,
    ClueAnswer,
    ClueView,
)
from fundwall.clues.queries import find_clue, plain_accounts, sent_to_unit, view_of
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.police import ClueStatus, police_case_number
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.police_tables import (
    REASON,
    CaseRow,
    ClueAccountRow,
    ClueEventRow,
    ClueRow,
)
from fundwall.store.tables import ID, AccountRow, InstitutionRow, TransactionRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.SEND_CLUES)
def send_clue(
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    police_unit: str,
    summary: str,
    *,
    accounts: Sequence[str] | None = None,
    tx_ids: Sequence[str] | None = None,
    evidence_ids: Sequence[int] | None = None,
) -> ClueView:
    """Send a clue from one of the member's cases to `police_unit`, audited and committed.

    The package defaults to the case's accounts, its alerts' transactions and all its
    evidence. Each account must be one the member holds or a party to one of its
    transactions; each transaction one the member pays or receives; each evidence file one
    of the case's. The same case goes to the same unit again only after the unit rejected
    every clue it had from it (Conflict otherwise).
    """
    session = uow.session
    case = _member_case(session, actor, case_id)
    unit = _police_unit(session, police_unit)
    text = _summary(summary)
    numbers = _accounts(session, actor, case, accounts)
    txs = _transactions(session, actor, case, tx_ids)
    files = _evidence(session, case, evidence_ids)
    pending = session.scalars(
        select(ClueRow.id).where(
            ClueRow.case_id == case.id,
            ClueRow.police_unit == unit,
            ClueRow.status != ClueStatus.REJECTED.value,
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"case {case.id} already went to {unit} as clue {pending}; it may go again only "
            "once the police have rejected it"
        )
    now = uow.clock.now()
    clue = ClueRow(
        case_id=case.id,
        member_code=case.member_code,
        police_unit=unit,
        summary=text,
        package={"accounts": numbers, "tx_ids": txs, "evidence_ids": files},
        status=ClueStatus.SENT.value,
        sent_at=now,
        sent_by=actor.audit_id,
        updated_at=now,
    )
    session.add(clue)
    session.flush()
    session.add_all(ClueAccountRow(clue_id=clue.id, account_no=number) for number in numbers)
    counts = {"accounts": len(numbers), "transactions": len(txs), "evidence": len(files)}
    session.add(
        ClueEventRow(
            clue_id=clue.id,
            status=ClueStatus.SENT.value,
            detail=counts,
            at=now,
            actor=actor.audit_id,
        )
    )
    uow.audit.record(
        actor, "clue_send", f"clue:{clue.id}", {"case": case.id, "police_unit": unit, **counts}
    )
    uow.commit()
    return view_of(session, clue, plain_accounts(session, clue))


@use_case(Permission.ANSWER_CLUES)
def answer_clue(uow: UnitOfWork, actor: Actor, clue_id: int, answer: ClueAnswer) -> ClueView:
    """The police unit's answer to a clue sent to it, audited and committed; a Conflict
    naming the clue's status when the answer cannot follow it. Accepting puts the clue's
    accounts into the unit's police scope (`fundwall.auth.tenancy`)."""
    session = uow.session
    clue = find_clue(session, clue_id, sent_to_unit(actor))
    before = ClueStatus(clue.status)
    if before not in ANSWERS.get(answer.status, frozenset()):
        raise Conflict(f"clue {clue_id} is {before.value}: it cannot be answered {answer.status}")
    detail = _answer_detail(answer)
    now = uow.clock.now()
    clue.status = answer.status.value
    clue.updated_at = now
    if answer.status is ClueStatus.ACCEPTED:
        clue.police_case_no = str(detail["police_case_no"])
    elif answer.status is ClueStatus.REJECTED:
        clue.reason = str(detail["reason"])
    elif answer.status is ClueStatus.RESULT:
        clue.suspects_caught = answer.suspects_caught
        clue.recovered_fen = answer.recovered_fen
    session.add(
        ClueEventRow(
            clue_id=clue.id, status=answer.status.value, detail=detail, at=now, actor=actor.audit_id
        )
    )
    uow.audit.record(
        actor,
        "clue_answer",
        f"clue:{clue.id}",
        {"status": [before.value, answer.status.value], **detail},
    )
    uow.commit()
    return view_of(session, clue, plain_accounts(session, clue))


def _member_case(session: Session, actor: Actor, case_id: int) -> CaseRow:
    case = session.scalars(
        select(CaseRow).where(CaseRow.id == case_id, CaseRow.member_code == actor.member)
    ).one_or_none()
    if case is None or actor.member is None:
        raise NotFound("case", str(case_id))
    if case.merged_into is not None:
        raise Conflict(
            f"case {case.id} was merged into case {case.merged_into}: send from that case"
        )
    return case


def _police_unit(session: Session, code: str) -> str:
    code = code.strip()
    row = session.get(InstitutionRow, code) if 0 < len(code) <= ID else None
    if row is None or row.kind != InstitutionKind.POLICE_UNIT.value:
        raise InvalidInput(f"{code or 'nothing'} is not a police unit", "police_unit")
    return row.code


def _summary(summary: str) -> str:
    text = summary.strip()
    if not SUMMARY_MIN <= len(text) <= SUMMARY_MAX:
        raise InvalidInput(
            f"a summary of {SUMMARY_MIN} to {SUMMARY_MAX} characters is needed", "summary"
        )
    ensure_no_personal_data(text, "summary")
    return text


def _distinct(values: Sequence[str], field: str, most: int) -> list[str]:
    if len(values) > most:
        raise InvalidInput(f"at most {most} in one clue", field)
    wanted = list(dict.fromkeys(value.strip() for value in values))
    for index, value in enumerate(wanted):
        if not 0 < len(value) <= ID:
            raise InvalidInput(f"1 to {ID} characters", f"{field}[{index}]")
    return wanted


def _accounts(
    session: Session, actor: Actor, case: CaseRow, given: Sequence[str] | None
) -> list[str]:
    """The accounts of the package: each held by the member, or a party to one of the
    transactions it pays or receives (a counterparty it dealt with)."""
    if given is None:
        given = sorted(accounts_in(session, case.id))
    numbers = _distinct(given, "accounts", MAX_ACCOUNTS)
    if not numbers:
        raise InvalidInput("a clue names at least one account", "accounts")
    held = select(AccountRow.account_no).where(
        AccountRow.account_no.in_(numbers), AccountRow.institution_code == case.member_code
    )
    paid = select(TransactionRow.payer_account).where(
        TransactionRow.payer_account.in_(numbers), transactions_visible(actor)
    )
    received = select(TransactionRow.payee_account).where(
        TransactionRow.payee_account.in_(numbers), transactions_visible(actor)
    )
    known = set(session.scalars(union(held, paid, received)))
    for index, number in enumerate(numbers):
        if number not in known:
            raise InvalidInput(
                f"account {number} is neither held by {case.member_code} nor a party to "
                "its transactions",
                f"accounts[{index}]",
            )
    return numbers


def _transactions(
    session: Session, actor: Actor, case: CaseRow, given: Sequence[str] | None
) -> list[str]:
    if given is None:
        given = sorted(alerts_in(session, case.id))
    tx_ids = _distinct(given, "tx_ids", MAX_TRANSACTIONS)
    visible = set(
        session.scalars(
            select(TransactionRow.tx_id).where(
                TransactionRow.tx_id.in_(tx_ids), transactions_visible(actor)
            )
        )
    )
    for index, tx_id in enumerate(tx_ids):
        if tx_id not in visible:
            raise InvalidInput(
                f"transaction {tx_id} is not one {case.member_code} pays or receives",
                f"tx_ids[{index}]",
            )
    return tx_ids


def _evidence(session: Session, case: CaseRow, given: Sequence[int] | None) -> list[int]:
    of_case = [item.id for item in evidence_items(session, case.id)]
    if given is None:
        return of_case
    if len(given) > MAX_EVIDENCE:
        raise InvalidInput(f"at most {MAX_EVIDENCE} in one clue", "evidence_ids")
    wanted = list(dict.fromkeys(given))
    for index, evidence_id in enumerate(wanted):
        if evidence_id not in of_case:
            raise InvalidInput(
                f"evidence {evidence_id} is not a file of case {case.id}",
                f"evidence_ids[{index}]",
            )
    return wanted


def _answer_detail(answer: ClueAnswer) -> dict[str, object]:
    """What the answer records (in the clue, its history and the audit), checked: what its
    status needs is there and well formed, and nothing else is given."""
    needed = {
        ClueStatus.RECEIVED: (),
        ClueStatus.ACCEPTED: ("police_case_no",),
        ClueStatus.REJECTED: ("reason",),
        ClueStatus.RESULT: ("suspects_caught", "recovered_fen"),
    }[answer.status]
    given = {
        "police_case_no": answer.police_case_no,
        "reason": answer.reason,
        "suspects_caught": answer.suspects_caught,
        "recovered_fen": answer.recovered_fen,
    }
    for name, value in given.items():
        if value is None and name in needed:
            raise InvalidInput(f"needed to answer {answer.status.value}", name)
        if value is not None and name not in needed:
            raise InvalidInput(f"not part of answering {answer.status.value}", name)
    detail: dict[str, object] = {}
    if answer.police_case_no is not None:
        detail["police_case_no"] = police_case_number(answer.police_case_no)
    if answer.reason is not None:
        reason = answer.reason.strip()
        if not 2 <= len(reason) <= REASON:
            raise InvalidInput(f"a reason of 2 to {REASON} characters", "reason")
        ensure_no_personal_data(reason, "reason")
        detail["reason"] = reason
    for name, most in (("suspects_caught", MAX_SUSPECTS), ("recovered_fen", MAX_RECOVERED_FEN)):
        value = given[name]
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
                raise InvalidInput(f"a whole number from 0 to {most}", name)
            detail[name] = value
    return detail
