"""Network-level figures: how much of each 跑分 network the flags single out.

A network (account_labels.network_id) is its collection accounts and collectors. It is worked
as one case, so what counts is the share of its accounts flagged, not the number of accounts
flagged over all networks: a network of forty accounts found at one weighs no more than a
network of ten found at one. docs/backtest.md defines each figure.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.accounts import NEVER, Labels, first_flagged
from fundwall.engine.backtest.frame import Frame
from fundwall.engine.backtest.result import NetworkFlags, NetworkReport, NetworkWindow, ratio

COVERED: Final = 0.9
"""A network is covered when at least this share of its accounts is flagged: enough to see
it as a network and work it as one case."""
WINDOW_US: Final = 24 * 3_600_000_000
"""`within_a_day`: flags at most this long after the network's first payment."""

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def _networks(account_labels: pa.Table) -> tuple[Ints, int]:
    """Per labelled account its network number (-1: none), and the number of networks."""
    if "network_id" not in account_labels.column_names:
        raise InvalidInput("account_labels lack the column network_id", "account_labels")
    encoded = account_labels.column("network_id").combine_chunks().dictionary_encode()
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(), np.int64)
    return codes, len(encoded.dictionary)


def _coverage(network: Ints, flagged: Mask, count: int) -> tuple[float | None, int]:
    """(mean share of each network's accounts flagged, networks covered)."""
    if count == 0:
        return None, 0
    member = network >= 0
    size = np.bincount(network[member], minlength=count)
    hit = np.bincount(network[member & flagged], minlength=count)
    share = hit / size
    return float(share.mean()), int(np.count_nonzero(share >= COVERED))


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
    # A network begins with its first payment: the earliest first activity of its accounts.
    begins = np.full(count, NEVER, np.int64)
    np.minimum.at(begins, network[member], labels.start[member])
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
) -> NetworkReport:
    """The networks of account_labels against the flags of both sets."""
    network, count = _networks(account_labels)
    return NetworkReport(
        planted=count,
        accounts=int(np.count_nonzero(network >= 0)),
        detected=_flags(f, labels, network, count, detected),
        intercepted=_flags(f, labels, network, count, intercepted),
    )
