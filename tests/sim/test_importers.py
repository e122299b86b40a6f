"""AMLSim and PaySim imports: counts, mapping choices, labels, and bad rows by line."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.region import FILES, read_table
from fundwall.sim.importers import import_amlsim, import_paysim
from fundwall.sim.importers.common import fen

AMLSIM = Path(__file__).parents[2] / ".." / "shared" / "data" / "amlsim" / "20K_fanin200cycle200"
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


@pytest.fixture(scope="module")
def amlsim_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (AMLSIM / "nodes.csv").is_file():
        pytest.skip(f"the AMLSim sample is not at {AMLSIM.resolve()} (../shared/data/amlsim)")
    out = tmp_path_factory.mktemp("amlsim") / "region"
    result = import_amlsim(AMLSIM, out)
    assert result.bad == []
    return out


def test_amlsim_sample_imports_every_account_transfer_and_label(amlsim_folder: Path) -> None:
    with (AMLSIM / "nodes.csv").open() as f:
        nodes = list(csv.DictReader(f))
    with (AMLSIM / "transactions.csv").open() as f:
        transfers = list(csv.DictReader(f))
    accounts = _frame(amlsim_folder, "accounts")
    tx = _frame(amlsim_folder, "transactions")
    labels = _frame(amlsim_folder, "account_labels")
    assert accounts.height == len(nodes) == 20_000
    assert tx.height == len(transfers) == 120_558
    # nodes.csv marks 1,804 accounts isFraud=1 (its metadata.txt says 1,803): every one is kept.
    assert labels["is_mule"].sum() == sum(n["isFraud"] == "1" for n in nodes)
    assert tx["amount_fen"].sum() == sum(int(Decimal(t["value"]) * 100) for t in transfers)
    assert tx.sort("ts", "tx_id")["tx_id"].to_list() == tx["tx_id"].to_list()
    assert set(FILES) <= {p.stem for p in amlsim_folder.iterdir()}


def test_amlsim_roles_follow_labels_and_fraud_step(amlsim_folder: Path) -> None:
    tx = _frame(amlsim_folder, "transactions").join(_frame(amlsim_folder, "tx_labels"), on="tx_id")
    mules = set(_frame(amlsim_folder, "account_labels").filter(pl.col("is_mule"))["account_no"])
    laundering = tx.filter(pl.col("role") != "normal")
    assert set(laundering["role"]) == {"layering", "cash_out"}
    assert laundering["scam_id"].null_count() == 0
    assert set(laundering["payer_account"]) <= mules
    layering = laundering.filter(pl.col("role") == "layering")
    assert set(layering["payee_account"]) <= mules
    assert not set(laundering.filter(pl.col("role") == "cash_out")["payee_account"]) & mules
    assert layering.height == 3_540
    scams = _frame(amlsim_folder, "scams")
    assert scams["payments"].sum() == laundering.height


def test_a_missing_amlsim_node_is_a_bad_row_and_nothing_is_written(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "nodes.csv").write_text(
        "nodeid,isFraud,init_balance,fraudStep\n0,0,10.00,-1\n1,1,5.5,3\n2,2,1,-1\n"
    )
    (src / "transactions.csv").write_text(
        "sourceNodeId,targetNodeId,value,time\n0,1,2.5,3\n1,7,1,3\n1,0,-4,3\n1,0,1.005,3\n"
    )
    out = tmp_path / "out"
    result = import_amlsim(src, out)
    assert [(b.file, b.line) for b in result.bad] == [
        ("nodes.csv", 4),
        ("transactions.csv", 3),
        ("transactions.csv", 4),
    ]
    assert "isFraud must be 0 or 1" in str(result.bad[0])
    assert "node 7 is not in nodes.csv" in str(result.bad[1])
    assert "value must be positive" in str(result.bad[2])
    assert not out.exists()
    kept = import_amlsim(src, out, skip_bad=True)
    assert kept.counts["transactions"] == 2
    assert _frame(out, "transactions")["amount_fen"].to_list() == [250, 101]
    roles = _frame(out, "tx_labels")["role"].to_list()
    assert roles == ["normal", "cash_out"]


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


def test_a_wrong_header_or_used_output_folder_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "wrong.csv"
    src.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="expected the header"):
        import_paysim(src, tmp_path / "out")
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
            assert ResidentId.parse(row["id_number"]).birth_date == row["birth_date"]
        else:
            CreditCode.parse(row["id_number"])
        MobilePhone.parse(row["phone"])
    assert parties["id_number"].n_unique() == parties.height
