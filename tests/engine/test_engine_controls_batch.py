"""The hard controls of a batch (`OnlineControls.check_many`, the controls' compiled pass
carried on from the online ledger) give the very hits, and leave the very ledger, that
`check` then `settle` of one transaction after another does: on random streams over random
control books (statuses, restrictions with and without amounts, caps, risk list entries,
punishment listings) and limits low enough to be reached, with batches spanning Beijing
midnights, restrictions read at a later time than the payment's (a service's `until`), and
transactions the rest of their decision blocks, which are never booked."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from engine_fixtures import T0, book, directory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_controls_parity import books, policies, streams

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.domain.money import MAX_FEN
from fundwall.engine.controls import ControlBook, OnlineControls, strongest_action
from fundwall.engine.controls.model import BALANCE, LEDGER_COLUMNS, MOST, Hit
from fundwall.engine.features import TxEvent
from fundwall.engine.features.inputs import micros

HOUR_US = 3600 * 1_000_000
BLOCK = Action.BLOCK.severity


def engine_times(events: Sequence[TxEvent]) -> list[int]:
    """Each event's time as the engine decides it: never before the one ahead of it."""
    times, clock = [], 0
    for event in events:
        clock = max(clock, micros(event.ts, event.tx_id))
        times.append(clock)
    return times


@st.composite
def batches(draw: st.DrawFn, size: int) -> list[tuple[int, int, int | None]]:
    """Cuts of a stream of `size` into batches: (start, end, how far ahead of the batch's
    last time the restrictions and lists are read; None: at each payment's own time)."""
    ends = sorted(draw(st.sets(st.integers(1, max(size - 1, 1)), max_size=4)) | {size})
    starts = [0, *ends[:-1]]
    ahead = st.one_of(st.none(), st.sampled_from([0, HOUR_US, 30 * HOUR_US]))
    return [(start, end, draw(ahead)) for start, end in zip(starts, ends, strict=True)]


def hits_of(hits: list[Hit]) -> list[tuple[int, str, object]]:
    return [(hit.control, hit.action.value, hit.reason) for hit in hits]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), books(), policies(), st.data())
def test_a_batch_of_controls_checks_and_books_as_one_by_one(
    events: list[TxEvent],
    control_book: ControlBook,
    policy: PolicySettings,
    data: st.DataObject,
) -> None:
    # What the packs and the model force, blocks among them: a blocked payment is not booked.
    forced = data.draw(
        st.lists(st.sampled_from([0, 0, 0, 1, 2, 3, BLOCK]), min_size=len(events),
                 max_size=len(events))
    )  # fmt: skip
    times = engine_times(events)
    one_by_one = OnlineControls(copy.deepcopy(control_book), directory(), policy)
    together = OnlineControls(copy.deepcopy(control_book), directory(), policy)
    expected, decided = [], []
    for start, end, ahead in data.draw(batches(len(events))):
        orders = [t if ahead is None else max(t, times[end - 1] + ahead) for t in times[start:end]]
        for i, at in zip(range(start, end), orders, strict=True):
            hits = one_by_one.check(events[i], times[i], at)
            severity = max(forced[i], strongest_action(hits).severity)
            one_by_one.settle(events[i], times[i], severity != BLOCK)
            expected.append(hits_of(hits))
        found = together.check_many(events[start:end], times[start:end], orders, forced[start:end])
        decided += [hits_of(hits) for hits in found]
    assert decided == expected
    # The entries and which accounts have one: an account that only ever paid while stopped,
    # with its payments blocked, has none either way.
    assert entries(together) == entries(one_by_one)


def entries(controls: OnlineControls) -> dict[str, list[int] | None]:
    """The ledger: each account's entry."""
    return {account: controls.ledger_entry(account) for account in controls.ledger_accounts()}


def test_a_blocked_payment_of_a_batch_leaves_a_stopped_payer_without_an_entry() -> None:
    """A closed payer's payment is stopped before its balance is read, and blocked: the
    ledger makes the payer no entry, as `check` and `settle` do not."""
    control_book = book({"A1": AccountStatus.CLOSED})
    event = TxEvent("x1", T0, "withdrawal", "A1", None, "301", None, 100, "mobile")
    controls = OnlineControls(control_book, directory(), PolicySettings())
    t = micros(T0, "x1")
    (hits,) = controls.check_many([event], [t], [t], [0])
    assert [hit.control_id for hit in hits] == ["HC01"]
    assert controls.ledger_entry("A1") is None and "A1" not in controls.ledger_accounts()


def test_a_ledger_figure_stops_at_its_bound_one_by_one_and_in_a_batch() -> None:
    """Payments of the largest amount into one account, one more than its int64 balance can
    take: every booking succeeds and the balance stops at `MOST`, alike one by one and in a
    batch; the next payment into it is still decided."""
    policy = PolicySettings()
    events = [
        TxEvent(f"x{i}", T0, "transfer", "A1", "B1", "301", "302", MAX_FEN, "counter")
        for i in range(3)
    ]
    t = micros(T0, "x0")
    one_by_one = OnlineControls(book(), directory(), policy)
    together = OnlineControls(book(), directory(), policy)
    for controls in (one_by_one, together):
        entry = [0] * LEDGER_COLUMNS
        entry[BALANCE] = MOST - MAX_FEN
        controls.set_ledger_entry("B1", entry)
    for event in events:
        one_by_one.check(event, t, t)
        one_by_one.settle(event, t, True)
    together.check_many(events, [t] * 3, [t] * 3, [0] * 3)
    assert one_by_one.ledger_entry("B1") == together.ledger_entry("B1")
    payee = together.ledger_entry("B1")
    assert payee is not None and payee[BALANCE] == MOST
