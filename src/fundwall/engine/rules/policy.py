"""The pack's policy: score thresholds → actions, and uint8 action codes for bulk results.

A transaction's action is the most severe one whose threshold its score reaches, raised to
at least the action any fired rule forces. Codes follow `Action.severity` (0 pass … 4 block).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput

ACTIONS_BY_CODE: tuple[Action, ...] = tuple(sorted(Action, key=lambda a: a.severity))
"""`ACTIONS_BY_CODE[code]` is the action a bulk result's uint8 code stands for."""

THRESHOLD_ACTIONS: tuple[Action, ...] = ACTIONS_BY_CODE[1:]
"""Actions a threshold may lead to: every one but pass, which is what no threshold gives."""


class Policy:
    """Score thresholds, each the least score that leads to its action."""

    __slots__ = ("_bounds", "_codes", "_steps", "thresholds")

    def __init__(self, thresholds: Mapping[Action, int]) -> None:
        ordered = sorted(thresholds.items(), key=lambda item: item[0].severity)
        for action, score in ordered:
            if action is Action.PASS:
                raise InvalidInput("pass needs no threshold: it is what a low score gets")
            if score < 1:
                raise InvalidInput(f"the {action.value} threshold must be at least 1, not {score}")
        for (lower, low), (higher, high) in itertools.pairwise(ordered):
            if high <= low:
                raise InvalidInput(
                    f"the {higher.value} threshold ({high}) must be above the "
                    f"{lower.value} threshold ({low})"
                )
        self.thresholds: Mapping[Action, int] = MappingProxyType(dict(ordered))
        self._steps = tuple((score, action) for action, score in reversed(ordered))
        self._bounds = tuple(score for _, score in ordered)
        self._codes: npt.NDArray[np.uint8] = np.array(
            [0, *(action.severity for action, _ in ordered)], np.uint8
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and dict(self.thresholds) == dict(other.thresholds)

    def __hash__(self) -> int:
        return hash(tuple(self.thresholds.items()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{action.value}>={score}" for action, score in self.thresholds.items())
        return f"Policy({shown})"

    def action_for(self, score: int) -> Action:
        """The action a score alone leads to."""
        for threshold, action in self._steps:
            if score >= threshold:
                return action
        return Action.PASS

    def codes_for(self, scores: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """`action_for` over a column of scores, as uint8 codes."""
        reached = np.zeros(scores.shape, np.uint8)
        for bound in self._bounds:
            reached += scores >= bound
        codes: npt.NDArray[np.uint8] = self._codes[reached]
        return codes
