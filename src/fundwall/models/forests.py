"""Several LightGBM forests averaged into one model, in LightGBM's own text format.

Forests grown from different seeds (bagging and feature sampling) disagree most on the rows
the data says least about; their average ranks those rows more steadily than any one of them.
A binary model's raw score (log-odds) is the sum of its trees' leaf values, so the average of
k forests' raw scores is the sum of all their trees with every leaf value divided by k: one
forest LightGBM reads as any other, whose tree SHAP contributions are the averages of the
members' (they are linear in the leaf values). The node values LightGBM keeps for
contributions (`internal_value`) are divided likewise; the counts stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

_TREE_START: Final = re.compile(r"\n(?=Tree=\d+\n)")
_SCALED: Final = frozenset({"leaf_value", "internal_value"})


def averaged(texts: Sequence[str]) -> str:
    """The model text of the average of `texts` (LightGBM text models of the same features
    and objective, one tree per iteration)."""
    if len(texts) == 1:
        return texts[0]
    head = ""
    blocks: list[str] = []
    for text in texts:
        preamble, marker, rest = text.partition("\nTree=0\n")
        if not marker:
            raise ValueError("not a LightGBM text model with trees")
        head = head or preamble
        trees = ("Tree=0\n" + rest).split("\nend of trees", 1)[0].strip("\n")
        blocks.extend(_scaled(tree, len(texts)) for tree in _TREE_START.split(trees))
    numbered = [f"Tree={index}\n{block}\n\n" for index, block in enumerate(blocks)]
    sizes = " ".join(str(len(block.encode())) for block in numbered)
    head = re.sub(r"(?m)^tree_sizes=.*$", f"tree_sizes={sizes}", head)
    return head + "\n\n" + "".join(numbered) + "end of trees\n"


def _scaled(tree: str, members: int) -> str:
    """One tree's lines after its `Tree=` line, its output divided by `members`."""
    lines = tree.split("\n")[1:]
    for at, line in enumerate(lines):
        key, _, values = line.partition("=")
        if key in _SCALED:
            lines[at] = f"{key}=" + " ".join(repr(float(v) / members) for v in values.split())
    return "\n".join(lines)
