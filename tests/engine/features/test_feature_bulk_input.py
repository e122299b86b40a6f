"""What the columnar form accepts and how it refuses bad tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from feature_streams import TX_SCHEMA, table_of, tx

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import (
    AccountDirectory,
    bulk_schema,
    column_names,
    compute_bulk,
    iter_bulk,
)
from fundwall.engine.features.encode import encode, int64_column, shared_dictionaries

EVENTS = [tx(0, "A", "B", 5), tx(1, "B", "C", 7), tx(2, None, "A", 9), tx(3, "C", None, 2)]


def test_one_row_per_transaction_one_column_per_feature() -> None:
    result = compute_bulk(table_of(EVENTS))
    assert result.num_rows == len(EVENTS)
    assert result.column_names == column_names()
    assert result.schema == bulk_schema()
    assert result["amount"].to_pylist() == [5, 7, 9, 2]


def test_a_mapping_of_columns_and_a_record_batch_are_accepted() -> None:
    table = table_of(EVENTS)
    expected = compute_bulk(table)
    assert compute_bulk({name: table[name] for name in table.column_names}).equals(expected)
    assert compute_bulk(table.to_batches()[0]).equals(expected)


def test_an_empty_history_gives_an_empty_table() -> None:
    result = compute_bulk(pa.Table.from_pylist([], schema=TX_SCHEMA), AccountDirectory.empty())
    assert result.num_rows == 0
    assert result.schema == bulk_schema()


def test_batches_cover_the_history_in_order() -> None:
    batches = list(iter_bulk(table_of(EVENTS), batch_rows=3))
    assert [b.num_rows for b in batches] == [3, 1]


def _refusal(table: pa.Table) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        compute_bulk(table)
    return caught.value


def test_history_out_of_time_order_names_the_first_late_transaction() -> None:
    events = [tx(0, "A", "B", 1), tx(10, "A", "B", 1), tx(5, "A", "B", 1, tx_id="late")]
    error = _refusal(table_of(events))
    assert (error.field, error.record) == ("ts", "late")


def test_missing_column() -> None:
    assert _refusal(table_of(EVENTS).drop_columns(["device_id"])).field == "device_id"


def test_amounts_must_be_positive_whole_fen() -> None:
    table = table_of([tx(0, "A", "B", 1), tx(1, "A", "B", 1, tx_id="zero")])
    zero = table.set_column(7, "amount_fen", pa.array([1, 0], pa.int64()))
    assert (_refusal(zero).field, _refusal(zero).record) == ("amount_fen", "zero")
    floats = table.set_column(7, "amount_fen", pa.array([1.0, 2.5]))
    assert _refusal(floats).field == "amount_fen"


FEW_VALUED = ("kind", "channel", "payer_bank", "payee_bank")


def _coded(table: pa.Table, names: tuple[str, ...] = FEW_VALUED) -> pa.Table:
    """`table` with the columns `names` dictionary-encoded."""
    for name in names:
        where = table.schema.get_field_index(name)
        table = table.set_column(where, name, table[name].dictionary_encode())
    return table


def test_kind_must_match_the_sides_present() -> None:
    table = table_of([tx(0, "A", "B", 1, tx_id="t1"), tx(1, "A", "B", 1, tx_id="t2")])
    withdrawal = table.set_column(2, "kind", pa.array(["transfer", "withdrawal"]))
    unknown = table.set_column(2, "kind", pa.array(["transfer", "refund"]))
    for plain_or_coded in (lambda t: t, _coded):
        refused = _refusal(plain_or_coded(withdrawal))
        assert (refused.field, refused.record) == ("payee_account", "t2")
        refused = _refusal(plain_or_coded(unknown))
        assert (refused.field, refused.record) == ("kind", "t2")


def test_flags_of_dictionary_columns_are_those_of_their_strings() -> None:
    """The flags of dictionary columns are evaluated once per combination of their values
    when the combinations are few, on every row's strings when not: both as of the strings."""
    events = [
        tx(0, "A", "B", 5, channel="atm", payer_bank="102", payee_bank="103"),
        tx(1, "B", "C", 7, channel="counter"),
        tx(2, "A", None, 9, channel="mobile", payer_bank="102"),
        tx(3, None, "A", 2, channel="atm", payee_bank="104"),
        tx(4, "C", "A", 4, channel="counter", payer_bank="103", payee_bank="103"),
    ]
    plain = table_of(events)
    expected = encode(plain, AccountDirectory.empty()).flags
    many = plain
    for name in ("payer_bank", "payee_bank"):
        # Dictionaries of 400 values: 160,000 combinations of the two banks alone.
        words = pa.array([f"{k:03}" for k in range(400)])
        indices = pc.index_in(plain[name], value_set=words)
        many = many.set_column(
            many.schema.get_field_index(name),
            name,
            pa.DictionaryArray.from_arrays(indices.combine_chunks(), words),
        )
    for table in (_coded(plain), _coded(many, ("kind", "channel"))):
        assert (encode(table, AccountDirectory.empty()).flags == expected).all()


def test_timestamps_need_a_time_zone() -> None:
    table = table_of(EVENTS)
    naive = table.set_column(1, "ts", table["ts"].cast(pa.timestamp("us")))
    assert _refusal(naive).field == "ts"


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="batch size"):
        compute_bulk(table_of(EVENTS), batch_rows=0)


def test_a_history_of_deposits_only_has_no_payer_at_all() -> None:
    result = compute_bulk(table_of([tx(0, None, "A", 5), tx(1, None, "B", 6)]))
    assert result["payee_in_sum_1h"].to_pylist() == [0, 0]
    assert result["payer_balance"].to_pylist() == [0, 0]


def _dictionary(values: list[str | None], cut: int) -> pa.ChunkedArray:
    """`values` as two dictionary chunks, split at `cut`, each with a dictionary of its own
    in another order than the rows' and with a value no row uses."""
    chunks = []
    for part in (values[:cut], values[cut:]):
        words = sorted({value for value in part if value is not None} | {"unused"}, reverse=True)
        indices = pa.array([None if v is None else words.index(v) for v in part], pa.int32())
        chunks.append(pa.DictionaryArray.from_arrays(indices, pa.array(words)))
    return pa.chunked_array(chunks)


def test_dictionary_columns_give_the_codes_and_features_of_their_values() -> None:
    """A region read with `dictionary=True` brings its few-valued columns as dictionary
    arrays: their chunks' dictionaries differ and repeat values, and rows may be null."""
    events = [
        tx(0, "A", "B", 5, city="Xiamen", channel="atm", payee_bank="102"),
        tx(1, "B", "C", 7, city=None),
        tx(2, "A", "C", 9, city="Fuzhou", channel="counter"),
        tx(3, "A", "B", 2, city="Xiamen", payer_bank="102"),
        tx(4, None, "A", 4, city="Fuzhou"),
        tx(5, "C", None, 3, city="Quanzhou", channel="atm"),
    ]
    plain = table_of(events)
    coded = plain
    for name in ("kind", "channel", "city", "payer_bank", "payee_bank"):
        where = coded.schema.get_field_index(name)
        coded = coded.set_column(where, name, _dictionary(plain[name].to_pylist(), 3))
    directory = AccountDirectory.empty()
    expected, got = encode(plain, directory), encode(coded, directory)
    for name in ("ts", "amount", "roles", "city", "flags", "account_row"):
        assert (getattr(got, name) == getattr(expected, name)).all(), name
    assert (got.n_entities, got.n_cities) == (expected.n_entities, expected.n_cities)
    assert compute_bulk(coded).equals(compute_bulk(plain))


def test_identifiers_as_dictionaries_give_the_codes_and_features_of_their_values() -> None:
    """Accounts, devices and IPs may come as dictionary arrays too (replay's `read_history`):
    chunks over dictionaries of their own, or brought over one (`shared_dictionaries`, the
    payer's and payee's accounts over the same), give the codes of the decoded columns."""
    events = [
        tx(0, "A", "B", 5, device="d1", ip="i1"),
        tx(1, "B", "C", 7, device=None, ip="i2"),
        tx(2, "C", "A", 9, device="d2", ip="i1"),
        tx(3, "D", None, 2, device="d1", ip=None),
        tx(4, None, "E", 4),
        tx(5, "E", "B", 3, device="d3", ip="i3"),
        tx(6, "B", "D", 6, device="d2", ip="i2"),
    ]
    plain = table_of(events)
    coded = plain
    for name in ("payer_account", "payee_account", "device_id", "ip", "city"):
        where = coded.schema.get_field_index(name)
        coded = coded.set_column(where, name, _dictionary(plain[name].to_pylist(), 4))
    shared = shared_dictionaries(coded)
    for side in ("payer_account", "payee_account"):
        assert all(
            chunk.dictionary.equals(shared["payer_account"].chunk(0).dictionary)
            for chunk in shared[side].chunks
        )
    directory = AccountDirectory.empty()
    expected = encode(plain, directory)
    for table in (coded, shared):
        got = encode(table, directory)
        for name in ("roles", "city", "account_row"):
            assert (getattr(got, name) == getattr(expected, name)).all(), name
        assert got.n_entities == expected.n_entities
        assert all(a.equals(b) for a, b in zip(got.values, expected.values, strict=True))
        assert compute_bulk(table).equals(compute_bulk(plain))


def test_number_columns_are_read_only_however_chunked() -> None:
    """numba compiles a kernel once per array flag: a table of one chunk (a view of Arrow's
    memory) and one of several (a copy) must give arrays alike, or a replay of a whole region
    compiles its kernels a second time after the warm-up on its first rows."""
    one = pa.chunked_array([pa.array([1, 2, 3], pa.int64())])
    several = pa.chunked_array([pa.array([1], pa.int64()), pa.array([2, 3], pa.int64())])
    arrays = [int64_column(one), int64_column(several)]
    assert [array.tolist() for array in arrays] == [[1, 2, 3], [1, 2, 3]]
    assert [array.flags.writeable for array in arrays] == [False, False]
    assert all(array.dtype == np.int64 for array in arrays)
