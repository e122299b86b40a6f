"""What police orders (公安指令) are made of: an officer's request, the bank's answer, an order
as its lists and pages show it with its history, the lists' filter, and the documents.

The vocabulary (kinds, statuses) is `fundwall.domain.police`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from fundwall.domain.errors import InvalidInput
from fundwall.domain.police import OrderKind, OrderStatus

DOCUMENT_NO: Final = re.compile(r"[0-9A-Za-z\u4e00-\u9fff〔〕［］【】（）()\[\]._:/-]{4,64}")
"""A legal document number as police units write them, e.g. 厦公(思)冻字〔2024〕0042号 or
ZF-2024-0042: 4 to 64 letters, digits, Chinese characters and the brackets and separators
those numbers use; it must hold a digit."""


def document_number(text: str, field: str = "document_no") -> str:
    """A document number stripped and checked; InvalidInput naming `field` otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the legal document number is missing", field)
    stripped = text.strip()
    if DOCUMENT_NO.fullmatch(stripped) is None or not any(c.isdigit() for c in stripped):
        raise InvalidInput(
            "4 to 64 letters, digits, Chinese characters, brackets or '.', '_', ':', '/', '-', "
            "with a digit (e.g. 厦公(思)冻字〔2024〕0042号)",
            field,
        )
    return stripped


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` that many calendar months later, on the same day or the month's last day
    (31 January + 1 month is 29 February in a leap year)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class DocumentKind(StrEnum):
    """The official documents of an order, as PDF."""

    NOTICE = "notice"
    """协助查询/止付/冻结 … 通知书: the police unit's notice of assistance to the bank."""
    RECEIPT = "receipt"
    """回执: the bank's receipt, once it answered."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What an officer issues. A query, stop-payment or freeze names the account
    (`account_no`); a renewal or release names the order it acts on by that order's
    document number (`target_document_no`) and takes its account from it.

    `amount_fen` limits a stop-payment or freeze to an amount (None: the whole account);
    `period_from`/`period_to` are a query's period; `major_case` (重大案件) gives a freeze or
    its renewal the longer period. `police_unit` is for the server's operator only, who
    belongs to no unit; an officer's orders are its unit's.
    """

    kind: OrderKind
    document_no: str
    officers: str
    police_case_no: str
    legal_basis: str
    account_no: str | None = None
    amount_fen: int | None = None
    period_from: datetime | None = None
    period_to: datetime | None = None
    target_document_no: str | None = None
    major_case: bool = False
    police_unit: str | None = None


@dataclass(frozen=True, slots=True)
class OrderAnswer:
    """The bank's answer: executed (with `held_fen`, the balance actually held; None for
    what the ledger holds: the balance, up to the order's amount) or refused with `reason`."""

    executed: bool
    held_fen: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One step of an order's life, as both sides see it."""

    event: str
    at: datetime
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderItem:
    """An order as the lists show it; `remaining_seconds` is the time left until `ends_at`
    by the server's clock (None for an order without an end, 0 once past)."""

    id: int
    document_no: str
    kind: OrderKind
    status: OrderStatus
    police_unit: str
    bank_code: str
    account_no: str
    amount_fen: int | None
    issued_at: datetime
    ends_at: datetime | None
    renewals: int
    remaining_seconds: int | None


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order in full, with its answer and its history, oldest step first."""

    item: OrderItem
    officers: str
    police_case_no: str
    legal_basis: str
    major_case: bool
    period_from: datetime | None
    period_to: datetime | None
    target_order_id: int | None
    target_document_no: str | None
    starts_at: datetime | None
    issued_by: str
    answered_at: datetime | None
    answered_by: str | None
    held_fen: int | None
    refusal_reason: str | None
    answer: dict[str, Any] | None
    ended_at: datetime | None
    events: tuple[OrderEvent, ...] = field(default=())

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def status(self) -> OrderStatus:
        return self.item.status


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Which orders a list shows: of a kind, in a status, on an account, answered by the bank
    from `answered_from` until before `answered_until`; a page of them."""

    kind: OrderKind | None = None
    status: OrderStatus | None = None
    account_no: str | None = None
    page: int = 1
    answered_from: datetime | None = None
    answered_until: datetime | None = None
