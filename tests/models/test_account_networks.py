"""Detected networks: flagged accounts tied by money, by hand.

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


def test_a_collector_the_score_missed_still_ties_the_accounts_it_is_fed_by() -> None:
    assert _groups(FLAGGED - {"K2"}) == [{"C1", "C2", "K1"}, {"D1", "K3"}]


def test_a_shop_of_ordinary_customers_ties_nobody() -> None:
    assert _groups({"C1", "S", "O1"}) == []


def test_an_account_flagged_alone_is_in_no_network() -> None:
    history = History.before(transactions(_rows()), None, np.iinfo(np.int64).max)
    flagged = np.zeros(len(history), np.bool_)
    flagged[history.rows_of(pa.array(["G2"]))] = True
    passing = np.ones(len(history), np.bool_)
    assert (network_labels(history, flagged, passing) == -1).all()
