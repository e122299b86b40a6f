"""Transfer-graph features: reach, cycles, communities and risk from seeds, known by hand."""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest
import rustworkx as rx

from fundwall.models.account_features import AccountInputs
from fundwall.models.graph import SEED_FOLDS, _cycles

from .account_tables import HOUR, Account, Login, Tx, accounts, features_of, logins, transactions


def _chain(*pairs: tuple[str, str]) -> AccountInputs:
    return AccountInputs(transactions([Tx(i * HOUR, a, b) for i, (a, b) in enumerate(pairs)]))


def test_a_three_cycle() -> None:
    values = features_of(_chain(("A", "B"), ("B", "C"), ("C", "A"), ("C", "D")))
    for account in "ABC":
        assert values[account]["on_cycle"] == 1
        assert values[account]["cycles"] == 1
        assert values[account]["scc_size"] == 3
        assert values[account]["reciprocity"] == 0
    assert values["D"]["on_cycle"] == 0
    assert values["D"]["scc_size"] == 1


def test_a_two_cycle_is_reciprocity_not_a_cycle() -> None:
    values = features_of(_chain(("A", "B"), ("B", "A"), ("A", "C")))
    assert values["A"]["cycles"] == 0
    assert values["A"]["reciprocity"] == pytest.approx(1 / 2)
    assert values["A"]["scc_size"] == 2


def test_every_cycle_of_a_complete_graph_of_four() -> None:
    pairs = [(a, b) for a, b in itertools.permutations("ABCD", 2)]
    values = features_of(_chain(*pairs))
    # Through each account: 3 triangles × 2 directions, and the 6 orders of all four.
    assert {values[a]["cycles"] for a in "ABCD"} == {12}


def _out_lists(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    edges = sorted(set(edges))
    source = np.asarray([s for s, _ in edges], np.int64)
    start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(source, minlength=n), out=start[1:])
    return start, np.asarray([t for _, t in edges], np.int64)


def test_bounded_cycles_agree_with_rustworkx_simple_cycles() -> None:
    rng = np.random.default_rng(3)
    n = 40
    edges = [(int(s), int(t)) for s, t in rng.integers(0, n, (120, 2)) if s != t]
    start, node = _out_lists(n, edges)
    order = np.argsort(-(np.bincount([s for s, _ in edges], minlength=n)), kind="stable")
    found = _cycles(start, node, order.astype(np.int64), 6, 10**9)
    graph = rx.PyDiGraph()
    graph.add_nodes_from(range(n))
    graph.extend_from_edge_list(sorted(set(edges)))
    expected = np.zeros(n, np.int64)
    for cycle in rx.simple_cycles(graph):
        if 3 <= len(cycle) <= 6:
            expected[list(cycle)] += 1
    assert expected.sum() > 0
    np.testing.assert_array_equal(found, expected)


def test_a_cycle_search_stops_at_its_budget() -> None:
    pairs = [(a, b) for a, b in itertools.permutations(range(6), 2)]
    start, node = _out_lists(6, pairs)
    order = np.arange(6, dtype=np.int64)
    assert _cycles(start, node, order, 6, 10).sum() < _cycles(start, node, order, 6, 10**9).sum()


def test_a_fan_in_star_over_two_hops() -> None:
    pairs = [(f"S{i}", "HUB") for i in range(5)] + [("HUB", "X"), ("X", "Y")]
    values = features_of(_chain(*pairs))
    assert values["HUB"]["fan_in_2hop"] == 5
    assert values["HUB"]["fan_out_2hop"] == 2
    assert values["X"]["fan_in_2hop"] == 6
    assert values["S0"]["fan_out_2hop"] == 2
    assert values["S0"]["fan_in_2hop"] == 0
    n = 8
    assert values["HUB"]["in_degree_centrality"] == pytest.approx(5 / (n - 1))
    assert values["HUB"]["out_degree_centrality"] == pytest.approx(1 / (n - 1))


def test_accounts_sharing_a_device_or_a_quiet_counterparty_form_a_community() -> None:
    inputs = AccountInputs(
        transactions(
            [
                Tx(0, "A", "LANDLORD"),
                Tx(HOUR, "B", "LANDLORD"),
                Tx(2 * HOUR, "C", "Z"),
                *(Tx(3 * HOUR + i, f"CUSTOMER{i}", "SHOP") for i in range(8)),
            ]
        ),
        accounts=accounts([Account("C", "P3"), Account("C2", "P3"), Account("D", "P4")]),
        logins=logins([Login(0, "C2", "PHONE"), Login(HOUR, "D", "PHONE")]),
    )
    values = features_of(inputs)
    # A and B share a landlord who has two counterparties.
    assert values["A"]["community_size"] == 2
    assert values["A"]["community_holders"] == 2
    # C and C2 share a holder, C2 and D a phone.
    assert values["C"]["community_size"] == 3
    assert values["C"]["community_holders"] == 2
    # A shop's eight customers are no community.
    assert values["CUSTOMER0"]["community_size"] == 1


def _fold(account: str) -> int:
    return zlib.crc32(account.encode()) % SEED_FOLDS


def test_risk_flows_from_seeds_outside_the_account_fold() -> None:
    names = [f"M{i}" for i in range(40)]
    seed = names[0]
    downstream = next(a for a in names[1:] if _fold(a) != _fold(seed))
    unrelated = next(a for a in names[1:] if _fold(a) != _fold(seed) and a != downstream)
    inputs = _chain((seed, downstream), (downstream, "CASH"), (unrelated, "SHOP"))
    values = features_of(inputs, seeds=(seed,))
    assert values[downstream]["seed_rank_downstream"] > 1
    assert values[downstream]["seed_rank_upstream"] == 0
    assert values[unrelated]["seed_rank_downstream"] == 0
    assert math.isnan(values[seed]["seed_rank_downstream"])  # its own fold has no other seed
    assert values[downstream]["seed_share_1hop"] == pytest.approx(1 / 2)
    assert values["CASH"]["seed_share_1hop"] == 0
    assert values["CASH"]["seed_share_2hop"] == pytest.approx(1 / 2)
    assert values[seed]["seed_share_1hop"] == 0  # never itself


def test_without_seeds_the_risk_is_unknown() -> None:
    values = features_of(_chain(("A", "B")))
    for name in ("seed_rank_downstream", "seed_rank_upstream", "seed_share_1hop"):
        assert math.isnan(values["A"][name])


def test_counterparties_behaviour_is_summarised() -> None:
    inputs = AccountInputs(
        transactions(
            [
                Tx(0, "Y", "B"),
                Tx(HOUR, "X", "A"),
                Tx(2 * HOUR, "X", "B"),
                Tx(3 * HOUR, "Y", "B"),
            ]
        )
    )
    values = features_of(inputs)
    assert values["A"]["new_payer_share"] == 1
    assert values["B"]["new_payer_share"] == pytest.approx(2 / 3)
    assert values["X"]["counterparty_new_payer_share_mean"] == pytest.approx(5 / 6)
    assert values["X"]["counterparty_new_payer_share_max"] == 1
    # X and Y received nothing: their shares are unknown and summarise to unknown.
    assert math.isnan(values["A"]["counterparty_new_payer_share_mean"])
