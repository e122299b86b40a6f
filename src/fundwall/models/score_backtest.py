"""An accounts model's mule score replayed over a judged period, refresh by refresh, as
production's refresh (`fundwall.models.scores`) would have scored it.

    flags = refreshed_flags(folder, model, since_us=cut, every_us=6 * US_PER_HOUR)
    result = backtest_region(folder, pack, since=cut_time, scores=flags)

From the start of the judged period (the model's training cut, or later) to just after the
last transaction, every `every_us`: each account's features as of that moment (the history
before it only; the risk seeds are the mules known at the start, never later ones), the
model's probability and its policy's action. At each refresh the accounts the score has
flagged so far are grouped into detected networks over the transfer graph up to that moment
(`fundwall.models.account_networks`), as the scorer groups them into cases, and a network
holds the relays and collectors that tie its flagged accounts. An account is flagged by a
flag set at the first refresh whose action reaches the set's least action, or that finds it
in a detected network: the refresh raises a case holding it then. The networks reported are
the last refresh's.

A refresh costs one computation of every account's features (about 3 s on the small
simulated region), so the cadence bounds the cost: every 6 hours over 9 days is 37 refreshes.
A flag is seen at the refresh after the behaviour that earns it, up to `every_us` later than
production's hourly refresh would see it: the figures "within a day" are a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow.compute as pc

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.accounts import NEVER
from fundwall.engine.backtest.networks import ScoreFlags
from fundwall.engine.models.artifact import Model, Target
from fundwall.models.account_features import AccountInputs, account_features
from fundwall.models.account_history import History, micros
from fundwall.models.account_networks import network_labels, passes_through
from fundwall.models.account_protocol import mules_before
from fundwall.models.graph import Adjacency
from fundwall.models.scores import model_matrix, probabilities_of
from fundwall.region import read_table

US_PER_HOUR: Final = 3_600_000_000
FLAG_SETS: Final = (Action.ALERT, Action.DELAY)
"""The least action of each flag set a backtest reports (detected, intercepted)."""
Progress = Callable[[int, int], None]


def _cut_of(model: Model) -> int:
    if model.card.target is not Target.ACCOUNTS:
        raise InvalidInput(
            f"model {model.version} scores {model.card.target.value}, not accounts", "model"
        )
    if model.card.until is None:
        raise InvalidInput(f"model {model.version} does not say when its training stopped", "model")
    return int(datetime.fromisoformat(model.card.until).timestamp() * 1_000_000)


def refreshed_flags(
    folder: Path,
    model: Model,
    *,
    since_us: int | None = None,
    every_us: int = 6 * US_PER_HOUR,
    progress: Progress | None = None,
) -> ScoreFlags:
    """The accounts `model` flags at refreshes every `every_us` from `since_us` (default: the
    model's training cut; never before it, which would judge it on its training period) to
    just after the region's last transaction."""
    cut = _cut_of(model)
    since = cut if since_us is None else since_us
    if since < cut:
        raise InvalidInput(
            f"the judged period must start at or after the model's training cut "
            f"({model.card.until}): the model has seen what comes before",
            "from",
        )
    if every_us <= 0:
        raise InvalidInput("the time between refreshes must be positive", "refresh_hours")
    inputs = AccountInputs.from_region(folder)
    seeds = mules_before(read_table(folder, "account_labels"), since)
    end = int(micros(inputs.transactions["ts"], "ts").max(initial=0)) + 1
    if since >= end:
        raise InvalidInput("no transaction at or after the start of the judged period", "from")
    moments = [*range(since, end, every_us), end]
    history = History.before(inputs.transactions, inputs.accounts, end)
    accounts = history.accounts
    scored = {action: np.full(len(accounts), NEVER, np.int64) for action in FLAG_SETS}
    first = {action: np.full(len(accounts), NEVER, np.int64) for action in FLAG_SETS}
    network = {action: np.full(len(accounts), -1, np.int64) for action in FLAG_SETS}
    for done, moment in enumerate(moments):
        features = account_features(inputs, until_us=moment, seeds=seeds)
        codes = model.card.policy.codes_for(probabilities_of(model, model_matrix(features, model)))
        rows = np.asarray(
            pc.index_in(features["account_no"], value_set=accounts).to_numpy(False), np.int64
        )
        passing = np.zeros(len(accounts), np.bool_)
        found = history.rows_of(passes_through(features))
        passing[found[found >= 0]] = True
        so_far = history.until(moment)
        graph = Adjacency.of(so_far)
        for action in FLAG_SETS:
            reached = rows[codes >= action.severity]
            scored[action][reached] = np.minimum(scored[action][reached], moment)
            # The networks the refresh's cases hold, anchored by the score's flags so far.
            network[action] = network_labels(so_far, scored[action] != NEVER, passing, graph)
            raised = (scored[action] != NEVER) | (network[action] >= 0)
            first[action][raised] = np.minimum(first[action][raised], moment)
        if progress is not None:
            progress(done + 1, len(moments))
    return ScoreFlags(
        model_version=model.version,
        since_us=since,
        every_us=every_us,
        refreshes=len(moments),
        accounts=accounts,
        first_flagged=first,
        network=network,
    )
