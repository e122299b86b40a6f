"""What a backtest reports, as frozen dataclasses that turn into one JSON object.

Every key is always present; a figure whose denominator is zero (a role the region does not
have, a region without victims) is None, printed as "not available". docs/backtest.md
documents each key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

FORMAT: Final = "fundwall-backtest/1"
COMPARISON_FORMAT: Final = "fundwall-backtest-comparison/1"
SAVED_AT: Final = "saved_at"
"""The key a stored result adds (`fundwall.engine.backtest.storage`): when it was saved."""


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Region:
    """The region folder the decisions were replayed on."""

    name: str
    source: str | None
    """`sim`, `amlsim`, `paysim` from the folder's manifest; None when it does not say."""


@dataclass(frozen=True)
class TransactionCounts:
    total: int
    decided: int
    """Transactions with a decision; the others count as passed and unscored."""
    fraud: int
    """Transactions whose role is not `normal`."""
    fraud_amount_fen: int


@dataclass(frozen=True)
class ActionCount:
    count: int
    rate: float | None
    """Share of the decided transactions."""
    amount_fen: int


@dataclass(frozen=True)
class ScoreRanking:
    pr_auc: float | None
    """Average precision of the transaction score against "role is not normal"."""
    prevalence: float | None
    """Share of fraud transactions: the average precision of a random score."""


@dataclass(frozen=True)
class Detection:
    """Flagged transactions against one class of fraud transactions, by count and by amount."""

    positives: int
    positives_amount_fen: int
    flagged: int
    flagged_amount_fen: int
    hits: int
    """Flagged transactions of the class."""
    hits_amount_fen: int
    precision: float | None
    """hits / flagged: the share of all flags that fell on this class."""
    recall: float | None
    """hits / positives."""
    precision_by_amount: float | None
    recall_by_amount: float | None


@dataclass(frozen=True)
class FlagReport:
    """Detection for one set of actions, for all fraud and for each role."""

    actions: tuple[str, ...]
    fraud: Detection
    victim_payment: Detection
    layering: Detection
    cash_out: Detection
    collection: Detection
    forwarding: Detection


@dataclass(frozen=True)
class VictimMoney:
    """How much of the victims' money an intercepting action (delay, block) would have held."""

    scams: int
    """Scams with at least one victim payment."""
    loss_fen: int
    first_hop_fen: int
    """Victim payments intercepted themselves."""
    first_hop_share: float | None
    chain_fen: int
    """Per scam: intercepted transfers of its money anywhere, capped at its loss; summed."""
    chain_share: float | None
    scams_stopped_first_hop: int
    scams_stopped_in_chain: int


@dataclass(frozen=True)
class MinutesToFlag:
    """Minutes from a mule's first mule activity to its first flagged transfer."""

    mules: int
    """Flagged mules whose first mule activity is known."""
    median: float | None
    p90: float | None
    flagged_before_start: int
    """Of those, mules flagged before their first mule activity (counted as 0 minutes)."""


@dataclass(frozen=True)
class AccountFlags:
    """Accounts with a flagged transfer in or out, against the mule labels."""

    actions: tuple[str, ...]
    flagged: int
    flagged_mules: int
    precision: float | None
    recall: float | None
    minutes_to_flag: MinutesToFlag


@dataclass(frozen=True)
class AccountReport:
    labelled: int
    """Accounts in account_labels."""
    active: int
    """Labelled accounts with at least one decided transfer in or out."""
    unlabelled_seen: int
    """Accounts that transact but have no label (e.g. payees at banks outside the region)."""
    mules: int
    prevalence: float | None
    pr_auc: float | None
    """Average precision of the account score (highest score of its transfers) against is_mule."""
    detected: AccountFlags
    intercepted: AccountFlags


@dataclass(frozen=True)
class NetworkWindow:
    """The network figures counting only flags at most a day after a network's first payment."""

    accounts_flagged: int
    recall: float | None
    networks_covered: int
    covered_share: float | None


@dataclass(frozen=True)
class NetworkFlags:
    """Network accounts (collection accounts and collectors) with a flagged transfer."""

    actions: tuple[str, ...]
    accounts_flagged: int
    recall: float | None
    """Mean over networks of the share of the network's accounts flagged."""
    networks_covered: int
    """Networks with at least 90% of their accounts flagged."""
    covered_share: float | None
    precision: float | None
    """Flagged network accounts / flagged accounts that are network or ordinary accounts
    (mules of the scams are neither for nor against)."""
    within_a_day: NetworkWindow


@dataclass(frozen=True)
class PlantedNetwork:
    """One planted network against the accounts a mule score flagged."""

    network_id: str
    begins: str
    """Its first payment (ISO 8601, UTC)."""
    judged_accounts: int
    """Its accounts with a 跑分 transfer in or out in the judged period."""
    flagged: int
    """Of those, flagged at a refresh of the judged period."""
    first_day_accounts: int
    """Its accounts whose first 跑分 transfer is within a day of its first payment (0 when
    it began before the judged period: its first day is not judged)."""
    first_day_flagged: int
    """Of those, flagged at most a day after its first payment."""
    detected_networks: int
    """Detected networks holding at least one of its accounts."""
    largest_share: float | None
    """Share of its judged accounts in the detected network holding most of them: how much of
    it one case sees."""


@dataclass(frozen=True)
class DetectedNetworks:
    """Flagged accounts grouped over the whole transfer graph, against the planted networks."""

    detected: int
    """Groups of two or more flagged accounts joined by money."""
    matching: int
    """Detected networks more than half of whose accounts belong to one planted network."""
    planted_found: int
    """Judged planted networks that at least one detected network matches."""
    largest_share: float | None
    """Mean over judged planted networks of `PlantedNetwork.largest_share`."""
    network_accounts: int
    """Accounts of planted networks inside a detected network."""
    ordinary_accounts: int
    """Ordinary accounts (neither a network's nor a mule) inside a detected network."""
    precision: float | None
    """network_accounts / (network_accounts + ordinary_accounts): how much of what the
    detected networks put before an analyst is a network (scam mules, fraud too, left out)."""


@dataclass(frozen=True)
class ScoredNetworkFlags:
    """Network accounts flagged by the mule score (an action of the set at a refresh)."""

    actions: tuple[str, ...]
    accounts_flagged: int
    """Judged network accounts flagged."""
    recall: float | None
    """Mean over judged networks of the share of their judged accounts flagged."""
    networks_covered: int
    """Judged networks with at least 90% of their judged accounts flagged."""
    covered_share: float | None
    precision: float | None
    """Flagged network accounts / flagged network or ordinary accounts (scam mules are
    neither for nor against)."""
    ordinary_flagged: int
    within_a_day: NetworkWindow
    """Over the networks that begin in the judged period: of their accounts active in their
    first day, those flagged by the end of it."""
    networks: DetectedNetworks
    per_network: tuple[PlantedNetwork, ...]


@dataclass(frozen=True)
class ScoredNetworks:
    """跑分 networks against an accounts model's mule score, refreshed over the judged period
    as production refreshes it."""

    model_version: str
    judged_from: str
    """Start of the judged period (ISO 8601, UTC): the model's training cut or later."""
    refresh_hours: float
    refreshes: int
    judged: int
    """Planted networks with an account judged (a 跑分 transfer in the judged period)."""
    begun: int
    """Of those, networks whose first payment is in the judged period."""
    detected: ScoredNetworkFlags
    intercepted: ScoredNetworkFlags


@dataclass(frozen=True)
class NetworkReport:
    """跑分 networks (account_labels.network_id): found as wholes, not account by account."""

    planted: int
    accounts: int
    """Accounts of a network: its collection accounts and collectors."""
    detected: NetworkFlags
    intercepted: NetworkFlags
    mule_score: ScoredNetworks | None = None
    """The networks against an accounts model's refreshed mule score (`--account-model`);
    None without one."""


@dataclass(frozen=True)
class Backtest:
    """One rule pack's decisions on one region, scored against the region's labels."""

    region: Region
    pack_version: str | None
    model_version: str | None
    transactions: TransactionCounts
    actions: Mapping[str, ActionCount]
    """pass, alert, warn, delay, block: always all five, in that order."""
    score: ScoreRanking
    detected: FlagReport
    intercepted: FlagReport
    victim_money: VictimMoney
    accounts: AccountReport
    networks: NetworkReport

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: `format` first, then the fields in declaration order."""
        body = asdict(self)
        body["actions"] = {name: asdict(count) for name, count in self.actions.items()}
        return {"format": FORMAT, **_lists(body)}


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    return value


def leaves(body: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every value that is not an object, in key order."""
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from leaves(value, f"{path}.")
        else:
            yield path, value


_TEXT_PATHS: Final = frozenset(
    {
        "format",
        "region.name",
        "region.source",
        "pack_version",
        "model_version",
        "networks.mule_score.model_version",
        "networks.mule_score.judged_from",
        SAVED_AT,
    }
)
"""Leaves that are not figures: names, and the stored result's time stamp."""


_LISTS: Final = (".actions", ".per_network")
"""Leaves that are lists (names, one entry per planted network): shown, not compared."""


def _compared(path: str) -> bool:
    # Decided by the path, not the value, so the keys of `difference` never depend on data.
    return path not in _TEXT_PATHS and not path.endswith(_LISTS)


def figures(body: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of a result (every number, None where not available) by dotted path;
    a stored result (with `saved_at`) has the same figures as the result itself."""
    return {path: value for path, value in leaves(body) if _compared(path)}


def difference(base: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """other − base for every figure (None when either side is not available)."""
    theirs = figures(other)
    result: dict[str, Any] = {}
    for path, mine in figures(base).items():
        their = theirs.get(path)
        result[path] = None if mine is None or their is None else their - mine
    return result


def compare(base: Backtest, other: Backtest) -> dict[str, Any]:
    """Two packs on the same region, side by side: both results and their difference."""
    mine, theirs = base.to_dict(), other.to_dict()
    return {
        "format": COMPARISON_FORMAT,
        "base": mine,
        "other": theirs,
        "difference": difference(mine, theirs),
    }
