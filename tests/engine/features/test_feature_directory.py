"""The account directory: building it from tables and region folders, refusing bad ones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from feature_streams import directory_of

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import AccountDirectory
from fundwall.region import SCHEMAS

OPENED = datetime(2023, 1, 1, tzinfo=UTC)


def _accounts(**overrides: object) -> pa.Table:
    columns: dict[str, object] = {
        "account_no": ["A1", "A2", "A3"],
        "bank": ["301", "302", "301"],
        "party_id": ["P", "P", "Q"],
        "account_class": ["I", "III", "corporate"],
        "opened_at": pa.array([OPENED] * 3, pa.timestamp("us", tz="UTC")),
        "opening_balance_fen": pa.array([1, 2, 3], pa.int64()),
    }
    columns.update(overrides)
    return pa.table(columns)


def _parties() -> pa.Table:
    return pa.table(
        {
            "party_id": ["P", "Q"],
            "phone": ["13800000000", "13800000000"],
            "birth_date": pa.array([date(1990, 1, 2), None], pa.date32()),
        }
    )


def test_rows_classes_and_unknown_accounts() -> None:
    directory = AccountDirectory.from_tables(_accounts(), _parties())
    assert len(directory) == 3
    assert [directory.row_of(a) for a in ("A1", "A3", "nope")] == [0, 2, -1]
    assert directory.account_class.tolist() == [1, 3, 0]
    assert directory.rows_of(pa.array(["A3", "X", "A1"])).tolist() == [2, -1, 0]
    assert directory.party_phone_parties.tolist() == [2, 2]
    assert directory.party_birth.tolist() == [19900102, -1]


def test_class_spellings_and_integer_classes() -> None:
    spelled = _accounts(account_class=["Class II", "i", "CORPORATE"])
    assert AccountDirectory.from_tables(spelled, _parties()).account_class.tolist() == [2, 1, 0]
    numbers = _accounts(account_class=pa.array([3, 2, 0], pa.int8()))
    assert AccountDirectory.from_tables(numbers, _parties()).account_class.tolist() == [3, 2, 0]


@pytest.mark.parametrize(
    ("accounts", "field"),
    [
        (_accounts().drop_columns(["bank"]), "bank"),
        (_accounts(account_no=["A1", "A1", "A3"]), "account_no"),
        (_accounts(account_class=["I", "IV", "I"]), "account_class"),
        (_accounts(account_class=pa.array([1, 5, 1])), "account_class"),
        (_accounts(opened_at=pa.array([OPENED.replace(tzinfo=None)] * 3)), "opened_at"),
        (_accounts(opened_at=["2023-01-01"] * 3), "opened_at"),
        (_accounts(opening_balance_fen=pa.array([1, None, 3], pa.int64())), "opening_balance_fen"),
    ],
)
def test_bad_account_tables_name_the_column(accounts: pa.Table, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        AccountDirectory.from_tables(accounts, _parties())
    assert caught.value.field == field


def test_parties_need_a_phone_column_and_unique_ids() -> None:
    with pytest.raises(InvalidInput) as caught:
        AccountDirectory.from_tables(_accounts(), _parties().drop_columns(["phone"]))
    assert caught.value.field == "phone_key"
    twice = pa.concat_tables([_parties(), _parties()])
    with pytest.raises(InvalidInput, match="party ids repeat"):
        AccountDirectory.from_tables(_accounts(), twice)


def test_opening_dates_are_local_midnight_and_holders_missing_from_parties_still_group() -> None:
    accounts = _accounts(
        opened_at=pa.array([date(2024, 3, 4)] * 3, pa.date32()),
        party_id=["P", "Z", "Z"],
    )
    directory = AccountDirectory.from_tables(accounts, _parties())
    midnight_beijing = int(datetime(2024, 3, 3, 16, tzinfo=UTC).timestamp() * 1_000_000)
    assert directory.opened_us.tolist() == [midnight_beijing] * 3
    z = int(directory.party_of[1])
    assert directory.holdings(z, midnight_beijing) == (2, 2)
    assert directory.party_birth[z] == -1 and directory.party_phone_parties[z] == -1


def test_holdings_grow_as_accounts_open() -> None:
    directory = directory_of(
        [
            ("A", "301", "P", "I", datetime(2024, 1, 1, tzinfo=UTC), 0),
            ("B", "301", "P", "II", datetime(2024, 2, 1, tzinfo=UTC), 0),
            ("C", "305", "P", "II", datetime(2024, 3, 1, tzinfo=UTC), 0),
        ],
        [("P", None, None)],
    )
    feb = int(datetime(2024, 2, 15, tzinfo=UTC).timestamp() * 1_000_000)
    mar = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1_000_000)
    assert directory.holdings(0, feb) == (2, 1)
    assert directory.holdings(0, mar) == (3, 2)
    assert directory.holdings(0, 0) == (0, 0)


def test_from_region_reads_the_region_files(tmp_path: Path) -> None:
    accounts = _accounts()
    parties = _parties()
    for name, table in (("accounts", accounts), ("parties", parties)):
        schema = SCHEMAS[name]
        full = {
            field.name: table[field.name].cast(field.type)
            if field.name in table.column_names
            else pa.nulls(table.num_rows, field.type)
            for field in schema
        }
        pq.write_table(pa.table(full, schema=schema), tmp_path / f"{name}.parquet")
    directory = AccountDirectory.from_region(tmp_path)
    assert directory.row_of("A2") == 1
    assert directory.party_phone_parties.tolist() == [2, 2]


def test_from_region_refuses_a_folder_without_the_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no accounts\.parquet"):
        AccountDirectory.from_region(tmp_path)
