"""How well the checks find what the simulator planted: each check over a region folder's
account base, against its `screening_labels` (ground truth the checks never read).

Precision is the share of the accounts found that were planted, recall the share of the
planted accounts found; both None when there is nothing to divide by, and for the checks the
simulator plants nothing for (`PLANTED_CHECKS`). The holders' ID numbers and phones are
hashed with a key made for the evaluation alone, as the hub's keyed hashes would be.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc

from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.screening import PLANTED_CHECKS, Check, parse_checks
from fundwall.region import read_table
from fundwall.screening.base import Activity, base_from_region, period_end, region_activity
from fundwall.screening.checks import CHECKS


@dataclass(frozen=True, slots=True)
class CheckScore:
    check: Check
    found: int
    planted: int | None
    """Accounts the simulator planted for the check; None when it plants none of the kind."""
    hits: int
    precision: float | None
    recall: float | None
    seconds: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    as_of: datetime
    accounts: int
    scores: tuple[CheckScore, ...]


def evaluate_region(
    folder: Path,
    policy: PolicySettings,
    *,
    checks: Sequence[str] | None = None,
    as_of: datetime | None = None,
    activity: Activity = region_activity,
) -> Evaluation:
    """Run `checks` (every check by default) over the region folder as of `as_of` (default
    the end of its period), the accounts' activity computed by `activity`, and score each
    against what was planted."""
    chosen = parse_checks(checks)
    labels = read_table(folder, "screening_labels", ["account_no", "check"])
    moment = as_of if as_of is not None else period_end(folder)
    keyring = Keyring(os.urandom(16), os.urandom(32))
    base = base_from_region(folder, keyring, moment, activity)
    scores = []
    for check in chosen:
        began = time.perf_counter()
        finding = CHECKS[check](base, policy)
        seconds = time.perf_counter() - began
        found = set(base.account_no.take(finding.rows).to_pylist())
        if check not in PLANTED_CHECKS:
            scores.append(CheckScore(check, len(found), None, 0, None, None, seconds))
            continue
        mine = pc.equal(labels.column("check"), check.value)
        planted = set(labels.column("account_no").filter(mine).to_pylist())
        hits = len(found & planted)
        scores.append(
            CheckScore(
                check,
                len(found),
                len(planted),
                hits,
                hits / len(found) if found else None,
                hits / len(planted) if planted else None,
                seconds,
            )
        )
    return Evaluation(moment, base.count, tuple(scores))
