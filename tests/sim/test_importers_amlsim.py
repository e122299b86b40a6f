"""AMLSim imports: the shipped graph sample, the accounts layouts of AMLSim's converter and
its older releases, and what is refused."""

from __future__ import annotations

import csv
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.region import FILES, read_table
from fundwall.sim.importers import import_amlsim
from fundwall.sim.params import START

START_US = int(START.timestamp()) * 1_000_000
DAY_US = 86_400_000_000


def _frame(folder: Path, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(read_table(folder, name))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _folder(tmp_path: Path, **files: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name, text in files.items():
        (src / f"{name}.csv").write_text(text)
    return src


SAMPLE_VARIABLE = "FUNDWALL_AMLSIM_SAMPLE"
SAMPLE_BESIDE_THE_PROJECT = Path("shared") / "data" / "amlsim" / "20K_fanin200cycle200"
"""Where the AMLSim sample lives by default: shared/data/… in a folder above the checkout
(beside the project, or above a worktree of it kept in a subfolder)."""


def _amlsim_sample() -> tuple[Path | None, str]:
    """The AMLSim sample folder, from $FUNDWALL_AMLSIM_SAMPLE when set, else the first
    shared/data/amlsim/20K_fanin200cycle200 holding nodes.csv in a folder above this checkout;
    with where it was looked for, for the skip's reason."""
    chosen = os.environ.get(SAMPLE_VARIABLE)
    if chosen:
        folder = Path(chosen)
        found = folder if (folder / "nodes.csv").is_file() else None
        return found, f"${SAMPLE_VARIABLE} is {folder}, which holds no nodes.csv"
    checkout = Path(__file__).resolve().parents[2]
    candidates = [above / SAMPLE_BESIDE_THE_PROJECT for above in checkout.parents]
    for folder in candidates:
        if (folder / "nodes.csv").is_file():
            return folder, ""
    return None, (
        f"no {SAMPLE_BESIDE_THE_PROJECT} in a folder above {checkout} "
        f"(set {SAMPLE_VARIABLE} to the sample's folder)"
    )


AMLSIM, WHY_MISSING = _amlsim_sample()


@pytest.fixture(scope="module")
def amlsim() -> Path:
    """The AMLSim sample folder; the tests that need it skip, saying where it was looked for,
    when it is absent (a failure under CI=true)."""
    if AMLSIM is None:
        pytest.skip(f"the AMLSim sample is not found: {WHY_MISSING}")
    return AMLSIM


@pytest.fixture(scope="module")
def amlsim_folder(amlsim: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample imported into a region folder."""
    out = tmp_path_factory.mktemp("amlsim") / "region"
    result = import_amlsim(amlsim, out)
    assert result.bad == []
    return out


def test_amlsim_sample_imports_every_account_transfer_and_label(
    amlsim: Path, amlsim_folder: Path
) -> None:
    with (amlsim / "nodes.csv").open() as f:
        nodes = list(csv.DictReader(f))
    with (amlsim / "transactions.csv").open() as f:
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
    # AMLSim says nothing of when its accounts were opened: unknown, not the period start.
    assert accounts["opened_at"].null_count() == accounts.height


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


def test_a_graph_sample_without_fraud_steps_keeps_only_the_account_labels(
    tmp_path: Path,
) -> None:
    src = _folder(
        tmp_path,
        nodes=" NodeId , ISFRAUD ,init_balance\n0,False,10\n1,TRUE,20\n2,1.0,30\n",
        transactions="sourceNodeId,targetNodeId,value,time\n1,2,5,1\n0,1,3,2\n",
    )
    result = import_amlsim(src, tmp_path / "out")
    assert result.bad == [] and result.written
    labels = _frame(tmp_path / "out", "account_labels")
    assert labels["is_mule"].to_list() == [False, True, True]
    # Without fraudStep no transfer can be told to be laundering.
    assert set(_frame(tmp_path / "out", "tx_labels")["role"]) == {"normal"}


ACCOUNTS_UPPER = (
    "ACCOUNT_ID,CUSTOMER_ID,INIT_BALANCE,COUNTRY,ACCOUNT_TYPE,IS_SAR,TX_BEHAVIOR_ID\n"
    "1,C1,100.0,US,SAV,false,1\n"
    "2,C1,200.0,US,SAV,false,1\n"
    "3,C3,50.5,US,SAV,true,2\n"
    "4,C4,0.0,US,SAV,True,2\n"
)
TRANSACTIONS_UPPER = (
    "TX_ID,SENDER_ACCOUNT_ID,RECEIVER_ACCOUNT_ID,TX_TYPE,TX_AMOUNT,TIMESTAMP,IS_SAR,ALERT_ID\n"
    "1,1,2,TRANSFER,10.0,0,False,-1\n"
    "2,3,4,WIRE,40.0,3,True,7\n"
    "3,4,1,TRANSFER,20.0,3,True,7\n"
    "4,2,3,TRANSFER,5.0,4,False,-1\n"
)


def test_the_older_accounts_layout_carries_sar_flags_alerts_and_customers(
    tmp_path: Path,
) -> None:
    src = _folder(tmp_path, accounts=ACCOUNTS_UPPER, transactions=TRANSACTIONS_UPPER)
    out = tmp_path / "out"
    result = import_amlsim(src, out)
    assert result.bad == [] and result.counts["transactions"] == 4
    accounts = _frame(out, "accounts")
    assert accounts["account_no"].to_list() == [f"AML0000000{n}" for n in range(1, 5)]
    assert accounts["party_id"].to_list() == ["AC1", "AC1", "AC3", "AC4"]
    assert accounts["opening_balance_fen"].to_list() == [10_000, 20_000, 5_050, 0]
    assert accounts["opened_at"].null_count() == 4
    assert _frame(out, "parties").height == 3
    tx = _frame(out, "transactions").join(_frame(out, "tx_labels"), on="tx_id")
    assert tx["role"].to_list() == ["normal", "layering", "cash_out", "normal"]
    assert tx["purpose"].to_list() == ["TRANSFER", "WIRE", "TRANSFER", "TRANSFER"]
    # One AMLSim alert is one pattern, whether or not its transfers touch each other.
    assert tx["scam_id"].to_list() == [None, "AMLP00001", "AMLP00001", None]
    days = ((tx["ts"] - tx["ts"].min()).dt.total_days()).to_list()
    assert days == [0, 3, 3, 4]
    labels = _frame(out, "account_labels")
    assert labels["is_mule"].to_list() == [False, False, True, True]
    party_roles = _frame(out, "party_labels")["role"].to_list()
    assert party_roles == ["ordinary", "laundering", "laundering"]


def test_the_converter_layout_reads_dates_and_keeps_only_openings_it_chose(
    tmp_path: Path,
) -> None:
    accounts = (
        "acct_id,dsply_nm,type,acct_stat,acct_rptng_crncy,prior_sar_count,branch_id,open_dt,"
        "close_dt,initial_deposit,tx_behavior_id,bank_id\n"
        "10,C_10,SAV,A,USD,False,1,2017-01-01T00:00:00Z,2019-09-28T00:00:00Z,500.0,1,default\n"
        "11,C_11,SAV,A,USD,True,1,2017-01-11T00:00:00Z,2019-09-28T00:00:00Z,600.0,1,default\n"
    )
    transactions = (
        "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id,"
        "is_frgn_trxn\n"
        "1,10,11,TRANSFER,100.5,2017-01-01T00:00:00Z,False,-1,false\n"
        "2,11,10,TRANSFER,99.0,2017-01-12T00:00:00Z,True,3,false\n"
    )
    src = _folder(tmp_path, accounts=accounts, transactions=transactions)
    out = tmp_path / "out"
    assert import_amlsim(src, out).bad == []
    opened = _frame(out, "accounts")["opened_at"].to_list()
    assert opened[0] is None  # AMLSim's default: open from the first day
    assert opened[1] is not None
    ts = _frame(out, "transactions")["ts"]
    assert int(opened[1].timestamp() * 1_000_000) == START_US + 10 * DAY_US
    assert int(ts[1].timestamp() * 1_000_000) == START_US + 11 * DAY_US
    assert _frame(out, "tx_labels")["role"].to_list() == ["normal", "cash_out"]


def test_accounts_layout_bad_rows_name_the_file_line_and_field(tmp_path: Path) -> None:
    src = _folder(
        tmp_path,
        accounts="ACCOUNT_ID,IS_SAR,INIT_BALANCE\n1,no,5\n2,0,5\n3,1,5\n",
        transactions=(
            "SENDER_ACCOUNT_ID,RECEIVER_ACCOUNT_ID,TX_AMOUNT,TIMESTAMP,IS_SAR\n"
            "2,1,5,0,0\n2,3,5,2017-01-01,0\n2,3,5,1,maybe\n3,2,5,1,1\n"
        ),
    )
    result = import_amlsim(src, tmp_path / "out")
    assert [str(b) for b in result.bad] == [
        "accounts.csv line 2: field 'IS_SAR': IS_SAR must be 0 or 1 (or true/false), got 'no'",
        "transactions.csv line 2: field 'RECEIVER_ACCOUNT_ID': account 1 is not in accounts.csv",
        "transactions.csv line 3: field 'TIMESTAMP': TIMESTAMP is a date where the earlier "
        "rows give day steps",
        "transactions.csv line 4: field 'IS_SAR': IS_SAR must be 0 or 1 (or true/false), "
        "got 'maybe'",
    ]
    assert not (tmp_path / "out").exists()
    kept = import_amlsim(src, tmp_path / "out", skip_bad=True)
    assert kept.counts["transactions"] == 1


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"transactions": "a\n"}, "not an AMLSim folder"),
        ({"accounts": "ACCOUNT_ID,INIT_BALANCE\n1,5\n", "transactions": "a\n"}, "IS_SAR"),
        (
            {
                "accounts": "ACCOUNT_ID,IS_SAR,INIT_BALANCE\n1,0,5\n",
                "transactions": "SENDER_ACCOUNT_ID,TX_AMOUNT,TIMESTAMP,IS_SAR\n",
            },
            "no column RECEIVER_ACCOUNT_ID \\(or bene_acct\\)",
        ),
    ],
)
def test_a_folder_that_is_not_amlsim_output_is_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        import_amlsim(_folder(tmp_path, **files), tmp_path / "out")


def test_skipping_every_row_writes_nothing(tmp_path: Path) -> None:
    src = _folder(
        tmp_path,
        nodes="nodeid,isFraud,init_balance,fraudStep\n0,0,10,-1\n1,0,10,-1\n",
        transactions="sourceNodeId,targetNodeId,value,time\n0,1,0,1\n0,5,1,1\n",
    )
    result = import_amlsim(src, tmp_path / "out", skip_bad=True)
    assert len(result.bad) == 2 and not result.written
    assert not (tmp_path / "out").exists()
