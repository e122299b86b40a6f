"""The fraud woven in: money traces back to victims, sold accounts change hands before use,
labels agree with the transactions, and the tiny region holds every pattern."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from fundwall.region import read_table
from fundwall.sim.params import BEHAVIOUR, START


def _frame(folder: Path, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(read_table(folder, name))
    assert isinstance(frame, pl.DataFrame)
    return frame


SCAM_ROLES = ("victim_payment", "layering", "cash_out")
"""The roles of scam money; `collection` and `forwarding` are the 跑分 networks' (test_paofen)."""


@pytest.fixture(scope="module")
def illicit_tx(tiny: Path) -> pl.DataFrame:
    tx = _frame(tiny, "transactions").join(_frame(tiny, "tx_labels"), on="tx_id", how="left")
    assert tx["role"].null_count() == 0
    return tx.filter(pl.col("role") != "normal")


@pytest.fixture(scope="module")
def fraud_tx(illicit_tx: pl.DataFrame) -> pl.DataFrame:
    return illicit_tx.filter(pl.col("role").is_in(SCAM_ROLES))


def test_labels_cover_every_transaction_in_the_same_order(tiny: Path) -> None:
    tx = _frame(tiny, "transactions")
    labels = _frame(tiny, "tx_labels")
    assert labels["tx_id"].to_list() == tx["tx_id"].to_list()
    scam = pl.col("role").is_in(SCAM_ROLES)
    assert labels.filter(~scam)["scam_id"].null_count() == labels.filter(~scam).height
    assert labels.filter(scam)["scam_id"].null_count() == 0


def test_every_layering_and_cash_out_traces_back_to_a_victim_payment(
    fraud_tx: pl.DataFrame,
) -> None:
    """Amount-aware: per scam and account, what has gone out never exceeds what came in
    earlier, and each scam's money entered through a victim payment."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    for row in fraud_tx.sort("ts", "tx_id").iter_rows(named=True):
        scam = row["scam_id"]
        if row["role"] == "victim_payment":
            held[(scam, row["payee_account"])] += row["amount_fen"]
            continue
        key = (scam, row["payer_account"])
        assert held[key] >= row["amount_fen"], f"{row['tx_id']} moves money {scam} never had"
        held[key] -= row["amount_fen"]
        if row["payee_account"] is not None:
            held[(scam, row["payee_account"])] += row["amount_fen"]
    assert set(fraud_tx["role"].unique()) == {"victim_payment", "layering", "cash_out"}


def test_scams_sum_their_victim_payments_and_reports_match(
    tiny: Path, fraud_tx: pl.DataFrame
) -> None:
    scams = _frame(tiny, "scams")
    paid = fraud_tx.filter(pl.col("role") == "victim_payment")
    totals = paid.group_by("scam_id").agg(
        pl.col("amount_fen").sum().alias("paid"),
        pl.len().alias("n"),
        pl.col("payer_account").first(),
    )
    joined = scams.join(totals, on="scam_id")
    assert joined.height == scams.height
    assert (joined["amount_fen"] == joined["paid"]).all()
    assert (joined["payments"] == joined["n"]).all()
    assert (joined["victim_account"] == joined["payer_account"]).all()
    reports = _frame(tiny, "victim_reports").join(
        scams.select("scam_id", "last_paid_at"), on="scam_id"
    )
    assert reports["scam_id"].n_unique() == scams.height
    assert (reports["reported_at"] > reports["last_paid_at"]).all()
    assert (reports["reported_at"] - reports["last_paid_at"]).max() <= timedelta(days=11)
    lines = reports.sort("scam_id", "line").with_columns(
        pl.col("line").cum_count().over("scam_id").alias("k")
    )
    actual = paid.sort("ts", "tx_id").with_columns(
        pl.col("tx_id").cum_count().over("scam_id").alias("k")
    )
    both = lines.join(actual, on=["scam_id", "k"], suffix="_tx")
    assert both.height == reports.height
    assert (both["payee_account"] == both["payee_account_tx"]).all()
    assert ((both["amount_fen_tx"] - both["amount_fen"]).abs() < 10_000).all()
    assert ((both["ts"] - both["paid_at"]) < timedelta(minutes=10)).all()
    assert (both["paid_at"] <= both["ts"]).all()


def test_mule_labels_agree_with_illicit_inflows(
    tiny: Path, illicit_tx: pl.DataFrame, fraud_tx: pl.DataFrame
) -> None:
    labels = _frame(tiny, "account_labels")
    inflow = (
        illicit_tx.filter(pl.col("payee_account").is_not_null())
        .group_by(pl.col("payee_account").alias("account_no"))
        .agg(pl.col("ts").min().alias("first"))
    )
    mules = labels.filter(pl.col("is_mule")).join(inflow, on="account_no", how="left")
    assert mules.height > 0
    assert mules["first"].null_count() == 0
    assert (mules["first"] == mules["mule_since"]).all()
    victims = set(fraud_tx.filter(pl.col("role") == "victim_payment")["payer_account"])
    inflowing = set(inflow["account_no"])
    assert inflowing == set(mules["account_no"])
    assert not victims & inflowing
    assert (
        labels.filter(~pl.col("is_mule"))["mule_level"].null_count()
        == labels.filter(~pl.col("is_mule")).height
    )
    assert set(mules["mule_level"].unique()) >= {1, 2, 3}


def _handed_over(tiny: Path) -> pl.DataFrame:
    """Sold accounts that changed hands: all but rented 跑分 collection accounts, whose
    holders keep them (test_paofen)."""
    labels = _frame(tiny, "account_labels")
    return labels.filter(pl.col("sold") & (pl.col("mule_source") != "paofen_collection"))


def test_sold_accounts_change_device_and_city_before_mule_use(tiny: Path) -> None:
    labels = _handed_over(tiny)
    logins = _frame(tiny, "logins")
    tx = _frame(tiny, "transactions").join(_frame(tiny, "tx_labels"), on="tx_id")
    own = set(tx.filter(pl.col("role") == "normal")["device_id"].drop_nulls())
    assert labels.height >= 5
    for row in labels.iter_rows(named=True):
        assert row["sold_at"] < row["mule_since"]
        before = logins.filter(
            (pl.col("account_no") == row["account_no"])
            & (pl.col("ts") >= row["sold_at"])
            & (pl.col("ts") < row["mule_since"])
        )
        assert before.height >= 1, row["account_no"]
        assert (before["city"] != "Xiamen").all()
        assert not set(before["device_id"]) & own
    checks = logins.filter(pl.col("account_no").is_in(labels["account_no"].to_list()))
    assert {"failed", "mismatch"} <= set(checks["face_check"])


def test_sold_accounts_have_no_ordinary_life_after_the_sale(tiny: Path) -> None:
    labels = _handed_over(tiny)
    tx = _frame(tiny, "transactions").join(_frame(tiny, "tx_labels"), on="tx_id")
    normal = tx.filter(pl.col("role") == "normal")
    for side in ("payer_account", "payee_account"):
        hit = normal.join(labels, left_on=side, right_on="account_no")
        assert (hit["ts"] < hit["sold_at"]).all()


def test_tiny_region_holds_every_pattern(tiny: Path, fraud_tx: pl.DataFrame) -> None:
    scams = _frame(tiny, "scams")
    assert set(scams["scam_type"]) == set(BEHAVIOUR.scam_types)
    assert set(scams["levels"]) >= {2, 3, 4}
    layering = fraud_tx.filter(pl.col("role") == "layering")
    per_payer = layering.group_by("scam_id", "payer_account").len()
    per_payee = layering.group_by("scam_id", "payee_account").len()
    assert per_payer["len"].max() >= 2, "no split"
    assert per_payee["len"].max() >= 2, "no merge"
    assert (layering["payer_bank"] != layering["payee_bank"]).mean() > 0.8
    cash = fraud_tx.filter(pl.col("role") == "cash_out")
    assert {"withdrawal", "transfer"} <= set(cash["kind"])
    assert set(cash.filter(pl.col("kind") == "withdrawal")["channel"]) == {"atm"}
    institutions = _frame(tiny, "institutions")
    pis = set(institutions.filter(pl.col("kind") == "payment_institution")["code"])
    assert set(cash.filter(pl.col("kind") == "transfer")["payee_bank"]) <= pis
    labels = _frame(tiny, "account_labels").filter(pl.col("is_mule"))
    assert {"sold", "dormant", "dealer", "batch", "cashout_merchant"} <= set(labels["mule_source"])
    parties = _frame(tiny, "party_labels")
    assert set(parties["phone_issue"]) == {"none", "shared", "recycled", "mismatch"}
    persons = _frame(tiny, "parties").filter(pl.col("kind") == "person")
    victims = persons.join(scams, left_on="party_id", right_on="victim_party_id")
    sixty = (START - timedelta(days=60 * 365)).date()
    assert (victims["birth_date"] <= sixty).mean() > (persons["birth_date"] <= sixty).mean()


def test_dormant_batch_and_many_account_holders_exist(tiny: Path) -> None:
    accounts = _frame(tiny, "accounts")
    start = START
    labels = _frame(tiny, "account_labels")
    woke = accounts.join(labels, on="account_no").filter(
        (pl.col("mule_source") == "dormant") & pl.col("is_mule")
    )
    assert woke.height >= 1
    assert (woke["last_active_at"] < start - timedelta(days=365)).all()
    batches = (
        accounts.filter(pl.col("opening_device_id").is_not_null())
        .group_by("opening_device_id", "bank")
        .len()
    )
    assert batches["len"].max() >= 5
    assert accounts["opening_agent"].drop_nulls().n_unique() >= 1
    banks = (
        accounts.filter(pl.col("account_class") == "I")
        .group_by("party_id")
        .agg(pl.col("bank").n_unique())
    )
    assert banks["bank"].max() >= 4
    registry = _frame(tiny, "phone_registry")
    assert registry["deregistered_at"].null_count() < registry.height
