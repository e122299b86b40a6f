"""The terms of an order an officer issues, checked before anything is written: its document
number and texts, the account a query, stop-payment or freeze names (its period, amount and
end), and the legal end of a stop-payment or freeze from a given moment. No actor here: whose
orders these are is decided by the use cases of `fundwall.police.orders`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.config import PolicySettings, Settings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.domain.police import OrderKind
from fundwall.engine.controls.changes import reference
from fundwall.engine.controls.model import RestrictionKind
from fundwall.police.model import OrderRequest, add_months, document_number
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.tables import AccountRow

ON_ACCOUNT: Final = frozenset({OrderKind.QUERY, OrderKind.STOP_PAYMENT, OrderKind.FREEZE})
"""Orders that name their account; a renewal or release takes its target's."""


def unused_document_number(session: Session, text: str) -> str:
    """The order's legal document number, checked and carried by no other order."""
    document_no = document_number(text)
    if session.scalars(
        select(PoliceOrderRow.id).where(PoliceOrderRow.document_no == document_no)
    ).first():
        raise Conflict(f"document number {document_no} is used by another order already")
    return document_no


def checked_text(value: str, field: str, longest: int) -> str:
    """A required text field stripped, bounded, printable and free of personal data."""
    stripped = (value or "").strip()
    if not stripped:
        raise InvalidInput("missing", field)
    if len(stripped) > longest or not stripped.isprintable():
        raise InvalidInput(f"at most {longest} printable characters", field)
    ensure_no_personal_data(stripped, field)
    return stripped


def legal_end(
    kind: OrderKind, start: datetime, major_case: bool, policy: PolicySettings
) -> datetime:
    """The end of one legal period of a stop-payment or freeze begun at `start`: hours for a
    stop-payment, calendar months for a freeze (more for a major case)."""
    if kind is OrderKind.STOP_PAYMENT:
        return start + timedelta(hours=policy.stop_payment_hours)
    months = policy.freeze_major_case_months if major_case else policy.freeze_months
    return add_months(start, months)


def set_account_terms(
    session: Session,
    row: PoliceOrderRow,
    kind: OrderKind,
    request: OrderRequest,
    settings: Settings,
    now: datetime,
) -> None:
    """A query, stop-payment or freeze: its account, amount, period and end, on `row`."""
    if request.target_document_no is not None:
        raise InvalidInput(f"a {kind.value} names an account, not an order", "target_document_no")
    if not request.account_no:
        raise InvalidInput("name the account", "account_no")
    account_no = reference(request.account_no, "account_no")
    account = session.get(AccountRow, account_no)
    if account is None:
        raise InvalidInput(
            f"no account {mask_account(account_no)} in the account directory", "account_no"
        )
    row.account_no, row.bank_code = account_no, account.institution_code
    if kind is OrderKind.QUERY:
        if request.amount_fen is not None:
            raise InvalidInput("a query has no amount", "amount_fen")
        row.period_from, row.period_to = _query_period(request, settings, now)
        return
    if account.status == AccountStatus.CLOSED.value:
        raise Conflict(f"account {mask_account(account_no)} is closed; nothing to restrict")
    if request.period_from is not None or request.period_to is not None:
        raise InvalidInput("only a query has a period", "period_from")
    if request.amount_fen is not None and (
        type(request.amount_fen) is not int or request.amount_fen <= 0
    ):
        raise InvalidInput("a whole, positive number of fen", "amount_fen")
    if kind is OrderKind.STOP_PAYMENT and _stopped(session, account_no, now):
        raise Conflict(
            f"account {mask_account(account_no)} is stopped already; renew that stop-payment "
            "instead"
        )
    row.amount_fen, row.starts_at = request.amount_fen, now
    row.ends_at = legal_end(kind, now, row.major_case, settings.policy)


def _query_period(
    request: OrderRequest, settings: Settings, now: datetime
) -> tuple[datetime, datetime]:
    start, end = request.period_from, request.period_to
    if start is None or end is None:
        raise InvalidInput("a query names its period: from and to", "period_from")
    for value, field in ((start, "period_from"), (end, "period_to")):
        if value.utcoffset() is None:
            raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", field)
    if end <= start:
        raise InvalidInput("the period ends after it starts", "period_to")
    if end > now:
        raise InvalidInput("the period ends in the future", "period_to")
    longest = settings.orders.query_max_days
    if end - start > timedelta(days=longest):
        raise InvalidInput(f"a query covers at most {longest} days", "period_from")
    return start, end


def _stopped(session: Session, account_no: str, now: datetime) -> bool:
    """Whether a stop-payment (an order's or any other) holds the account now."""
    found = session.scalars(
        select(AccountRestrictionRow.id).where(
            AccountRestrictionRow.account_no == account_no,
            AccountRestrictionRow.kind == RestrictionKind.STOP_PAYMENT.value,
            AccountRestrictionRow.lifted_at.is_(None),
            AccountRestrictionRow.starts_at <= now,
            (AccountRestrictionRow.ends_at.is_(None)) | (AccountRestrictionRow.ends_at > now),
        )
    ).first()
    return found is not None
