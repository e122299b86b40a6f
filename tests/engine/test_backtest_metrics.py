"""Backtest figures on a hand-made region where every expected figure is worked out by hand.

The region (minutes after T0; amounts in fen; V, V2 victims, M1, M2 mules, N1, N2 ordinary,
EXT a payee outside the region without a label, X a labelled account that never transacts):

    t0  -30  N1 → M2     1000  normal                 alert  35
    t1    0  V  → M1    10000  victim_payment  S1     pass   25
    t5    5  N1 → N2     2000  normal                 warn   55
    t2   10  M1 → M2     6000  layering        S1     delay  80
    t6   15  N2 → N1     3000  normal                 block 100
    t3   20  M1 → M2     4000  layering        S1     pass   10
    t7   25  N1 → EXT     500  normal                 pass    0
    t4   30  M2 → (ATM)  9000  cash_out        S1     alert  40
    t8   40  V2 → M1     5000  victim_payment  S2     block 120
    t9   50  M1 → M2     3000  layering        S2     delay  75
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pyarrow as pa
import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest import Backtest, Detection, Region, evaluate
from fundwall.region import SCHEMAS

T0 = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)

# (tx_id, minute, payer, payee, amount, role, scam, action, score)
ROWS: list[tuple[str, int, str | None, str | None, int, str, str | None, str, int]] = [
    ("t0", -30, "N1", "M2", 1000, "normal", None, "alert", 35),
    ("t1", 0, "V", "M1", 10000, "victim_payment", "S1", "pass", 25),
    ("t5", 5, "N1", "N2", 2000, "normal", None, "warn", 55),
    ("t2", 10, "M1", "M2", 6000, "layering", "S1", "delay", 80),
    ("t6", 15, "N2", "N1", 3000, "normal", None, "block", 100),
    ("t3", 20, "M1", "M2", 4000, "layering", "S1", "pass", 10),
    ("t7", 25, "N1", "EXT", 500, "normal", None, "pass", 0),
    ("t4", 30, "M2", None, 9000, "cash_out", "S1", "alert", 40),
    ("t8", 40, "V2", "M1", 5000, "victim_payment", "S2", "block", 120),
    ("t9", 50, "M1", "M2", 3000, "layering", "S2", "delay", 75),
]
# (account, is_mule, mule_since minute or None)
ACCOUNTS: list[tuple[str, bool, int | None]] = [
    ("V", False, None),
    ("V2", False, None),
    ("M1", True, 0),
    ("M2", True, None),  # no mule_since: its first fraud transfer (t2, minute 10) counts
    ("N1", False, None),
    ("N2", False, None),
    ("X", False, None),
]


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.table({f.name: [row.get(f.name) for row in rows] for f in schema}, schema=schema)


def region_tables(
    rows: list[tuple[str, int, str | None, str | None, int, str, str | None, str, int]],
    accounts: list[tuple[str, bool, int | None]],
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """(decisions, transactions, tx_labels, account_labels) of a hand-made region."""
    transactions = table(
        "transactions",
        [
            {
                "tx_id": tx,
                "ts": at(minute),
                "kind": "transfer" if payee else "withdrawal",
                "payer_account": payer,
                "payee_account": payee,
                "payer_bank": "301",
                "payee_bank": "302" if payee else None,
                "amount_fen": amount,
                "channel": "mobile" if payee else "atm",
            }
            for tx, minute, payer, payee, amount, *_ in rows
        ],
    )
    labels = table(
        "tx_labels", [{"tx_id": row[0], "role": row[5], "scam_id": row[6]} for row in rows]
    )
    account_labels = table(
        "account_labels",
        [
            {"account_no": no, "is_mule": mule, "mule_since": None if s is None else at(s)}
            for no, mule, s in accounts
        ],
    )
    decisions = pa.table(
        {
            "tx_id": [row[0] for row in rows],
            "action": [row[7] for row in rows],
            "score": pa.array([row[8] for row in rows], pa.int64()),
            "pack_version": ["2025.1:abc"] * len(rows),
            "model_version": [None] * len(rows),
        }
    )
    return decisions, transactions, labels, account_labels


def run(decisions: pa.Table | None = None) -> Backtest:
    made, transactions, labels, account_labels = region_tables(ROWS, ACCOUNTS)
    return evaluate(
        made if decisions is None else decisions,
        transactions,
        labels,
        account_labels,
        Region("hand", "sim"),
    )


def figures(d: Detection) -> tuple[Any, ...]:
    return (
        d.positives,
        d.positives_amount_fen,
        d.flagged,
        d.flagged_amount_fen,
        d.hits,
        d.hits_amount_fen,
        d.precision,
        d.recall,
        d.precision_by_amount,
        d.recall_by_amount,
    )


def expect(*values: Any) -> tuple[Any, ...]:
    return tuple(float(v) if isinstance(v, Fraction) else v for v in values)


F = Fraction


def test_counts_and_versions() -> None:
    result = run()
    assert result.pack_version == "2025.1:abc"
    assert result.model_version is None
    assert result.transactions.total == 10
    assert result.transactions.decided == 10
    assert result.transactions.fraud == 6
    assert result.transactions.fraud_amount_fen == 37000


def test_action_counts_rates_and_amounts() -> None:
    actions = run().actions
    assert list(actions) == ["pass", "alert", "warn", "delay", "block"]
    got = {name: (a.count, a.rate, a.amount_fen) for name, a in actions.items()}
    assert got == {
        "pass": (3, 0.3, 14500),
        "alert": (2, 0.2, 10000),
        "warn": (1, 0.1, 2000),
        "delay": (2, 0.2, 9000),
        "block": (2, 0.2, 8000),
    }


def test_transaction_pr_auc_is_exact_average_precision() -> None:
    # Ranked by score: t8 F, t6 N, t2 F, t9 F, t5 N, t4 F, t0 N, t1 F, t3 F, t7 N; the
    # precision at each fraud transaction's rank, averaged over the six of them.
    expected = (F(1) + F(2, 3) + F(3, 4) + F(4, 6) + F(5, 8) + F(6, 9)) / 6
    score = run().score
    assert score.pr_auc == pytest.approx(float(expected), abs=1e-15)
    assert score.prevalence == 0.6


def test_detection_at_alert_and_above() -> None:
    detected = run().detected
    assert detected.actions == ("alert", "warn", "delay", "block")
    # Flagged: t0 t4 t5 t2 t9 t6 t8 (7, 29000 fen); fraud among them t4 t2 t9 t8 (23000).
    assert figures(detected.fraud) == expect(
        6, 37000, 7, 29000, 4, 23000, F(4, 7), F(4, 6), F(23, 29), F(23, 37)
    )
    assert figures(detected.victim_payment) == expect(
        2, 15000, 7, 29000, 1, 5000, F(1, 7), F(1, 2), F(5, 29), F(1, 3)
    )
    assert figures(detected.layering) == expect(
        3, 13000, 7, 29000, 2, 9000, F(2, 7), F(2, 3), F(9, 29), F(9, 13)
    )
    assert figures(detected.cash_out) == expect(
        1, 9000, 7, 29000, 1, 9000, F(1, 7), 1.0, F(9, 29), 1.0
    )


def test_interception_by_delay_or_block() -> None:
    intercepted = run().intercepted
    assert intercepted.actions == ("delay", "block")
    # Flagged: t2 t9 t6 t8 (4, 17000 fen); fraud among them t2 t9 t8 (14000).
    assert figures(intercepted.fraud) == expect(
        6, 37000, 4, 17000, 3, 14000, F(3, 4), F(1, 2), F(14, 17), F(14, 37)
    )
    assert figures(intercepted.victim_payment) == expect(
        2, 15000, 4, 17000, 1, 5000, F(1, 4), F(1, 2), F(5, 17), F(1, 3)
    )
    assert figures(intercepted.layering) == expect(
        3, 13000, 4, 17000, 2, 9000, F(2, 4), F(2, 3), F(9, 17), F(9, 13)
    )
    assert figures(intercepted.cash_out) == expect(1, 9000, 4, 17000, 0, 0, 0.0, 0.0, 0.0, 0.0)


def test_victim_money_first_hop_and_chain() -> None:
    money = run().victim_money
    # S1 lost 10000 and had 6000 held on t2; S2 lost 5000 and had 5000 + 3000 held, capped.
    assert money.scams == 2
    assert money.loss_fen == 15000
    assert money.first_hop_fen == 5000
    assert money.first_hop_share == pytest.approx(1 / 3)
    assert money.chain_fen == 6000 + 5000
    assert money.chain_share == pytest.approx(11 / 15)
    assert money.scams_stopped_first_hop == 1
    assert money.scams_stopped_in_chain == 2


def test_account_scores_rank_mules() -> None:
    accounts = run().accounts
    assert (accounts.labelled, accounts.active, accounts.unlabelled_seen, accounts.mules) == (
        7,
        6,
        1,
        2,
    )
    assert accounts.prevalence == pytest.approx(2 / 7)
    # Highest score in or out: V2 120, M1 120 (tied), N1 100, N2 100, M2 80, V 25, X none.
    assert accounts.pr_auc == pytest.approx((1 / 2 + 2 / 5) / 2)


def test_accounts_flagged_and_minutes_to_flag() -> None:
    accounts = run().accounts
    detected = accounts.detected
    # Flagged at alert or above: N1 and M2 (t0), N2 (t5), M1 (t2), V2 (t8); V never.
    assert (detected.flagged, detected.flagged_mules) == (5, 2)
    assert (detected.precision, detected.recall) == (0.4, 1.0)
    # M1 became a mule at 0 and was flagged at 10; M2 was flagged at -30, before its first
    # fraud transfer at 10, which counts as 0 minutes. Median of [0, 10] is 5, p90 is 9.
    lag = detected.minutes_to_flag
    assert (lag.mules, lag.median, lag.p90, lag.flagged_before_start) == (2, 5.0, 9.0, 1)
    intercepted = accounts.intercepted
    assert (intercepted.flagged, intercepted.flagged_mules) == (5, 2)
    lag = intercepted.minutes_to_flag
    assert (lag.mules, lag.median, lag.p90, lag.flagged_before_start) == (2, 5.0, 9.0, 0)


def test_decision_order_does_not_matter() -> None:
    decisions = region_tables(ROWS, ACCOUNTS)[0]
    shuffled = decisions.take(pa.array([9, 3, 0, 7, 1, 8, 2, 6, 4, 5]))
    assert run(shuffled) == run()


def test_a_transaction_without_decision_counts_as_passed_and_unscored() -> None:
    decisions = region_tables(ROWS, ACCOUNTS)[0]
    without_t8 = decisions.filter(pa.compute.not_equal(decisions["tx_id"], "t8"))
    result = run(without_t8)
    assert result.transactions.decided == 9
    assert sum(a.count for a in result.actions.values()) == 9
    assert result.actions["block"].rate == pytest.approx(1 / 9)
    assert result.intercepted.fraud.hits == 2
    assert result.intercepted.fraud.recall == pytest.approx(2 / 6)
    assert result.victim_money.first_hop_fen == 0
    # t8 now ranks last: F(t2) at 2, F(t9) 3, F(t4) 5, F(t1) 7, F(t3) 8, F(t8) 10.
    expected = (F(1, 2) + F(2, 3) + F(3, 5) + F(4, 7) + F(5, 8) + F(6, 10)) / 6
    assert result.score.pr_auc == pytest.approx(float(expected))


def test_region_without_victims_says_not_available() -> None:
    # AMLSim-like: laundering only, no victim payments, mule_since from the labels.
    rows = [
        ("a1", 0, "A", "B", 700, "layering", "P1", "delay", 90),
        ("a2", 5, "B", "C", 600, "cash_out", "P1", "pass", 5),
        ("a3", 9, "C", "A", 400, "normal", None, "alert", 30),
    ]
    accounts = [("A", True, 0), ("B", True, 0), ("C", False, None)]
    decisions, transactions, labels, account_labels = region_tables(rows, accounts)
    result = evaluate(decisions, transactions, labels, account_labels, Region("aml", "amlsim"))
    money = result.victim_money
    assert (money.scams, money.loss_fen, money.first_hop_fen, money.chain_fen) == (0, 0, 0, 0)
    assert money.first_hop_share is None
    assert money.chain_share is None
    vp = result.detected.victim_payment
    assert (vp.positives, vp.precision, vp.recall, vp.precision_by_amount) == (0, None, None, None)
    assert result.detected.fraud.recall == 0.5
    assert result.accounts.detected.recall == 1.0
    assert result.accounts.intercepted.minutes_to_flag.median == 0.0


def test_no_fraud_at_all_has_no_pr_auc() -> None:
    rows = [("n1", 0, "A", "B", 100, "normal", None, "pass", 0)]
    decisions, transactions, labels, account_labels = region_tables(rows, [("A", False, None)])
    result = evaluate(decisions, transactions, labels, account_labels, Region("n", None))
    assert result.score.pr_auc is None
    assert result.accounts.pr_auc is None
    assert result.accounts.detected.precision is None
    assert result.accounts.detected.minutes_to_flag.median is None


def test_fraud_transfer_without_scam_is_its_own_scam() -> None:
    rows = [
        ("v1", 0, "V", "M", 800, "victim_payment", None, "block", 100),
        ("v2", 1, "W", "M", 300, "victim_payment", None, "pass", 0),
        ("l1", 2, "M", "N", 900, "layering", None, "delay", 70),
    ]
    decisions, transactions, labels, account_labels = region_tables(rows, [("M", True, 0)])
    money = evaluate(decisions, transactions, labels, account_labels, Region("o", None))
    # Each orphan is a scam: v1 800 held of 800, v2 0 of 300, l1 has no loss to cap at.
    assert (money.victim_money.scams, money.victim_money.chain_fen) == (2, 800)


def _error(decisions: pa.Table) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        run(decisions)
    return caught.value


def test_bad_decisions_are_refused_precisely() -> None:
    decisions = region_tables(ROWS, ACCOUNTS)[0]
    assert "tx_id" in str(_error(decisions.drop_columns(["tx_id"])))
    assert "several decisions" in str(_error(pa.concat_tables([decisions, decisions.slice(2, 1)])))
    unknown = decisions.set_column(0, "tx_id", pa.array(["t0", *[f"z{i}" for i in range(9)]]))
    assert "unknown transaction z0" in str(_error(unknown))
    bad_action = decisions.set_column(1, "action", pa.array(["hold"] + ["pass"] * 9))
    error = _error(bad_action)
    assert (error.field, error.record) == ("action", "t0")
    assert "'hold'" in error.reason
    floats = decisions.set_column(2, "score", pa.array([1.5] * 10))
    assert _error(floats).field == "score"
    nulls = decisions.set_column(2, "score", pa.array([None] + [1] * 9, pa.int64()))
    assert _error(nulls).record == "t0"
    mixed = decisions.set_column(3, "pack_version", pa.array(["a"] * 5 + ["b"] * 5))
    assert "several pack_versions (a, b)" in str(_error(mixed))


def test_labels_out_of_order_or_with_unknown_roles_are_refused() -> None:
    decisions, transactions, labels, account_labels = region_tables(ROWS, ACCOUNTS)
    region = Region("hand", "sim")
    with pytest.raises(InvalidInput, match="in their order"):
        evaluate(
            decisions, transactions, labels.take([1, 0, *range(2, 10)]), account_labels, region
        )
    odd = labels.set_column(1, "role", pa.array(["mule", *labels["role"].to_pylist()[1:]]))
    with pytest.raises(InvalidInput, match="unknown role 'mule'") as caught:
        evaluate(decisions, transactions, odd, account_labels, region)
    assert caught.value.record == "t0"
