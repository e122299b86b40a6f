"""The bank–police collaboration's vocabulary (银警协作): police orders and clues.

An order's life: issued (in force at once for a stop-payment or freeze) → executed or refused
by the holding bank → renewed (a renewal order), and in the end expired (its time ran out) or
released (an unfreeze / release order). A clue's: sent by a bank → received → accepted (with
the police case number) or rejected (with a reason) → result (suspects caught, money
recovered).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from fundwall.domain.errors import InvalidInput

POLICE_CASE_NO: Final = re.compile(r"[A-Z][0-9]{12,30}")
"""A police case number (案件编号): a letter and 12 to 30 digits, as in
A3502035100002024030001 (the letter, the unit's 12-digit code, year, month, a sequence)."""


def police_case_number(text: str, field: str = "police_case_no") -> str:
    """The police case number, upper-cased; InvalidInput naming `field` if malformed. The
    same number names the case on the police's orders and on the clues they accept."""
    number = text.strip().upper() if isinstance(text, str) else ""
    if not POLICE_CASE_NO.fullmatch(number):
        raise InvalidInput(
            "a police case number is a letter and 12 to 30 digits, such as A3502035100002024030001",
            field,
        )
    return number


class OrderKind(StrEnum):
    QUERY = "query"
    """账户查询: holder, balance and the transactions of a period, answered by the bank."""
    STOP_PAYMENT = "stop_payment"
    """紧急止付: money may come in, nothing (or nothing beyond the free balance) goes out."""
    FREEZE = "freeze"
    """冻结: the whole account, or an amount of it."""
    RENEWAL = "renewal"
    """续止付 / 续冻: extends a stop-payment or freeze in force."""
    RELEASE = "release"
    """解除止付 / 解冻: ends a stop-payment or freeze before its time."""


RESTRICTING_ORDERS: Final = frozenset({OrderKind.STOP_PAYMENT, OrderKind.FREEZE})
"""Orders that restrict an account themselves (a renewal or release acts on one of these)."""


class OrderStatus(StrEnum):
    ISSUED = "issued"
    """Issued and routed; the bank has not answered yet (a restriction is already in force)."""
    EXECUTED = "executed"
    """The bank answered: executed (with the balance held, or the query's answer)."""
    REFUSED = "refused"
    """The bank refused, with a reason; a restriction the order put in force is lifted."""
    EXPIRED = "expired"
    """Its time ran out; the engine stopped enforcing it at that moment."""
    RELEASED = "released"
    """Ended early by a release order."""


class OrderEventKind(StrEnum):
    """A step of an order's history: its statuses, and a renewal (which leaves the status)."""

    ISSUED = "issued"
    EXECUTED = "executed"
    REFUSED = "refused"
    RENEWED = "renewed"
    EXPIRED = "expired"
    RELEASED = "released"


IN_SCOPE_ORDER_STATUSES: Final = frozenset(OrderStatus) - {OrderStatus.REFUSED}
"""Orders whose account is in their police unit's scope: all but refused ones (an expired or
released order's account stays open to the case that ordered it)."""


class ClueStatus(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    """Accepted, with the police case number (立案)."""
    REJECTED = "rejected"
    """Rejected, with a reason (不予立案)."""
    RESULT = "result"
    """The police reported a result: suspects caught, money recovered."""


IN_SCOPE_CLUE_STATUSES: Final = frozenset({ClueStatus.ACCEPTED, ClueStatus.RESULT})
"""Clues whose accounts are in their police unit's scope: accepted ones (a result follows
acceptance)."""
