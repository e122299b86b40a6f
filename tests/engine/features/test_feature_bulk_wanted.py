"""The columnar form asked for some features computes those columns exactly as it computes
them among all: on a simulated region with its logins, for the default pack's features and
for other choices (a ratio without its parts, a first-pair flag without its stream's
windows, a login feature alone, random draws)."""

from __future__ import annotations

import random
from collections.abc import Collection
from pathlib import Path

import pyarrow as pa
import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import AccountDirectory, bulk_schema, compute_bulk, iter_bulk
from fundwall.engine.features.catalog import feature_names
from fundwall.engine.rules import default_pack
from fundwall.region import read_table

BATCH_ROWS = 1_000
"""Several batches on the tiny region: what carries over from one to the next is checked too."""
DRAWS = [random.Random(seed).sample(feature_names(), size) for seed, size in enumerate((1, 9, 40))]


@pytest.fixture(scope="module")
def inputs(region: Path) -> tuple[pa.Table, AccountDirectory, pa.Table]:
    transactions = read_table(region, "transactions")
    return transactions, AccountDirectory.from_region(region), read_table(region, "logins")


@pytest.fixture(scope="module")
def every_feature(inputs: tuple[pa.Table, AccountDirectory, pa.Table]) -> pa.Table:
    transactions, directory, logins = inputs
    return compute_bulk(transactions, directory, logins=logins, batch_rows=BATCH_ROWS)


@pytest.mark.parametrize(
    "wanted",
    [
        default_pack().feature_names,
        ["amount_to_payer_max_30d", "payee_out_to_in_24h"],
        ["payer_new_device", "device_accounts", "new_payee"],
        ["payee_face_fail_7d"],
        *DRAWS,
    ],
)
def test_the_features_asked_for_equal_those_computed_among_all(
    inputs: tuple[pa.Table, AccountDirectory, pa.Table],
    every_feature: pa.Table,
    wanted: Collection[str],
) -> None:
    transactions, directory, logins = inputs
    batches = iter_bulk(
        transactions, directory, logins=logins, batch_rows=BATCH_ROWS, wanted=wanted
    )
    chosen = pa.Table.from_batches(list(batches))
    names = [name for name in feature_names() if name in set(wanted)]
    assert chosen.schema == pa.schema([bulk_schema().field(name) for name in names])
    assert chosen.equals(every_feature.select(names))


@pytest.mark.parametrize(
    ("wanted", "message"),
    [(["amount", "payer_shoe_size"], "no such feature: payer_shoe_size"), ([], "at least one")],
)
def test_features_that_cannot_be_computed_are_refused(wanted: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        next(iter_bulk(pa.table({}), wanted=wanted))
