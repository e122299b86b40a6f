"""The trace over hand-built movements: hops, amounts by rule, exits, the hop limit, a
victim's remembered payment matched to the booked one; and, whatever the random chain,
traced money is conserved: what the reached accounts still hold plus what left the chain is
exactly what the victims paid in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.tracing.index import Columns, Directory, TransferIndex, to_us
from fundwall.tracing.model import (
    AttributionRule,
    ExitKind,
    TraceResult,
    TraceStart,
    proposed_stops,
)
from fundwall.tracing.trace import trace

T0 = datetime(2024, 3, 4, 8, tzinfo=UTC)
ACCOUNTS = ("V", "A", "B", "C", "D")
BANK = {"V": "301", "A": "302", "B": "303", "C": "304", "D": "305"}
LATER = T0 + timedelta(days=30)


def _index(
    moves: list[tuple[str | None, str | None, int]], opening: dict[str, int] | None = None
) -> TransferIndex:
    """Movements (payer, payee, fen) a minute apart from T0, ids M0, M1, …; a payee "X" is
    an account outside the region."""
    opening = opening or {}
    return TransferIndex.of(
        Directory(ACCOUNTS, [BANK[a] for a in ACCOUNTS], [opening.get(a, 0) for a in ACCOUNTS]),
        Columns(
            [f"M{i}" for i in range(len(moves))],
            [to_us(T0 + timedelta(minutes=i)) for i in range(len(moves))],
            [payer for payer, _, _ in moves],
            [payee for _, payee, _ in moves],
            [None if payee in (None, "X") else BANK[payee] for _, payee, _ in moves],
            [fen for _, _, fen in moves],
        ),
    )


def _victim(fen: int, tx_id: str = "M0") -> list[TraceStart]:
    return [TraceStart("R1", "A", T0, fen, tx_id=tx_id)]


def _held(result: TraceResult) -> dict[str, int]:
    return {account.account_no: account.held_fen for account in result.accounts}


CHAIN = [
    ("V", "A", 100_000),  # the victim pays A ¥1,000
    ("A", "B", 60_000),
    ("A", "C", 30_000),
    ("B", None, 50_000),  # cash out at B
    ("C", "X", 30_000),  # paid out of the region
]


def test_a_chain_is_followed_hop_by_hop_to_where_the_money_rests_or_leaves() -> None:
    result = trace(_index(CHAIN), _victim(100_000), AttributionRule.LIFO, as_of=LATER)
    assert [(a.account_no, a.hop, a.bank) for a in result.accounts] == [
        ("A", 1, "302"),
        ("B", 2, "303"),
        ("C", 2, "304"),
    ]
    assert _held(result) == {"A": 10_000, "B": 10_000, "C": 0}
    exits = {(t.exit, t.carried_fen) for t in result.exits}
    assert exits == {(ExitKind.CASH, 50_000), (ExitKind.OUTSIDE, 30_000)}
    stops = proposed_stops(result)
    assert [(s.account_no, s.amount_fen, s.sources) for s in stops] == [
        ("A", 10_000, ("R1",)),
        ("B", 10_000, ("R1",)),
    ]


def test_the_rules_tell_clean_money_from_the_victims_differently() -> None:
    # A held ¥500 of its own before the victim's ¥1,000 came; it then pays B ¥500.
    index = _index([("V", "A", 100_000), ("A", "B", 50_000)], opening={"A": 50_000})
    held = {
        rule: _held(trace(index, _victim(100_000), rule, as_of=LATER)) for rule in AttributionRule
    }
    assert held[AttributionRule.FIFO] == {"A": 100_000}  # A's own money left first: B unreached
    assert held[AttributionRule.LIFO] == {"A": 50_000, "B": 50_000}  # the newest left first
    # A's balance was 2/3 the victim's: the ¥500 carried 2/3 of it, rounded down.
    assert held[AttributionRule.PROPORTIONAL] == {"A": 66_667, "B": 33_333}


def test_a_remembered_time_and_amount_find_the_booked_payment() -> None:
    index = _index(CHAIN)
    remembered = [TraceStart("R1", "A", T0 + timedelta(minutes=20), 98_000)]
    result = trace(index, remembered, AttributionRule.LIFO, as_of=LATER)
    # The booked ¥1,000 is followed, not the ¥980 remembered.
    assert result.accounts[0].attributed_fen == 100_000
    assert _held(result) == {"A": 10_000, "B": 10_000, "C": 0}


def test_the_hop_limit_stops_the_chain_and_says_so() -> None:
    result = trace(_index(CHAIN), _victim(100_000), AttributionRule.LIFO, as_of=LATER, max_hops=1)
    assert [a.account_no for a in result.accounts] == ["A"]
    assert {t.exit for t in result.exits} == {ExitKind.BEYOND}


def test_a_trace_sees_nothing_after_its_moment() -> None:
    result = trace(
        _index(CHAIN), _victim(100_000), AttributionRule.LIFO, as_of=T0 + timedelta(seconds=90)
    )
    assert _held(result) == {"A": 40_000, "B": 60_000}


def test_an_index_extended_later_traces_as_one_built_at_once() -> None:
    whole = _index(CHAIN)
    grown = _index(CHAIN[:2])
    rest = _index(CHAIN)
    grown.extend(
        Columns(
            rest.tx_id[2:],
            rest.ts_us[2:],
            [rest.account_no[p] if p >= 0 else None for p in rest.payer[2:]],
            rest.payee_account[2:],
            rest.payee_bank[2:],
            rest.amount_fen[2:],
        )
    )
    for rule in AttributionRule:
        assert trace(grown, _victim(100_000), rule, as_of=LATER) == trace(
            whole, _victim(100_000), rule, as_of=LATER
        )


@pytest.mark.parametrize(
    ("starts", "field"),
    [
        ([], "starts"),
        ([TraceStart("R1", "A", T0, 0)], "starts[0].amount_fen"),
        ([TraceStart("", "A", T0, 1)], "starts[0].source"),
        ([TraceStart("R1", "A", T0.replace(tzinfo=None), 1)], "starts[0].at"),
    ],
)
def test_bad_starts_are_refused_naming_the_field(starts: list[TraceStart], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        trace(_index(CHAIN), starts, AttributionRule.FIFO, as_of=LATER)
    assert refused.value.field == field


MOVES = st.lists(
    st.tuples(
        st.sampled_from([*ACCOUNTS, None]),
        st.sampled_from([*ACCOUNTS, None, "X"]),
        st.integers(1, 200_000),
    ).filter(lambda move: move[0] != move[1] and (move[0], move[1]) != (None, None)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    moves=MOVES,
    victim=st.integers(1, 500_000),
    opening=st.dictionaries(st.sampled_from(ACCOUNTS), st.integers(0, 300_000)),
    rule=st.sampled_from(list(AttributionRule)),
    hops=st.integers(1, 10),
)
def test_traced_money_is_conserved_whatever_the_chain(
    moves: list[tuple[str | None, str | None, int]],
    victim: int,
    opening: dict[str, int],
    rule: AttributionRule,
    hops: int,
) -> None:
    index = _index([("V", "A", victim), *moves], opening)
    result = trace(index, _victim(victim), rule, as_of=LATER, max_hops=hops)
    held = sum(account.held_fen for account in result.accounts)
    left = sum(transfer.carried_fen for transfer in result.exits)
    assert held + left == victim
    for account in result.accounts:
        received = {share.source: share.amount_fen for share in account.attributed}
        for share in account.held:
            assert 0 < share.amount_fen <= received[share.source]
    for transfer in result.transfers:
        assert 0 < transfer.carried_fen <= transfer.amount_fen
