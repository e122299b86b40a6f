"""Tracing over a region folder: its index, its victim reports as trace starts, and the
evaluation of traces against the region's ground truth (`fundwall trace --evaluate`).

The ground truth of a scam (tx_labels, scams): its mule accounts are the accounts its
labelled transfers paid into or out of, but the victim's own; what a mule still holds of the
scam's money is what the scam's transfers brought in less what they took out (a mule holds
no money of other origin in the simulator's books of a scam).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from statistics import mean
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from fundwall.region import read_table
from fundwall.tracing.index import Columns, Directory, TransferIndex
from fundwall.tracing.model import AttributionRule, TraceResult, TraceStart
from fundwall.tracing.trace import trace


def region_index(folder: Path) -> TransferIndex:
    """The index of a region folder: its accounts at their opening balances and every
    transaction, in one sort."""
    index = TransferIndex.of(*region_movements(folder))
    # What Arrow allocated to read and sort the files goes back to the system.
    pa.default_memory_pool().release_unused()
    return index


def region_movements(folder: Path) -> tuple[Directory, Columns]:
    """A region folder's accounts and transactions as the index takes them: column by
    column, never a Python object per transaction."""
    accounts = read_table(folder, "accounts", ["account_no", "bank", "opening_balance_fen"])
    directory = Directory(
        accounts["account_no"], accounts["bank"], accounts["opening_balance_fen"].to_numpy()
    )
    tx = read_table(
        folder,
        "transactions",
        ["tx_id", "ts", "payer_account", "payee_account", "payee_bank", "amount_fen"],
    )
    columns = Columns(
        tx["tx_id"],
        tx["ts"].cast(pa.timestamp("us", "UTC")).cast(pa.int64()),
        tx["payer_account"],
        tx["payee_account"],
        tx["payee_bank"],
        tx["amount_fen"],
    )
    return directory, columns


def report_starts(folder: Path) -> dict[str, list[TraceStart]]:
    """Each victim report's payments as trace starts, by report id (the report names the
    first-level account paid, when and how much)."""
    starts: dict[str, list[TraceStart]] = defaultdict(list)
    for row in read_table(folder, "victim_reports").to_pylist():
        starts[row["report_id"]].append(
            TraceStart(row["report_id"], row["payee_account"], row["paid_at"], row["amount_fen"])
        )
    return dict(starts)


@dataclass(frozen=True, slots=True)
class Truth:
    """What the region's labels say of one report's scam: its mules and what each holds."""

    mules: frozenset[str]
    held: dict[str, int]
    loss_fen: int


def ground_truth(folder: Path) -> dict[str, Truth]:
    """Each report's scam's mule accounts and the scam money each still holds at the end."""
    scams = read_table(folder, "scams").select(["scam_id", "report_id", "victim_account"])
    victim = dict(
        zip(scams["scam_id"].to_pylist(), scams["victim_account"].to_pylist(), strict=True)
    )
    report = dict(zip(scams["scam_id"].to_pylist(), scams["report_id"].to_pylist(), strict=True))
    labels = read_table(folder, "tx_labels").to_pylist()
    scam_of = {row["tx_id"]: row["scam_id"] for row in labels if row["scam_id"]}
    tx = read_table(folder, "transactions").select(
        ["tx_id", "payer_account", "payee_account", "amount_fen"]
    )
    mules: dict[str, set[str]] = defaultdict(set)
    held: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    loss: dict[str, int] = defaultdict(int)
    for tx_id, payer, payee, amount in zip(
        tx["tx_id"].to_pylist(),
        tx["payer_account"].to_pylist(),
        tx["payee_account"].to_pylist(),
        tx["amount_fen"].to_pylist(),
        strict=True,
    ):
        scam = scam_of.get(tx_id)
        if scam is None:
            continue
        if payer == victim[scam]:
            loss[scam] += amount
        for account, sign in ((payer, -1), (payee, 1)):
            if account and account != victim[scam]:
                mules[scam].add(account)
                held[scam][account] += sign * amount
    return {
        report[scam]: Truth(
            frozenset(accounts),
            {a: max(v, 0) for a, v in held[scam].items()},
            loss[scam],
        )
        for scam, accounts in mules.items()
    }


_T = TypeVar("_T")
_R = TypeVar("_R")


class ReportMap(Protocol):
    """How the reports' traces are run: `work` on every item, results in the items' order
    (one after another here, `each_report`; on Spark's executors, `fundwall.spark`)."""

    def __call__(self, work: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]: ...


def each_report(work: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """`work` on every item, one after another, in this process."""
    return [work(item) for item in items]


@dataclass(frozen=True)
class _Scored:
    milliseconds: float
    figures: tuple[float, float, float] | None
    """Recall, precision and amount error; None for a report with no known mule."""


def _score(
    index: TransferIndex,
    truth: dict[str, Truth],
    rule: AttributionRule,
    as_of: datetime,
    report: tuple[str, list[TraceStart]],
) -> _Scored:
    """One report traced and scored against its ground truth."""
    name, starts = report
    began = time.perf_counter()
    result = trace(index, starts, rule, as_of=as_of)
    milliseconds = (time.perf_counter() - began) * 1000
    known = truth.get(name)
    if known is None or not known.mules:
        return _Scored(milliseconds, None)
    reached = {account.account_no for account in result.accounts}
    return _Scored(
        milliseconds,
        (
            len(reached & known.mules) / len(known.mules),
            len(reached & known.mules) / len(reached) if reached else 0.0,
            _amount_error(result, known),
        ),
    )


def evaluate(
    folder: Path, rule: AttributionRule, as_of: datetime, each: ReportMap = each_report
) -> dict[str, Any]:
    """Trace every report of the region (by `each`) and score the traces against the ground
    truth."""
    index = region_index(folder)
    truth = ground_truth(folder)
    reports = sorted(report_starts(folder).items())
    scored = each(partial(_score, index, truth, rule, as_of), reports)
    timings = sorted(done.milliseconds for done in scored)
    figures = [done.figures for done in scored if done.figures is not None]
    recalls = [recall for recall, _, _ in figures]
    precisions = [precision for _, precision, _ in figures]
    errors = [error for _, _, error in figures]
    return {
        "rule": rule.value,
        "reports": len(recalls),
        "mule_recall": round(mean(recalls), 4) if recalls else None,
        "mule_precision": round(mean(precisions), 4) if precisions else None,
        "amount_error": round(mean(errors), 4) if errors else None,
        "p50_ms": round(_quantile(timings, 0.50), 2),
        "p99_ms": round(_quantile(timings, 0.99), 2),
        "index_movements": len(index),
    }


def _amount_error(result: TraceResult, truth: Truth) -> float:
    """Mean absolute error of what each mule still holds, as a share of the loss."""
    traced = {account.account_no: account.held_fen for account in result.accounts}
    accounts = truth.mules | traced.keys()
    if not accounts or truth.loss_fen <= 0:
        return 0.0
    gaps = [abs(traced.get(a, 0) - truth.held.get(a, 0)) for a in accounts]
    return mean(gaps) / truth.loss_fen


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]
