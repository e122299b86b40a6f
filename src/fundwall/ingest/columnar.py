"""Columnar validation of transaction tables: vectorised checks, the domain for the rest.

Files hold millions of rows, so calling `Transaction.from_mapping` on each would take minutes.
Instead each declared field (`TRANSACTION_FIELDS`) has a fast check for its kind, written with
`pyarrow.compute`, that accepts only values the domain certainly accepts, in their already
normal spelling (e.g. `2024-05-01T09:30:00+08:00`, `1234.56`, `mobile`, an IPv4 address). A
row any fast check does not vouch for is handed to `Transaction.from_mapping` itself, which
either accepts it (an unusual but valid spelling, such as `MOBILE` or an IPv6 address,
normalised by the domain) or says what is wrong in its own words. So the rules live once, in
the domain; the fast checks only decide how much work the domain is spared, and the test suite
checks that they never accept what the domain refuses. Duplicate transaction ids within the
table are found with a hash count over the column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import MAX_FEN
from fundwall.domain.spec import FieldKind, FieldSpec
from fundwall.domain.transactions import (
    COLUMNS,
    TRANSACTION_FIELDS,
    Transaction,
    TransactionKind,
)
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
from fundwall.region import TRANSACTIONS

INPUT_COLUMNS: Final = frozenset(COLUMNS) | {"amount"}
"""Columns an input table may have: the contract's, plus `amount` (yuan as text)."""

_TIMESTAMP: Final = (
    r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$"
)
_FEN_DIGITS: Final = r"^[0-9]{1,15}$"
_YUAN: Final = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
_OCTET: Final = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4: Final = rf"^{_OCTET}(\.{_OCTET}){{3}}$"
# Printable ASCII and the CJK Unified Ideographs, no whitespace at either end: text the
# domain keeps exactly as written. Anything else is left to the domain to judge.
_EDGE: Final = r"[\x{21}-\x{7E}\x{4E00}-\x{9FFF}]"
_PLAIN_TEXT: Final = rf"^{_EDGE}(?:[\x{{20}}-\x{{7E}}\x{{4E00}}-\x{{9FFF}}]*{_EDGE})?$"
# Moments the fast checks vouch for; any other the domain judges (its calendar ends at 9999).
_EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(3000, 1, 1, tzinfo=UTC)
_CAST_SLICE: Final = 1 << 16
_FALLBACK_BATCH: Final = 4096
_PARALLEL_ROWS: Final = 100_000

Locate = Callable[[int], str]
"""How an error names row `index`: a CSV line number, a Parquet row index."""


@dataclass
class _Column:
    """A field after its fast check: the normal values, and where the check vouches for them."""

    values: pa.Array
    ok: pa.Array


def validate_table(
    table: pa.Table,
    locate: Locate,
    *,
    max_errors: int = MAX_ERRORS,
    cite: Locate | None = None,
) -> pa.Table:
    """The transactions of `table` in the contract's schema (`fundwall.region.TRANSACTIONS`)
    and row order, or one error.

    `table` has a subset of `INPUT_COLUMNS` (absent optional columns are null) with any
    types; text is read as the domain reads it. Up to `max_errors` bad rows are reported,
    each with `locate(row)`, its field and the domain's reason; a reason names another row
    by `cite(row)` (default `locate`: "line 5" reads in a sentence, a batch's "3" does not).
    """
    rows = table.num_rows
    checked = _fast_checks(table, rows)
    ok = _all_true([column.ok for column in checked.values()], rows)
    suspects = pc.indices_nonzero(pc.invert(ok)).to_pylist()
    fixes: dict[int, dict[str, object]] = {}
    errors: list[tuple[int, InvalidInput]] = []
    for index, row in _rows(_timestamps_as_text(table), suspects):
        try:
            fixes[index] = Transaction.from_mapping(row).as_row()
        except InvalidInput as error:
            errors.append((index, error.at(locate(index))))
            if len(errors) > max_errors:
                break
    failed = {index for index, _ in errors}
    tx_ids = _replace(checked["tx_id"].values, fixes, "tx_id")
    errors.extend(_duplicates(tx_ids, failed, locate, cite or locate, max_errors))
    if errors:
        errors.sort(key=lambda pair: pair[0])
        found = [error for _, error in errors]
        raise InvalidRecords.of(found[:max_errors], more=len(found) > max_errors)
    result = pa.table({name: _replace(checked[name].values, fixes, name) for name in COLUMNS})
    return pa.Table.from_batches(result.to_batches(max_chunksize=1 << 20), result.schema).cast(
        TRANSACTIONS
    )


def _fast_checks(table: pa.Table, rows: int) -> dict[str, _Column]:
    """Each declared field's fast check, by its kind; then the parties' check across fields."""

    def raw(name: str) -> pa.Array:
        if name in table.column_names:
            return table.column(name).combine_chunks()
        return pa.nulls(rows, pa.large_string())

    def check(field: FieldSpec) -> _Column:
        if field.kind == FieldKind.FEN:
            return _amount(raw(field.name), raw("amount"))
        return _CHECKS[field.kind](raw(field.name), field)

    checks = {field.name: partial(check, field) for field in TRANSACTION_FIELDS}
    if rows < _PARALLEL_ROWS:
        checked = {name: run() for name, run in checks.items()}
    else:
        # Arrow's kernels release the GIL, so big columns are checked side by side.
        with ThreadPoolExecutor(max_workers=min(len(checks), os.cpu_count() or 1)) as pool:
            futures = {name: pool.submit(run) for name, run in checks.items()}
            checked = {name: future.result() for name, future in futures.items()}
    sides = ("payer_account", "payer_bank", "payee_account", "payee_bank")
    checked["parties"] = _parties(checked["kind"].values, *(checked[n].values for n in sides))
    return checked


def _reference(array: pa.Array, field: FieldSpec) -> _Column:
    pattern = r"^[A-Za-z0-9._:-]+$"
    return _matching(array, pattern, required=not field.nullable, max_len=field.max_len)


def _device(array: pa.Array, field: FieldSpec) -> _Column:
    return _matching(array, r"^[!-~]+$", required=not field.nullable, max_len=field.max_len)


def _ip(array: pa.Array, field: FieldSpec) -> _Column:
    return _matching(array, _IPV4, required=not field.nullable)


def _text(array: pa.Array) -> pa.Array | None:
    """The array as large_string when it holds text, else None (left to the domain)."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    text_types = (pa.types.is_string, pa.types.is_large_string, pa.types.is_null)
    if any(is_type(array.type) for is_type in text_types):
        return array.cast(pa.large_string())
    return None


def _null_or(array: pa.Array, check: pa.Array) -> pa.Array:
    return pc.or_kleene(pc.is_null(array), check).fill_null(False)


def _regex(text: pa.Array, pattern: str) -> pa.Array:
    """Whether each text matches `pattern` (null for a null). A column of nulls alone (an
    optional field no record gives) is not matched: Arrow compiles the pattern at each call,
    which costs more than matching a batch's thousand values."""
    if text.null_count == len(text):
        return pa.nulls(len(text), pa.bool_())
    return pc.match_substring_regex(text, pattern)


def _matching(
    array: pa.Array, pattern: str, *, required: bool = False, max_len: int | None = None
) -> _Column:
    """Text matching `pattern` (and of at most `max_len` bytes: a pattern of ASCII only is
    given without a count, `{1,64}`, which Arrow would compile into 64 copies at each call)."""
    text = _text(array)
    if text is None:
        ok = _none(len(array)) if required else pc.is_null(array)
        return _Column(pa.nulls(len(array), pa.large_string()), ok)
    matches = _regex(text, pattern)
    if max_len is not None:
        matches = pc.and_(matches, pc.less_equal(pc.binary_length(text), max_len))
    ok = matches.fill_null(False) if required else _null_or(text, matches)
    return _Column(text, ok)


def _member(array: pa.Array, field: FieldSpec) -> _Column:
    """A choice in any ASCII case with ASCII blanks around, as the domain's `member` reads;
    a null is left to the domain."""
    text = _text(array)
    if text is None:
        return _Column(pa.nulls(len(array), pa.large_string()), _none(len(array)))
    values = pc.ascii_lower(pc.ascii_trim_whitespace(text))
    allowed = pa.array(field.choices, pa.large_string())
    return _Column(values, pc.is_in(values, value_set=allowed).fill_null(False))


def _plain_text(array: pa.Array, field: FieldSpec) -> _Column:
    column = _matching(array, _PLAIN_TEXT, required=not field.nullable)
    short = pc.less_equal(pc.utf8_length(column.values), field.max_len)
    return _Column(column.values, pc.and_(column.ok, _null_or(column.values, short)))


def _timestamp(array: pa.Array, _field: FieldSpec) -> _Column:
    """An aware timestamp column, or ISO text with an offset; a null is left to the domain."""
    target = pa.timestamp("us", tz="UTC")
    if pa.types.is_timestamp(array.type) and array.type.tz is not None:
        values = array.cast(target, safe=False)
        within = pc.and_(
            pc.greater_equal(values, pa.scalar(_EARLIEST, target)),
            pc.less(values, pa.scalar(_LATEST, target)),
        )
        return _Column(values, within.fill_null(False))
    text = _text(array)
    if text is None:
        return _Column(pa.nulls(len(array), target), _none(len(array)))
    shaped = _regex(text, _TIMESTAMP).fill_null(False)
    candidates = pc.if_else(shaped, text, pa.scalar(None, pa.large_string()))
    values, ok = [], []
    for start in range(0, len(candidates), _CAST_SLICE):
        part = candidates.slice(start, _CAST_SLICE)
        try:
            values.append(part.cast(target))
            ok.append(shaped.slice(start, _CAST_SLICE))
        except pa.ArrowInvalid:
            # A well-shaped but impossible date (30 February) spoils the slice's cast: the
            # domain judges every row of this slice instead.
            values.append(pa.nulls(len(part), target))
            ok.append(_none(len(part)))
    if not values:
        return _Column(pa.nulls(0, target), _none(0))
    return _Column(pa.concat_arrays(values), pa.concat_arrays(ok))


def _amount(fen: pa.Array, yuan: pa.Array) -> _Column:
    """amount_fen (integer, or digits as text) or amount (yuan as plain decimal text)."""
    fen_given, yuan_given = pc.is_valid(fen), pc.is_valid(yuan)
    if pa.types.is_integer(fen.type):
        fits = pc.less_equal(fen, MAX_FEN).fill_null(False)
        fen_values = pc.if_else(fits, fen, pa.scalar(None, fen.type)).cast(pa.int64())
        fen_ok = fits
    else:
        text = _text(fen)
        digits = _none(len(fen)) if text is None else _regex(text, _FEN_DIGITS).fill_null(False)
        source = text if text is not None else pa.nulls(len(fen), pa.large_string())
        fen_values = pc.if_else(digits, source, pa.scalar(None, pa.large_string())).cast(pa.int64())
        fen_ok = digits
    yuan_text = _text(yuan)
    yuan_ok = _none(len(yuan)) if yuan_text is None else _regex(yuan_text, _YUAN).fill_null(False)
    yuan_values = _yuan_to_fen(
        pc.if_else(yuan_ok, yuan_text, pa.scalar(None, pa.large_string()))
        if yuan_text is not None
        else pa.nulls(len(yuan), pa.large_string())
    )
    values = pc.coalesce(fen_values, yuan_values)
    only_fen = pc.and_(fen_ok, pc.invert(yuan_given))
    only_yuan = pc.and_(yuan_ok, pc.invert(fen_given))
    positive = pc.greater(values, 0).fill_null(False)
    return _Column(values, pc.and_(pc.or_(only_fen, only_yuan), positive))


def _yuan_to_fen(text: pa.Array) -> pa.Array:
    """Plain decimal yuan ('12', '12.3', '12.34'; at most 13 whole digits) to fen, exactly."""
    hundredths = text.cast(pa.decimal128(15, 2))
    return pc.multiply(hundredths, pa.scalar(100, pa.decimal128(3, 0))).cast(pa.int64())


_CHECKS: Final[dict[FieldKind, Callable[[pa.Array, FieldSpec], _Column]]] = {
    FieldKind.REFERENCE: _reference,
    FieldKind.TIME: _timestamp,
    FieldKind.CHOICE: _member,
    FieldKind.DEVICE: _device,
    FieldKind.IP: _ip,
    FieldKind.TEXT: _plain_text,
}
"""The fast check of each kind of field but the amount, which has two columns to read."""


def _parties(
    kind: pa.Array,
    payer_account: pa.Array,
    payer_bank: pa.Array,
    payee_account: pa.Array,
    payee_bank: pa.Array,
) -> _Column:
    """Payer present unless a deposit, payee present unless a withdrawal, and not one account."""
    has_payer = pc.not_equal(kind, TransactionKind.DEPOSIT.value).fill_null(False)
    has_payee = pc.not_equal(kind, TransactionKind.WITHDRAWAL.value).fill_null(False)
    checks = [
        pc.equal(pc.is_valid(payer_account), has_payer),
        pc.equal(pc.is_valid(payer_bank), has_payer),
        pc.equal(pc.is_valid(payee_account), has_payee),
        pc.equal(pc.is_valid(payee_bank), has_payee),
        pc.invert(
            pc.and_(
                pc.equal(payer_account, payee_account), pc.equal(payer_bank, payee_bank)
            ).fill_null(False)
        ),
    ]
    return _Column(pa.nulls(len(kind)), _all_true(checks, len(kind)))


def _duplicates(
    tx_ids: pa.Array, failed: set[int], locate: Locate, cite: Locate, max_errors: int
) -> list[tuple[int, InvalidInput]]:
    """An error at every later row that reuses a transaction id (up to max_errors + 1)."""
    counts = pc.value_counts(tx_ids)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return []
    rows = pc.indices_nonzero(pc.is_in(tx_ids, value_set=repeated).fill_null(False))
    first: dict[str, int] = {}
    errors: list[tuple[int, InvalidInput]] = []
    for index, tx_id in zip(rows.to_pylist(), tx_ids.take(rows).to_pylist(), strict=True):
        earlier = first.setdefault(tx_id, index)
        if earlier != index and index not in failed:
            reason = f"duplicate transaction id, first at {cite(earlier)}"
            errors.append((index, InvalidInput(reason, "tx_id").at(locate(index))))
            if len(errors) > max_errors:
                break
    return errors


def _rows(table: pa.Table, indices: list[int]) -> Iterator[tuple[int, dict[str, object]]]:
    """The raw rows at `indices` as mappings, fetched in batches."""
    for start in range(0, len(indices), _FALLBACK_BATCH):
        chunk = indices[start : start + _FALLBACK_BATCH]
        yield from zip(chunk, table.take(chunk).to_pylist(), strict=True)


def _timestamps_as_text(table: pa.Table) -> pa.Table:
    """Timestamp columns as ISO text for the domain to read.

    A Python datetime holds neither nanoseconds nor years past 9999; as text, the first are
    cut to microseconds and the second become an error naming the field, not a crash.
    """
    for position, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = table.column(position).cast(pa.large_string())
            table = table.set_column(position, field.name, text)
    return table


def _replace(values: pa.Array, fixes: dict[int, dict[str, object]], name: str) -> pa.Array:
    """`values` with the domain's normal values written over the rows it had to judge."""
    if not fixes:
        return values
    indices = sorted(fixes)
    mask = np.zeros(len(values), dtype=np.bool_)
    mask[indices] = True
    replacements = pa.array([fixes[index][name] for index in indices], values.type)
    return pc.replace_with_mask(values, pa.array(mask), replacements)


def _none(length: int) -> pa.Array:
    """All false."""
    return pa.array(np.zeros(length, dtype=np.bool_))


def _all_true(checks: list[pa.Array], length: int) -> pa.Array:
    result = pa.array(np.ones(length, dtype=np.bool_))
    for check in checks:
        result = pc.and_(result, check)
    return result
