"""Transfer-graph features of accounts, as of a moment.

The transfer graph has one node per account of the history and one directed edge per payer →
payee pair that moved money before the moment, weighted by the amount moved. Per account:

- **reach**: distinct accounts reaching it within two hops (fan-in) and reached by it within
  two hops (fan-out); in- and out-degree centrality (distinct payers or payees over the other
  accounts); reciprocity (the share of its counterparties that both paid it and were paid);
- **cycles**: simple directed cycles of 3 to `MAX_CYCLE` accounts through it (money that comes
  back; 2-cycles are reciprocity) and the size of its strongly connected component;
- **communities**: connected components of the graph of accounts sharing an attribute —
  a holder, a phone, a device (opening, login or payment device), or a counterparty with few
  counterparties of its own — their size in accounts and in distinct holders;
- **risk from seeds** (accounts known to be fraudulent before the moment): personalised
  PageRank restarting at the seeds, along the money (downstream: the account received from
  them) and against it (upstream: it paid into them), each edge weighted by its share of the
  payer's outflow; and the share of seeds among its neighbours within one and within two hops;
- **counterparties' behaviour**: the mean and the largest of a few flow features (`BEHAVIOUR`)
  over its counterparties: how mule-like the accounts it deals with behave, known or not.

rustworkx computes the strongly connected components, the components of the shared-attribute
graph and PageRank: it is a Rust library with Python bindings, far faster than networkx's
pure Python on graphs of this size (PageRank over the small region's 400,000 edges takes a
tenth of a second), takes its edges as plain integer lists straight from
numpy arrays and is Apache-2.0 licensed (igraph's Python bindings are GPL). Counting bounded
cycles and two-hop reach, which it has no function for, are numba passes over the same
adjacency arrays.

Limits, each chosen so that a busy merchant does not dominate the graph:

- cycles are searched from each account only through accounts with fewer counterparties, at
  most `CYCLE_BUDGET` edge steps per starting account: cycles among ordinary accounts are all
  found, cycles through the busiest ones are counted as far as the budget reaches;
- a counterparty ties the accounts it deals with into one community only when it has at most
  `SHARED_COUNTERPARTY_MAX` counterparties (a mule fed by a few others, a landlord, a
  relative), never a shop or an employer that would merge a city into one component;
- PageRank is computed in `SEED_FOLDS` folds: an account's value comes from the seeds outside
  its own fold (a fixed hash of its number), so a seed's score never contains its own restart
  and a model trained where seeds are the positives does not learn the label back.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import rustworkx as rx
from numba import njit

from fundwall.models.account_history import F64, I64, History, Mask

MAX_CYCLE: Final = 6
CYCLE_BUDGET: Final = 20_000
SHARED_COUNTERPARTY_MAX: Final = 5
SEED_FOLDS: Final = 5
PAGERANK_ALPHA: Final = 0.85
"""The usual damping: a walk from a seed goes on for about 5–6 steps on average."""

GRAPH_FEATURES: Final = (
    "fan_in_2hop",
    "fan_out_2hop",
    "in_degree_centrality",
    "out_degree_centrality",
    "reciprocity",
    "on_cycle",
    "cycles",
    "scc_size",
    "community_size",
    "community_holders",
    "seed_rank_downstream",
    "seed_rank_upstream",
    "seed_share_1hop",
    "seed_share_2hop",
)
BEHAVIOUR: Final = (
    "small_amount_share",
    "busiest_day_share",
    "drained_1h_share",
    "new_payer_share",
    "busiest_day_events",
    "min_vs_median_amount",
)
"""Flow features summarised over each account's counterparties: how mule-like the accounts it
deals with behave, whether or not any of them is a known seed."""
COUNTERPARTY_FEATURES: Final = tuple(
    f"counterparty_{name}_{stat}" for name in BEHAVIOUR for stat in ("mean", "max")
)


@dataclass(frozen=True, eq=False)
class Adjacency:
    """The transfer graph as out- and in-adjacency arrays (CSR) over account rows."""

    n: int
    source: I64
    target: I64
    amount: F64
    out_start: I64
    out_node: I64
    in_start: I64
    in_node: I64

    @classmethod
    def of(cls, history: History) -> Adjacency:
        n = len(history)
        moved = (history.payer >= 0) & (history.payee >= 0) & (history.payer != history.payee)
        key = history.payer[moved] * n + history.payee[moved]
        pairs, which = np.unique(key, return_inverse=True)
        amount = np.bincount(which, weights=history.amount[moved], minlength=pairs.size)
        source, target = pairs // max(n, 1), pairs % max(n, 1)
        by_target = np.lexsort((source, target))
        return cls(
            n=n,
            source=source,
            target=target,
            amount=amount.astype(np.float64),
            out_start=_starts(source, n),
            out_node=target,
            in_start=_starts(target[by_target], n),
            in_node=source[by_target],
        )


def _starts(sorted_nodes: I64, n: int) -> I64:
    start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(sorted_nodes, minlength=n), out=start[1:])
    return start


@njit(cache=True)
def _count(w: int, v: int, stamp: I64, either: I64, seed: Mask, tally: I64) -> None:
    """Count `w` once as reached from `v` this way (tally[0]) and either way (tally[1], seeds
    among those in tally[2])."""
    if stamp[w] != v:
        stamp[w] = v
        tally[0] += 1
        if either[w] != v:
            either[w] = v
            tally[1] += 1
            tally[2] += seed[w]


@njit(cache=True)
def _two_hops(
    start: I64, node: I64, v: int, stamp: I64, either: I64, seed: Mask, tally: I64
) -> None:
    for i in range(start[v], start[v + 1]):
        u = node[i]
        _count(u, v, stamp, either, seed, tally)
        for j in range(start[u], start[u + 1]):
            _count(node[j], v, stamp, either, seed, tally)


@njit(cache=True)
def _reach(
    out_start: I64, out_node: I64, in_start: I64, in_node: I64, seed: Mask, result: F64
) -> None:
    """Per node, in `result`'s rows: fan-in and fan-out within two hops, counterparties,
    counterparties both paying and paid, seeds among the counterparties, accounts and seeds
    within two hops either way. The node itself is never counted."""
    n = out_start.size - 1
    down = np.full(n, -1, np.int64)
    up = np.full(n, -1, np.int64)
    either = np.full(n, -1, np.int64)
    payee = np.full(n, -1, np.int64)
    tally = np.zeros(3, np.int64)
    for v in range(n):
        down[v] = up[v] = either[v] = v
        tally[:] = 0
        _two_hops(out_start, out_node, v, down, either, seed, tally)
        fan_out = tally[0]
        tally[0] = 0
        _two_hops(in_start, in_node, v, up, either, seed, tally)
        neighbours = out_start[v + 1] - out_start[v]
        mutual = seeds_one = 0
        for i in range(out_start[v], out_start[v + 1]):
            payee[out_node[i]] = v
            seeds_one += seed[out_node[i]]
        for i in range(in_start[v], in_start[v + 1]):
            u = in_node[i]
            if payee[u] == v:
                mutual += 1
            else:
                neighbours += 1
                seeds_one += seed[u]
        result[0, v] = tally[0]
        result[1, v] = fan_out
        result[2, v] = neighbours
        result[3, v] = mutual
        result[4, v] = seeds_one
        result[5, v] = tally[1]
        result[6, v] = tally[2]


@njit(cache=True)
def _cycles(start: I64, node: I64, order: I64, max_length: int, budget: int) -> I64:
    """Simple directed cycles of 3..max_length nodes through each node.

    Each cycle is found once, from its member that comes first in `order` (the busiest), by a
    depth-first search that only enters nodes later in `order`; a search stops after `budget`
    edge steps."""
    n = start.size - 1
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    found = np.zeros(n, np.int64)
    path = np.empty(max_length, np.int64)
    cursor = np.empty(max_length, np.int64)
    on_path = np.zeros(n, np.bool_)
    for first in range(n):
        s = order[first]
        path[0], cursor[0], on_path[s] = s, start[s], True
        depth, steps = 0, 0
        while depth >= 0:
            v = path[depth]
            if cursor[depth] < start[v + 1] and steps < budget:
                w = node[cursor[depth]]
                cursor[depth] += 1
                steps += 1
                if w == s:
                    if depth >= 2:
                        for k in range(depth + 1):
                            found[path[k]] += 1
                elif rank[w] > first and not on_path[w] and depth + 1 < max_length:
                    depth += 1
                    path[depth], cursor[depth], on_path[w] = w, start[w], True
            else:
                on_path[v] = False
                depth -= 1
    return found


def _seed_rank(adjacency: Adjacency, fold: I64, seed: Mask, *, upstream: bool) -> F64:
    """Personalised PageRank from the seeds outside each account's fold, times the number of
    accounts (1 is the level of a walk that restarts anywhere); NaN where no seed is outside
    the fold."""
    graph: rx.PyDiGraph[None, float] = rx.PyDiGraph()
    graph.add_nodes_from([None] * adjacency.n)
    ends = (
        (adjacency.target, adjacency.source) if upstream else (adjacency.source, adjacency.target)
    )
    graph.extend_from_weighted_edge_list(
        list(zip(ends[0].tolist(), ends[1].tolist(), adjacency.amount.tolist(), strict=True))
    )
    rank = np.full(adjacency.n, np.nan)
    for k in range(SEED_FOLDS):
        restart = np.flatnonzero(seed & (fold != k))
        mine = fold == k
        if restart.size == 0 or not mine.any():
            continue
        values = rx.pagerank(
            graph,
            alpha=PAGERANK_ALPHA,
            weight_fn=float,
            personalization=dict.fromkeys(restart.tolist(), 1.0),
        )
        full = np.zeros(adjacency.n)
        full[np.fromiter(values.keys(), np.int64)] = np.fromiter(values.values(), np.float64)
        rank[mine] = full[mine] * adjacency.n
    return rank


def seed_folds(history: History) -> I64:
    """Each account's fold: a fixed hash of its number, the same at every moment."""
    return np.asarray(
        [zlib.crc32(number.encode()) % SEED_FOLDS for number in history.accounts.to_pylist()],
        np.int64,
    )


def _communities(n: int, members: I64, attributes: I64, holder: I64) -> tuple[F64, F64]:
    """Size in accounts and in distinct holders of each account's component of the graph of
    accounts joined through shared attributes (attribute codes are ≥ 0)."""
    graph: rx.PyGraph[None, None] = rx.PyGraph()
    n_attributes = int(attributes.max(initial=-1)) + 1
    graph.add_nodes_from([None] * (n + n_attributes))
    graph.extend_from_edge_list(list(zip(members.tolist(), (attributes + n).tolist(), strict=True)))
    label = np.full(n + n_attributes, -1, np.int64)
    for number, component in enumerate(rx.connected_components(graph)):
        if len(component) > 1:
            label[list(component)] = number
    label = label[:n]
    # An account alone in its component, or without a known holder, counts as its own holder.
    label = np.where(label >= 0, label, label.max(initial=0) + 1 + np.arange(n))
    size = np.bincount(label)[label].astype(np.float64)
    own = np.where(holder >= 0, holder, holder.max(initial=-1) + 1 + np.arange(n))
    pairs = np.unique(np.stack([label, own]), axis=1)
    holders = np.bincount(pairs[0], minlength=label.max() + 1)[label].astype(np.float64)
    return size, holders


@njit(cache=True)
def _over_counterparties(
    out_start: I64, out_node: I64, in_start: I64, in_node: I64, values: F64, result: F64
) -> None:
    """Mean and largest known value (`result` rows 0, 1) over each node's distinct
    counterparties; NaN where none has a value."""
    n = out_start.size - 1
    seen = np.full(n, -1, np.int64)
    for v in range(n):
        total, count, largest = 0.0, 0, -np.inf
        for start, node in ((out_start, out_node), (in_start, in_node)):
            for i in range(start[v], start[v + 1]):
                u = node[i]
                if seen[u] == v or np.isnan(values[u]):
                    continue
                seen[u] = v
                total += values[u]
                count += 1
                largest = max(largest, values[u])
        if count:
            result[0, v] = total / count
            result[1, v] = largest


def graph_features(
    history: History,
    seed: Mask,
    members: I64,
    attributes: I64,
    holder: I64,
    behaviour: dict[str, F64],
) -> dict[str, F64]:
    """Every graph feature per history row.

    `seed` marks the seed rows; (`members`, `attributes`) pair account rows with codes of the
    attributes they share beyond counterparties (holder, phone, devices); `holder` is each
    row's party code (-1 unknown); `behaviour` holds the flow features named in BEHAVIOUR."""
    adjacency = Adjacency.of(history)
    n = adjacency.n
    reach = np.zeros((7, n))
    _reach(
        adjacency.out_start, adjacency.out_node, adjacency.in_start, adjacency.in_node, seed, reach
    )
    fan_in, fan_out, neighbours, mutual, seeds_one, within_two, seeds_two = reach
    out_degree = np.diff(adjacency.out_start).astype(np.float64)
    in_degree = np.diff(adjacency.in_start).astype(np.float64)
    busiest = np.lexsort((np.arange(n), -(out_degree + in_degree)))
    cycles = _cycles(adjacency.out_start, adjacency.out_node, busiest, MAX_CYCLE, CYCLE_BUDGET)
    scc = np.ones(n)
    graph: rx.PyDiGraph[None, None] = rx.PyDiGraph()
    graph.add_nodes_from([None] * n)
    graph.extend_from_edge_list(
        list(zip(adjacency.source.tolist(), adjacency.target.tolist(), strict=True))
    )
    for component in rx.strongly_connected_components(graph):
        scc[component] = len(component)
    cp_members, cp_attributes = _shared_counterparties(adjacency, neighbours)
    offset = int(attributes.max(initial=-1)) + 1
    size, holders = _communities(
        n,
        np.concatenate([members, cp_members]),
        np.concatenate([attributes, cp_attributes + offset]),
        holder,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {
            "fan_in_2hop": fan_in,
            "fan_out_2hop": fan_out,
            "in_degree_centrality": in_degree / max(n - 1, 1),
            "out_degree_centrality": out_degree / max(n - 1, 1),
            "reciprocity": np.where(neighbours > 0, mutual / neighbours, np.nan),
            "on_cycle": (cycles > 0).astype(np.float64),
            "cycles": cycles.astype(np.float64),
            "scc_size": scc,
            "community_size": size,
            "community_holders": holders,
            "seed_share_1hop": np.where(neighbours > 0, seeds_one / neighbours, np.nan),
            "seed_share_2hop": np.where(within_two > 0, seeds_two / within_two, np.nan),
        }
    known_seeds = seed.any()
    fold = seed_folds(history)
    for name, upstream in (("seed_rank_downstream", False), ("seed_rank_upstream", True)):
        values[name] = (
            _seed_rank(adjacency, fold, seed, upstream=upstream)
            if known_seeds
            else np.full(n, np.nan)
        )
    if not known_seeds:
        values["seed_share_1hop"] = values["seed_share_2hop"] = np.full(n, np.nan)
    for name in BEHAVIOUR:
        summary = np.full((2, n), np.nan)
        _over_counterparties(
            adjacency.out_start,
            adjacency.out_node,
            adjacency.in_start,
            adjacency.in_node,
            np.asarray(behaviour[name], np.float64),
            summary,
        )
        values[f"counterparty_{name}_mean"], values[f"counterparty_{name}_max"] = summary
    return {name: values[name] for name in (*GRAPH_FEATURES, *COUNTERPARTY_FEATURES)}


def _shared_counterparties(adjacency: Adjacency, neighbours: F64) -> tuple[I64, I64]:
    """(account, counterparty) pairs through counterparties with at most
    SHARED_COUNTERPARTY_MAX counterparties of their own."""
    account = np.concatenate([adjacency.source, adjacency.target])
    counterparty = np.concatenate([adjacency.target, adjacency.source])
    small = neighbours[counterparty] <= SHARED_COUNTERPARTY_MAX
    return account[small], counterparty[small]
