"""Detected networks: flagged accounts and the accounts that tie them by money, by hand.

Two 跑分 networks share one exchange X. Network 1: collection accounts C1, C2 forward each
stake within minutes, C1 to collectors K1 and K2, C2 to K2; network 2:
D1 forwards to K3. Gamblers G1, G2 pay the stakes; G1 plays on both networks. K1, K2, K3
gather money for hours and pay X. C2 buys a snack at K3 (a complicit merchant of network 2).
S is a shop many ordinary customers O1..O4 pay, and C1 pays it too.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fundwall.models.account_features import AccountInputs, account_features
from fundwall.models.account_history import History
from fundwall.models.account_networks import flagged_networks, network_labels, passes_through

from .account_tables import HOUR, MINUTE, Tx, transactions

FLAGGED = {"C1", "C2", "K1", "K2", "D1", "K3", "G1", "X"}


def _rows() -> list[Tx]:
    rows: list[Tx] = []
    for day in range(3):
        t = day * 24 * HOUR
        rows += [
            Tx(t, "G1", "C1", 50_000),
            Tx(t + 5 * MINUTE, "C1", "K1", 30_000),
            Tx(t + 6 * MINUTE, "C1", "K2", 19_000),
            Tx(t + HOUR, "G2", "C2", 30_000),
            Tx(t + HOUR + 8 * MINUTE, "C2", "K2", 29_000),
            Tx(t + 2 * HOUR, "G1", "D1", 20_000),
            Tx(t + 2 * HOUR + 4 * MINUTE, "D1", "K3", 19_500),
            Tx(t + 10 * HOUR, "K1", "X", 30_000),
            Tx(t + 10 * HOUR, "K2", "X", 48_000),
            Tx(t + 10 * HOUR, "K3", "X", 19_000),
        ]
        rows += [Tx(t + 3 * HOUR + i * MINUTE, f"O{i}", "S", 5_000) for i in range(1, 5)]
    rows += [Tx(50 * HOUR, "C2", "K3", 500), Tx(51 * HOUR, "C1", "S", 800)]
    return sorted(rows, key=lambda row: row.at)


def _groups(flagged: set[str]) -> list[set[str]]:
    table = transactions(_rows())
    passing = passes_through(account_features(AccountInputs(table)))
    return flagged_networks(table, flagged, passing)


def test_passing_money_through_is_what_collection_accounts_do() -> None:
    passing = set(
        passes_through(account_features(AccountInputs(transactions(_rows())))).to_pylist()
    )
    assert {"C1", "C2", "D1"} <= passing
    assert not passing & {"K1", "K2", "K3", "G1", "G2", "X", "S"}


def test_each_network_is_one_group_across_its_collectors_and_the_shared_exchange_ties_none() -> (
    None
):
    assert _groups(FLAGGED) == [{"C1", "C2", "K1", "K2"}, {"D1", "K3"}]


def test_a_collector_the_score_missed_is_part_of_the_network_it_is_fed_by() -> None:
    assert _groups(FLAGGED - {"K2"}) == [{"C1", "C2", "K1", "K2"}, {"D1", "K3"}]


def test_a_collection_account_the_score_missed_joins_through_the_collector_it_pays() -> None:
    # C3, rented by network 1 and not flagged, forwards smaller stakes to K1, whose money
    # still comes mostly from the flagged C1.
    rows = _rows()
    for day in range(3):
        t = day * 24 * HOUR + 5 * HOUR
        rows += [Tx(t, "G2", "C3", 12_000), Tx(t + 7 * MINUTE, "C3", "K1", 11_800)]
    table = transactions(sorted(rows, key=lambda row: row.at))
    passing = passes_through(account_features(AccountInputs(table)))
    assert flagged_networks(table, FLAGGED, passing) == [
        {"C1", "C2", "C3", "K1", "K2"},
        {"D1", "K3"},
    ]


def test_a_collector_fed_mostly_by_accounts_nobody_flagged_ties_nobody() -> None:
    # K2 gets more from C2, which the score missed, than from C1: nothing says it is a
    # network's yet, so neither it nor C2 joins C1.
    assert _groups(FLAGGED - {"C2", "K2"}) == [{"C1", "K1"}, {"D1", "K3"}]


def test_accounts_the_score_missed_make_no_network_without_two_flagged_ones() -> None:
    assert _groups({"C1", "G1", "X"}) == []


def test_a_business_fed_by_flagged_customers_that_keep_their_money_ties_nobody() -> None:
    # W, a business the score flags by mistake, is paid mostly by G1 (flagged, paying from
    # its own money); R1 (flagged) and R2 pass their takings on to it within minutes. A
    # flagged relay's money is not most of W's, so W is no collector and nothing ties.
    rows = _rows()
    for day in range(3):
        t = day * 24 * HOUR + 6 * HOUR
        rows += [
            Tx(t, "G1", "W", 500_000),
            Tx(t + HOUR, "O1", "R1", 42_000),
            Tx(t + HOUR + 5 * MINUTE, "R1", "W", 40_000),
            Tx(t + 2 * HOUR, "O2", "R2", 42_000),
            Tx(t + 2 * HOUR + 5 * MINUTE, "R2", "W", 40_000),
        ]
    table = transactions(sorted(rows, key=lambda row: row.at))
    passing = passes_through(account_features(AccountInputs(table)))
    assert {"R1", "R2"} <= set(passing.to_pylist())
    groups = flagged_networks(table, FLAGGED | {"R1", "W"}, passing)
    assert groups == [{"C1", "C2", "K1", "K2"}, {"D1", "K3"}]


def test_the_staff_a_flagged_business_pays_are_not_in_its_network() -> None:
    # P passes its takings on as wages within minutes; the score flags P and one of its
    # staff, S1. S2 and S3, each paid by P alone, are nobody's collectors.
    rows = _rows()
    for day in range(3):
        t = day * 24 * HOUR + 7 * HOUR
        rows += [Tx(t, "O3", "P", 100_000)]
        rows += [Tx(t + 10 * MINUTE, "P", f"S{i}", 33_000) for i in range(1, 4)]
    table = transactions(sorted(rows, key=lambda row: row.at))
    passing = passes_through(account_features(AccountInputs(table)))
    groups = flagged_networks(table, FLAGGED | {"P", "S1"}, passing)
    assert {"P", "S1"} in groups and not {"S2", "S3"} & set().union(*groups)


def test_employers_paying_from_their_own_balance_tie_nobody() -> None:
    # E and F, which the score flags by mistake, each pay the same six suppliers minutes after
    # a small takings comes in, far more than they receive: every supplier's money comes from
    # the two of them, yet they pass nothing through and are no network.
    rows = _rows()
    for day in range(3):
        t = day * 24 * HOUR + 8 * HOUR
        for employer, at in (("E", t), ("F", t + HOUR)):
            rows += [Tx(at, "O4", employer, 1_000)]
            rows += [Tx(at + 5 * MINUTE, employer, f"W{i}", 20_000) for i in range(1, 7)]
    table = transactions(sorted(rows, key=lambda row: row.at))
    passing = passes_through(account_features(AccountInputs(table)))
    assert not {"E", "F"} & set(passing.to_pylist())
    groups = flagged_networks(table, FLAGGED | {"E", "F"}, passing)
    assert groups == [{"C1", "C2", "K1", "K2"}, {"D1", "K3"}]


def test_a_rented_account_that_spent_its_own_money_before_passes_its_last_day_through() -> None:
    # R paid three landlords out of its savings, far more than its pay; on the fourth day it
    # is rented by network 1 and forwards each stake to K1 within minutes.
    rows = _rows()
    for day in range(3):
        t = day * 24 * HOUR + 9 * HOUR
        rows += [Tx(t, "O2", "R", 1_000), Tx(t + 5 * MINUTE, "R", f"L{day}", 60_000)]
    for hour in range(0, 8, 2):
        t = 3 * 24 * HOUR + hour * HOUR
        rows += [Tx(t, "G2", "R", 20_000), Tx(t + 6 * MINUTE, "R", "K1", 19_800)]
    table = transactions(sorted(rows, key=lambda row: row.at))
    passing = passes_through(account_features(AccountInputs(table)))
    assert "R" in set(passing.to_pylist())
    assert {"C1", "C2", "K1", "K2", "R"} in flagged_networks(table, FLAGGED, passing)


def test_a_collector_with_an_ordinary_past_is_fed_by_the_network_on_its_last_day() -> None:
    # Network 3 starts on the fourth day, collecting into B, a business account whose
    # customers paid it far more over the days before: E1 and E2 forward the stakes to B.
    rows = _rows()
    rows += [Tx(day * 24 * HOUR + 4 * HOUR, f"P{day}", "B", 400_000) for day in range(3)]
    start = 3 * 24 * HOUR
    for hour in range(0, 12, 2):
        t = start + hour * HOUR
        rows += [
            Tx(t, "G2", "E1", 20_000),
            Tx(t + 6 * MINUTE, "E1", "B", 19_800),
            Tx(t + HOUR, "G1", "E2", 25_000),
            Tx(t + HOUR + 9 * MINUTE, "E2", "B", 24_500),
        ]
    table = transactions(sorted(rows, key=lambda row: row.at))
    passing = passes_through(account_features(AccountInputs(table)))
    groups = flagged_networks(table, FLAGGED | {"E1", "E2"}, passing)
    assert {"E1", "E2", "B"} in groups


def test_a_shop_of_ordinary_customers_ties_nobody() -> None:
    assert _groups({"C1", "S", "O1"}) == []


def test_an_account_flagged_alone_is_in_no_network() -> None:
    history = History.before(transactions(_rows()), None, np.iinfo(np.int64).max)
    flagged = np.zeros(len(history), np.bool_)
    flagged[history.rows_of(pa.array(["G2"]))] = True
    passing = np.ones(len(history), np.bool_)
    assert (network_labels(history, flagged, passing) == -1).all()


def test_a_history_cut_earlier_keeps_its_rows_and_only_the_transactions_before() -> None:
    table = transactions(_rows())
    whole = History.before(table, None, np.iinfo(np.int64).max)
    moment = int(whole.ts[len(whole.ts) // 2])
    cut = whole.until(moment)
    direct = History.before(table, None, moment)
    assert cut.accounts.equals(whole.accounts) and cut.moment == moment
    assert (cut.ts < moment).all() and cut.ts.size == direct.ts.size
    names = whole.accounts.to_pylist()
    assert [names[row] for row in cut.payer] == [
        direct.accounts.to_pylist()[row] for row in direct.payer
    ]
    assert whole.until(whole.moment) is whole
