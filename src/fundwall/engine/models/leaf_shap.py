"""Exact path-dependent TreeSHAP from tables made once per model, fast enough for a decision.

Algorithm 2 of Lundberg et al. (`trees.py`) walks every tree for every vector, at leaves ×
depth² a tree: about a millisecond for a model of a few hundred trees. The same values come
from tables made when the model is compiled (the idea of Fast TreeSHAP v2, Yang 2021):

A leaf l with value v and the distinct features U of its path (d of them; a feature split on
twice is one player, its cover fractions multiplied) adds to feature i ∈ U

    v · (o_i − z_i) · Σ_{S ⊆ U∖{i}} |S|!(d−|S|−1)!/d! · Π_{j∈S} o_j · Π_{j∈U∖S∖{i}} z_j

where z_j is the share of the training rows that follow the path at feature j's splits and
o_j is 1 when the vector follows them, else 0. As the o_j are 0 or 1, the sum depends only on
the set B of path features the vector follows: `table[l][B][i]` holds it for every B (2^d of
them). Scoring a vector is then one decision per split node and, per leaf, its B and d
additions — leaves × depth a tree instead of leaves × depth².

Tables take 2^d × d numbers a leaf; a model with a leaf deeper than `MAX_PATH` distinct
features keeps Algorithm 2 (`leaf_tables` returns None).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

if TYPE_CHECKING:
    from fundwall.engine.models.trees import Forest

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

MAX_PATH: Final = 10
"""Distinct features on a path at most for tables (2^10 × 10 numbers a leaf)."""
MAX_TABLE: Final = 32 * 2**20
"""Numbers in all tables at most (256 MiB); a larger model keeps Algorithm 2."""

_jit = njit(nogil=True, cache=True)


class LeafTables(NamedTuple):
    """Per leaf of every tree: its value, its distinct path features, its splits and its
    table; per tree, its split nodes (decided once per vector)."""

    leaf_value: F64
    leaf_width: I32
    """d: the distinct features of the leaf's path."""
    leaf_features: I32
    """(leaves, MAX_PATH): the features, in path order of first use."""
    split_start: I64
    """Where the leaf's splits start in the split arrays (leaves + 1 entries)."""
    split_node: I32
    split_left: I32
    """1 when the path goes to the split's left child."""
    split_player: I32
    """Which of the leaf's distinct features the split is on."""
    table_start: I64
    """Where the leaf's table starts (leaves + 1 entries); entry B·d + i."""
    table: F64
    tree_leaves: I64
    """Where each tree's leaves start (trees + 1 entries)."""
    tree_nodes: I64
    """Where each tree's split nodes start in `nodes` (trees + 1 entries)."""
    nodes: I32


def leaf_tables(forest: Forest) -> LeafTables | None:
    """The tables of a compiled forest (`trees.Forest`), or None when a path is too long or
    the tables too large."""
    roots = forest.roots
    feature = forest.feature
    left = forest.left
    cover = forest.cover
    value = forest.value
    leaf_value: list[float] = []
    widths: list[int] = []
    leaf_features: list[list[int]] = []
    zeros: list[list[float]] = []
    split_start, split_node, split_left, split_player = [0], [], [], []
    tree_leaves, tree_nodes, nodes = [0], [0], []
    total = 0
    for root in roots.tolist():
        stack: list[tuple[int, list[tuple[int, int]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if feature[node] >= 0:
                nodes.append(node)
                child = int(left[node])
                stack.append((child + 1, [*path, (node, 0)]))
                stack.append((child, [*path, (node, 1)]))
                continue
            players: list[int] = []
            zero: list[float] = []
            for split, went_left in path:
                f = int(feature[split])
                if f not in players:
                    players.append(f)
                    zero.append(1.0)
                k = players.index(f)
                child = int(left[split]) + (0 if went_left else 1)
                zero[k] *= float(cover[child]) / float(cover[split])
                split_node.append(split)
                split_left.append(went_left)
                split_player.append(k)
            if len(players) > MAX_PATH:
                return None
            split_start.append(len(split_node))
            leaf_value.append(float(value[node]))
            widths.append(len(players))
            leaf_features.append(players + [-1] * (MAX_PATH - len(players)))
            zeros.append(zero + [0.0] * (MAX_PATH - len(zero)))
            total += (1 << len(players)) * len(players)
            if total > MAX_TABLE:
                return None
        tree_leaves.append(len(leaf_value))
        tree_nodes.append(len(nodes))
    width = np.array(widths, np.int32)
    table_start = np.zeros(len(widths) + 1, np.int64)
    np.cumsum((1 << width.astype(np.int64)) * width, out=table_start[1:])
    table = np.empty(int(table_start[-1]), np.float64)
    weights = np.array(
        [
            [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) if s < d else 0.0
             for s in range(MAX_PATH + 1)]
            for d in range(MAX_PATH + 1)
        ]
    )  # fmt: skip
    _fill_tables(width, np.array(zeros, np.float64).reshape(-1, MAX_PATH), weights, table_start,
                 table)  # fmt: skip
    return LeafTables(
        np.array(leaf_value, np.float64),
        width,
        np.array(leaf_features, np.int32).reshape(-1, MAX_PATH),
        np.array(split_start, np.int64),
        np.array(split_node, np.int32),
        np.array(split_left, np.int32),
        np.array(split_player, np.int32),
        table_start,
        table,
        np.array(tree_leaves, np.int64),
        np.array(tree_nodes, np.int64),
        np.array(nodes, np.int32),
    )


@_jit
def _fill_tables(width: I32, zero: F64, weights: F64, start: I64, table: F64) -> None:
    for leaf in range(width.shape[0]):
        d = width[leaf]
        base = start[leaf]
        for followed in range(1 << d):
            for i in range(d):
                rest = followed & ~(1 << i)
                total = 0.0
                subset = rest
                while True:
                    size = 0
                    product = 1.0
                    for j in range(d):
                        if j == i:
                            continue
                        if (subset >> j) & 1:
                            size += 1
                        else:
                            product *= zero[leaf, j]
                    total += weights[d, size] * product
                    if subset == 0:
                        break
                    subset = (subset - 1) & rest
                one = 1.0 if (followed >> i) & 1 else 0.0
                table[base + followed * d + i] = (one - zero[leaf, i]) * total
