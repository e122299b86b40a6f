"""Decisions on transactions: the action taken, its score and the reasons behind it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from fundwall.domain._fields import (
    finite_number,
    flag,
    member,
    optional_reference,
    reference,
    set_field,
    text,
    whole_number,
)
from fundwall.domain.errors import InvalidInput

REASON_TEXT_MAX: Final = 500
VALUE_TEXT_MAX: Final = 200


class Action(StrEnum):
    """What happens to a transaction, from least to most severe."""

    PASS = "pass"
    ALERT = "alert"
    """Pass, and raise an alert for an analyst."""
    WARN = "warn"
    """Warn the customer (风险提示) before the money moves."""
    DELAY = "delay"
    """Hold the money, as ATM transfers are held 24 hours, so the payer may cancel."""
    BLOCK = "block"
    """Refuse the transaction."""

    @property
    def severity(self) -> int:
        """0 for pass up to 4 for block; compare actions by this, not by their text."""
        return _SEVERITY[self]

    @property
    def restricts(self) -> bool:
        """Holds or refuses the customer's money, so the reason must be stated (Art. 32)."""
        return self.severity >= Action.DELAY.severity


_SEVERITY: Final[Mapping[Action, int]] = MappingProxyType(
    {action: rank for rank, action in enumerate(Action)}
)


def most_severe(actions: Iterable[Action]) -> Action:
    """The most severe of the actions; pass when there are none."""
    return max(actions, key=lambda action: action.severity, default=Action.PASS)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule or model fired, in both languages, with the figures it saw.

    `values` holds the numbers and words the texts refer to (e.g. in_amount_1h); money in it
    is whole fen. It is stored read-only.
    """

    rule_id: str
    text_zh: str
    text_en: str
    values: Mapping[str, int | float | str]

    def __post_init__(self) -> None:
        set_field(self, "rule_id", reference(self.rule_id, "rule_id"))
        set_field(self, "text_zh", text(self.text_zh, "text_zh", max_len=REASON_TEXT_MAX))
        set_field(self, "text_en", text(self.text_en, "text_en", max_len=REASON_TEXT_MAX))
        if not isinstance(self.values, Mapping):
            raise InvalidInput(f"expected a mapping, got {type(self.values).__name__}", "values")
        checked: dict[str, int | float | str] = {}
        for key, value in self.values.items():
            name = reference(key, "values")
            where = f"values.{name}"
            checked[name] = (
                text(value, where, max_len=VALUE_TEXT_MAX)
                if isinstance(value, str)
                else finite_number(value, where)
            )
        set_field(self, "values", MappingProxyType(checked))

    def __hash__(self) -> int:
        return hash((self.rule_id, self.text_zh, self.text_en, frozenset(self.values.items())))


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer for one transaction.

    A decision that restricts (delay, block) carries at least one reason: whoever restricts
    must state why (Art. 32, Anti-Telecom and Online Fraud Law). A `shadow` decision was
    computed by a pack under trial and is recorded, not applied.
    """

    tx_id: str
    action: Action
    score: int
    reasons: tuple[Reason, ...]
    pack_version: str
    model_version: str | None = None
    latency_us: int | None = None
    shadow: bool = False

    def __post_init__(self) -> None:
        set_field(self, "tx_id", reference(self.tx_id, "tx_id"))
        set_field(self, "action", member(Action, self.action, "action"))
        set_field(self, "score", whole_number(self.score, "score"))
        if not isinstance(self.reasons, tuple | list):
            raise InvalidInput(
                f"expected a sequence of reasons, got {type(self.reasons).__name__}", "reasons"
            )
        for index, reason in enumerate(self.reasons):
            if not isinstance(reason, Reason):
                raise InvalidInput(
                    f"expected a Reason, got {type(reason).__name__}", f"reasons[{index}]"
                )
        set_field(self, "reasons", tuple(self.reasons))
        if self.action.restricts and not self.reasons:
            raise InvalidInput(f"a {self.action.value} decision must state a reason", "reasons")
        set_field(self, "pack_version", reference(self.pack_version, "pack_version"))
        set_field(self, "model_version", optional_reference(self.model_version, "model_version"))
        if self.latency_us is not None:
            set_field(self, "latency_us", whole_number(self.latency_us, "latency_us", minimum=0))
        set_field(self, "shadow", flag(self.shadow, "shadow"))
