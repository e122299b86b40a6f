"""Decisions on transactions: the action taken, its score and the reasons behind it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import repeat
from types import MappingProxyType
from typing import Any, Final

from fundwall.domain._fields import (
    assembled,
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


def _states_why(action: Action, reasons: tuple[Reason, ...]) -> None:
    """A decision that restricts must state why (Art. 32): the one rule a decision the engine
    made is checked for."""
    if action.restricts and not reasons:
        raise InvalidInput(f"a {action.value} decision must state a reason", "reasons")


def most_severe(actions: Iterable[Action]) -> Action:
    """The most severe of the actions; pass when there are none."""
    return max(actions, key=lambda action: action.severity, default=Action.PASS)


@dataclass(frozen=True, slots=True)
class Redaction:
    """A reason as a member that does not hold the payee's account reads it.

    The texts quote none of that account's figures (e.g. "the payee account looks like a
    pass-through account" instead of its 24-hour totals); `withheld` names the `values` of
    the reason that describe that account, which such a member does not receive either.
    """

    text_zh: str
    text_en: str
    withheld: frozenset[str]

    def __post_init__(self) -> None:
        set_field(self, "text_zh", text(self.text_zh, "text_zh", max_len=REASON_TEXT_MAX))
        set_field(self, "text_en", text(self.text_en, "text_en", max_len=REASON_TEXT_MAX))
        if not isinstance(self.withheld, frozenset):
            raise InvalidInput(
                f"expected a frozenset, got {type(self.withheld).__name__}", "withheld"
            )
        if not self.withheld:
            raise InvalidInput("a redaction withholds at least one value", "withheld")
        for name in self.withheld:
            reference(name, "withheld")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule or model fired, in both languages, with the figures it saw.

    `values` holds the numbers and words the texts refer to (e.g. in_amount_1h); money in it
    is whole fen. It is stored read-only. `redaction` is how the reason reads to a member that
    does not hold the payee's account; None when the reason says nothing about that account.
    """

    rule_id: str
    text_zh: str
    text_en: str
    values: Mapping[str, int | float | str]
    redaction: Redaction | None = None

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
        if self.redaction is not None:
            if not isinstance(self.redaction, Redaction):
                raise InvalidInput(
                    f"expected a Redaction, got {type(self.redaction).__name__}", "redaction"
                )
            unknown = sorted(self.redaction.withheld - checked.keys())
            if unknown:
                raise InvalidInput(
                    f"withholds {', '.join(unknown)}, which the reason does not have",
                    "redaction.withheld",
                )

    def __hash__(self) -> int:
        return hash(
            (
                self.rule_id,
                self.text_zh,
                self.text_en,
                frozenset(self.values.items()),
                self.redaction,
            )
        )

    def redacted(self) -> Reason:
        """The reason as a member that does not hold the payee's account reads it."""
        redaction = self.redaction
        if redaction is None:
            return self
        kept = {k: v for k, v in self.values.items() if k not in redaction.withheld}
        return Reason(self.rule_id, redaction.text_zh, redaction.text_en, kept)

    def as_record(self, *, with_redaction: bool = True) -> dict[str, Any]:
        """The reason as plain JSON data; with its redaction, as the decision log keeps it."""
        record: dict[str, Any] = {
            "rule_id": self.rule_id,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "values": dict(self.values),
        }
        if with_redaction and self.redaction is not None:
            record["redaction"] = {
                "text_zh": self.redaction.text_zh,
                "text_en": self.redaction.text_en,
                "withheld": sorted(self.redaction.withheld),
            }
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Reason:
        """Read back what `as_record` wrote; InvalidInput naming the field that is wrong."""
        if not isinstance(record, Mapping):
            raise InvalidInput(f"expected a reason record, got {type(record).__name__}")
        for key in ("rule_id", "text_zh", "text_en", "values"):
            if key not in record:
                raise InvalidInput("missing", key)
        redaction = record.get("redaction")
        if redaction is not None:
            if not isinstance(redaction, Mapping):
                raise InvalidInput("expected a mapping", "redaction")
            withheld = redaction.get("withheld")
            if not isinstance(withheld, list | tuple):
                raise InvalidInput("expected a list of value names", "redaction.withheld")
            for key in ("text_zh", "text_en"):
                if key not in redaction:
                    raise InvalidInput("missing", f"redaction.{key}")
            try:
                redaction = Redaction(
                    redaction["text_zh"], redaction["text_en"], frozenset(withheld)
                )
            except InvalidInput as error:
                raise InvalidInput(error.reason, f"redaction.{error.field}") from None
        return cls(
            record["rule_id"], record["text_zh"], record["text_en"], record["values"], redaction
        )


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

    @classmethod
    def made(
        cls,
        tx_id: str,
        action: Action,
        score: int,
        reasons: tuple[Reason, ...],
        pack_version: str,
        model_version: str | None,
        latency_us: int,
        shadow: bool = False,
    ) -> Decision:
        """A decision the engine made from values of its own, already of their types (a
        transaction id it read, its pack's version, reasons it built): only the rule that a
        restriction states why is checked. `__post_init__` checks every field of a decision
        read from outside (a log, a file); on the engine's path that was a tenth of a
        batch's cost."""
        _states_why(action, reasons)
        decision = object.__new__(cls)
        set_field(decision, "tx_id", tx_id)
        set_field(decision, "action", action)
        set_field(decision, "score", score)
        set_field(decision, "reasons", reasons)
        set_field(decision, "pack_version", pack_version)
        set_field(decision, "model_version", model_version)
        set_field(decision, "latency_us", latency_us)
        set_field(decision, "shadow", shadow)
        return decision

    @classmethod
    def made_many(
        cls,
        tx_ids: Sequence[str],
        actions: Sequence[Action],
        scores: Iterable[int],
        reasons: Sequence[tuple[Reason, ...]],
        pack_version: str,
        model_versions: Iterable[str | None],
        latency_us: Iterable[int],
        shadow: bool = False,
    ) -> list[Decision]:
        """`made` of each of a batch's decisions, given as columns, built column by column
        (`assembled`): a decision built field by field cost about as much as the rest of
        deciding it in a batch."""
        for action, why in zip(actions, reasons, strict=True):
            if action.restricts:
                _states_why(action, why)
        return assembled(
            cls,
            {
                "tx_id": tx_ids,
                "action": actions,
                "score": scores,
                "reasons": reasons,
                "pack_version": repeat(pack_version),
                "model_version": model_versions,
                "latency_us": latency_us,
                "shadow": repeat(shadow),
            },
            len(tx_ids),
        )

    def to_dict(self, *, as_logged: bool = False) -> dict[str, Any]:
        """The decision as plain JSON data: what the API answers and `fundwall decide` prints
        (`fundwall.api.models.DecisionOut` documents it).

        `as_logged` adds what only the decision log keeps: `shadow`, and each reason's
        redaction (how it reads to a member that does not hold the payee's account), which no
        member is ever sent. `from_dict` reads either form back.
        """
        data: dict[str, Any] = {
            "tx_id": self.tx_id,
            "action": self.action.value,
            "score": self.score,
            "reasons": [reason.as_record(with_redaction=as_logged) for reason in self.reasons],
            "pack_version": self.pack_version,
            "model_version": self.model_version,
            "latency_us": self.latency_us,
        }
        if as_logged:
            data["shadow"] = self.shadow
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Read back what `to_dict` wrote; InvalidInput naming the field that is wrong."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"expected a decision record, got {type(data).__name__}")
        for key in ("tx_id", "action", "score", "reasons", "pack_version"):
            if key not in data:
                raise InvalidInput("missing", key)
        reasons = data["reasons"]
        if not isinstance(reasons, list | tuple):
            raise InvalidInput("expected a list of reasons", "reasons")
        return cls(
            data["tx_id"],
            data["action"],
            data["score"],
            tuple(Reason.from_record(record) for record in reasons),
            data["pack_version"],
            data.get("model_version"),
            data.get("latency_us"),
            data.get("shadow", False),
        )

    def seen_by(self, member: str | None, payee_holder: str | None) -> Decision:
        """The decision as `member` may read it, the member that submitted the transaction.

        A member reads another member's customer only as far as the rules need to say: unless
        it holds the payee's account (`payee_holder`, the member holding it per the account
        directory; None when the directory does not know it, e.g. an account at a bank
        outside the region), each reason reads as its `redaction`, without that account's
        figures. A `member` of None holds no account. The decision as logged, which the hub
        and the holding member read, keeps every figure. A pass has no reasons: no work.
        """
        if member is not None and member == payee_holder:
            return self
        if all(reason.redaction is None for reason in self.reasons):
            return self
        return replace(self, reasons=tuple(reason.redacted() for reason in self.reasons))
