"""Account-level figures: how well the decisions single out mule accounts (过渡账户).

An account's score is the highest score among its decided transfers in or out; an account is
flagged by a set of actions when one of its transfers in or out got one of them, and it was
first flagged at the earliest such transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.decisions import Action
from fundwall.engine.backtest.frame import Frame
from fundwall.engine.backtest.ranking import average_precision, quantile
from fundwall.engine.backtest.result import AccountFlags, AccountReport, MinutesToFlag, ratio

NEVER: Final = np.iinfo(np.int64).max
"""First-flag time of an account that was never flagged."""
MICROSECONDS_PER_MINUTE: Final = 60_000_000

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def _both_ends(f: Frame, rows: Mask) -> tuple[Ints, Ints]:
    """(account index, transaction row) for each end of the selected transactions."""
    picked = np.flatnonzero(rows)
    ends = np.concatenate([f.payer[picked], f.payee[picked]])
    where = np.concatenate([picked, picked])
    present = ends >= 0
    return ends[present], where[present]


def _earliest(f: Frame, rows: Mask) -> Ints:
    """Per account (index into f.accounts), the earliest ts of the selected rows, else NEVER."""
    earliest = np.full(len(f.accounts), NEVER, np.int64)
    account, row = _both_ends(f, rows)
    np.minimum.at(earliest, account, f.ts[row])
    return earliest


def _minutes_to_flag(first_flag: Ints, start: Ints, mule: Mask) -> MinutesToFlag:
    timed = mule & (first_flag != NEVER) & (start != NEVER)
    lag = (first_flag[timed] - start[timed]) / MICROSECONDS_PER_MINUTE
    minutes = np.maximum(lag, 0.0)
    return MinutesToFlag(
        mules=int(minutes.size),
        median=quantile(minutes, 0.5),
        p90=quantile(minutes, 0.9),
        flagged_before_start=int(np.count_nonzero(lag < 0)),
    )


def first_of(f: Frame, labelled: Ints, rows: Mask) -> Ints:
    """Per labelled account, the earliest of the selected transfers in or out (NEVER: none)."""
    return _lookup(_earliest(f, rows), labelled, NEVER)


def first_flagged(f: Frame, labelled: Ints, actions: tuple[Action, ...]) -> Ints:
    """Per labelled account, when a transfer in or out first got one of `actions` (NEVER:
    not flagged)."""
    return first_of(f, labelled, f.flagged(actions))


def _account_flags(
    f: Frame, labelled: Ints, mule: Mask, start: Ints, actions: tuple[Action, ...]
) -> AccountFlags:
    first_flag = first_flagged(f, labelled, actions)
    flagged = first_flag != NEVER
    flagged_mules = int(np.count_nonzero(flagged & mule))
    count = int(np.count_nonzero(flagged))
    return AccountFlags(
        actions=tuple(a.value for a in actions),
        flagged=count,
        flagged_mules=flagged_mules,
        precision=ratio(flagged_mules, count),
        recall=ratio(flagged_mules, int(np.count_nonzero(mule))),
        minutes_to_flag=_minutes_to_flag(first_flag, start, mule),
    )


def _lookup(values: Ints, labelled: Ints, missing: int) -> Ints:
    """values[labelled], with `missing` where the labelled account never transacts (-1)."""
    found = np.full(labelled.size, missing, np.int64)
    known = labelled >= 0
    found[known] = values[labelled[known]]
    return found


@dataclass(frozen=True)
class Labels:
    """account_labels lined up with the frame: one entry per labelled account."""

    labelled: Ints
    """Index into `Frame.accounts`, -1 for an account that never transacts."""
    mule: Mask
    start: Ints
    """First mule activity: mule_since, else the first fraud transfer in or out, else NEVER."""


def account_labels_of(f: Frame, account_labels: pa.Table) -> Labels:
    """Line up account_labels (account_no, is_mule, mule_since) with the frame's accounts."""
    numbers = account_labels.column("account_no").combine_chunks()
    labelled = np.asarray(
        pc.index_in(numbers, value_set=f.accounts).fill_null(-1).to_numpy(), np.int64
    )
    mule = np.asarray(
        account_labels.column("is_mule")
        .combine_chunks()
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        np.bool_,
    )
    since = account_labels.column("mule_since").combine_chunks().cast(pa.int64())
    first_fraud = first_of(f, labelled, f.fraud)
    start = np.asarray(since.fill_null(NEVER).to_numpy(), np.int64)
    return Labels(labelled, mule, np.where(start == NEVER, first_fraud, start))


def account_report(
    f: Frame,
    labels: Labels,
    detected: tuple[Action, ...],
    intercepted: tuple[Action, ...],
) -> AccountReport:
    """Mule detection against account_labels (is_mule, mule_since)."""
    labelled, mule, start = labels.labelled, labels.mule, labels.start
    score = np.full(len(f.accounts), -np.inf)
    account, row = _both_ends(f, f.decided)
    np.maximum.at(score, account, f.score[row])
    account_score = np.full(labelled.size, -np.inf)
    known = labelled >= 0
    account_score[known] = score[labelled[known]]
    seen = np.zeros(len(f.accounts), np.bool_)
    seen[labelled[known]] = True
    mules = int(np.count_nonzero(mule))
    return AccountReport(
        labelled=int(labelled.size),
        active=int(np.count_nonzero(np.isfinite(account_score))),
        unlabelled_seen=int(np.count_nonzero(~seen)),
        mules=mules,
        prevalence=ratio(mules, int(labelled.size)),
        pr_auc=average_precision(account_score, mule),
        detected=_account_flags(f, labelled, mule, start, detected),
        intercepted=_account_flags(f, labelled, mule, start, intercepted),
    )
