"""Response bodies of the HTTP API, as pydantic models so that /docs shows them.

The routes write the answers straight from the domain's (already checked) decisions with
`Decision.to_dict` and orjson; these models document them and the tests hold the two together.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from fundwall.domain.decisions import Action

_DECISION_EXAMPLE: Final[dict[str, Any]] = {
    "tx_id": "T20240501-000001",
    "action": "delay",
    "score": 72,
    "reasons": [
        {
            "rule_id": "R012",
            "text_zh": "1小时内转入¥52,000.00后转出¥50,000.00",
            "text_en": "received ¥52,000.00 and sent out ¥50,000.00 within an hour",
            "values": {"payer_in_sum_1h": 5200000, "payer_out_sum_1h": 5000000},
        }
    ],
    "pack_version": "default-2024.05",
    "model_version": None,
    "latency_us": 412,
}


class ReasonOut(BaseModel):
    """Why a rule or model fired, in Chinese and English, with the figures it saw.

    When the payee's account is held by another member (or a bank outside the region), the
    texts and values leave out that account's figures (`Decision.seen_by`).
    """

    model_config = ConfigDict(frozen=True)

    rule_id: str = Field(description="id of the rule (or model) in its pack")
    text_zh: str = Field(description="the reason in Chinese")
    text_en: str = Field(description="the reason in English")
    values: dict[str, int | float | str] = Field(
        description=(
            "the feature values the texts refer to; money in whole fen; none of a payee "
            "account held by another member"
        )
    )


class DecisionOut(BaseModel):
    """The engine's decision on one transaction."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_DECISION_EXAMPLE]})

    tx_id: str = Field(description="the transaction's id, as sent")
    action: Action = Field(
        description=(
            "`pass`; `alert` (pass, and an analyst reviews it); `warn` (warn the payer "
            "before the money moves, 预警劝阻); `delay` (hold the money so the payer may "
            "cancel, then settle); `block` (refuse it). `delay` and `block` always carry "
            "at least one reason."
        )
    )
    score: int = Field(description="risk score the rules and models added up to")
    reasons: list[ReasonOut] = Field(description="why, most important first; may be empty")
    pack_version: str = Field(description="version of the rule pack that decided")
    model_version: str | None = Field(description="version of the model that scored, if any")
    latency_us: int | None = Field(description="time the engine took to decide, microseconds")


class HealthOut(BaseModel):
    """The process is up and answers requests."""

    status: str = Field(examples=["ok"])
