"""Network-level figures: how much of each 跑分 network the flags single out.

A network (account_labels.network_id) is its collection accounts and collectors. It is worked
as one case, so what counts is the share of its accounts flagged, not the number of accounts
flagged over all networks: a network of forty accounts found at one weighs no more than a
network of ten found at one. docs/backtest.md defines each figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.accounts import NEVER, Labels, first_flagged, first_of
from fundwall.engine.backtest.frame import Frame
from fundwall.engine.backtest.result import (
    DetectedNetworks,
    NetworkFlags,
    NetworkReport,
    NetworkWindow,
    PlantedNetwork,
    ScoredNetworkFlags,
    ScoredNetworks,
    ratio,
)

COVERED: Final = 0.9
"""A network is covered when at least this share of its accounts is flagged: enough to see
it as a network and work it as one case."""
WINDOW_US: Final = 24 * 3_600_000_000
"""`within_a_day`: flags at most this long after the network's first payment."""

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def _networks(account_labels: pa.Table) -> tuple[Ints, list[str]]:
    """Per labelled account its network number (-1: none), and the networks' ids."""
    if "network_id" not in account_labels.column_names:
        raise InvalidInput("account_labels lack the column network_id", "account_labels")
    encoded = account_labels.column("network_id").combine_chunks().dictionary_encode()
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(), np.int64)
    return codes, [str(name) for name in encoded.dictionary.to_pylist()]


def _coverage(network: Ints, flagged: Mask, count: int) -> tuple[float | None, int]:
    """(mean share of each network's accounts flagged, networks covered)."""
    if count == 0:
        return None, 0
    member = network >= 0
    size = np.bincount(network[member], minlength=count)
    hit = np.bincount(network[member & flagged], minlength=count)
    share = hit / size
    return float(share.mean()), int(np.count_nonzero(share >= COVERED))


def _begins(network: Ints, labels: Labels, count: int) -> Ints:
    """Per network its first payment: the earliest first activity of its accounts."""
    member = network >= 0
    begins = np.full(count, NEVER, np.int64)
    np.minimum.at(begins, network[member], labels.start[member])
    return begins


def _flags(
    f: Frame, labels: Labels, network: Ints, count: int, actions: tuple[Action, ...]
) -> NetworkFlags:
    first_flag = first_flagged(f, labels.labelled, actions)
    flagged = first_flag != NEVER
    member = network >= 0
    ordinary = ~member & ~labels.mule
    recall, covered = _coverage(network, flagged, count)
    found = int(np.count_nonzero(member & flagged))
    false_flags = int(np.count_nonzero(ordinary & flagged))
    begins = _begins(network, labels, count)
    deadline = begins.copy()
    deadline[begins != NEVER] += WINDOW_US
    early = member & flagged & (first_flag <= np.append(deadline, NEVER)[network])
    early_recall, early_covered = _coverage(network, early, count)
    return NetworkFlags(
        actions=tuple(a.value for a in actions),
        accounts_flagged=found,
        recall=recall,
        networks_covered=covered,
        covered_share=ratio(covered, count),
        precision=ratio(found, found + false_flags) if count else None,
        within_a_day=NetworkWindow(
            accounts_flagged=int(np.count_nonzero(early)),
            recall=early_recall,
            networks_covered=early_covered,
            covered_share=ratio(early_covered, count),
        ),
    )


def network_report(
    f: Frame,
    account_labels: pa.Table,
    labels: Labels,
    detected: tuple[Action, ...],
    intercepted: tuple[Action, ...],
    scores: ScoreFlags | None = None,
) -> NetworkReport:
    """The networks of account_labels against the flags of both sets (and against a mule
    score's flags when `scores` is given)."""
    network, names = _networks(account_labels)
    count = len(names)
    return NetworkReport(
        planted=count,
        accounts=int(np.count_nonzero(network >= 0)),
        detected=_flags(f, labels, network, count, detected),
        intercepted=_flags(f, labels, network, count, intercepted),
        mule_score=None
        if scores is None
        else _scored(f, account_labels, labels, scores, (detected, intercepted)),
    )


@dataclass(frozen=True)
class ScoreFlags:
    """Accounts flagged by an accounts model's mule score, refreshed every `every_us` over the
    judged period (`fundwall.models.score_backtest` computes it; the figures are pure)."""

    model_version: str
    since_us: int
    """Start of the judged period."""
    every_us: int
    refreshes: int
    accounts: pa.Array
    """Account numbers scored at a refresh."""
    first_flagged: Mapping[Action, Ints]
    """Per flag set, keyed by its least action (alert, delay): per account, the first refresh
    whose action reached it or that found it in a detected network, NEVER if none did."""
    network: Mapping[Action, Ints]
    """Per flag set as above: per account, its detected network (-1: none)."""


@dataclass(frozen=True)
class _Planted:
    """The planted networks lined up with account_labels, for the mule-score figures."""

    network: Ints
    names: list[str]
    judged: Mask
    """Network accounts with a 跑分 transfer in or out in the judged period."""
    begins: Ints
    begun: Mask
    """Per network: its first payment is in the judged period."""
    deadline: Ints
    """Per account, a day after its network's first payment when the network began in the
    judged period, else -1."""
    first_day: Mask
    """Accounts of a begun network active within a day of its first payment."""
    ordinary: Mask
    labelled_in_scores: Ints
    """Per labelled account, its index into `ScoreFlags.accounts`, -1 if never scored."""


def _scored(
    f: Frame,
    account_labels: pa.Table,
    labels: Labels,
    scores: ScoreFlags,
    sets: tuple[tuple[Action, ...], tuple[Action, ...]],
) -> ScoredNetworks:
    detected, intercepted = sets
    network, names = _networks(account_labels)
    count = len(names)
    member = network >= 0
    judged = member & (first_of(f, labels.labelled, f.fraud) != NEVER)
    begins = _begins(network, labels, count)
    begun = (begins != NEVER) & (begins >= scores.since_us)
    deadline = np.append(np.where(begun, begins + WINDOW_US, -1), -1)[network]
    where = pc.index_in(account_labels.column("account_no"), value_set=scores.accounts)
    planted = _Planted(
        network=network,
        names=names,
        judged=judged,
        begins=begins,
        begun=begun,
        deadline=deadline,
        first_day=member & (labels.start <= deadline),
        ordinary=~member & ~labels.mule,
        labelled_in_scores=np.asarray(where.fill_null(-1).to_numpy(), np.int64),
    )
    judged_networks = np.bincount(network[judged], minlength=count) > 0
    return ScoredNetworks(
        model_version=scores.model_version,
        judged_from=_iso(scores.since_us),
        refresh_hours=scores.every_us / 3_600_000_000,
        refreshes=scores.refreshes,
        judged=int(np.count_nonzero(judged_networks)),
        begun=int(np.count_nonzero(begun & judged_networks)),
        detected=_scored_flags(planted, scores, detected),
        intercepted=_scored_flags(planted, scores, intercepted),
    )


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat()


def _window(share: npt.NDArray[np.float64], among: Mask) -> tuple[float | None, int]:
    """(mean share over the networks of `among`, networks of them covered)."""
    if not among.any():
        return None, 0
    return float(share[among].mean()), int(np.count_nonzero(share[among] >= COVERED))


def _scored_flags(
    p: _Planted, scores: ScoreFlags, actions: tuple[Action, ...]
) -> ScoredNetworkFlags:
    least = min(actions, key=lambda action: action.severity)
    count = len(p.names)
    found = p.labelled_in_scores >= 0
    first = np.full(p.network.size, NEVER, np.int64)
    first[found] = scores.first_flagged[least][p.labelled_in_scores[found]]
    flagged = first != NEVER
    member = p.network >= 0
    size = np.bincount(p.network[p.judged], minlength=count)
    hit = np.bincount(p.network[p.judged & flagged], minlength=count)
    judged_networks = size > 0
    recall, covered = _window(hit / np.maximum(size, 1), judged_networks)
    day_size = np.bincount(p.network[p.first_day], minlength=count)
    early = p.first_day & (first <= p.deadline)
    day_hit = np.bincount(p.network[early], minlength=count)
    day_networks = p.begun & judged_networks & (day_size > 0)
    day_recall, day_covered = _window(day_hit / np.maximum(day_size, 1), day_networks)
    flagged_members = int(np.count_nonzero(member & flagged))
    false_flags = int(np.count_nonzero(p.ordinary & flagged))
    detected, per_network = _detected(p, scores.network[least], found, size, hit, day_size, day_hit)
    return ScoredNetworkFlags(
        actions=tuple(a.value for a in actions),
        accounts_flagged=int(np.count_nonzero(p.judged & flagged)),
        recall=recall,
        networks_covered=covered,
        covered_share=ratio(covered, int(np.count_nonzero(judged_networks))),
        precision=ratio(flagged_members, flagged_members + false_flags) if count else None,
        ordinary_flagged=false_flags,
        within_a_day=NetworkWindow(
            accounts_flagged=int(np.count_nonzero(early)),
            recall=day_recall,
            networks_covered=day_covered,
            covered_share=ratio(day_covered, int(np.count_nonzero(day_networks))),
        ),
        networks=detected,
        per_network=per_network,
    )


def _detected(
    p: _Planted,
    group_of_scored: Ints,
    found: Mask,
    size: Ints,
    hit: Ints,
    day_size: Ints,
    day_hit: Ints,
) -> tuple[DetectedNetworks, tuple[PlantedNetwork, ...]]:
    """The detected networks (groups of flagged accounts) against the planted ones."""
    count = len(p.names)
    groups = int(group_of_scored.max(initial=-1)) + 1
    group_size = np.bincount(group_of_scored[group_of_scored >= 0], minlength=groups)
    group = np.full(p.network.size, -1, np.int64)
    group[found] = group_of_scored[p.labelled_in_scores[found]]
    grouped = (p.network >= 0) & (group >= 0)
    # Accounts of network n in group k: the matrix the matching and the shares read.
    inside = np.zeros((count, groups), np.int64)
    np.add.at(inside, (p.network[grouped], group[grouped]), 1)
    judged_inside = np.zeros((count, groups), np.int64)
    both = grouped & p.judged
    np.add.at(judged_inside, (p.network[both], group[both]), 1)
    matches = 2 * inside > group_size[None, :]
    judged_networks = size > 0
    largest = judged_inside.max(axis=1, initial=0) / np.maximum(size, 1)
    per_network = tuple(
        PlantedNetwork(
            network_id=p.names[n],
            begins=_iso(int(p.begins[n])) if p.begins[n] != NEVER else "",
            judged_accounts=int(size[n]),
            flagged=int(hit[n]),
            first_day_accounts=int(day_size[n]) if p.begun[n] else 0,
            first_day_flagged=int(day_hit[n]) if p.begun[n] else 0,
            detected_networks=int(np.count_nonzero(inside[n])),
            largest_share=float(largest[n]) if size[n] else None,
        )
        for n in range(count)
        if judged_networks[n]
    )
    network_accounts = int(np.count_nonzero(grouped))
    ordinary_accounts = int(np.count_nonzero(p.ordinary & (group >= 0)))
    return (
        DetectedNetworks(
            detected=groups,
            matching=int(np.count_nonzero(matches.any(axis=0))),
            planted_found=int(np.count_nonzero(matches.any(axis=1) & judged_networks)),
            largest_share=float(largest[judged_networks].mean()) if judged_networks.any() else None,
            network_accounts=network_accounts,
            ordinary_accounts=ordinary_accounts,
            precision=ratio(network_accounts, network_accounts + ordinary_accounts),
        ),
        per_network,
    )
