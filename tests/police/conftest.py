"""Fixtures of the police order tests: the two-bank world of tests/auth/world.py (bank B001
holds A1 and A2 with ¥10,000 each, bank B002 holds B1 and B2; police unit PSB1), its actors,
and a decision service over the same store to show what the engine enforces."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import count

import pytest

from auth import world  # tests/auth/world.py
from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.domain.money import Money
from fundwall.domain.police import OrderKind
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.service import DecisionService
from fundwall.police import OrderRequest
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
UNIT = "PSB1"
OFFICER = Actor(ActorKind.USER, "wang", Role.POLICE_OFFICER, UNIT, 71)
POLICE_KEY = Actor(ActorKind.API_KEY, "kp1", Role.POLICE_SYSTEM, UNIT)
OTHER_UNIT = Actor(ActorKind.USER, "li", Role.POLICE_OFFICER, "PSB9", 72)
BANK_A = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 1)
BANK_B = Actor(ActorKind.USER, "bob", Role.MEMBER_ANALYST, world.BANK_B, 3)
OPERATOR = Actor.operator("test")
BALANCE = 1_000_000
"""What each of the world's accounts holds (¥10,000)."""
STOP = "HC02"
FREEZE = "HC03"
FREE_BALANCE = "HC04"
"""The hard controls a stop-payment, a whole freeze and an amount restriction fire."""

_documents = count(1)


def request(kind: OrderKind, **changes: object) -> OrderRequest:
    """An order of PSB1 with a fresh document number, on A1 unless told otherwise."""
    number = next(_documents)
    fields: dict[str, object] = {
        "kind": kind,
        "document_no": f"厦公(思)字〔2024〕{number:04d}号",
        "officers": "王警官、李警官",
        "police_case_no": "A3502032024060001",
        "legal_basis": "《中华人民共和国反电信网络诈骗法》第三十二条",
        "account_no": "A1" if kind in (OrderKind.QUERY, OrderKind.STOP_PAYMENT,
                                        OrderKind.FREEZE) else None,
    }  # fmt: skip
    fields.update(changes)
    return OrderRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture
def engine(platform: Platform, stocked: Uow) -> Iterator[DecisionService]:
    service = platform.decision_service()
    try:
        yield service
    finally:
        service.close()


class Payer:
    """Pays from an account through the engine at the clock's time; says which hard
    controls fired."""

    def __init__(self, engine: DecisionService, clock: FixedClock) -> None:
        self.engine, self.clock = engine, clock
        self.numbers = count(1)

    def pays(self, fen: int, account: str = "A1", at: datetime | None = None) -> set[str]:
        tx = Transaction(
            f"P{next(self.numbers)}",
            at or self.clock.now(),
            TransactionKind.TRANSFER,
            account,
            "B2",
            world.BANK_A if account.startswith("A") else world.BANK_B,
            world.BANK_B,
            Money(fen),
            Channel.COUNTER,
        )
        return {reason.rule_id for reason in self.engine.decide(tx).reasons}


@pytest.fixture
def payer(engine: DecisionService, clock: FixedClock) -> Payer:
    return Payer(engine, clock)
