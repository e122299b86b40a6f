"""Account features: each value known by hand on small tables, no leakage, unknown is NaN."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.models.account_features import (
    ACCOUNT_FEATURES,
    FAMILY_FEATURES,
    AccountInputs,
    account_feature_names,
    account_features,
)
from fundwall.region import read_table
from fundwall.sim.run import simulate

from .account_tables import (
    DAY,
    HOUR,
    MINUTE,
    Account,
    Login,
    Tx,
    accounts,
    features_of,
    logins,
    parties,
    transactions,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("accounts") / "tiny"
    simulate("tiny", 7, out)
    return out


def test_every_feature_is_declared_once_with_words_and_computed_by_a_family() -> None:
    names = account_feature_names()
    assert len(names) == len(set(names))
    assert set(names) == FAMILY_FEATURES
    for feature in ACCOUNT_FEATURES:
        assert feature.en and feature.zh, feature.name


def test_the_table_has_the_account_number_then_every_feature_as_float() -> None:
    table = account_features(AccountInputs(transactions([Tx(0, "A", "B")])))
    assert table.column_names == ["account_no", *account_feature_names()]
    assert all(table[name].type == pa.float64() for name in account_feature_names())
    assert table["account_no"].to_pylist() == ["A", "B"]


def test_a_pass_through_within_five_minutes() -> None:
    inputs = AccountInputs(
        transactions(
            [
                Tx(0, "VICTIM", "MULE", 1_000_000),
                Tx(4 * MINUTE, "MULE", "NEXT", 990_000),
                Tx(3 * HOUR, "NEXT", "CASH", 500_000),
            ]
        ),
        accounts=accounts(
            [Account("VICTIM", "P1", balance=5_000_000), Account("MULE", "P2", balance=0)]
        ),
    )
    mule = features_of(inputs)["MULE"]
    assert mule["pass_through_minutes_min"] == pytest.approx(4)
    assert mule["pass_through_minutes_median"] == pytest.approx(4)
    assert mule["forwarded_share"] == pytest.approx(0.99)
    assert mule["drained_1h_share"] == pytest.approx(0.99)
    assert mule["out_in_ratio"] == pytest.approx(0.99)
    assert mule["balance_vs_peak"] == pytest.approx(0.01)
    assert mule["new_payer_share"] == 1.0
    victim = features_of(inputs)["VICTIM"]
    # No inflow: nothing to forward, no pass-through; the outflow spent the opening balance.
    assert math.isnan(victim["forwarded_share"])
    assert math.isnan(victim["pass_through_minutes_min"])
    assert victim["balance_vs_peak"] == pytest.approx(0.8)


def test_money_forwarded_first_in_first_out_from_the_opening_balance() -> None:
    inputs = AccountInputs(
        transactions([Tx(0, "X", "A", 1_000_000), Tx(2 * HOUR, "A", "Y", 1_500_000)]),
        accounts=accounts([Account("A", "P1", balance=1_000_000)]),
    )
    a = features_of(inputs)["A"]
    # The outflow takes the ¥10,000 opening balance first, then half of the inflow, 2 h later.
    assert a["forwarded_share"] == pytest.approx(0.5)
    assert a["drained_1h_share"] == 0.0


def test_a_fan_in_of_strangers() -> None:
    payers = [f"S{i}" for i in range(5)]
    inputs = AccountInputs(
        transactions(
            [Tx(i * HOUR, s, "HUB", 300_000 + i) for i, s in enumerate(payers)]
            + [Tx(6 * HOUR, "S0", "HUB", 100_000)]
        )
    )
    hub = features_of(inputs)["HUB"]
    assert hub["in_count"] == 6
    assert hub["payers"] == 5
    assert hub["new_payer_share"] == pytest.approx(5 / 6)
    assert hub["new_payers_7d"] == 5
    assert hub["payers_7d"] == 5
    assert hub["in_amount"] == 5 * 300_000 + 10 + 100_000
    assert hub["round_in_share"] == pytest.approx(2 / 6)
    assert hub["busiest_day_events"] == 6
    assert hub["max_in_vs_median"] == pytest.approx(300_004 / 300_001.5)


def test_night_and_cash_shares_in_beijing_time() -> None:
    # T0 is 2024-03-09 16:00 UTC, midnight in Beijing: the first two are at night.
    inputs = AccountInputs(
        transactions(
            [
                Tx(30 * MINUTE, "X", "A", 500_000),
                Tx(5 * HOUR, "A", None, 200_000),
                Tx(10 * HOUR, "A", "Y", 200_000),
            ]
        )
    )
    a = features_of(inputs)["A"]
    assert a["night_share"] == pytest.approx(2 / 3)
    assert a["cash_out_share"] == pytest.approx(0.5)
    assert a["active_days"] == 1


def test_a_login_from_a_new_device_then_an_inflow() -> None:
    inputs = AccountInputs(
        transactions([Tx(0, "A", "SHOP", device="OWN"), Tx(2 * DAY + 3 * HOUR, "GANG", "A")]),
        accounts=accounts([Account("A", "P1"), Account("B", "P2")]),
        logins=logins(
            [
                Login(-DAY, "A", "OWN"),
                Login(2 * DAY, "A", "NEW", "Nanning", "failed"),
                Login(2 * DAY + MINUTE, "A", "NEW", "Nanning", "passed"),
                Login(2 * DAY + 2 * MINUTE, "B", "NEW", "Nanning"),
            ]
        ),
    )
    a = features_of(inputs)["A"]
    assert a["logins"] == 3
    assert a["new_device_logins"] == 1
    assert a["new_city_logins"] == 1
    assert a["failed_face_checks"] == 1
    assert a["away_logins"] == 2  # the holder was first seen in Xiamen
    assert a["risky_login_to_inflow_hours"] == pytest.approx(3 - 1 / 60)
    assert a["hours_since_risky_login"] == pytest.approx(3 - 1 / 60, abs=1e-3)
    assert a["login_device_holders"] == 1  # the gang's phone also opened B
    # Before the inflow the takeover is visible, the inflow after it is not yet.
    before = features_of(inputs, until=2 * DAY + HOUR)["A"]
    assert before["new_device_logins"] == 1
    assert math.isnan(before["risky_login_to_inflow_hours"])
    assert before["hours_since_risky_login"] == pytest.approx(1 - 1 / 60)
    b = features_of(inputs)["B"]
    assert b["new_device_logins"] == 0  # a first sighting is not new: nothing was known
    assert b["logins"] == 1


def test_batch_opened_siblings_share_a_device_or_an_agent() -> None:
    opened = -10 * DAY
    batch = [
        Account("B1", "P1", opened, device="TAB", channel="agent", agent="AG1"),
        Account("B2", "P2", opened + HOUR, device="TAB", channel="agent", agent="AG1"),
        Account("B3", "P3", opened + 2 * HOUR, device="TAB2", channel="agent", agent="AG1"),
        Account("LATE", "P4", opened + 3 * DAY, device="TAB", channel="agent", agent="AG1"),
        Account("OWN2", "P5", opened, klass="II", device="PHONE5", channel="mobile"),
        Account("OWN3", "P5", opened + HOUR, klass="III", device="PHONE5", channel="mobile"),
        Account("COUNTER", "P6", opened),
    ]
    inputs = AccountInputs(transactions([Tx(0, "B1", "B2")]), accounts=accounts(batch))
    values = features_of(inputs)
    assert values["B1"]["batch_siblings"] == 2
    assert values["B3"]["batch_siblings"] == 2  # through the agent alone
    assert values["LATE"]["batch_siblings"] == 0
    assert values["OWN2"]["batch_siblings"] == 0  # one holder's own accounts are no batch
    assert values["COUNTER"]["batch_siblings"] == 0
    assert values["OWN2"]["account_class"] == 2
    assert values["OWN2"]["holder_accounts"] == 2


def test_holder_facts_count_only_accounts_opened_before_the_moment() -> None:
    inputs = AccountInputs(
        transactions([Tx(0, "A1", "X"), Tx(5 * DAY, "A2", "X")]),
        accounts=accounts(
            [
                Account("A1", "P1", -30 * DAY, bank="301"),
                Account("A2", "P1", 2 * DAY, bank="302"),
                Account("C", "P2", -30 * DAY),
            ]
        ),
        parties=parties({"P1": "13800000001", "P2": "13800000001"}),
    )
    early = features_of(inputs, until=DAY)
    assert "A2" not in early  # not opened yet
    assert early["A1"]["holder_accounts"] == 1
    assert early["A1"]["age_days"] == pytest.approx(31)
    assert early["A1"]["phone_parties"] == 1
    late = features_of(inputs)["A1"]
    assert late["holder_accounts"] == 2
    assert late["holder_banks"] == 2


def test_unknown_stays_unknown() -> None:
    inputs = AccountInputs(transactions([Tx(0, "A", "B"), Tx(HOUR, "B", "C")]))
    b = features_of(inputs)["B"]
    for name in (
        "age_days",
        "account_class",
        "batch_siblings",
        "holder_accounts",
        "phone_parties",
        "forwarded_share",
        "balance_vs_peak",
        "logins",
        "new_device_logins",
        "away_logins",
        "seed_rank_downstream",
        "seed_share_1hop",
        "burstiness",
    ):
        assert math.isnan(b[name]), name
    assert b["in_count"] == 1
    assert b["payees"] == 1
    assert b["pass_through_minutes_min"] == 60


def test_a_region_with_logins_says_0_logins_for_an_account_without_any() -> None:
    inputs = AccountInputs(
        transactions([Tx(0, "A", "B")]), logins=logins([Login(-HOUR, "A", "PHONE")])
    )
    assert features_of(inputs)["B"]["logins"] == 0
    assert features_of(inputs)["B"]["new_device_logins"] == 0


def test_bad_transactions_are_named() -> None:
    table = transactions([Tx(0, "A", "B"), Tx(HOUR, "B", "C")])
    broken = table.set_column(
        table.column_names.index("amount_fen"), "amount_fen", pa.array([100, 0], pa.int64())
    )
    with pytest.raises(InvalidInput) as caught:
        account_features(AccountInputs(broken))
    assert caught.value.field == "amount_fen"
    assert caught.value.record == "T00000000002"
    with pytest.raises(InvalidInput, match="no column 'device_id'"):
        account_features(AccountInputs(table.drop_columns(["device_id"])))


def _rows(table: pa.Table) -> dict[str, np.ndarray]:
    return {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}


def test_later_history_does_not_change_the_features_at_a_moment(tiny: Path) -> None:
    full = AccountInputs.from_region(tiny)
    ts = full.transactions["ts"].cast(pa.int64()).to_numpy()
    until = int(ts[0] + (ts[-1] - ts[0]) // 2)
    login_ts = pc.less(full.logins["ts"].cast(pa.int64()), until) if full.logins else None
    cut = AccountInputs(
        transactions=full.transactions.filter(pa.array(ts < until)),
        accounts=full.accounts,
        parties=full.parties,
        logins=full.logins.filter(login_ts) if full.logins is not None else None,
    )
    labels = read_table(tiny, "account_labels")
    mules = labels.filter(labels["is_mule"])["account_no"].to_pylist()
    seeds = mules[: len(mules) // 2]
    with_future = _rows(account_features(full, until_us=until, seeds=seeds))
    without = _rows(account_features(cut, until_us=until, seeds=seeds))
    assert with_future.keys() == without.keys()
    for name, values in with_future.items():
        np.testing.assert_array_equal(values, without[name], err_msg=name)
    later = _rows(account_features(full, seeds=seeds))
    assert later["in_count"].sum() > without["in_count"].sum()  # there was a future to leak


def test_a_tiny_region_runs_in_a_moment(tiny: Path) -> None:
    inputs = AccountInputs.from_region(tiny)
    assert inputs.accounts is not None and inputs.logins is not None
    started = time.perf_counter()
    table = account_features(inputs, seeds=["no such account"])
    assert time.perf_counter() - started < 10
    assert table.num_rows == inputs.accounts.num_rows
    assert table["account_no"].to_pylist() == sorted(table["account_no"].to_pylist())
    assert (
        table["in_count"].to_numpy().sum() == pc.count(inputs.transactions["payee_account"]).as_py()
    )
    assert table["logins"].to_numpy().sum() == inputs.logins.num_rows
    assert np.isnan(table["seed_rank_downstream"].to_numpy()).all()  # no seed is known


def test_an_unknown_opening_leaves_the_age_unknown_and_the_account_present() -> None:
    table = accounts([Account("A", "P1"), Account("B", "P2")])
    opened = pa.array([None, table["opened_at"][1].as_py()], table.schema.field("opened_at").type)
    table = table.set_column(table.schema.get_field_index("opened_at"), "opened_at", opened)
    inputs = AccountInputs(
        transactions([Tx(0, "B", "X")]),
        accounts=table,
        parties=parties({"P1": "13800000001", "P2": "13800000002"}),
    )
    at_start = features_of(inputs, until=-DAY)
    assert "A" in at_start  # it exists, since when is not known
    assert math.isnan(at_start["A"]["age_days"])
    assert math.isnan(at_start["A"]["idle_days_before_first"])
    assert at_start["B"]["age_days"] == pytest.approx(399)


def test_the_last_day_against_the_account_s_own_past() -> None:
    # R is a quiet spare account: two purchases at S on days 1 and 5. Rented on day 9 (T0 is
    # midnight in Beijing): six strangers pay it at six different hours, P1 twice, and it
    # sends nearly all on to K within minutes, twice.
    rented = 9 * DAY
    rows = [Tx(1 * DAY + 12 * HOUR, "R", "S", 5_000), Tx(5 * DAY + 12 * HOUR, "R", "S", 5_000)]
    rows += [Tx(rented + h * HOUR, f"P{h}", "R", 40_000) for h in (0, 3, 7, 11, 15, 19)]
    rows += [Tx(rented + 20 * HOUR, "P0", "R", 20_000)]
    rows += [
        Tx(rented + 7 * HOUR + 10 * MINUTE, "R", "K", 118_000),
        Tx(rented + 20 * HOUR + 5 * MINUTE, "R", "K", 137_000),
    ]
    values = features_of(AccountInputs(transactions(rows)), until=rented + 21 * HOUR)
    r = values["R"]
    assert (r["in_count_1d"], r["payers_1d"], r["new_payers_1d"], r["payees_1d"]) == (7, 6, 6, 1)
    assert r["hours_1d"] == 7  # 0, 3, 7, 11, 15, 19 and 20 h, Beijing time
    assert r["out_in_ratio_1d"] == pytest.approx(255_000 / 260_000)
    # 9 transactions in the last day against 2 in the 7 3/8 days from the first to its start.
    assert r["day_rate_vs_before"] == pytest.approx(9 / (2 / 7.375))
    # A day later, nothing new: last-day counts are 0 and the ratio of nothing is unknown.
    later = features_of(AccountInputs(transactions(rows)), until=rented + 3 * DAY)["R"]
    assert (later["in_count_1d"], later["new_payers_1d"], later["hours_1d"]) == (0, 0, 0)
    assert math.isnan(later["out_in_ratio_1d"])
    # K has no past before the last day: no rate against it.
    assert math.isnan(values["K"]["day_rate_vs_before"])
