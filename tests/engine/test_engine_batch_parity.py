"""A batch decided together (`DecisionCore.decide_many`, the service's batch path) gives the
very decisions, and leaves the very state, that deciding its transactions one by one does:
on random streams over random control books and limits, with repeated transaction ids inside
and across batches, accounts that pay and receive within one batch, transactions stamped
before the ones ahead of them (decided as of the latest time), and logins between batches.
The features' own batch path is held to `observe` in tests/engine/features."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
from engine_fixtures import counting_pack, directory, quiet_pack, shadow_pack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_values import engine_values
from test_engine_controls_parity import DEVICES, NUMBERS, books, policies, streams

from fundwall.config import PolicySettings
from fundwall.domain.decisions import Decision
from fundwall.domain.devices import FaceCheck, LoginEvent
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine import core as core_module
from fundwall.engine.controls import ControlBook
from fundwall.engine.core import DecisionCore, Outcome
from fundwall.engine.features import TxEvent
from fundwall.engine.rules import RulePack, default_pack
from fundwall.engine.service import DecisionService

PACKS = [
    (default_pack, counting_pack),
    (quiet_pack, shadow_pack),
    (counting_pack, None),
]
"""Live and shadow packs: the default pack, which reads most features, and small packs whose
rules fire often on the streams (the ¥777 block, the ¥500 alert, the hour's count)."""


def transaction(event: TxEvent) -> Transaction:
    return Transaction(
        event.tx_id,
        event.ts,
        TransactionKind(event.kind),
        event.payer_account,
        event.payee_account,
        event.payer_bank,
        event.payee_bank,
        Money(event.amount_fen),
        Channel(event.channel),
        event.device_id,
        event.ip,
        event.city,
    )


def new_core(control_book: ControlBook, policy: PolicySettings, packs: int) -> DecisionCore:
    live, shadow = PACKS[packs]
    trial: RulePack | None = None if shadow is None else shadow()
    return DecisionCore(directory(), copy.deepcopy(control_book), policy, live(), trial)


def timeless(decision: Decision | None) -> Decision | None:
    """The decision without its latency, which no two runs share."""
    return None if decision is None else replace(decision, latency_us=None)


def outcomes_of(outcomes: Sequence[Outcome]) -> list[tuple[Decision | None, Decision | None]]:
    return [(timeless(o.decision), timeless(o.shadow)) for o in outcomes]


@st.composite
def cuts(draw: st.DrawFn, size: int) -> list[int]:
    """Where a stream of `size` submissions is cut into batches (each cut a batch's end)."""
    ends = draw(st.sets(st.integers(1, max(size - 1, 1)), max_size=4))
    return sorted(ends | {size})


def batches_of(items: Sequence[Transaction], ends: Sequence[int]) -> list[list[Transaction]]:
    starts = [0, *ends[:-1]]
    return [list(items[start:end]) for start, end in zip(starts, ends, strict=True)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    streams(),
    books(),
    policies(),
    st.integers(0, len(PACKS) - 1),
    st.sampled_from([1, core_module.BULK_ROWS]),
    st.data(),
)
def test_a_batch_decides_as_one_by_one_and_leaves_the_same_state(
    events: list[TxEvent],
    control_book: ControlBook,
    policy: PolicySettings,
    packs: int,
    bulk_rows: int,
    data: st.DataObject,
) -> None:
    ends = data.draw(cuts(len(events)))
    one_by_one = new_core(control_book, policy, packs)
    together = new_core(control_book, policy, packs)
    expected = outcomes_of([one_by_one.decide(event) for event in events])
    decided = []
    # With 1, every batch's vectors go through the packs' bulk evaluation.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core_module, "BULK_ROWS", bulk_rows)
        starts = [0, *ends[:-1]]
        for start, end in zip(starts, ends, strict=True):
            decided += together.decide_many(events[start:end])
    assert outcomes_of(decided) == expected
    assert engine_values(together) == engine_values(one_by_one)


@st.composite
def submissions(draw: st.DrawFn) -> list[Transaction]:
    """A stream in which some transactions are sent again (the same content, a later place):
    right after themselves, later in the same batch or in a later one."""
    sent = [transaction(event) for event in draw(streams())]
    for _ in range(draw(st.integers(0, 6))):
        earlier = draw(st.integers(0, len(sent) - 1))
        sent.insert(draw(st.integers(earlier + 1, len(sent))), sent[earlier])
    return sent


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions(), books(), policies(), st.integers(0, len(PACKS) - 1), st.data())
def test_the_service_decides_a_batch_with_repeats_as_one_by_one(
    sent: list[Transaction],
    control_book: ControlBook,
    policy: PolicySettings,
    packs: int,
    data: st.DataObject,
) -> None:
    one_by_one = DecisionService(new_core(control_book, policy, packs))
    together = DecisionService(new_core(control_book, policy, packs))
    expected = [timeless(one_by_one.decide(tx)) for tx in sent]
    answers = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core_module, "BULK_ROWS", 1)
        for batch in batches_of(sent, data.draw(cuts(len(sent)))):
            answers += [timeless(decision) for decision in together.decide_batch(batch)]
    assert answers == expected
    assert engine_values(together.core) == engine_values(one_by_one.core)


@st.composite
def logins_among(draw: st.DrawFn, events: Sequence[TxEvent]) -> list[tuple[int, LoginEvent]]:
    """Logins to the streams' accounts, each delivered before the transaction at its index
    and stamped near that transaction's time (a µs before, at, or hours before)."""
    logins = []
    for i in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(events) - 1))
        back = draw(st.sampled_from([0, 1, 3_600_000_000, 30 * 3_600_000_000]))
        logins.append(
            (
                at,
                LoginEvent(
                    f"L{i}",
                    draw(st.sampled_from([n for n in NUMBERS if n != "EXT"])),
                    events[at].ts - timedelta(microseconds=back),
                    draw(st.sampled_from([*DEVICES, "DV9"])),
                    None,
                    None,
                    draw(st.sampled_from(list(FaceCheck))),
                ),
            )
        )
    return sorted(logins, key=lambda entry: entry[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), books(), policies(), st.integers(0, len(PACKS) - 1), st.data())
def test_batches_with_logins_between_them_decide_as_one_by_one(
    events: list[TxEvent],
    control_book: ControlBook,
    policy: PolicySettings,
    packs: int,
    data: st.DataObject,
) -> None:
    """A batch ends where a login is delivered; the login is folded by both before the
    transaction it precedes."""
    logins = data.draw(logins_among(events))
    one_by_one = new_core(control_book, policy, packs)
    together = new_core(control_book, policy, packs)
    expected = []
    for i, event in enumerate(events):
        for _, login in (entry for entry in logins if entry[0] == i):
            one_by_one.observe_login(login)
        expected.append(one_by_one.decide(event))
    ends = sorted(set(data.draw(cuts(len(events)))) | {at for at, _ in logins if at > 0})
    decided = []
    for start, end in zip([0, *ends[:-1]], ends, strict=True):
        for _, login in (entry for entry in logins if entry[0] == start):
            together.observe_login(login)
        decided += together.decide_many(events[start:end])
    assert outcomes_of(decided) == outcomes_of(expected)
    assert engine_values(together) == engine_values(one_by_one)
