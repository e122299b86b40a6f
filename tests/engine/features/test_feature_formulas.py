"""The formulas and flags of the single-value features: each written once, read both ways."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from fundwall.engine.features import TxEvent
from fundwall.engine.features.catalog import FLOAT_FORMULAS, NEVER, Formula
from fundwall.engine.features.flags import FLAGS, is_non_counter
from fundwall.engine.features.scalar import FORMULAS, integer_value, ratio_value

T0 = 1_709_510_400_000_000  # 2024-03-04 08:00 Beijing time
MOMENT = datetime(2024, 3, 4, tzinfo=UTC)


_compiled_integer = njit(lambda f, fact, ts, date, amount: integer_value(f, fact, ts, date, amount))
_compiled_ratio = njit(lambda f, fact, ts, date, amount: ratio_value(f, fact, ts, date, amount))


# No deadline: the first example compiles the kernels, and the machines are shared; what is
# tested here is agreement, not speed (benchmarks/ measure that).
@settings(deadline=None)
@given(
    formula=st.sampled_from(list(Formula)),
    fact=st.one_of(
        st.just(NEVER),
        st.integers(-1, 10**15),
        st.integers(19000101, 20241231),
        st.integers(T0 - 10**14, T0),
    ),
    ts=st.integers(T0, T0 + 10**12),
    date=st.integers(20240304, 20251231),
    amount=st.integers(1, 10**12),
)
def test_the_table_of_formulas_and_the_compiled_dispatch_agree(
    formula: Formula, fact: int, ts: int, date: int, amount: int
) -> None:
    expected = FORMULAS[formula](fact, ts, date, amount)
    ratio = formula in FLOAT_FORMULAS
    dispatch = ratio_value if ratio else integer_value
    compiled = _compiled_ratio if ratio else _compiled_integer
    assert dispatch(formula, fact, ts, date, amount) == expected
    assert compiled(int(formula), fact, ts, date, amount) == expected


def test_every_formula_has_a_function() -> None:
    assert set(FORMULAS) == set(Formula)


CHANNELS = ["counter", "atm", "mobile", "online", "pos", None]
BANKS = ["301", "302", None]


def test_the_flags_of_a_transaction_and_of_a_column_agree() -> None:
    events = [
        TxEvent("t", MOMENT, kind, "A", "B", payer, payee, 1, channel)
        for kind, channel, payer, payee in itertools.product(
            ("transfer", "withdrawal", "deposit"), CHANNELS, BANKS, BANKS
        )
    ]
    table = pa.table(
        {
            name: pa.array([getattr(e, name) for e in events], pa.string())
            for name in ("kind", "channel", "payer_bank", "payee_bank")
        }
    )
    for flag in FLAGS:
        column = flag.column(lambda name: table[name].combine_chunks())
        from_column = np.asarray(column.fill_null(False).to_pylist(), dtype=bool)
        one_by_one = np.array([flag.of(e) for e in events], dtype=bool)
        assert (from_column == one_by_one).all(), flag.fact.name


def test_a_transaction_without_a_channel_is_not_a_non_counter_one() -> None:
    made = [TxEvent("t", MOMENT, "transfer", "A", "B", "1", "2", 1, c) for c in CHANNELS]
    assert [is_non_counter(tx) for tx in made] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]
