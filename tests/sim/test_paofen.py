"""跑分 networks: many strangers' small stakes around the clock, forwarded within minutes to a
few collectors, rentals that come and go, and labels that agree with the transactions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from fundwall.region import read_table
from fundwall.sim.ledger import CLASS_II_DAILY_OUT_FEN
from fundwall.sim.params import BEHAVIOUR, SCALES, START

LOCAL = "Asia/Shanghai"


def _frame(folder: Path, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(read_table(folder, name))
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.fixture(scope="module")
def tx(tiny: Path) -> pl.DataFrame:
    return _frame(tiny, "transactions").join(_frame(tiny, "tx_labels"), on="tx_id")


@pytest.fixture(scope="module")
def members(tiny: Path) -> pl.DataFrame:
    """The networks' accounts with their labels and account rows."""
    labels = _frame(tiny, "account_labels").filter(pl.col("network_id").is_not_null())
    return labels.join(_frame(tiny, "accounts"), on="account_no")


def _role(tx: pl.DataFrame, role: str) -> pl.DataFrame:
    return tx.filter(pl.col("role") == role)


def _collection_accounts(members: pl.DataFrame) -> pl.DataFrame:
    return members.filter(pl.col("mule_source") == "paofen_collection")


def test_the_tiny_region_holds_its_networks(tiny: Path, members: pl.DataFrame) -> None:
    networks = _frame(tiny, "networks")
    assert networks.height == SCALES["tiny"].networks
    assert set(members["network_id"]) == set(networks["network_id"])
    counts = members.group_by("network_id", "mule_source").len()
    collection = counts.filter(pl.col("mule_source") == "paofen_collection")
    collectors = counts.filter(pl.col("mule_source") == "paofen_collector")
    lo, hi = BEHAVIOUR.collection_accounts
    assert collection["len"].is_between(lo // 2, hi).all()
    assert collectors["len"].is_between(*BEHAVIOUR.collectors).all()


def test_stakes_are_small_and_come_from_many_strangers(
    tx: pl.DataFrame, members: pl.DataFrame
) -> None:
    stakes = _role(tx, "collection")
    lo, hi = BEHAVIOUR.stake_range_yuan
    assert stakes["amount_fen"].is_between(lo * 100, hi * 100).all()
    assert stakes["kind"].unique().to_list() == ["transfer"]
    assert set(stakes["payee_account"]) == set(_collection_accounts(members)["account_no"])
    ordered = stakes.sort("ts", "tx_id").with_columns(
        pl.col("tx_id").cum_count().over("payee_account", "payer_account").alias("nth")
    )
    # Most stakes come from a payer the account has never seen before.
    assert (ordered["nth"] == 1).mean() > 0.6
    per_account = stakes.group_by("payee_account").agg(
        pl.len().alias("stakes"), pl.col("payer_account").n_unique().alias("payers")
    )
    assert per_account["payers"].sum() >= 0.6 * per_account["stakes"].sum()
    assert stakes["payer_account"].n_unique() >= 30


def test_stakes_come_around_the_clock(tx: pl.DataFrame) -> None:
    def night_share(rows: pl.DataFrame) -> float:
        hour = rows["ts"].dt.convert_time_zone(LOCAL).dt.hour()
        return float(hour.is_between(1, 5).mean() or 0.0)

    normal_transfers = _role(tx, "normal").filter(pl.col("kind") == "transfer")
    assert night_share(_role(tx, "collection")) > 0.08
    assert night_share(_role(tx, "collection")) > 4 * night_share(normal_transfers)


def _batches(tx: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Each forwarding out of a collection account with the stakes it carried: those that
    arrived from the previous forwarding (inclusive) up to it."""
    accounts = _collection_accounts(members)["account_no"]
    out = _role(tx, "forwarding").filter(pl.col("payer_account").is_in(accounts.implode()))
    stakes = _role(tx, "collection").select(
        pl.col("payee_account").alias("account"), "ts", pl.col("amount_fen").alias("stake")
    )
    forwards = out.select(
        pl.col("payer_account").alias("account"),
        pl.col("ts").alias("forwarded_at"),
        pl.col("amount_fen").alias("forwarded"),
    ).sort("account", "forwarded_at")
    forwards = forwards.with_columns(
        pl.col("forwarded_at").shift(1).over("account").alias("previous")
    )
    joined = stakes.join(forwards, on="account").filter(
        (pl.col("ts") < pl.col("forwarded_at"))
        & (pl.col("previous").is_null() | (pl.col("ts") >= pl.col("previous")))
    )
    return joined.group_by("account", "forwarded_at").agg(
        pl.col("forwarded").first(),
        pl.col("stake").sum().alias("carried"),
        pl.col("ts").min().alias("first_stake"),
    )


def test_collection_accounts_forward_nearly_all_within_minutes(
    tx: pl.DataFrame, members: pl.DataFrame
) -> None:
    batches = _batches(tx, members)
    assert batches.height > 50
    kept = 1 - batches["forwarded"] / batches["carried"]
    lo, hi = BEHAVIOUR.commission
    assert kept.min() >= lo - 0.001 and kept.max() <= hi + 0.001
    waited = (batches["forwarded_at"] - batches["first_stake"]).dt.total_seconds() / 60
    assert 5 <= waited.median() <= 20
    assert waited.max() < 6 * 60


def test_collection_accounts_forward_to_their_own_networks_few_collectors(
    tiny: Path, tx: pl.DataFrame, members: pl.DataFrame
) -> None:
    network_of = members.select("account_no", "network_id")
    moves = (
        _role(tx, "forwarding")
        .join(network_of, left_on="payer_account", right_on="account_no")
        .join(network_of, left_on="payee_account", right_on="account_no", how="left")
    )
    inside = moves.filter(pl.col("network_id_right").is_not_null())
    assert (inside["network_id"] == inside["network_id_right"]).all()
    collectors = members.filter(pl.col("mule_source") == "paofen_collector")
    assert set(inside["payee_account"]) == set(collectors["account_no"])
    assert (
        collectors.group_by("network_id").agg(pl.col("bank").n_unique() == pl.len())["bank"].all()
    )
    assert (inside["payer_bank"] != inside["payee_bank"]).mean() > 0.7
    # Collectors pay on in round ¥10,000s to a cash-out merchant outside every network.
    onward = moves.filter(pl.col("network_id_right").is_null())
    assert onward.height >= 1
    assert set(onward["payer_account"]) <= set(collectors["account_no"])
    assert (onward["amount_fen"] % (BEHAVIOUR.sweep_unit_yuan * 100) == 0).all()
    exchange = _frame(tiny, "account_labels").filter(
        pl.col("account_no").is_in(onward["payee_account"].implode())
    )
    assert exchange["mule_source"].unique().to_list() == ["cashout_merchant"]
    assert exchange["mule_level"].unique().to_list() == [3]
    assert exchange["network_id"].null_count() == exchange.height


def test_rentals_come_and_go_and_holders_keep_their_own_life(
    tx: pl.DataFrame, members: pl.DataFrame
) -> None:
    rented = _collection_accounts(members)
    assert set(rented["account_class"]) <= {"I", "II"}
    assert rented["bank"].n_unique() >= 4
    assert rented["sold"].all()
    assert (rented["sold_at"] < rented["mule_since"]).all()
    assert (rented["opened_at"] < rented["sold_at"]).all()
    # Some accounts join well after their network's first rentals.
    joined = rented.group_by("network_id").agg(
        (pl.col("sold_at").max() - pl.col("sold_at").min()).alias("spread")
    )
    assert (joined["spread"] > timedelta(days=2)).all()
    own = _role(tx, "normal").join(
        rented.select("account_no", "sold_at"), left_on="payer_account", right_on="account_no"
    )
    assert own.filter(pl.col("ts") > pl.col("sold_at")).height >= rented.height // 2
    stakes = (
        _role(tx, "collection")
        .group_by("payee_account")
        .agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
    )
    assert (stakes["last"] - stakes["first"]).max() < timedelta(days=SCALES["tiny"].days - 1)


def test_class_ii_accounts_stay_inside_their_daily_limit(tiny: Path, tx: pl.DataFrame) -> None:
    accounts = _frame(tiny, "accounts").filter(pl.col("account_class") == "II")
    paid = tx.join(accounts.select("account_no"), left_on="payer_account", right_on="account_no")
    daily = paid.group_by(
        "payer_account", pl.col("ts").dt.convert_time_zone(LOCAL).dt.date().alias("day")
    ).agg(pl.col("amount_fen").sum(), (pl.col("role") == "forwarding").any().alias("rented"))
    assert daily.filter(pl.col("rented")).height >= 1
    assert daily["amount_fen"].max() <= CLASS_II_DAILY_OUT_FEN


def test_labels_agree_with_the_networks_transactions(
    tiny: Path, tx: pl.DataFrame, members: pl.DataFrame
) -> None:
    paofen = tx.filter(pl.col("role").is_in(("collection", "forwarding")))
    assert paofen["scam_id"].null_count() == paofen.height
    assert (members["is_mule"]).all()
    assert members["gang_id"].null_count() == members.height
    levels = members.group_by("mule_source").agg(pl.col("mule_level").unique()).sort("mule_source")
    assert levels.rows() == [("paofen_collection", [1]), ("paofen_collector", [2])]
    collectors = members.filter(pl.col("mule_source") == "paofen_collector")
    assert not collectors["sold"].any()
    stakes = _role(tx, "collection").join(
        members.select("account_no", "network_id"), left_on="payee_account", right_on="account_no"
    )
    expected = (
        stakes.group_by("network_id")
        .agg(
            pl.col("ts").min().alias("first_payment_at"),
            pl.len().cast(pl.Int32).alias("payments"),
            pl.col("payer_account").n_unique().cast(pl.Int32).alias("payers"),
            pl.col("amount_fen").sum().alias("collected_fen"),
        )
        .sort("network_id")
    )
    networks = _frame(tiny, "networks").sort("network_id")
    assert networks.select(expected.columns).equals(expected)
    begins = members.group_by("network_id").agg(pl.col("mule_since").min()).sort("network_id")
    assert begins["mule_since"].to_list() == networks["first_payment_at"].to_list()
    assert (networks["exchanged_fen"] < networks["collected_fen"]).all()
    assert networks["operator"].str.contains("operator in").all()
    parties = _frame(tiny, "party_labels")
    accounts = _frame(tiny, "accounts").select("account_no", "party_id")
    gamblers = set(
        stakes.join(accounts, left_on="payer_account", right_on="account_no")["party_id"]
    )
    assert gamblers == set(parties.filter(pl.col("role") == "gambler")["party_id"])
    renters = set(_collection_accounts(members)["party_id"])
    assert renters == set(parties.filter(pl.col("role") == "paofen_renter")["party_id"])


def test_gamblers_pay_from_their_own_savings(tiny: Path, tx: pl.DataFrame) -> None:
    stakes = _role(tx, "collection")
    assert (stakes["channel"] == "mobile").all()
    assert stakes["device_id"].null_count() == 0
    assert (stakes["ts"] >= START).all()
    victims = set(_role(tx, "victim_payment")["payer_account"])
    assert not victims & set(stakes["payer_account"])


def test_networks_begin_in_their_slice_of_the_period(tiny: Path) -> None:
    """Network n of N begins in the n-th of N equal slices of the first
    `network_start_share` of the period, so the starts cover the whole period."""
    networks = _frame(tiny, "networks").sort("network_id")
    count = SCALES["tiny"].networks
    span = timedelta(days=BEHAVIOUR.network_start_share * SCALES["tiny"].days / count)
    for n, begins in enumerate(networks["first_payment_at"].to_list()):
        # The first stake follows the start by the hours until a gambler plays.
        assert START + n * span <= begins < START + (n + 1) * span + timedelta(days=1)
