"""Hypothesis strategies for rule expressions over a small catalogue."""

from __future__ import annotations

from functools import cache

from hypothesis import strategies as st

from fundwall.engine.features.catalog import Kind

NUMBERS = ("amount", "payer_balance", "balance_share", "hour")
INTEGERS = ("amount", "hour", "is_night", "new_payee")
"""Passed to bulk evaluation as int64 columns, as the feature table stores them."""
FLAGS = ("is_night", "new_payee")
CATALOGUE = {
    "amount": Kind.MONEY,
    "payer_balance": Kind.MONEY,
    "balance_share": Kind.RATIO,
    "hour": Kind.HOUR,
    "is_night": Kind.FLAG,
    "new_payee": Kind.FLAG,
}
"""A small injected catalogue: the rule layer is validated against whatever it is given."""

literals = st.one_of(
    st.integers(0, 10**6).map(str),
    st.integers(0, 10**7).map(lambda n: f"{n:_}"),
    st.integers(0, 10**4).map(lambda n: f"{n // 100}.{n % 100:02d}"),
    st.sampled_from(["0", "1", "0.5"]),
)


@cache
def numeric(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NUMBERS), literals)
    if depth == 0:
        return leaves
    inner = numeric(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from("+-*/%"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda a: f"-{a}"),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(inner, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        inner.map(lambda a: f"abs({a})"),
    )


@cache
def boolean(depth: int) -> st.SearchStrategy[str]:
    comparisons = st.tuples(
        numeric(2), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numeric(2)
    ).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    leaves = st.one_of(
        st.sampled_from(FLAGS),
        st.sampled_from(["true", "false"]),
        comparisons,
        st.tuples(st.sampled_from(FLAGS), st.sampled_from(["==", "!="]), st.sampled_from("01")).map(
            " ".join
        ),
        st.tuples(numeric(1), st.lists(literals, min_size=1, max_size=4), st.booleans()).map(
            lambda t: f"{t[0]} {'not in' if t[2] else 'in'} [{', '.join(t[1])}]"
        ),
        st.tuples(numeric(1), numeric(0), numeric(0)).map(lambda t: f"between({', '.join(t)})"),
    )
    if depth == 0:
        return leaves
    inner = boolean(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda a: f"not {a}"),
    )


integers = st.one_of(st.sampled_from([0, 0, 1, -1, 2]), st.integers(-(10**12), 10**12))
values = st.one_of(integers, st.integers(-(10**6), 10**6).map(lambda n: n / 100))
