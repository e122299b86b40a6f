"""Backtest figures on random small regions, against plain-Python counting and invariants."""

from __future__ import annotations

import statistics
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_backtest_metrics import region_tables

from fundwall.engine.backtest import Backtest, Region, evaluate

ACCOUNTS = ("A", "B", "C", "D", "E")
ROLES = ("normal", "victim_payment", "layering", "cash_out")
ACTIONS = ("pass", "alert", "warn", "delay", "block")
HELD = ("delay", "block")


@st.composite
def regions(draw: st.DrawFn) -> tuple[list[Any], list[Any], list[bool]]:
    """(rows, account labels, which rows keep their decision)."""
    size = draw(st.integers(1, 25))
    rows = []
    for i in range(size):
        role = draw(st.sampled_from(ROLES))
        payer = draw(st.sampled_from(ACCOUNTS))
        payee = draw(st.one_of(st.none(), st.sampled_from(ACCOUNTS)))
        scam = None if role == "normal" else draw(st.sampled_from(["S1", "S2", None]))
        rows.append(
            (
                f"t{i:02d}",
                i * draw(st.integers(0, 3)),
                payer,
                payee,
                draw(st.integers(1, 5000)),
                role,
                scam,
                draw(st.sampled_from(ACTIONS)),
                draw(st.integers(0, 150)),
            )
        )
    rows.sort(key=lambda row: row[1])
    labels = [
        (name, draw(st.booleans()), draw(st.one_of(st.none(), st.integers(-5, 60))))
        for name in ACCOUNTS
    ]
    kept = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    return rows, labels, kept


def backtest(rows: list[Any], labels: list[Any], kept: list[bool]) -> Backtest:
    decisions, transactions, tx_labels, account_labels = region_tables(rows, labels)
    decisions = decisions.filter(pa.array(kept))
    return evaluate(decisions, transactions, tx_labels, account_labels, Region("r", None))


def decided(rows: list[Any], kept: list[bool]) -> list[Any]:
    return [row for row, keep in zip(rows, kept, strict=True) if keep]


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(regions())
def test_figures_match_plain_counting(region: tuple[list[Any], list[Any], list[bool]]) -> None:
    rows, labels, kept = region
    result = backtest(rows, labels, kept)
    done = decided(rows, kept)
    assert sum(a.count for a in result.actions.values()) == len(done) == result.transactions.decided
    for action, count in result.actions.items():
        assert count.amount_fen == sum(row[4] for row in done if row[7] == action)

    held = [row for row in done if row[7] in HELD]
    fraud = [row for row in rows if row[5] != "normal"]
    assert result.intercepted.fraud.hits == sum(1 for row in held if row[5] != "normal")
    assert result.intercepted.fraud.positives == len(fraud)

    # Victim money, scam by scam; fraud rows without a scam are scams of their own.
    def scam_of(row: Any) -> Any:
        return row[6] if row[6] is not None else row[0]

    losses: dict[Any, int] = {}
    for row in rows:
        if row[5] == "victim_payment":
            losses[scam_of(row)] = losses.get(scam_of(row), 0) + row[4]
    stopped: dict[Any, int] = {}
    for row in held:
        if row[5] != "normal":
            stopped[scam_of(row)] = stopped.get(scam_of(row), 0) + row[4]
    money = result.victim_money
    assert money.loss_fen == sum(losses.values())
    assert money.chain_fen == sum(min(stopped.get(s, 0), loss) for s, loss in losses.items())
    assert money.first_hop_fen == sum(row[4] for row in held if row[5] == "victim_payment")
    assert 0 <= money.first_hop_fen <= money.chain_fen <= money.loss_fen

    # Accounts flagged by delay or block, and their minutes to flag.
    first_flag: dict[str, int] = {}
    for row in held:
        for account in (row[2], row[3]):
            if account is not None:
                first_flag[account] = min(first_flag.get(account, row[1]), row[1])
    first_fraud: dict[str, int] = {}
    for row in fraud:
        for account in (row[2], row[3]):
            if account is not None:
                first_fraud[account] = min(first_fraud.get(account, row[1]), row[1])
    mules = {name: since for name, mule, since in labels if mule}
    flags = result.accounts.intercepted
    assert flags.flagged == len(first_flag)
    assert flags.flagged_mules == len(set(first_flag) & set(mules))
    lags = []
    for name, since in mules.items():
        start = since if since is not None else first_fraud.get(name)
        if name in first_flag and start is not None:
            lags.append(first_flag[name] - start)
    lag = flags.minutes_to_flag
    assert lag.mules == len(lags)
    assert lag.flagged_before_start == sum(1 for m in lags if m < 0)
    clipped = [max(m, 0) for m in lags]
    assert lag.median == (pytest.approx(statistics.median(clipped)) if clipped else None)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(regions())
def test_invariants(region: tuple[list[Any], list[Any], list[bool]]) -> None:
    result = backtest(*region)
    for flags in (result.detected, result.intercepted):
        roles = (flags.victim_payment, flags.layering, flags.cash_out)
        assert flags.fraud.hits == sum(role.hits for role in roles)
        assert flags.fraud.hits_amount_fen == sum(role.hits_amount_fen for role in roles)
        assert flags.fraud.positives == sum(role.positives for role in roles)
        for figure in (flags.fraud, *roles):
            for value in (figure.precision, figure.recall, figure.recall_by_amount):
                assert value is None or 0 <= value <= 1
    # Interception is a subset of detection, at the transaction and the account level.
    assert result.intercepted.fraud.flagged <= result.detected.fraud.flagged
    assert result.intercepted.fraud.hits <= result.detected.fraud.hits
    accounts = result.accounts
    assert accounts.intercepted.flagged <= accounts.detected.flagged
    assert accounts.intercepted.flagged_mules <= accounts.detected.flagged_mules
    for flags_ in (accounts.detected, accounts.intercepted):
        lag = flags_.minutes_to_flag
        if lag.median is not None and lag.p90 is not None:
            assert 0 <= lag.median <= lag.p90
    for pr_auc in (result.score.pr_auc, accounts.pr_auc):
        assert pr_auc is None or 0 < pr_auc <= 1
    money = result.victim_money
    assert money.scams_stopped_first_hop <= money.scams_stopped_in_chain <= money.scams
