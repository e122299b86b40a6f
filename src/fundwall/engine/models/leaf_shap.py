"""Exact path-dependent TreeSHAP from tables made once per model, fast enough for a decision.

Algorithm 2 of Lundberg et al. (`trees.py`) walks every tree for every vector, at leaves ×
depth² a tree: about a millisecond for a model of a few hundred trees. The same values come
from tables made when the model is compiled (the idea of Fast TreeSHAP v2, Yang 2021):

A leaf l with value v and the distinct features U of its path (d of them; a feature split on
twice is one player, its cover fractions multiplied) adds to feature i ∈ U

    v · (o_i − z_i) · Σ_{S ⊆ U∖{i}} |S|!(d−|S|−1)!/d! · Π_{j∈S} o_j · Π_{j∈U∖S∖{i}} z_j

where z_j is the share of the training rows that follow the path at feature j's splits and
o_j is 1 when the vector follows them, else 0. As the o_j are 0 or 1, the sum depends only on
which of the path's splits the vector follows: the leaf's path code P, one bit per split of
the path from the root down (1: the vector goes the path's way). `table[l][P][i]` holds the
sum, already multiplied by v, for every P (2^L of them for a path of L splits).

Explaining a vector is then one pass over each tree's splits in pre-order, parents before
children, that decides the split and hands its children their codes (a child's code is its
parent's, shifted, plus whether the vector goes that way), and per leaf one table row of d
additions — leaves × depth a tree instead of leaves × depth², with no search for B. The
splits are laid out in that order with their features and thresholds side by side, and a
split that treats missing values as LightGBM's `None` (every split of a model trained on
data with no declared missing value) is decided against the vector cleaned once (NaN and
|x| ≤ kZeroThreshold read as 0), the rest by `trees._child`.

Tables take 2^L × d numbers a leaf; a model with a path longer than `MAX_PATH` splits keeps
Algorithm 2 (`leaf_tables` returns None).
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
I8 = npt.NDArray[np.int8]

MAX_PATH: Final = 10
"""Splits on a path at most for tables (2^10 × 10 numbers a leaf)."""
MAX_TABLE: Final = 32 * 2**20
"""Numbers in all tables at most (256 MiB); a larger model keeps Algorithm 2."""

_jit = njit(nogil=True, cache=True)


class LeafTables(NamedTuple):
    """Every tree's splits in pre-order and, per leaf, its path features and its table."""

    tree_nodes: I64
    """Where each tree's splits start in the split arrays (trees + 1 entries)."""
    split_node: I32
    """The split's node in the forest (for `trees._child`)."""
    split_feature: I32
    split_threshold: F64
    split_simple: I8
    """1 when the split treats missing values as `None` (decided on the cleaned vector)."""
    split_at: I32
    """The split's node within its tree (node − the tree's root): where its code is kept."""
    split_left: I32
    """Its left child within its tree; the right child is the next node."""
    tree_leaves: I64
    """Where each tree's leaves start (trees + 1 entries)."""
    leaf_at: I32
    """The leaf's node within its tree."""
    player_start: I64
    """Where the leaf's distinct path features start in `player_feature` (leaves + 1)."""
    player_feature: I32
    table_start: I64
    """Where the leaf's table starts (leaves + 1 entries); entry P·d + i."""
    table: F64
    tree_size: int
    """The most nodes of one tree: the size of the codes' scratch array."""


class _Leaf(NamedTuple):
    node: int
    value: float
    players: list[int]
    zero: list[float]
    path_player: list[int]
    """Per split of the path from the root, which of `players` it is on."""


def leaf_tables(forest: Forest) -> LeafTables | None:
    """The tables of a compiled forest (`trees.Forest`), or None when a path is too long or
    the tables too large."""
    from fundwall.engine.models.trees import MISSING_NONE  # trees.py imports this module

    feature = forest.feature
    left = forest.left
    cover = forest.cover
    roots = forest.roots.tolist()
    ends = [*roots[1:], int(feature.shape[0])]
    leaves: list[_Leaf] = []
    split_nodes: list[int] = []
    tree_nodes, tree_leaves, tree_roots = [0], [0], []
    total = 0
    for root in roots:
        stack: list[tuple[int, list[tuple[int, int]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if feature[node] >= 0:
                split_nodes.append(node)
                tree_roots.append(root)
                child = int(left[node])
                stack.append((child + 1, [*path, (node, 0)]))
                stack.append((child, [*path, (node, 1)]))
                continue
            if len(path) > MAX_PATH:
                return None
            leaf = _Leaf(node - root, float(forest.value[node]), [], [], [])
            for split, went_left in path:
                f = int(feature[split])
                if f not in leaf.players:
                    leaf.players.append(f)
                    leaf.zero.append(1.0)
                k = leaf.players.index(f)
                child = int(left[split]) + (0 if went_left else 1)
                leaf.zero[k] *= float(cover[child]) / float(cover[split])
                leaf.path_player.append(k)
            leaves.append(leaf)
            total += (1 << len(path)) * len(leaf.players)
            if total > MAX_TABLE:
                return None
        tree_nodes.append(len(split_nodes))
        tree_leaves.append(len(leaves))
    nodes = np.array(split_nodes, np.int64)
    base = np.array(tree_roots, np.int64)
    width = np.array([len(leaf.players) for leaf in leaves], np.int64)
    length = np.array([len(leaf.path_player) for leaf in leaves], np.int64)
    player_start = np.zeros(len(leaves) + 1, np.int64)
    np.cumsum(width, out=player_start[1:])
    path_start = np.zeros(len(leaves) + 1, np.int64)
    np.cumsum(length, out=path_start[1:])
    table_start = np.zeros(len(leaves) + 1, np.int64)
    np.cumsum((1 << length) * width, out=table_start[1:])
    table = np.empty(int(table_start[-1]), np.float64)
    _fill_tables(
        player_start,
        np.array([z for leaf in leaves for z in leaf.zero], np.float64),
        path_start,
        np.array([k for leaf in leaves for k in leaf.path_player], np.int64),
        np.array([leaf.value for leaf in leaves], np.float64),
        _shapley_weights(),
        table_start,
        table,
    )
    return LeafTables(
        np.array(tree_nodes, np.int64),
        nodes.astype(np.int32),
        feature[nodes].astype(np.int32),
        forest.threshold[nodes].astype(np.float64),
        (forest.missing[nodes] == MISSING_NONE).astype(np.int8),
        (nodes - base).astype(np.int32),
        (left[nodes] - base).astype(np.int32),
        np.array(tree_leaves, np.int64),
        np.array([leaf.node for leaf in leaves], np.int32),
        player_start,
        np.array([f for leaf in leaves for f in leaf.players], np.int32),
        table_start,
        table,
        max((end - root for root, end in zip(roots, ends, strict=True)), default=1),
    )


def _shapley_weights() -> F64:
    """weights[d, s] = s!(d−s−1)!/d!: the share of the orderings of d players in which a
    given player comes right after a given s of the others."""
    return np.array(
        [
            [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) if s < d else 0.0
             for s in range(MAX_PATH + 1)]
            for d in range(MAX_PATH + 1)
        ]
    )  # fmt: skip


@_jit
def _fill_tables(
    player_start: I64,
    zero: F64,
    path_start: I64,
    path_player: I64,
    value: F64,
    weights: F64,
    start: I64,
    table: F64,
) -> None:
    """Each leaf's row for every path code: the sum over the subsets S of the players the
    code follows (all of a player's splits followed), times the leaf's value."""
    sums = np.empty((1 << MAX_PATH) * MAX_PATH, np.float64)
    for leaf in range(value.shape[0]):
        first = player_start[leaf]
        d = player_start[leaf + 1] - first
        length = path_start[leaf + 1] - path_start[leaf]
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
                            product *= zero[first + j]
                    total += weights[d, size] * product
                    if subset == 0:
                        break
                    subset = (subset - 1) & rest
                one = 1.0 if (followed >> i) & 1 else 0.0
                sums[followed * d + i] = (one - zero[first + i]) * total * value[leaf]
        for code in range(1 << length):
            followed = (1 << d) - 1
            for position in range(length):
                if not (code >> (length - 1 - position)) & 1:
                    followed &= ~(1 << path_player[path_start[leaf] + position])
            row = start[leaf] + code * d
            for i in range(d):
                table[row + i] = sums[followed * d + i]
