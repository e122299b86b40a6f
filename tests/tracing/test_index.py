"""The transfer index against a plain model of it: whatever the movements and however they
arrive (at once, or in batches whose times go back before the last), each account's movements
come in (time, arrival) order and its balance before any moment is its opening balance plus
everything before; and a region's index is the same whichever way its accounts are looked up
or its movements arrive."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.region import read_table
from fundwall.sim.run import simulate
from fundwall.tracing import index as index_module
from fundwall.tracing.index import NO_ACCOUNT, Columns, Directory, TransferIndex
from fundwall.tracing.model import AttributionRule
from fundwall.tracing.region import region_index, region_movements, report_starts
from fundwall.tracing.trace import trace

ACCOUNTS = ("A", "B", "C", "D")
OPENING = (500, 0, 70, 0)

Move = tuple[str | None, str | None, int, int]
"""payer, payee ("X": outside the region, None: cash), fen, time."""

MOVES = st.lists(
    st.tuples(
        st.sampled_from([*ACCOUNTS, None]),
        st.sampled_from([*ACCOUNTS, None, "X"]),
        st.integers(1, 1_000),
        st.integers(0, 30),  # few distinct times: many movements share one
    ).filter(lambda move: (move[0], move[1]) != (None, None)),
    max_size=40,
)


def _columns(moves: list[Move], first: int) -> Columns:
    return Columns(
        [f"M{first + i}" for i in range(len(moves))],
        [ts for _, _, _, ts in moves],
        [payer for payer, _, _, _ in moves],
        [payee for _, payee, _, _ in moves],
        [None if payee is None else f"bank-{payee}" for _, payee, _, _ in moves],
        [fen for _, _, fen, _ in moves],
    )


@settings(max_examples=150, deadline=None)
@given(moves=MOVES, cuts=st.lists(st.integers(0, 40), max_size=4), fold=st.booleans())
def test_the_index_answers_as_a_plain_list_of_movements_would(
    moves: list[Move], cuts: list[int], fold: bool
) -> None:
    index = TransferIndex.of(Directory(ACCOUNTS, ["b"] * len(ACCOUNTS), OPENING))
    edges = sorted({0, len(moves), *(min(cut, len(moves)) for cut in cuts)})
    for start, end in itertools.pairwise(edges):
        index.extend(_columns(moves[start:end], start))
        if fold and start == 0:
            index.rebuild()  # a sorted base, then a tail that goes back in time
    assert len(index) == len(moves)
    for account, number in enumerate(ACCOUNTS):
        mine = sorted(
            (ts, seq)
            for seq, (payer, payee, _, ts) in enumerate(moves)
            for party in (payer, payee)
            if party == number
        )
        assert index.events(account) == [seq for _, seq in mine]
        for ts in (-1, 0, 7, 15, 31):
            for seq in (0, len(moves) // 2, len(moves)):
                before = [(t, s) for t, s in mine if (t, s) < (ts, seq)]
                changes = (
                    (fen if moves[s][1] == number else 0) - (fen if moves[s][0] == number else 0)
                    for _, s in before
                    for fen in [moves[s][2]]
                )
                assert index.balance_before(account, ts, seq) == OPENING[account] + sum(changes)
                after = [s for t, s in mine if (t, s) > (ts, seq)]
                assert list(index.events_after(account, ts, seq)) == after
    for seq, (payer, payee, fen, ts) in enumerate(moves):
        movement = index.movement(seq)
        assert (movement.tx_id, movement.ts_us, movement.amount_fen) == (f"M{seq}", ts, fen)
        assert movement.payer == (ACCOUNTS.index(payer) if payer in ACCOUNTS else NO_ACCOUNT)
        assert movement.payee_account == payee
        assert movement.payee_bank == (None if payee is None else f"bank-{payee}")
    if moves:
        assert index.find(f"M{len(moves) - 1}") == len(moves) - 1
    assert index.find("M999") is None


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("index") / "region"
    simulate("tiny", 3, out)
    return out


def test_a_regions_accounts_are_found_alike_by_hash_lookup_and_one_by_one(
    region: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one = region_index(region)
    monkeypatch.setattr(index_module, "BULK_LOOKUP", 1)
    in_bulk = region_index(region)
    assert (one_by_one.payer[:] == in_bulk.payer[:]).all()
    assert (one_by_one.payee[:] == in_bulk.payee[:]).all()
    assert one_by_one.payee_account[:] == in_bulk.payee_account[:]
    assert (one_by_one.payee[:] != NO_ACCOUNT).any()


def test_a_region_traced_over_an_index_extended_in_batches_as_over_one_built_at_once(
    region: Path,
) -> None:
    whole = region_index(region)
    directory, columns = region_movements(region)
    parts = [
        columns.tx_id,
        columns.ts_us,
        columns.payer_account,
        columns.payee_account,
        columns.payee_bank,
        columns.amount_fen,
    ]
    half = len(columns) // 2
    grown = TransferIndex.of(directory, Columns(*(part.slice(0, half) for part in parts)))
    later = [part.slice(half).to_pylist() for part in parts]
    for start in range(0, len(later[0]), 300):
        grown.extend(Columns(*(part[start : start + 300] for part in later)))
    as_of = index_module.from_us(int(whole.ts_us[:].max()) + 1)
    for starts in report_starts(region).values():
        for rule in AttributionRule:
            assert trace(grown, starts, rule, as_of=as_of) == trace(
                whole, starts, rule, as_of=as_of
            )
    first = read_table(region, "transactions")["tx_id"][half].as_py()
    assert grown.find(first) == whole.find(first) == half
