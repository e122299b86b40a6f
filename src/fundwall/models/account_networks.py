"""Detected networks: the accounts a mule score flags, with the relays and collectors that tie
them, grouped over the whole transfer graph.

A 跑分 network rents collection accounts at many banks, each forwarding to one of a few
collectors; a case per flagged account, or per member's connected accounts, splits it into
as many cases as it has banks. Here an account that passes money through — an inflow is
usually followed by an outflow within the hour, and it sends on about what it receives, at
least half and at most twice, over its history or its last day (`passes_through`) — is
tied to each account it pays that

- received from it at least what it sends its average payee, and
- received most of its money from flagged relays (flagged accounts that pass money through),
  over its whole history or over the history's last day.

A detected network is a group of accounts so tied that holds two or more flagged accounts;
the accounts of the group the score missed belong to it when they pay a tied payee, or are
paid by two or more tied payers: a network's new collection account, paying the collector
the flagged ones pay, or a collector fed by them, is part of the network's case the day it
starts, before its own score says so; the staff a flagged business pays are not.

Why these tests, each relative to the accounts' own money rather than a number fitted to a
region:

- the payer passes money through: a collection account forwards each stake within minutes,
  to its own collector and now and then to the network's others, which ties the whole
  network together. A gambler, a victim or a customer pays from their own money, so one
  flagged by mistake ties nothing, however many networks it paid; nor does an employer or a
  wholesaler paying out of its own balance, which sends far more than it receives (with its
  thousands of payees, each supplier paid more than the average payee would look tied); and
  a collector, which gathers money for hours before paying it out, does not tie the networks
  that share its exchange (money ends somewhere, and the place it ends may serve several
  operators);
- the payment is substantial for the payer: a collection account's holder still buys things
  with it, and a shop it pays may be another network's collector (a complicit merchant);
- the payee is mostly fed by flagged relays: a shop or an employer, whose money comes
  mostly from ordinary customers, never ties the few flagged ones that pay it; nor does a
  business paid by flagged customers that keep their money (a score's mistakes, which pile
  up over a period of refreshes), nor an ordinary account that passes its pay on to its
  family. The last day counts on its own because a network often collects into an account
  with a long ordinary past (a rented business account): on the network's first day its
  money is the relays', while over its history the ordinary past still outweighs it;
- two flagged accounts anchor a group: relays and collectors the score has not flagged are
  drawn in only by their money ties to flagged ones, never make a network by themselves.

The graph is every member's transfers, so a network reaching across banks is found as one;
what each member may see of it is the cases' business (`fundwall.cases.scoring`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import rustworkx as rx

from fundwall.engine.features.catalog import US_PER_DAY, US_PER_MIN
from fundwall.models.account_flows import DRAIN_US
from fundwall.models.account_history import F64, I64, History, Mask
from fundwall.models.graph import Adjacency

PASSING_MINUTES: Final = DRAIN_US / US_PER_MIN
"""An account passes money through when its inflows are followed by an outflow within this
long (the median): the hour the flow features call "drained"."""
SAME_ORDER: Final = 2.0
"""An account passing money through sends on at most this many times what it received: an
employer paying its staff out of its own balance sends far more, and its payroll is no
network's collectors."""
LAST_DAY_US: Final = US_PER_DAY
"""The history's last day, over which a payee may be fed by flagged relays on its own."""


def _fed(history: History, graph: Adjacency, relays: Mask) -> Mask:
    """Accounts that received most of their money from `relays`, over the whole history or
    over its last day."""
    n = graph.n
    source, target, amount = graph.source, graph.target, graph.amount
    money_in = np.bincount(target, weights=amount, minlength=n)
    from_relays = np.bincount(target, weights=amount * relays[source], minlength=n)
    end = min(history.moment, int(history.ts[-1]) + 1) if history.ts.size else history.moment
    lately = (history.ts >= end - LAST_DAY_US) & (history.payer >= 0) & (history.payee >= 0)
    payer, payee = history.payer[lately], history.payee[lately]
    amount_lately: F64 = history.amount[lately].astype(np.float64)
    day_in = np.bincount(payee, weights=amount_lately, minlength=n)
    day_from_relays = np.bincount(payee, weights=amount_lately * relays[payer], minlength=n)
    return (2 * from_relays > money_in) | (2 * day_from_relays > day_in)


def network_labels(
    history: History, flagged: Mask, passing: Mask, graph: Adjacency | None = None
) -> I64:
    """Per account row of `history`, the number of its detected network (0, 1, …, in the
    order of the network's first account row), -1 for an account in none. `passing`: the
    accounts that pass money through (`passes_through`); `graph`: `Adjacency.of(history)`,
    when the caller groups several flag sets over one history."""
    graph = graph or Adjacency.of(history)
    n = graph.n
    source, target, amount = graph.source, graph.target, graph.amount
    money_out = np.bincount(source, weights=amount, minlength=n)
    payees = np.bincount(source, minlength=n)
    # At least what the payer sends its average payee: a collection account's collector, not
    # the shop it buys a snack at (which may be another network's collector).
    substantial = amount * payees[source] >= money_out[source]
    joined = passing[source] & substantial & _fed(history, graph, flagged & passing)[target]
    links: rx.PyGraph[None, None] = rx.PyGraph()
    links.add_nodes_from([None] * n)
    edges = zip(source[joined].tolist(), target[joined].tolist(), strict=True)
    links.extend_from_edge_list(list(edges))
    # Of the accounts the score missed, a group holds those that pay a tied payee and the
    # payees two or more tied payers feed (a collector), not the payees of one payer alone
    # (a flagged business's payroll).
    tied_payers = np.bincount(target[joined], minlength=n)
    held = flagged | (np.bincount(source[joined], minlength=n) > 0) | (tied_payers > 1)
    label = np.full(n, -1, np.int64)
    groups = []
    for component in rx.connected_components(links):
        rows = np.fromiter(component, np.int64)
        if np.count_nonzero(flagged[rows]) > 1:
            groups.append(sorted(rows[held[rows]].tolist()))
    for number, members in enumerate(sorted(groups)):
        label[members] = number
    return label


def passes_through(features: pa.Table) -> pa.Array:
    """The account numbers of an `account_features` table that pass money through: half an
    inflow's next outflow follows within the hour (`pass_through_minutes_median`), and they
    send on about what they receive, at least half of it and at most twice, over their whole
    history (`out_in_ratio`) or over its last day (`out_in_ratio_1d`: a rented account whose
    holder spent their own money before). Unknown: they do not."""
    quick = pc.less_equal(features["pass_through_minutes_median"], PASSING_MINUTES)
    onward = pc.or_kleene(
        _same_order(features["out_in_ratio"]), _same_order(features["out_in_ratio_1d"])
    )
    passing = pc.fill_null(pc.and_kleene(quick, onward), False)
    return features["account_no"].filter(passing).combine_chunks()


def _same_order(ratio: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.and_(pc.greater_equal(ratio, 0.5), pc.less_equal(ratio, SAME_ORDER))


def flagged_networks(
    transactions: pa.Table, flagged: Collection[str], passing: pa.Array
) -> list[set[str]]:
    """The detected networks of the `flagged` account numbers over every transaction of the
    table: each two or more flagged accounts with the accounts that tie them, in the order of
    their smallest account number; `passing` as `passes_through` gives it."""
    history = History.before(transactions, None, np.iinfo(np.int64).max)
    label = network_labels(
        history,
        _mask(history, pa.array(sorted(flagged), pa.string())),
        _mask(history, passing),
    )
    numbers = history.accounts.to_pylist()
    groups: list[set[str]] = [set() for _ in range(int(label.max(initial=-1)) + 1)]
    for row in np.flatnonzero(label >= 0).tolist():
        groups[label[row]].add(numbers[row])
    return groups


def _mask(history: History, accounts: pa.Array) -> Mask:
    rows = history.rows_of(accounts)
    mask = np.zeros(len(history), np.bool_)
    mask[rows[rows >= 0]] = True
    return mask
