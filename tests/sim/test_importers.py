"""PaySim imports and what every import shares: mapping choices, labels, header and flag
spellings, bad rows by line, and unknown account ages."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.engine.features import AccountDirectory
from fundwall.engine.features.bulk import compute_bulk
from fundwall.engine.replay import replay
from fundwall.engine.rules import default_pack, features_of
from fundwall.region import read_table
from fundwall.sim.importers import import_paysim
from fundwall.sim.importers.common import fen, flag

from .paysim_like import write_paysim_like

PAYSIM_HEADER = (
    "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
    "newbalanceDest,isFraud,isFlaggedFraud"
)
PAYSIM_ROWS = [
    "1,PAYMENT,9839.64,C1231006815,170136.0,160296.36,M1979787155,0.0,0.0,0,0",
    "1,TRANSFER,181.0,C1305486145,181.0,0.0,C553264065,0.0,0.0,1,0",
    "1,CASH_OUT,181.0,C840083671,181.0,0.0,C38997010,21182.0,0.0,1,0",
    "1,CASH_IN,500.005,C553264065,0.0,500.01,C38997010,21182.0,20682.0,0,0",
    "2,DEBIT,1000.5,C1231006815,160296.36,159295.86,C99,5.0,1005.5,0,0",
    "2,TRANSFER,20128.0,C1231006815,159295.86,139167.86,C553264065,500.01,20628.01,0,0",
    "3,CASH_OUT,77.0,C553264065,20628.01,20551.01,C38997010,0.0,77.0,1,0",
]


def _frame(folder: Path, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(read_table(folder, name))
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.fixture()
def paysim_folder(tmp_path: Path) -> Path:
    src = tmp_path / "paysim.csv"
    src.write_text("\n".join([PAYSIM_HEADER, *PAYSIM_ROWS]) + "\n")
    out = tmp_path / "region"
    result = import_paysim(src, out)
    assert result.bad == []
    assert result.counts["transactions"] == len(PAYSIM_ROWS)
    return out


def test_paysim_types_map_to_kinds_and_channels(paysim_folder: Path) -> None:
    tx = _frame(paysim_folder, "transactions")
    assert tx["tx_id"].to_list() == [f"PS{n:09d}" for n in range(2, 9)]
    assert tx["kind"].to_list() == [
        "transfer",
        "transfer",
        "withdrawal",
        "deposit",
        "withdrawal",
        "transfer",
        "withdrawal",
    ]
    assert tx["channel"].to_list() == [
        "mobile",
        "mobile",
        "counter",
        "counter",
        "online",
        "mobile",
        "counter",
    ]
    deposit = tx.row(3, named=True)
    assert deposit["payer_account"] is None and deposit["payee_account"] == "C553264065"
    assert deposit["amount_fen"] == 50_001
    assert tx.row(2, named=True)["purpose"] == "cash out at agent C38997010"
    hours = (tx["ts"] - tx["ts"].min()).dt.total_hours().to_list()
    assert hours[:4] == [0, 0, 0, 0] and hours[4:6] == [1, 1] and hours[6] == 2


def test_paysim_fraud_becomes_victim_payment_and_cash_out(paysim_folder: Path) -> None:
    labels = _frame(paysim_folder, "tx_labels")
    assert labels["role"].to_list() == [
        "normal",
        "victim_payment",
        "cash_out",
        "normal",
        "normal",
        "normal",
        "cash_out",
    ]
    scam = labels["scam_id"].to_list()
    assert scam[1] == scam[2] == "PSS000001"
    assert scam[6] == "PSS000002"
    scams = _frame(paysim_folder, "scams")
    assert scams["victim_account"].to_list() == ["C1305486145", None]
    assert scams["cashed_out_fen"].to_list() == [18_100, 7_700]
    mules = _frame(paysim_folder, "account_labels").filter(pl.col("is_mule"))
    assert set(mules["account_no"]) == {"C553264065", "C840083671"}
    accounts = _frame(paysim_folder, "accounts")
    opening = dict(zip(accounts["account_no"], accounts["opening_balance_fen"], strict=True))
    assert opening["C1231006815"] == 17_013_600
    assert opening["M1979787155"] == 0
    classes = dict(zip(accounts["account_no"], accounts["account_class"], strict=True))
    assert classes["M1979787155"] == "corporate" and classes["C99"] == "I"


def test_paysim_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "\n".join(
            [
                PAYSIM_HEADER,
                PAYSIM_ROWS[0],
                "1,REFUND,5,C1,0,0,C2,0,0,0,0",
                "1,TRANSFER,0.00,C1,0,0,C2,0,0,1,0",
                "1,TRANSFER,5,C1,0,0",
                "x,TRANSFER,5,C1,0,0,C2,0,0,0,0",
            ]
        )
        + "\n"
    )
    result = import_paysim(src, tmp_path / "out")
    assert [b.line for b in result.bad] == [3, 4, 5, 6]
    reasons = [b.reason for b in result.bad]
    assert "type must be one of" in reasons[0]
    assert "amount must be positive" in reasons[1]
    assert "expected 11 fields, got 6" in reasons[2]
    assert "step is not a whole number" in reasons[3]
    assert not (tmp_path / "out").exists()


def test_a_header_without_a_required_column_names_it(tmp_path: Path) -> None:
    src = tmp_path / "wrong.csv"
    src.write_text(PAYSIM_HEADER.replace(",isFraud", "") + "\n")
    with pytest.raises(InvalidInput, match="no column isFraud") as caught:
        import_paysim(src, tmp_path / "out")
    assert caught.value.field == "isFraud"
    src.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="no column step; the header is a,b"):
        import_paysim(src, tmp_path / "out")
    src.write_text(PAYSIM_HEADER + ",ISFRAUD\n")
    with pytest.raises(InvalidInput, match="'isFraud' and 'ISFRAUD' both give isFraud"):
        import_paysim(src, tmp_path / "out")


def test_a_used_output_folder_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text("\n".join([PAYSIM_HEADER, *PAYSIM_ROWS]) + "\n")
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("")
    with pytest.raises(InvalidInput, match="not empty"):
        import_paysim(src, used)


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_fen_rounds_half_up_to_the_fen(value: Decimal) -> None:
    expected = int((value * 100 + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))
    assert fen(str(value), "amount", positive=False) == expected


def test_imported_parties_get_valid_generated_identities(paysim_folder: Path) -> None:
    parties = _frame(paysim_folder, "parties")
    accounts = _frame(paysim_folder, "accounts")
    assert set(accounts["party_id"]) == set(parties["party_id"])
    for row in parties.iter_rows(named=True):
        if row["kind"] == "person":
            ResidentId.parse(row["id_number"])
        else:
            CreditCode.parse(row["id_number"])
        MobilePhone.parse(row["phone"])
    assert parties["id_number"].n_unique() == parties.height
    # The generated ID's birth date is not the holder's: no age is invented.
    assert parties["birth_date"].null_count() == parties["sex"].null_count() == parties.height


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", False), ("1", True), (" 1 ", True), ("0.0", False), ("1.0", True), ("true", True),
     ("FALSE", False), ("True", True), (" false ", False)],
)  # fmt: skip
def test_flags_are_read_in_the_spellings_data_sets_use(text: str, value: bool) -> None:
    assert flag(text, "isFraud") is value


@pytest.mark.parametrize("text", ["2", "yes", "0.5", "", "-1", "01", "t", "1.0.0"])
def test_other_flags_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput, match="isFraud must be 0 or 1") as caught:
        flag(text, "isFraud")
    assert caught.value.field == "isFraud"


def _paysim_csv(tmp_path: Path, header: str, rows: list[str]) -> Path:
    src = tmp_path / "variant.csv"
    src.write_text("\n".join([header, *rows]) + "\n")
    return src


@pytest.mark.parametrize(
    "header",
    [
        PAYSIM_HEADER.lower(),
        PAYSIM_HEADER.upper(),
        " " + PAYSIM_HEADER.replace(",", " , ").replace("step", "Step") + " ",
    ],
)
def test_paysim_headers_in_other_cases_and_spacing_read_alike(tmp_path: Path, header: str) -> None:
    published = import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, PAYSIM_ROWS), tmp_path / "a")
    variant = import_paysim(_paysim_csv(tmp_path, header, PAYSIM_ROWS), tmp_path / "b")
    assert published.bad == variant.bad == []
    for name in ("transactions", "tx_labels", "accounts"):
        assert _frame(tmp_path / "a", name).equals(_frame(tmp_path / "b", name))


def test_paysim_optional_columns_may_be_missing_and_columns_reordered(tmp_path: Path) -> None:
    keep = ["isFraud", "nameDest", "oldbalanceDest", "step", "type", "amount", "nameOrig",
            "oldbalanceOrg"]  # fmt: skip
    names = PAYSIM_HEADER.split(",")
    rows = [dict(zip(names, row.split(","), strict=True)) for row in PAYSIM_ROWS]
    reordered = [",".join(" " + r[k] + " " for k in keep) for r in rows]
    variant = import_paysim(_paysim_csv(tmp_path, ",".join(keep), reordered), tmp_path / "b")
    published = import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, PAYSIM_ROWS), tmp_path / "a")
    assert variant.bad == [] and variant.counts == published.counts
    assert _frame(tmp_path / "a", "tx_labels").equals(_frame(tmp_path / "b", "tx_labels"))


def test_a_paysim_file_without_balances_imports_with_opening_balances_of_zero(
    tmp_path: Path,
) -> None:
    keep = ["step", "type", "amount", "nameOrig", "nameDest", "isFraud"]
    names = PAYSIM_HEADER.split(",")
    rows = [dict(zip(names, row.split(","), strict=True)) for row in PAYSIM_ROWS]
    bare = [",".join(r[k] for k in keep) for r in rows]
    variant = import_paysim(_paysim_csv(tmp_path, ",".join(keep), bare), tmp_path / "b")
    published = import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, PAYSIM_ROWS), tmp_path / "a")
    assert variant.bad == [] and variant.counts == published.counts
    for name in ("transactions", "tx_labels", "account_labels"):
        assert _frame(tmp_path / "a", name).equals(_frame(tmp_path / "b", name))
    assert set(_frame(tmp_path / "b", "accounts")["opening_balance_fen"]) == {0}


PAYSIM2_HEADER = (
    "step,action,amount,nameOrig,oldBalanceOrig,newBalanceOrig,nameDest,oldBalanceDest,"
    "newBalanceDest,isFraud,isFlaggedFraud,isUnauthorizedOverdraft"
)


def test_paysim_simulators_own_log_reads_with_step_zero_and_overdrawn_balances(
    tmp_path: Path,
) -> None:
    """PaySim 2 writes `action`, camel-cased balances, its first hour as step 0, the negative
    balances of overdrawn customers, and the payments it refused (`isUnauthorizedOverdraft`),
    which moved no money and are left out."""
    rows = [
        "0,TRANSFER,300.00,C11,300.00,0.00,CC12,0.00,300.00,1,0,0",
        "0,CASH_OUT,300.00,CC12,300.00,0.00,M13,0.00,0.00,1,0,0",
        "1,PAYMENT,50.00,C14,-20.00,-20.00,M13,0.00,0.00,0,0,1",
        "1,TRANSFER,5.00,C16,10.00,5.00,C11,0.00,5.00,0,0,0",
        "2,CASH_IN,80.50,C14,-20.00,60.50,M15,0.00,0.00,0,0,0",
        "2,DEBIT,10.00,C16,5.00,-5.00,B17,-7.25,-7.25,0,0,0",
    ]
    result = import_paysim(_paysim_csv(tmp_path, PAYSIM2_HEADER, rows), tmp_path / "r")
    assert result.bad == [] and result.refused == 1 and result.rows == 5
    tx = _frame(tmp_path / "r", "transactions")
    assert tx["tx_id"].to_list() == [
        "PS000000002",
        "PS000000003",
        *(f"PS00000000{n}" for n in (5, 6, 7)),
    ]
    assert tx["kind"].to_list() == ["transfer", "withdrawal", "transfer", "deposit", "withdrawal"]
    hours = (tx["ts"] - tx["ts"].min()).dt.total_hours().to_list()
    assert hours == [0, 0, 1, 2, 2]
    published = import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, PAYSIM_ROWS), tmp_path / "p")
    assert published.bad == []
    step_one = _frame(tmp_path / "p", "transactions")["ts"].min()
    assert tx["ts"].to_list()[2] == step_one  # step 0 is the hour before step 1
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert datetime.fromisoformat(manifest["period_start"]) == step_one - timedelta(hours=1)
    accounts = _frame(tmp_path / "r", "accounts")
    opening = dict(zip(accounts["account_no"], accounts["opening_balance_fen"], strict=True))
    assert opening["C14"] == -2_000 and opening["C11"] == 30_000 and opening["B17"] == -725
    labels = _frame(tmp_path / "r", "tx_labels")
    assert labels["role"].to_list()[:2] == ["victim_payment", "cash_out"]


def test_a_negative_amount_or_step_is_still_a_bad_row(tmp_path: Path) -> None:
    rows = ["1,PAYMENT,-5.00,C1,10,15,M2,0,0,0,0", "-1,PAYMENT,5.00,C1,10,5,M2,0,0,0,0"]
    result = import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, rows), tmp_path / "out")
    assert [b.reason for b in result.bad] == [
        "field 'amount': amount must be positive",
        "field 'step': step must be at least 0, got -1",
    ]


def test_paysim_flags_as_floats_or_words_read_alike(tmp_path: Path) -> None:
    def spelled(row: str, yes: str, no: str) -> str:
        *head, fraud, _ = row.split(",")
        return ",".join([*head, yes if fraud == "1" else no, no])

    words = [spelled(r, " TRUE", "false ") for r in PAYSIM_ROWS]
    floats = [spelled(r, "1.0", "0.0") for r in PAYSIM_ROWS]
    import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, PAYSIM_ROWS), tmp_path / "a")
    for name, rows in (("w", words), ("f", floats)):
        assert import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, rows), tmp_path / name).bad == []
        assert _frame(tmp_path / "a", "tx_labels").equals(_frame(tmp_path / name, "tx_labels"))
    bad = [spelled(PAYSIM_ROWS[0], "Y", "N")]
    result = import_paysim(_paysim_csv(tmp_path, PAYSIM_HEADER, bad), tmp_path / "x")
    assert [str(b) for b in result.bad] == [
        "variant.csv line 2: field 'isFraud': isFraud must be 0 or 1 (or true/false), got 'N'"
    ]


def test_skipping_every_paysim_row_writes_nothing(tmp_path: Path) -> None:
    src = _paysim_csv(tmp_path, PAYSIM_HEADER, ["1,REFUND,5,C1,0,0,C2,0,0,0,0"])
    result = import_paysim(src, tmp_path / "out", skip_bad=True)
    assert len(result.bad) == 1 and not result.written
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def paysim_like(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A PaySim-format file of about 20,000 rows (tests/sim/paysim_like.py) and its import."""
    folder = tmp_path_factory.mktemp("paysim_like")
    src = write_paysim_like(folder / "paysim.csv", rows=20_000, seed=11)
    result = import_paysim(src, folder / "region")
    assert result.bad == []
    return src, folder / "region"


def test_the_paysim_reproduction_keeps_paysims_mechanics(paysim_like: tuple[Path, Path]) -> None:
    with paysim_like[0].open() as handle:
        rows = list(csv.DictReader(handle))
    assert 19_000 < len(rows) < 21_000
    assert [int(r["step"]) for r in rows] == sorted(int(r["step"]) for r in rows)
    balance: dict[str, Decimal] = {}
    for r in rows:
        for side, old, new in (("nameOrig", "oldbalanceOrg", "newbalanceOrig"),
                               ("nameDest", "oldbalanceDest", "newbalanceDest")):  # fmt: skip
            name = r[side]
            if name.startswith("M"):
                assert r[old] == r[new] == "0.00"
                continue
            assert balance.get(name, Decimal(r[old])) == Decimal(r[old]), r
            balance[name] = Decimal(r[new])
    fraud = [r for r in rows if r["isFraud"] == "1"]
    assert fraud and len(fraud) % 2 == 0
    for transfer, cash_out in zip(fraud[::2], fraud[1::2], strict=True):
        assert (transfer["type"], cash_out["type"]) == ("TRANSFER", "CASH_OUT")
        assert transfer["newbalanceOrig"] == "0.00"  # the whole balance
        assert transfer["amount"] == transfer["oldbalanceOrg"] == cash_out["amount"]
        assert transfer["step"] == cash_out["step"]
        assert cash_out["nameOrig"] == transfer["nameDest"]


def test_paysim_accounts_have_an_unknown_age_and_no_young_account_rule_fires(
    paysim_like: tuple[Path, Path],
) -> None:
    region = paysim_like[1]
    assert _frame(region, "accounts")["opened_at"].null_count() == _frame(region, "accounts").height
    features = compute_bulk(
        read_table(region, "transactions"), AccountDirectory.from_region(region)
    )
    assert set(features["payer_age_days"].to_pylist()) == {-1}
    assert set(features["payee_age_days"].to_pylist()) == {-1}
    pack = default_pack()
    reading_age = {
        rule.id
        for rule in pack.active
        if {"payer_age_days", "payee_age_days"} & set(features_of(rule.when))
    }
    decisions = replay(region, pack)
    fired = {rule for rules in decisions["rules"].to_pylist() for rule in rules}
    assert reading_age and fired and not fired & reading_age
