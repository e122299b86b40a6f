"""A busy account the money reaches is walked by runs of quiet movements (those that carry
none of the traced money, applied in one step) instead of movement by movement: whatever the
chain, the rule, the starts and however the movements arrived, the trace is the very same as
walking every account movement by movement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fundwall.sim.run import simulate
from fundwall.tracing import trace as trace_module
from fundwall.tracing.index import Columns, Directory, TransferIndex, from_us, to_us
from fundwall.tracing.model import AttributionRule, TraceResult, TraceStart
from fundwall.tracing.region import region_index, report_starts
from fundwall.tracing.trace import trace

T0 = datetime(2024, 3, 4, 8, tzinfo=UTC)
ACCOUNTS = ("V", "A", "B", "C", "D")
LATER = T0 + timedelta(days=1)

AMOUNTS = st.sampled_from([1, 2, 3, 4, 6, 10, 12, 50, 100, 150])
"""Few amounts, many multiples: the boundaries of a quiet run (a share of exactly one fen, a
lot taken to its last fen) come up often."""
MOVES = st.lists(
    st.tuples(
        st.sampled_from([*ACCOUNTS, None]),
        st.sampled_from([*ACCOUNTS, None, "X"]),
        AMOUNTS,
    ).filter(lambda move: (move[0], move[1]) != (None, None)),
    max_size=30,
)


def _columns(moves: list[tuple[str | None, str | None, int]], first: int) -> Columns:
    """Movements three to a minute (so many share a time), ids M<first>, M<first + 1>, …"""
    return Columns(
        [f"M{first + i}" for i in range(len(moves))],
        [to_us(T0 + timedelta(minutes=(first + i) // 3)) for i in range(len(moves))],
        [payer for payer, _, _ in moves],
        [payee for _, payee, _ in moves],
        [None if payee in (None, "X") else "b" for _, payee, _ in moves],
        [fen for _, _, fen in moves],
    )


def _both_ways(
    monkeypatch: pytest.MonkeyPatch,
    index: TransferIndex,
    starts: list[TraceStart],
    rule: AttributionRule,
    as_of: datetime,
    hops: int,
) -> tuple[TraceResult, TraceResult]:
    """The trace with every account walked movement by movement, then with every one planned."""
    with monkeypatch.context() as patch:
        patch.setattr(trace_module, "BUSY", 10**9)
        one_by_one = trace(index, starts, rule, as_of=as_of, max_hops=hops)
        patch.setattr(trace_module, "BUSY", 0)
        planned = trace(index, starts, rule, as_of=as_of, max_hops=hops)
    return one_by_one, planned


@settings(max_examples=300, deadline=None)
@given(
    moves=MOVES,
    victim=AMOUNTS,
    opening=st.dictionaries(st.sampled_from(ACCOUNTS), AMOUNTS | st.just(0)),
    rule=st.sampled_from(list(AttributionRule)),
    hops=st.integers(1, 4),
    arrived=st.integers(1, 31),
)
# A holds 20 fen, 10 of each report: a payment of 2 carries exactly one fen of each.
@example([("A", "C", 2)], 10, {}, AttributionRule.PROPORTIONAL, 2, 31)
def test_passing_over_quiet_movements_changes_nothing(
    moves: list[tuple[str | None, str | None, int]],
    victim: int,
    opening: dict[str, int],
    rule: AttributionRule,
    hops: int,
    arrived: int,
) -> None:
    all_moves = [("V", "A", victim), *moves]
    index = TransferIndex.of(
        Directory(ACCOUNTS, ["b"] * len(ACCOUNTS), [opening.get(a, 0) for a in ACCOUNTS]),
        _columns(all_moves[:arrived], 0),
    )
    index.extend(_columns(all_moves[arrived:], arrived))  # the rest in the tail
    starts = [
        TraceStart("R1", "A", T0, victim, tx_id="M0"),
        TraceStart("R2", "B", T0 + timedelta(minutes=2), 6),  # ahead of the walk
        TraceStart("R3", "A", T0 + timedelta(minutes=1), 10),
    ]
    with pytest.MonkeyPatch.context() as monkeypatch:
        one_by_one, planned = _both_ways(monkeypatch, index, starts, rule, LATER, hops)
    assert planned == one_by_one


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("busy") / "region"
    simulate("tiny", 5, out)
    return out


def test_a_regions_reports_trace_alike_planned_or_walked_one_by_one(
    region: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = region_index(region)
    as_of = from_us(int(index.ts_us[:].max()) + 1)
    for starts in report_starts(region).values():
        for rule in AttributionRule:
            one_by_one, planned = _both_ways(monkeypatch, index, starts, rule, as_of, 6)
            assert planned == one_by_one
