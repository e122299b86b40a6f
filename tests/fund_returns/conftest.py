"""Fixtures of the return tests: the police order tests' world (bank B001 holds A1 and A2,
bank B002 holds B1 and B2; police unit PSB1), its actors and engine, and a freeze of
¥6,000 on A1 that B001 executed."""

from __future__ import annotations

import pytest

from fundwall.crypto import Keyring
from fundwall.domain.police import OrderKind
from fundwall.police import OrderAnswer, OrderView, answer_order, issue_order
from police.conftest import BANK_A, OFFICER, Uow, engine, payer, request

__all__ = ["engine", "payer"]
FROZEN = 600_000


@pytest.fixture
def freeze(stocked: Uow, keyring: Keyring) -> OrderView:
    with stocked() as uow:
        order = issue_order(uow, OFFICER, request(OrderKind.FREEZE, amount_fen=FROZEN))
        return answer_order(uow, BANK_A, order.id, OrderAnswer(executed=True), keyring)
