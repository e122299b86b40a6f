"""Balances: replaying the written transactions from the opening balances never overdraws,
and the simulator's own Class II/III limits hold."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fundwall.region import read_table
from fundwall.sim.ledger import CLASS_III_BALANCE_CAP_FEN


def _movements(folder: Path) -> pl.DataFrame:
    """One row per account touched by a transaction, in file order, with the balance after."""
    tx = pl.from_arrow(read_table(folder, "transactions")).with_row_index("seq")
    accounts = pl.from_arrow(read_table(folder, "accounts")).select(
        "account_no", "account_class", "opening_balance_fen"
    )
    out = tx.filter(pl.col("payer_account").is_not_null()).select(
        "seq", pl.col("payer_account").alias("account_no"), (-pl.col("amount_fen")).alias("delta")
    )
    into = tx.filter(pl.col("payee_account").is_not_null()).select(
        "seq", pl.col("payee_account").alias("account_no"), pl.col("amount_fen").alias("delta")
    )
    moves = pl.concat([out, into]).sort("seq", "delta")
    return moves.join(accounts, on="account_no", how="left").with_columns(
        (pl.col("opening_balance_fen") + pl.col("delta").cum_sum().over("account_no")).alias(
            "balance"
        )
    )


def test_no_account_pays_out_money_it_does_not_have(tiny: Path) -> None:
    moves = _movements(tiny)
    assert moves["opening_balance_fen"].null_count() == 0, "a transaction names an unknown account"
    assert moves["balance"].min() >= 0


def test_class_iii_accounts_stay_under_their_balance_cap(tiny: Path) -> None:
    moves = _movements(tiny).filter(pl.col("account_class") == "III")
    assert moves.height > 0
    assert moves["balance"].max() <= CLASS_III_BALANCE_CAP_FEN


def test_transactions_follow_the_layout_contract(tiny: Path) -> None:
    tx = pl.from_arrow(read_table(tiny, "transactions"))
    assert tx.height > 2_000
    assert tx["tx_id"].n_unique() == tx.height
    assert tx.sort("ts", "tx_id")["tx_id"].to_list() == tx["tx_id"].to_list()
    assert tx["amount_fen"].min() > 0
    deposits = tx.filter(pl.col("kind") == "deposit")
    withdrawals = tx.filter(pl.col("kind") == "withdrawal")
    transfers = tx.filter(pl.col("kind") == "transfer")
    assert deposits.height and withdrawals.height and transfers.height
    assert deposits["payer_account"].null_count() == deposits.height
    assert deposits["payer_bank"].null_count() == deposits.height
    assert withdrawals["payee_account"].null_count() == withdrawals.height
    assert transfers["payer_account"].null_count() == 0
    assert transfers["payee_account"].null_count() == 0
    assert set(tx["channel"].unique()) == {"counter", "atm", "mobile", "online", "pos"}
    mobile = tx.filter(pl.col("channel") == "mobile")
    assert mobile["device_id"].null_count() == 0 and mobile["ip"].null_count() == 0


def test_daily_rhythm_has_a_night_lull(tiny: Path) -> None:
    tx = pl.from_arrow(read_table(tiny, "transactions"))
    hours = tx.select(pl.col("ts").dt.convert_time_zone("Asia/Shanghai").dt.hour().alias("h"))
    night = hours.filter(pl.col("h").is_between(1, 5)).height
    evening = hours.filter(pl.col("h").is_between(18, 21)).height
    assert night * 5 < evening


def test_big_is_not_the_same_as_bad(tiny: Path) -> None:
    tx = pl.from_arrow(read_table(tiny, "transactions"))
    labels = pl.from_arrow(read_table(tiny, "tx_labels"))
    joined = tx.join(labels, on="tx_id")
    median_victim = joined.filter(pl.col("role") == "victim_payment")["amount_fen"].median()
    big_normal = joined.filter(
        (pl.col("role") == "normal") & (pl.col("amount_fen") >= median_victim)
    )
    assert big_normal.height >= 3
    assert {"house deposit", "business payment", "gift to relative", "salary"} & set(
        big_normal["purpose"].drop_nulls().to_list()
    )
