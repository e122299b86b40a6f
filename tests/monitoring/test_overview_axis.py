"""The overview's time axis shows when transactions were decided as: a stamp far ahead of its
decision does not stretch it, a replayed history keeps its own days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Role
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.monitoring.overview import overview
from fundwall.store import UnitOfWork
from fundwall.store.mapping import decision_row, transaction_row

HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)


def test_a_stamp_far_ahead_is_drawn_when_it_was_decided(
    uow_factory: Callable[[], UnitOfWork], keyring: Keyring
) -> None:
    with uow_factory() as uow:
        world.build(uow, keyring)
    decided = world.START + timedelta(hours=20)  # 2024-03-06 05:00 in Beijing, after T5
    stamped = datetime(9999, 12, 31, tzinfo=UTC)
    with uow_factory() as uow:
        sent = Transaction(
            "AHEAD", stamped, TransactionKind.TRANSFER, "A1", "A2", world.BANK_A,
            world.BANK_A, Money(1), Channel.MOBILE,
        )  # fmt: skip
        uow.session.add(transaction_row(sent))
        decision = Decision("AHEAD", Action.PASS, 0, (), world.LIVE_PACK)
        uow.session.add(decision_row(decision, decided_at=decided))
        uow.commit()
        drawn = overview(uow, HUB)
    assert drawn.hourly
    assert drawn.buckets[0] == "2024-03-05 09:00"  # T1, at its own time (decided a second later)
    assert drawn.buckets[-1] == "2024-03-06 05:00"
    assert drawn.series[Action.PASS][-1] == 1
