"""Network-level backtest figures on a hand-made region with two 跑分 networks, every expected
figure worked out by hand.

N1 is C1, C2 (collection accounts) and K1 (collector); N2 is D1 (collection) and K2
(collector). G1, G2 are gamblers, V a victim of a scam whose mule M belongs to no network,
O1, O2 ordinary. Minutes after T0; a day is 1,440 minutes:

    g1     0  G1 → C1   500  collection                  pass    0
    f1    10  C1 → K1   485  forwarding                  alert  40
    g3    20  G1 → D1   200  collection                  block  90
    v1    30  V  → M   1000  victim_payment  S1          alert  50
    o1    40  O1 → O2   100  normal                      pass    0
    g2   100  G2 → C2   300  collection                  pass    0
    f2   110  C2 → K1   291  forwarding                  pass    0
    f3  2000  D1 → K2   194  forwarding                  delay  70

N1 begins at minute 0 (C1's first stake), N2 at minute 20 (D1's).
"""

from __future__ import annotations

import dataclasses
import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from test_backtest_cli import cells, shown, write_region
from test_backtest_metrics import at, region_tables, table
from test_backtest_result import DOCS, keys

from fundwall.cli.backtest import render, render_comparison, run
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest import Backtest, NetworkFlags, Region, evaluate
from fundwall.engine.backtest.accounts import NEVER
from fundwall.engine.backtest.networks import ScoreFlags
from fundwall.engine.backtest.result import DetectedNetworks, ScoredNetworks
from fundwall.engine.rules import RulePack

ROWS: list[tuple[str, int, str | None, str | None, int, str, str | None, str, int]] = [
    ("g1", 0, "G1", "C1", 500, "collection", None, "pass", 0),
    ("f1", 10, "C1", "K1", 485, "forwarding", None, "alert", 40),
    ("g3", 20, "G1", "D1", 200, "collection", None, "block", 90),
    ("v1", 30, "V", "M", 1000, "victim_payment", "S1", "alert", 50),
    ("o1", 40, "O1", "O2", 100, "normal", None, "pass", 0),
    ("g2", 100, "G2", "C2", 300, "collection", None, "pass", 0),
    ("f2", 110, "C2", "K1", 291, "forwarding", None, "pass", 0),
    ("f3", 2000, "D1", "K2", 194, "forwarding", None, "delay", 70),
]
# (account, is_mule, mule_since minute or None, network)
ACCOUNTS: list[tuple[str, bool, int | None, str | None]] = [
    ("C1", True, 0, "N1"),
    ("C2", True, 100, "N1"),
    ("K1", True, None, "N1"),  # no mule_since: its first 跑分 transfer (f1, minute 10) counts
    ("D1", True, 20, "N2"),
    ("K2", True, 2000, "N2"),
    ("G1", False, None, None),
    ("G2", False, None, None),
    ("V", False, None, None),
    ("M", True, 30, None),
    ("O1", False, None, None),
    ("O2", False, None, None),
]


def tables(
    accounts: list[tuple[str, bool, int | None, str | None]] = ACCOUNTS,
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    decisions, transactions, labels, _ = region_tables(ROWS, [])
    account_labels = table(
        "account_labels",
        [
            {
                "account_no": no,
                "is_mule": mule,
                "mule_since": None if since is None else at(since),
                "network_id": network,
            }
            for no, mule, since, network in accounts
        ],
    )
    return decisions, transactions, labels, account_labels


def run_hand() -> Backtest:
    return evaluate(*tables(), Region("nets", "sim"))


def flags(found: NetworkFlags) -> tuple[Any, ...]:
    day = found.within_a_day
    return (
        found.accounts_flagged,
        found.recall,
        found.networks_covered,
        found.covered_share,
        found.precision,
        day.accounts_flagged,
        day.recall,
        day.networks_covered,
        day.covered_share,
    )


def test_networks_and_their_accounts_are_counted() -> None:
    networks = run_hand().networks
    assert (networks.planted, networks.accounts) == (2, 5)


def test_detected_network_figures() -> None:
    # Flagged: C1, K1 (f1), G1, D1 (g3), V, M (v1), K2 (f3). N1 has 2 of 3 accounts, N2 2 of 2.
    # Precision: 4 network accounts against G1 and V; M is a scam's mule, neither for nor
    # against. Within a day: C1, K1 (minute 10 ≤ 1440) and D1 (20 ≤ 1460); K2 (2000) is late.
    assert flags(run_hand().networks.detected) == pytest.approx(
        (4, (Fraction(2, 3) + 1) / 2, 1, 0.5, Fraction(4, 6), 3, (Fraction(2, 3) + 0.5) / 2, 0, 0)
    )


def test_intercepted_network_figures() -> None:
    # Held: g3 (G1, D1) and f3 (D1, K2): N1 none of 3, N2 both; G1 counts against.
    assert flags(run_hand().networks.intercepted) == pytest.approx(
        (2, 0.5, 1, 0.5, Fraction(2, 3), 1, 0.25, 0, 0)
    )


def test_paofen_roles_have_their_own_detection_blocks() -> None:
    detected = run_hand().detected
    # Four flagged transfers: f1, g3, v1, f3.
    assert (detected.collection.positives, detected.collection.hits) == (3, 1)
    assert (detected.collection.precision, detected.collection.recall) == (0.25, 1 / 3)
    assert (detected.forwarding.positives, detected.forwarding.hits) == (3, 2)
    assert (detected.forwarding.precision, detected.forwarding.recall) == (0.5, 2 / 3)
    assert detected.collection.recall_by_amount == 200 / 1000
    roles = (detected.victim_payment, detected.collection, detected.forwarding)
    assert sum(role.precision or 0 for role in roles) == detected.fraud.precision


def test_paofen_money_is_no_scam_loss() -> None:
    money = run_hand().victim_money
    assert (money.scams, money.loss_fen) == (1, 1000)


def test_a_region_without_networks_has_every_key_and_no_ratio() -> None:
    decisions, transactions, labels, _ = region_tables(ROWS[3:5], [])
    plain = table("account_labels", [{"account_no": "M", "is_mule": True}])
    networks = evaluate(decisions, transactions, labels, plain, Region("n", "amlsim")).networks
    assert (networks.planted, networks.accounts) == (0, 0)
    for found in (networks.detected, networks.intercepted):
        assert flags(found) == (0, None, 0, None, None, 0, None, 0, None)


def test_a_network_begins_at_its_first_transfer_when_mule_since_is_missing() -> None:
    # N2 begins at D1's first stake; without D1's mule_since its first transfer (g3) counts.
    accounts = [(no, m, None if no == "D1" else s, n) for no, m, s, n in ACCOUNTS]
    again = evaluate(*tables(accounts), Region("nets", "sim")).networks
    assert flags(again.detected) == flags(run_hand().networks.detected)


def test_account_labels_without_network_id_are_refused() -> None:
    decisions, transactions, labels, account_labels = tables()
    with pytest.raises(InvalidInput, match="network_id"):
        evaluate(
            decisions, transactions, labels, account_labels.drop(["network_id"]), Region("x", None)
        )


def test_table_shows_the_networks() -> None:
    out = shown(render(run_hand()))
    assert "跑分 networks: 2 planted, 5 accounts" in out
    rows = cells(out)
    assert ["≥ alert", "4", "83.33%", "1", "50.00%", "66.67%", "3", "58.33%", "0"] in rows
    assert ["≥ delay", "2", "50.00%", "1", "50.00%", "66.67%", "1", "25.00%", "0"] in rows
    # Forwarding money: 485 + 194 of 970 flagged, out of 1,879 flagged in all.
    assert ["跑分 forwarding", "3", "2", "50.00%", "66.67%", "36.14%", "70.00%"] in rows


def test_vs_lists_the_network_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_region(tmp_path / "nets", tables(), "sim")

    def decide(folder: Path, pack: RulePack) -> pa.Table:
        return tables()[0].set_column(3, "pack_version", pa.array([pack.version] * len(ROWS)))

    run(folder, "default", "default", as_json=True, save=False, decide=decide)
    body = json.loads(capsys.readouterr().out)
    assert body["base"]["networks"]["detected"]["within_a_day"]["recall"] == pytest.approx(7 / 12)
    assert body["difference"]["networks.detected.recall"] == 0
    rows = cells(shown(render_comparison(run_hand(), run_hand())))
    assert ["networks", "", "", ""] in rows
    assert ["detected · within a day · recall", "58.33%", "58.33%", "+0.00 pp"] in rows
    assert not [row for row in rows if row and row[0] == "collection · flagged"]


# The mule score at its refreshes (minutes; None: never): C1, K1 and the gambler G1 from
# minute 60, C2 late (2000), K2 at 2100 and the ordinary O2 at 3000; only C1 reaches delay.
# Detected networks under alert: {C1, C2, K1, G1} and {K2, O2}.
ALERT_AT = {"C1": 60, "C2": 2000, "K1": 60, "K2": 2100, "G1": 60, "O2": 3000}
GROUPS = {"C1": 0, "C2": 0, "K1": 0, "G1": 0, "K2": 1, "O2": 1}


def _minutes(minute: int | None) -> int:
    return NEVER if minute is None else int(at(minute).timestamp() * 1_000_000)


def score_flags() -> ScoreFlags:
    names = sorted(no for no, *_ in ACCOUNTS)
    return ScoreFlags(
        model_version="acct-test",
        since_us=_minutes(0),
        every_us=60 * 60_000_000,
        refreshes=51,
        accounts=pa.array(names),
        first_flagged={
            Action.ALERT: np.array([_minutes(ALERT_AT.get(no)) for no in names], np.int64),
            Action.DELAY: np.array([_minutes(60 if no == "C1" else None) for no in names]),
        },
        network={
            Action.ALERT: np.array([GROUPS.get(no, -1) for no in names], np.int64),
            Action.DELAY: np.full(len(names), -1, np.int64),
        },
    )


def scored() -> ScoredNetworks:
    found = evaluate(*tables(), Region("nets", "sim"), score_flags()).networks.mule_score
    assert found is not None
    return found


def test_without_an_account_model_there_are_no_mule_score_figures() -> None:
    assert run_hand().networks.mule_score is None
    assert run_hand().to_dict()["networks"]["mule_score"] is None


def test_networks_against_the_mule_score() -> None:
    found = scored()
    assert (found.judged, found.begun, found.refreshes, found.refresh_hours) == (2, 2, 51, 1.0)
    assert found.judged_from == at(0).isoformat()
    alert = found.detected
    # N1: C1, C2, K1 flagged (3 of 3); N2: K2 of D1, K2. Against: G1 and O2; M is a mule.
    assert (alert.accounts_flagged, alert.networks_covered, alert.ordinary_flagged) == (4, 1, 2)
    assert alert.recall == pytest.approx(0.75)
    assert alert.covered_share == 0.5
    assert alert.precision == pytest.approx(4 / 6)
    # First day: N1's C1, C2, K1 (C2 flagged late), N2's D1 (never); K2 starts at 2000.
    day = alert.within_a_day
    assert (day.accounts_flagged, day.networks_covered) == (2, 0)
    assert day.recall == pytest.approx((2 / 3 + 0) / 2)
    # {C1, C2, K1, G1} is N1's (3 of 4); {K2, O2} is half N2's, so no one's.
    # Inside them: C1, C2, K1, K2 of networks; G1 and O2 ordinary.
    assert alert.networks == DetectedNetworks(
        detected=2,
        matching=1,
        planted_found=1,
        largest_share=0.75,
        network_accounts=4,
        ordinary_accounts=2,
        precision=pytest.approx(4 / 6),
    )
    assert [
        (n.network_id, n.judged_accounts, n.flagged, n.first_day_accounts, n.first_day_flagged)
        for n in alert.per_network
    ] == [("N1", 3, 3, 3, 2), ("N2", 2, 1, 1, 0)]
    assert [(n.detected_networks, n.largest_share) for n in alert.per_network] == [
        (1, 1.0),
        (1, 0.5),
    ]
    held = found.intercepted
    assert (held.accounts_flagged, held.precision, held.within_a_day.accounts_flagged) == (1, 1, 1)
    assert held.recall == pytest.approx(1 / 6)
    assert held.networks == DetectedNetworks(0, 0, 0, 0.0, 0, 0, None)


def test_a_network_that_began_before_the_judged_period_has_no_first_day() -> None:
    flags = dataclasses.replace(score_flags(), since_us=_minutes(10))
    found = evaluate(*tables(), Region("nets", "sim"), flags).networks.mule_score
    assert found is not None
    assert found.begun == 1  # N2 (minute 20); N1 began at minute 0
    assert found.detected.within_a_day.recall == 0.0
    assert [n.first_day_accounts for n in found.detected.per_network] == [0, 1]


def test_the_mule_score_figures_are_shown_and_compared_without_their_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_region(tmp_path / "nets", tables(), "sim")

    def decide(folder: Path, pack: RulePack) -> pa.Table:
        return tables()[0].set_column(3, "pack_version", pa.array([pack.version] * len(ROWS)))

    run(folder, "default", "default", True, False, decide, None, score_flags())
    body = json.loads(capsys.readouterr().out)
    assert body["base"]["networks"]["mule_score"]["detected"]["per_network"][0]["flagged"] == 3
    assert body["difference"]["networks.mule_score.detected.recall"] == 0
    assert not [path for path in body["difference"] if path.endswith(".per_network")]
    assert "networks.mule_score.model_version" not in body["difference"]
    result = evaluate(*tables(), Region("nets", "sim"), score_flags())
    out = shown(render(result))
    assert "跑分 networks by mule score acct-test: refreshed every 1 h" in out
    assert [
        "≥ alert",
        "4",
        "75.00%",
        "1",
        "66.67%",
        "2",
        "2",
        "33.33%",
        "2",
        "1 (1 found)",
        "75.00%",
    ] in cells(out)


def test_every_mule_score_key_is_documented() -> None:
    documented = set(re.findall(r"`([a-z0-9_]+)`", DOCS.read_text(encoding="utf-8")))
    body = evaluate(*tables(), Region("nets", "sim"), score_flags()).to_dict()
    per_network = body["networks"]["mule_score"]["detected"]["per_network"][0]
    assert (keys(body) | keys(per_network)) - documented == set()
