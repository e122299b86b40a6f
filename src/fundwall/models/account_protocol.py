"""The time-split protocol's pieces for account (mule) models: where a region's time is cut,
which mules are known at a moment, which accounts are active after it, and the training set
at a cut — all that training (`fundwall.models.training`) and its evaluation
(`fundwall.models.account_evaluation`) read, so nothing after the cut leaks into either.

On a region whose labels say when each mule's fraud started (`mule_since`), a model trained
at a cut sees as positives (and as the risk seeds) only the mules whose fraud started before
it; it is judged on the accounts active at or after the cut, over the whole history with the
same seeds, against `is_mule`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.models.account_features import AccountInputs, account_features
from fundwall.models.account_history import micros

EARLY_DAYS: Final = 10
"""Days whose starting mules training sees as they were before their fraud (`early_views`):
each day costs one computation of every account's features."""
_DAY_US: Final = 86_400_000_000


def cut_at(transactions: pa.Table, share: float) -> int:
    """The moment `share` of the way from the first to the last transaction, µs."""
    ts = micros(transactions["ts"], "ts")
    return int(ts.min() + share * (ts.max() - ts.min()))


def mules_before(labels: pa.Table, moment: int) -> set[str]:
    """Accounts labelled mules whose fraud started before `moment` (known at that moment).

    A mule label without a start (`mule_since` null: a public data set's flag on the account,
    e.g. AMLSim's `isSAR` on an account no dated laundering touches) is the account's for the
    whole period, so it is known at any moment: the data says the account is fraudulent and
    gives no time at which it became so. docs/models.md gives the figures of the stricter
    reading as well."""
    since = labels["mule_since"]
    started = pc.fill_null(pc.less(since.cast(pa.int64()), moment), True)
    known = pc.and_(pc.fill_null(labels["is_mule"], False), started)
    return set(labels["account_no"].filter(known).to_pylist())


def active_from(transactions: pa.Table, moment: int) -> set[str]:
    """Accounts paying or paid at or after `moment`."""
    later = transactions.filter(pa.array(micros(transactions["ts"], "ts") >= moment))
    ends = pa.chunked_array(
        [*later["payer_account"].chunks, *later["payee_account"].chunks], pa.string()
    )
    return set(pc.unique(ends.drop_null()).to_pylist())


def is_in(accounts: pa.Array | pa.ChunkedArray, names: set[str]) -> npt.NDArray[np.bool_]:
    found = pc.is_in(accounts, value_set=pa.array(sorted(names), pa.string()))
    return np.asarray(found.to_numpy(zero_copy_only=False), np.bool_)


def training_set(
    inputs: AccountInputs, labels: pa.Table, cut: int
) -> tuple[pa.Table, npt.NDArray[np.bool_]]:
    """Every account at the cut, positive when its fraud started before it; those mules are
    the seeds, so nothing after the cut is read."""
    seeds = mules_before(labels, cut)
    features = account_features(inputs, until_us=cut, seeds=seeds)
    return features, is_in(features["account_no"], seeds)


def early_views(
    inputs: AccountInputs, labels: pa.Table, moment: int, days: int = EARLY_DAYS
) -> tuple[pa.Table, npt.NDArray[np.bool_]] | None:
    """Mules known at `moment` as they stood at the start of the day their fraud started,
    before any of its money moved: all positives. None on a region without logins.

    A mule seen only once its fraud flows teaches a model the flows; a sold account (断卡)
    shows its takeover — the buyer's logins from a new device or city, failed face checks —
    hours before the first fraud inflow, and these rows teach that moment. Without logins an
    account's early view looks like any account's, so there is nothing to teach. The days are
    the `days` on which the most known mules started (each costs one pass over the features).
    """
    if inputs.logins is None:
        return None
    dated = labels.filter(
        pc.and_(pc.fill_null(labels["is_mule"], False), labels["mule_since"].is_valid())
    )
    since = micros(dated["mule_since"], "mule_since")
    starting: dict[int, set[str]] = {}
    for account, started in zip(dated["account_no"].to_pylist(), since.tolist(), strict=True):
        if started < moment:
            starting.setdefault(started // _DAY_US, set()).add(account)
    busiest = sorted(starting, key=lambda day: (-len(starting[day]), day))[:days]
    if not busiest:
        return None
    views = []
    for day in sorted(busiest):
        start = day * _DAY_US
        features = account_features(inputs, until_us=start, seeds=mules_before(labels, start))
        views.append(features.filter(pa.array(is_in(features["account_no"], starting[day]))))
    table = pa.concat_tables(views)
    return table, np.ones(table.num_rows, np.bool_)


def mules_of(labels: pa.Table) -> set[str]:
    return set(labels["account_no"].filter(pc.fill_null(labels["is_mule"], False)).to_pylist())
