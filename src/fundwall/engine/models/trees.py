"""A LightGBM model compiled to flat arrays: its raw score and its exact tree SHAP values.

`CompiledTrees.from_model_string(text)` reads LightGBM's text format through LightGBM's own
parser (`Booster(model_str=...).dump_model()`), keeps only numpy arrays and lets the Booster
go. Every node of every tree sits in one set of arrays (`Forest`, one array per field), tree
after tree; `roots[t]` is the first node of tree t and a split's children are the nodes
`left[i]` and `left[i] + 1`, so a score is a walk over flat memory with no Python in it.

Scores follow LightGBM's predictor exactly (include/LightGBM/tree.h `NumericalDecision`, and
c_api.cpp, which passes a value within ±kZeroThreshold of zero as 0.0):
  - a value with |x| <= kZeroThreshold (1e-35 as a float32) is 0.0;
  - NaN goes the split's default way when the split's missing type is NaN, else it is 0.0;
  - with missing type Zero, 0.0 (so also NaN and those tiny values) goes the default way;
  - otherwise x <= threshold goes left.
Trees are summed in order from 0.0, as LightGBM does, so scores agree to the last bits.

Contributions are path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2) in the
extend/unwind form of LightGBM's tree.cpp `TreeSHAP`, with the training rows through each node
(internal_count, leaf_count) as its cover; the recursion is a loop over an explicit stack that
visits the nodes in LightGBM's order and lays the unique paths out in its memory, so each
feature's value is added up in the same order. The last entry is the expected value (the sum
of every tree's count-weighted mean leaf), and the entries add up to the raw score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import lightgbm
import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.domain.errors import InvalidInput
from fundwall.engine.models.leaf_shap import LeafTables, leaf_tables

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]

LEAF: Final = -1
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
MISSING_TYPES: Final = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}
ZERO_THRESHOLD: Final = float(np.float32(1e-35))
"""LightGBM's kZeroThreshold, declared `const double kZeroThreshold = 1e-35f`: a float32
widened, a hair above the double 1e-35."""
REGRESSION_OBJECTIVES: Final = frozenset(
    {"regression", "regression_l1", "huber", "fair", "quantile", "mape"}
)
"""Objectives whose raw score is the prediction itself."""


class Forest(NamedTuple):
    """Every node of every tree, tree after tree, one array per field (node i is entry i)."""

    roots: I32
    """The first node of each tree."""
    feature: I32
    """The split's feature; LEAF at a leaf."""
    threshold: F64
    missing: I8
    """MISSING_NONE, MISSING_ZERO or MISSING_NAN."""
    default_left: I8
    """1 when a missing value goes left."""
    left: I32
    """The left child; the right child is the next node (a split's children sit together)."""
    value: F64
    """A leaf's output (shrinkage already in it); 0 at a split."""
    cover: F64
    """Training rows through the node (LightGBM's internal_count and leaf_count)."""


_jit = njit(nogil=True, cache=True)
_inline = njit(nogil=True, cache=True, inline="always")


@dataclass(frozen=True, slots=True, eq=False)
class CompiledTrees:
    """A binary or regression LightGBM model as flat arrays, scored by compiled kernels.

    `raw_one`/`raw_many` give the raw score (the log-odds of a binary model),
    `contributions_one`/`contributions_many` each feature's share of it plus, last, the
    expected value. A vector holds `n_features` values in the order of `feature_names`.
    """

    feature_names: tuple[str, ...]
    forest: Forest
    depth: int
    """The deepest leaf's depth over all trees (sizes the TreeSHAP path)."""
    bias: float
    """The expected value: the sum over trees of each tree's count-weighted mean leaf."""
    tables: LeafTables | None = None
    """The leaf tables that give the contributions fast (`leaf_shap`); None: Algorithm 2."""

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_trees(self) -> int:
        return int(self.forest.roots.shape[0])

    @classmethod
    def from_model_string(cls, text: str) -> CompiledTrees:
        """Compile LightGBM's text format; InvalidInput for text LightGBM cannot read and for
        what these kernels do not score (multiclass, other objectives, random-forest
        averaging, categorical splits, linear trees)."""
        try:
            dump = lightgbm.Booster(model_str=text).dump_model()
        except lightgbm.basic.LightGBMError as error:
            raise InvalidInput(f"LightGBM cannot read this model: {error}", "model") from None
        _check_model(dump)
        n_features = int(dump["max_feature_idx"]) + 1
        names = tuple(str(name) for name in dump["feature_names"])
        if len(names) != n_features:
            raise InvalidInput(
                f"{len(names)} feature names for {n_features} features", "feature_names"
            )
        nodes = _Nodes()
        roots: list[int] = []
        depth = 0
        bias = 0.0
        for index, tree in enumerate(dump["tree_info"]):
            if int(tree.get("num_cat", 0)) > 0:
                raise _categorical(index)
            roots.append(len(nodes.feature))
            depth = max(depth, nodes.add_tree(index, tree["tree_structure"]))
            bias += _expected_value(tree["tree_structure"])
        forest = nodes.forest(roots)
        return cls(names, forest, depth, bias, leaf_tables(forest))

    def raw_one(self, vector: npt.ArrayLike) -> float:
        """The raw score of one vector of `n_features` values (NaN for a missing one)."""
        return float(raw_one(self._vector(vector), self.forest))

    def raw_many(self, matrix: npt.ArrayLike) -> F64:
        """The raw score of each row of an (n, n_features) matrix."""
        result: F64 = raw_many(self._matrix(matrix), self.forest)
        return result

    def contributions_one(self, vector: npt.ArrayLike) -> F64:
        """Each feature's SHAP value for one vector, then the expected value (n_features + 1
        numbers that add up to the raw score)."""
        if self.tables is not None:
            phi = np.empty(self.n_features + 1, dtype=np.float64)
            scratch = np.empty(self.n_features, dtype=np.float64)
            code = np.empty(self.tables.tree_size, dtype=np.int64)
            _table_contributions_into(self._vector(vector), self.forest, self.tables, self.bias,
                                      phi, scratch, code)  # fmt: skip
            return phi
        result: F64 = contributions_one(self._vector(vector), self.forest, self.depth, self.bias)
        return result

    def contributions_many(self, matrix: npt.ArrayLike) -> F64:
        """`contributions_one` of each row: an (n, n_features + 1) matrix."""
        values = self._matrix(matrix)
        if self.tables is not None:
            many: F64 = _table_contributions_many(values, self.forest, self.tables, self.bias)
            return many
        result: F64 = contributions_many(values, self.forest, self.depth, self.bias)
        return result

    def _vector(self, vector: npt.ArrayLike) -> F64:
        values = np.ascontiguousarray(vector, dtype=np.float64)
        if values.shape != (self.n_features,):
            raise InvalidInput(
                f"expected {self.n_features} feature values, got shape {values.shape}", "vector"
            )
        return values

    def _matrix(self, matrix: npt.ArrayLike) -> F64:
        values = np.ascontiguousarray(matrix, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_features:
            raise InvalidInput(
                f"expected rows of {self.n_features} feature values, got shape {values.shape}",
                "matrix",
            )
        return values


def _check_model(dump: Mapping[str, Any]) -> None:
    """Refuse what the kernels would score differently from LightGBM, or whose raw score
    is neither log-odds nor the prediction itself."""
    classes = int(dump.get("num_class", 1))
    if classes != 1 or int(dump.get("num_tree_per_iteration", 1)) != 1:
        raise InvalidInput(
            f"a multiclass model ({classes} classes) is not supported: one raw score per "
            "model is scored",
            "num_class",
        )
    name, *options = str(dump.get("objective") or "none").split()
    if name == "binary":
        sigmoids = [option for option in options if option.startswith("sigmoid:")]
        if any(float(option.removeprefix("sigmoid:")) != 1.0 for option in sigmoids):
            raise InvalidInput(
                f"a binary objective with {sigmoids[0]} is not supported: its raw score is "
                "not the log-odds",
                "objective",
            )
    elif name not in REGRESSION_OBJECTIVES or "sqrt" in options:
        raise InvalidInput(
            f"objective {dump.get('objective')!r} is not supported: binary (log-odds) and "
            f"regression ({', '.join(sorted(REGRESSION_OBJECTIVES))}, without sqrt) are",
            "objective",
        )
    if dump.get("average_output"):
        raise InvalidInput(
            "a random forest (average_output) is not supported: its prediction averages the "
            "trees, while LightGBM's raw score and contributions add them up",
            "average_output",
        )


def _categorical(tree: int) -> InvalidInput:
    return InvalidInput(
        "categorical splits are not supported: train with the feature as a number",
        "decision_type",
        record=f"tree {tree}",
    )


class _Nodes:
    """The forest's arrays as lists while trees are added."""

    def __init__(self) -> None:
        self.feature: list[int] = []
        self.threshold: list[float] = []
        self.missing: list[int] = []
        self.default_left: list[int] = []
        self.left: list[int] = []
        self.value: list[float] = []
        self.cover: list[float] = []

    def add_tree(self, tree: int, structure: Mapping[str, Any]) -> int:
        """Append one tree's nodes; return its deepest leaf's depth."""
        pending: list[tuple[Mapping[str, Any], int, int]] = [(structure, self._new(), 0)]
        deepest = 0
        while pending:
            node, at, depth = pending.pop()
            if "leaf_value" in node:
                if "leaf_coeff" in node or "leaf_const" in node:
                    raise InvalidInput(
                        "linear trees are not supported: their leaves are models of their own",
                        "is_linear",
                        record=f"tree {tree}",
                    )
                self.value[at] = float(node["leaf_value"])
                self.cover[at] = float(node["leaf_count"])
                deepest = max(deepest, depth)
                continue
            if node["decision_type"] != "<=":
                raise _categorical(tree)
            left = self._new()
            self._new()
            self.feature[at] = int(node["split_feature"])
            self.threshold[at] = float(node["threshold"])
            self.missing[at] = MISSING_TYPES[node["missing_type"]]
            self.default_left[at] = int(bool(node["default_left"]))
            self.left[at] = left
            self.cover[at] = float(node["internal_count"])
            pending.append((node["right_child"], left + 1, depth + 1))
            pending.append((node["left_child"], left, depth + 1))
        return deepest

    def _new(self) -> int:
        """A new node, a leaf until filled in."""
        self.feature.append(LEAF)
        self.threshold.append(0.0)
        self.missing.append(MISSING_NONE)
        self.default_left.append(0)
        self.left.append(0)
        self.value.append(0.0)
        self.cover.append(0.0)
        return len(self.feature) - 1

    def forest(self, roots: list[int]) -> Forest:
        return Forest(
            roots=np.array(roots, dtype=np.int32),
            feature=np.array(self.feature, dtype=np.int32),
            threshold=np.array(self.threshold, dtype=np.float64),
            missing=np.array(self.missing, dtype=np.int8),
            default_left=np.array(self.default_left, dtype=np.int8),
            left=np.array(self.left, dtype=np.int32),
            value=np.array(self.value, dtype=np.float64),
            cover=np.array(self.cover, dtype=np.float64),
        )


def _expected_value(structure: Mapping[str, Any]) -> float:
    """LightGBM's `Tree::ExpectedValue`: leaves in leaf-index order, each weighted by its share
    of the root's rows (the same additions in the same order, so the same bits)."""
    if "leaf_value" in structure:
        return float(structure["leaf_value"])
    total = float(structure["internal_count"])
    leaves: list[tuple[int, float, float]] = []
    pending = [structure]
    while pending:
        node = pending.pop()
        if "leaf_value" in node:
            leaves.append((int(node["leaf_index"]), float(node["leaf_count"]), node["leaf_value"]))
        else:
            pending.extend((node["left_child"], node["right_child"]))
    expected = 0.0
    for _, count, value in sorted(leaves):
        expected += (count / total) * value
    return expected


# --- kernels ---------------------------------------------------------------------------------


@_inline
def _child(forest: Forest, node: int, value: float) -> int:
    """The child of split `node` that `value` goes to (LightGBM's NumericalDecision)."""
    left = int(forest.left[node])
    missing = forest.missing[node]
    if np.isnan(value):
        if missing == MISSING_NAN:
            return left if forest.default_left[node] else left + 1
        value = 0.0
    elif abs(value) <= ZERO_THRESHOLD:
        value = 0.0
    if missing == MISSING_ZERO and value == 0.0:
        return left if forest.default_left[node] else left + 1
    return left if value <= forest.threshold[node] else left + 1


@_jit
def raw_one(vector: F64, forest: Forest) -> float:
    """The sum of the trees' leaves that `vector` reaches, tree after tree."""
    feature = forest.feature
    total = 0.0
    for tree in range(forest.roots.shape[0]):
        node = int(forest.roots[tree])
        while feature[node] != LEAF:
            node = _child(forest, node, vector[feature[node]])
        total += forest.value[node]
    return total


@_jit
def raw_many(matrix: F64, forest: Forest) -> F64:
    scores = np.empty(matrix.shape[0], dtype=np.float64)
    for row in range(matrix.shape[0]):
        scores[row] = raw_one(matrix[row], forest)
    return scores


@_jit
def _extend(
    path_feature: I32, zero: F64, one: F64, weight: F64, base: int, depth: int,
    zero_fraction: float, one_fraction: float, feature: int,
) -> None:  # fmt: skip
    """Add one element to the unique path at [base, base + depth) (tree.cpp ExtendPath):
    weight[i] becomes the share of feature orderings in which i of the path's features are
    present."""
    path_feature[base + depth] = feature
    zero[base + depth] = zero_fraction
    one[base + depth] = one_fraction
    weight[base + depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        weight[base + i + 1] += one_fraction * weight[base + i] * (i + 1) / (depth + 1)
        weight[base + i] = zero_fraction * weight[base + i] * (depth - i) / (depth + 1)


@_jit
def _unwind(
    path_feature: I32, zero: F64, one: F64, weight: F64, base: int, depth: int, index: int
) -> None:
    """Undo the extension by path element `index` (tree.cpp UnwindPath)."""
    one_fraction = one[base + index]
    zero_fraction = zero[base + index]
    next_one_portion = weight[base + depth]
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0:
            kept = weight[base + i]
            weight[base + i] = next_one_portion * (depth + 1) / ((i + 1) * one_fraction)
            next_one_portion = kept - weight[base + i] * zero_fraction * (depth - i) / (depth + 1)
        else:
            weight[base + i] = (weight[base + i] * (depth + 1)) / (zero_fraction * (depth - i))
    for i in range(index, depth):
        path_feature[base + i] = path_feature[base + i + 1]
        zero[base + i] = zero[base + i + 1]
        one[base + i] = one[base + i + 1]


@_jit
def _unwound_sum(zero: F64, one: F64, weight: F64, base: int, depth: int, index: int) -> float:
    """The path's total weight were element `index` unwound (tree.cpp UnwoundPathSum)."""
    one_fraction = one[base + index]
    zero_fraction = zero[base + index]
    next_one_portion = weight[base + depth]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0:
            share = next_one_portion * (depth + 1) / ((i + 1) * one_fraction)
            total += share
            next_one_portion = weight[base + i] - share * zero_fraction * (
                (depth - i) / (depth + 1)
            )
        else:
            total += (weight[base + i] / zero_fraction) / ((depth - i) / (depth + 1))
    return total


@_jit
def _tree_shap(
    vector: F64, forest: Forest, root: int, phi: F64, path_feature: I32, zero: F64, one: F64,
    weight: F64, stack_node: I32, stack_depth: I32, stack_base: I32, stack_zero: F64,
    stack_one: F64, stack_feature: I32,
) -> None:  # fmt: skip
    """Add one tree's SHAP values to `phi` (tree.cpp TreeSHAP, its recursion as a stack).

    A node reached at `depth` with its parent's path at `parent_base` keeps its own path at
    parent_base + depth: its subtree writes only beyond it, so a split's second child still
    finds the path its parent left, as in LightGBM's recursion."""
    stack_node[0], stack_depth[0], stack_base[0] = root, 0, 0
    stack_zero[0], stack_one[0], stack_feature[0] = 1.0, 1.0, -1
    top = 1
    while top > 0:
        top -= 1
        node, depth, parent_base = stack_node[top], stack_depth[top], stack_base[top]
        base = parent_base + depth
        for i in range(depth):
            path_feature[base + i] = path_feature[parent_base + i]
            zero[base + i] = zero[parent_base + i]
            one[base + i] = one[parent_base + i]
            weight[base + i] = weight[parent_base + i]
        _extend(path_feature, zero, one, weight, base, depth, stack_zero[top], stack_one[top],
                stack_feature[top])  # fmt: skip
        feature = forest.feature[node]
        if feature == LEAF:
            for i in range(1, depth + 1):
                share = _unwound_sum(zero, one, weight, base, depth, i)
                phi[path_feature[base + i]] += (
                    share * (one[base + i] - zero[base + i]) * forest.value[node]
                )
            continue
        hot = _child(forest, node, vector[feature])
        cold = hot + 1 if hot == forest.left[node] else hot - 1
        incoming_zero, incoming_one = 1.0, 1.0
        # A feature split on again is unwound from the path and extended anew here.
        for index in range(depth + 1):
            if path_feature[base + index] == feature:
                incoming_zero, incoming_one = zero[base + index], one[base + index]
                _unwind(path_feature, zero, one, weight, base, depth, index)
                depth -= 1
                break
        # The cold child is pushed first so that the hot one is visited first, as in LightGBM.
        for child, one_fraction in ((cold, 0.0), (hot, incoming_one)):
            stack_node[top], stack_depth[top], stack_base[top] = child, depth + 1, base
            stack_zero[top] = forest.cover[child] / forest.cover[node] * incoming_zero
            stack_one[top], stack_feature[top] = one_fraction, feature
            top += 1


@_jit
def _contributions_into(vector: F64, forest: Forest, depth: int, bias: float, phi: F64) -> None:
    path_size = (depth + 1) * (depth + 2) // 2
    path_feature = np.empty(path_size, dtype=np.int32)
    zero = np.empty(path_size, dtype=np.float64)
    one = np.empty(path_size, dtype=np.float64)
    weight = np.empty(path_size, dtype=np.float64)
    stack_size = depth + 2
    stack_node = np.empty(stack_size, dtype=np.int32)
    stack_depth = np.empty(stack_size, dtype=np.int32)
    stack_base = np.empty(stack_size, dtype=np.int32)
    stack_zero = np.empty(stack_size, dtype=np.float64)
    stack_one = np.empty(stack_size, dtype=np.float64)
    stack_feature = np.empty(stack_size, dtype=np.int32)
    phi[:] = 0.0
    for tree in range(forest.roots.shape[0]):
        root = forest.roots[tree]
        if forest.feature[root] != LEAF:
            _tree_shap(vector, forest, root, phi, path_feature, zero, one, weight,
                       stack_node, stack_depth, stack_base, stack_zero, stack_one,
                       stack_feature)  # fmt: skip
    phi[vector.shape[0]] = bias


@_jit
def contributions_one(vector: F64, forest: Forest, depth: int, bias: float) -> F64:
    phi = np.empty(vector.shape[0] + 1, dtype=np.float64)
    _contributions_into(vector, forest, depth, bias, phi)
    return phi


@_jit
def contributions_many(matrix: F64, forest: Forest, depth: int, bias: float) -> F64:
    phi = np.empty((matrix.shape[0], matrix.shape[1] + 1), dtype=np.float64)
    for row in range(matrix.shape[0]):
        _contributions_into(matrix[row], forest, depth, bias, phi[row])
    return phi


@_jit
def _table_contributions_into(
    vector: F64, forest: Forest, tables: LeafTables, bias: float, phi: F64, scratch: F64, code: I64
) -> None:
    """Contributions from the leaf tables (`leaf_shap`): each tree's splits in pre-order
    hand their children the path codes, each leaf's code picks its row."""
    for f in range(vector.shape[0]):
        value = vector[f]
        scratch[f] = 0.0 if np.isnan(value) or abs(value) <= ZERO_THRESHOLD else value
    phi[:] = 0.0
    for tree in range(tables.tree_leaves.shape[0] - 1):
        code[0] = 0
        for k in range(tables.tree_nodes[tree], tables.tree_nodes[tree + 1]):
            if tables.split_simple[k]:
                goes_left = np.int64(scratch[tables.split_feature[k]] <= tables.split_threshold[k])
            else:
                node = tables.split_node[k]
                chosen = _child(forest, node, vector[tables.split_feature[k]])
                goes_left = np.int64(chosen == forest.left[node])
            child = tables.split_left[k]
            shifted = 2 * code[tables.split_at[k]]
            code[child] = shifted + goes_left
            code[child + 1] = shifted + 1 - goes_left
        for leaf in range(tables.tree_leaves[tree], tables.tree_leaves[tree + 1]):
            start = tables.player_start[leaf]
            width = tables.player_start[leaf + 1] - start
            row = tables.table_start[leaf] + code[tables.leaf_at[leaf]] * width
            for i in range(width):
                phi[tables.player_feature[start + i]] += tables.table[row + i]
    phi[vector.shape[0]] = bias


@_jit
def _table_contributions_many(matrix: F64, forest: Forest, tables: LeafTables, bias: float) -> F64:
    phi = np.empty((matrix.shape[0], matrix.shape[1] + 1), dtype=np.float64)
    scratch = np.empty(matrix.shape[1], dtype=np.float64)
    code = np.empty(tables.tree_size, dtype=np.int64)
    for row in range(matrix.shape[0]):
        _table_contributions_into(matrix[row], forest, tables, bias, phi[row], scratch, code)
    return phi
