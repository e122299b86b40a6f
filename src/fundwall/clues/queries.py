"""Clues in SQL, for the use cases of clue transfer: whose clues an actor reads, and a
clue's package read back from the keys it stores.

A member's actors read the clues their member sent (`ClueRow.member_code`); a police unit's
actors those sent to the unit (`ClueRow.police_unit`). Any other clue is not found, as one
that does not exist. An actor of no member reads none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, null, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.clues.model import (
    ClueAccount,
    ClueEvent,
    ClueEvidence,
    ClueFilter,
    ClueItem,
    ClueView,
)
from fundwall.domain.errors import NotFound
from fundwall.domain.police import ClueStatus
from fundwall.monitoring.transactions import TxItem, tx_item
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.police_tables import (
    CaseEvidenceRow,
    ClueAccountRow,
    ClueEventRow,
    ClueRow,
)
from fundwall.store.tables import AccountRow, TransactionRow


def sent_by_member(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `clues`: those the actor's member sent."""
    return false() if actor.member is None else ClueRow.member_code == actor.member


def sent_to_unit(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `clues`: those sent to the actor's police unit."""
    if actor.member is None or not actor.role.is_police:
        return false()
    return ClueRow.police_unit == actor.member


def find_clue(session: Session, clue_id: int, visible: ColumnElement[bool]) -> ClueRow:
    """The clue if `visible` admits it; NotFound otherwise."""
    row = session.scalars(select(ClueRow).where(ClueRow.id == clue_id, visible)).one_or_none()
    if row is None:
        raise NotFound("clue", str(clue_id))
    return row


def _account_count() -> Any:
    return (
        select(func.count())
        .where(ClueAccountRow.clue_id == ClueRow.id)
        .correlate(ClueRow)
        .scalar_subquery()
    )


def clue_item(row: Any) -> ClueItem:
    clue: ClueRow = row[0]
    return ClueItem(
        clue_id=clue.id,
        case_id=clue.case_id,
        member=clue.member_code,
        police_unit=clue.police_unit,
        status=ClueStatus(clue.status),
        accounts=int(row[1]),
        sent_at=clue.sent_at,
        updated_at=clue.updated_at,
        police_case_no=clue.police_case_no,
    )


def item_of(session: Session, clue: ClueRow) -> ClueItem:
    count = session.scalar(select(func.count()).where(ClueAccountRow.clue_id == clue.id))
    return clue_item((clue, count or 0))


def clue_page(session: Session, visible: ColumnElement[bool], wanted: ClueFilter) -> Page[ClueItem]:
    """The clues `visible` admits, newest change first, narrowed by `wanted`."""
    query: Select[Any] = select(ClueRow, _account_count()).where(visible)
    if wanted.status is not None:
        query = query.where(ClueRow.status == wanted.status.value)
    if wanted.sent_from is not None:
        query = query.where(ClueRow.sent_at >= wanted.sent_from)
    if wanted.sent_until is not None:
        query = query.where(ClueRow.sent_at < wanted.sent_until)
    query = query.order_by(ClueRow.updated_at.desc(), ClueRow.id.desc())
    return fetch_page(session, query, wanted.page, PAGE_SIZE, clue_item)


def package_accounts(session: Session, clue: ClueRow) -> list[tuple[str, AccountRow | None]]:
    """The clue's accounts in the order sent, each with its row (None outside the region)."""
    numbers: list[str] = list(clue.package["accounts"])
    rows = {
        row.account_no: row
        for row in session.scalars(select(AccountRow).where(AccountRow.account_no.in_(numbers)))
    }
    return [(number, rows.get(number)) for number in numbers]


def plain_accounts(session: Session, clue: ClueRow) -> tuple[ClueAccount, ...]:
    """The clue's accounts without holders."""
    return tuple(
        ClueAccount(number, row.institution_code if row else None)
        for number, row in package_accounts(session, clue)
    )


def package_transactions(session: Session, clue: ClueRow) -> tuple[TxItem, ...]:
    """The clue's transactions in time order, without decisions (the banks' own)."""
    rows = session.execute(
        select(TransactionRow, null(), null())
        .where(TransactionRow.tx_id.in_(list(clue.package["tx_ids"])))
        .order_by(TransactionRow.ts, TransactionRow.tx_id)
    ).all()
    return tuple(tx_item(row) for row in rows)


def evidence_of(row: CaseEvidenceRow) -> ClueEvidence:
    return ClueEvidence(
        row.id, row.filename, row.media_type, row.size_bytes, row.sm3, row.added_at, row.added_by
    )


def package_evidence(session: Session, clue: ClueRow) -> tuple[ClueEvidence, ...]:
    rows = session.scalars(
        select(CaseEvidenceRow)
        .where(CaseEvidenceRow.id.in_(list(clue.package["evidence_ids"])))
        .order_by(CaseEvidenceRow.id)
    )
    return tuple(evidence_of(row) for row in rows)


def history(session: Session, clue_id: int) -> tuple[ClueEvent, ...]:
    rows = session.scalars(
        select(ClueEventRow).where(ClueEventRow.clue_id == clue_id).order_by(ClueEventRow.id)
    )
    return tuple(ClueEvent(ClueStatus(r.status), r.at, r.actor, dict(r.detail)) for r in rows)


def view_of(
    session: Session,
    clue: ClueRow,
    accounts: tuple[ClueAccount, ...],
    answers: tuple[ClueStatus, ...] = (),
) -> ClueView:
    """The clue with its package (`accounts` as the reader may see them) and history."""
    return ClueView(
        item=item_of(session, clue),
        summary=clue.summary,
        reason=clue.reason,
        suspects_caught=clue.suspects_caught,
        recovered_fen=clue.recovered_fen,
        sent_by=clue.sent_by,
        accounts=accounts,
        transactions=package_transactions(session, clue),
        evidence=package_evidence(session, clue),
        history=history(session, clue.id),
        answers=answers,
    )
