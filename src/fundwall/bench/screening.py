"""Account-base screening, measured in a child process of its own: every check over a region
folder's whole account base.

The child reads the base once (`base_from_region`: the accounts, their holders by keyed hash,
their activity and balance after the region's transactions; `screen_base_seconds`), then
times each check over it, best of three (`screen_<check>_per_s`, accounts a second). The
headline `screen_accounts_per_s` is the slowest check's. The baseline, in the same run, is
what an analyst would write over the same columns in a pandas DataFrame: masks and group-bys,
and for batches a Python loop over each tie's openings in time order; each check of it must
find the same accounts, or the child fails. `screen_vs_baseline` is the baseline's seconds
over all checks ÷ the checks' own.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any, Final

import numpy as np

from fundwall.bench.child import run_python

ROUNDS: Final = 3
_CHILD: Final = (
    "import sys; from fundwall.bench.screening import child; child(sys.argv[1], int(sys.argv[2]))"
)


def child(folder: str, rounds: int) -> None:
    """The child's work: print one JSON object of its figures."""
    from fundwall.config import PolicySettings
    from fundwall.crypto import Keyring
    from fundwall.screening.base import base_from_region
    from fundwall.screening.checks import CHECKS

    policy = PolicySettings()
    began = time.perf_counter()
    base = base_from_region(Path(folder), Keyring(os.urandom(16), os.urandom(32)))
    base_seconds = time.perf_counter() - began
    frame = _frame(base)
    checks: dict[str, dict[str, float | int]] = {}
    for check, run in CHECKS.items():
        best = float("inf")
        for _ in range(rounds):
            began = time.perf_counter()
            finding = run(base, policy)
            best = min(best, time.perf_counter() - began)
        began = time.perf_counter()
        baseline = np.sort(_BASELINES[check.value](frame, base, policy))
        baseline_seconds = time.perf_counter() - began
        if not np.array_equal(baseline, finding.rows):
            raise RuntimeError(f"the baseline of {check.value} finds other accounts")
        checks[check.value] = {
            "seconds": best,
            "found": len(finding),
            "baseline_seconds": baseline_seconds,
        }
    figures = {
        "accounts": base.count,
        "base_seconds": base_seconds,
        "checks": checks,
        "load_average_1m": os.getloadavg()[0],
    }
    print(json.dumps(figures))


def measure_screening(region: Path, *, timeout: float) -> dict[str, object]:
    """Every check over the region's account base in a child process; see the module."""
    run = run_python(_CHILD, str(region), str(ROUNDS), timeout=timeout)
    figures = json.loads(run.output.strip().splitlines()[-1])
    accounts = int(figures["accounts"])
    checks: dict[str, dict[str, float]] = figures["checks"]
    result: dict[str, object] = {}
    for name, check in checks.items():
        result[f"screen_{name}_per_s"] = round(accounts / check["seconds"])
        result[f"screen_{name}_baseline_per_s"] = round(accounts / check["baseline_seconds"])
        result[f"screen_{name}_found"] = int(check["found"])
    own = sum(check["seconds"] for check in checks.values())
    baseline = sum(check["baseline_seconds"] for check in checks.values())
    return {
        "screen_accounts_per_s": min(round(accounts / c["seconds"]) for c in checks.values()),
        "screen_baseline_accounts_per_s": min(
            round(accounts / c["baseline_seconds"]) for c in checks.values()
        ),
        "screen_vs_baseline": round(baseline / own, 1),
        "screen_accounts": accounts,
        "screen_base_seconds": round(float(figures["base_seconds"]), 1),
        **result,
        "screen_peak_mb": round(run.peak_rss_mb),
        "screen_load_average_1m": round(float(figures["load_average_1m"]), 2),
    }


# The baseline: the same rules in pandas, as an analyst would write them.


def _frame(base: Any) -> Any:
    pd: Any = importlib.import_module("pandas")  # the baseline's; not a runtime dependency
    frame = pd.DataFrame(
        {
            "member": base.member,
            "holder": base.holder,
            "person": base.person,
            "cls": base.cls,
            "closed": base.closed,
            "opened": base.opened,
            "active": base.active,
            "balance": base.balance,
            "punished_until": base.punished_until,
            **{name: codes for name, codes in base.links.items()},
        }
    )
    frame["bank"] = [base.members[code] for code in base.member]
    return frame


def _dormant(frame: Any, base: Any, policy: Any) -> Any:
    from fundwall.screening.base import CORPORATE, NO_TIME
    from fundwall.screening.checks import dormancy, months_before

    rules = {bank: dormancy(policy, bank) for bank in base.members}
    personal = frame["bank"].map({b: months_before(base.as_of_us, r[0]) for b, r in rules.items()})
    company = frame["bank"].map({b: months_before(base.as_of_us, r[2]) for b, r in rules.items()})
    ceiling = frame["bank"].map({b: r[1] for b, r in rules.items()})
    since = frame[["active", "opened"]].max(axis=1)
    corporate = frame["cls"] == CORPORATE
    cut = personal.where(~corporate, company)
    found = (
        ~frame["closed"]
        & (since != NO_TIME)
        & (since <= cut)
        & (corporate | (frame["balance"] <= ceiling))
    )
    return frame.index[found].to_numpy()


def _new_idle(frame: Any, base: Any, policy: Any) -> Any:
    from fundwall.screening.base import NO_TIME
    from fundwall.screening.checks import months_before

    cut = months_before(base.as_of_us, policy.new_account_idle_suspension_months)
    unused = (frame["active"] == NO_TIME) | (frame["active"] < frame["opened"])
    found = ~frame["closed"] & (frame["opened"] != NO_TIME) & unused & (frame["opened"] <= cut)
    return frame.index[found].to_numpy()


def _many_accounts(frame: Any, base: Any, policy: Any) -> Any:
    from fundwall.screening.base import CLASS_I, CORPORATE

    person = frame[frame["person"] & ~frame["closed"]]
    personal = person[person["cls"] != CORPORATE]
    at_bank = personal.groupby(["holder", "member", "cls"])["cls"].transform("size")
    limits = {
        0: policy.max_class_i_accounts_per_bank,
        1: policy.max_class_ii_accounts_per_bank,
        2: policy.max_class_iii_accounts_per_bank,
    }
    over_bank = personal.index[at_bank > personal["cls"].map(limits)]
    class_i = personal[personal["cls"] == CLASS_I].groupby("holder").size()
    crowded = class_i[class_i > policy.max_class_i_accounts_in_region].index
    over_region = person.index[person["holder"].isin(crowded)]
    return np.union1d(over_bank.to_numpy(), over_region.to_numpy())


def _batch_opened(frame: Any, base: Any, policy: Any) -> Any:
    from fundwall.screening.base import LINKS, NO_TIME

    window = policy.batch_opening_window_hours * 3_600 * 1_000_000
    least = policy.batch_opening_min_holders
    found: set[int] = set()
    for link in LINKS:
        tied = frame[(frame[link] >= 0) & (frame["opened"] != NO_TIME)]
        tied = tied[tied.groupby(link)["holder"].transform("nunique") >= least]
        for _, group in tied.groupby(link):
            rows = group.sort_values("opened", kind="stable")
            times, holders = rows["opened"].tolist(), rows["holder"].tolist()
            # Slide a window over the openings; every account of a window of enough holders.
            inside: deque[int] = deque()
            for end, at in enumerate(times):
                inside.append(end)
                while times[inside[0]] < at - window:
                    inside.popleft()
                if len({holders[i] for i in inside}) >= least:
                    found.update(rows.index[i] for i in inside)
    live = frame.index[~frame["closed"]]
    return np.intersect1d(np.array(sorted(found), dtype=np.int64), live.to_numpy())


def _punished(frame: Any, base: Any, policy: Any) -> Any:
    found = ~frame["closed"] & frame["person"] & (frame["punished_until"] > base.as_of_us)
    return frame.index[found].to_numpy()


def _shared_phone(frame: Any, base: Any, policy: Any) -> Any:
    bound = frame[(frame["phone"] >= 0) & frame["person"]]
    people = bound.groupby("phone")["holder"].transform("nunique")
    found = bound[(people > policy.max_ids_per_phone) & ~bound["closed"]]
    return found.index.to_numpy()


_BASELINES: Final = {
    "dormant": _dormant,
    "new_idle": _new_idle,
    "many_accounts": _many_accounts,
    "batch_opened": _batch_opened,
    "punished": _punished,
    "shared_phone": _shared_phone,
}
