"""A trace as JSON, the way `traces.result` and `traces.starts` store it, and back: pure
values both ways (times as ISO 8601 with their offset, money as integer fen)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fundwall.tracing.model import (
    AttributionRule,
    ExitKind,
    Share,
    TracedAccount,
    TracedTransfer,
    TraceResult,
    TraceStart,
)


def start_json(start: TraceStart) -> dict[str, Any]:
    return {
        "source": start.source,
        "account_no": start.account_no,
        "at": start.at.isoformat(),
        "amount_fen": start.amount_fen,
        "tx_id": start.tx_id,
    }


def start_of(data: dict[str, Any]) -> TraceStart:
    return TraceStart(
        data["source"],
        data["account_no"],
        datetime.fromisoformat(data["at"]),
        data["amount_fen"],
        data.get("tx_id"),
    )


def result_json(result: TraceResult) -> dict[str, Any]:
    """What `traces.result` holds: the accounts reached and the transfers (rule, starts and
    moment have columns of their own)."""
    return {
        "accounts": [
            {
                "account_no": account.account_no,
                "bank": account.bank,
                "hop": account.hop,
                "reached_at": account.reached_at.isoformat(),
                "attributed": _shares_json(account.attributed),
                "held": _shares_json(account.held),
            }
            for account in result.accounts
        ],
        "transfers": [
            {
                "tx_id": transfer.tx_id,
                "ts": transfer.ts.isoformat(),
                "payer_account": transfer.payer_account,
                "payee_account": transfer.payee_account,
                "payee_bank": transfer.payee_bank,
                "amount_fen": transfer.amount_fen,
                "hop": transfer.hop,
                "carried": _shares_json(transfer.carried),
                "exit": transfer.exit.value if transfer.exit is not None else None,
            }
            for transfer in result.transfers
        ],
    }


def result_of(
    rule: str, starts: list[dict[str, Any]], as_of: datetime, data: dict[str, Any]
) -> TraceResult:
    return TraceResult(
        AttributionRule(rule),
        tuple(start_of(start) for start in starts),
        as_of,
        tuple(
            TracedAccount(
                item["account_no"],
                item["bank"],
                item["hop"],
                datetime.fromisoformat(item["reached_at"]),
                _shares_of(item["attributed"]),
                _shares_of(item["held"]),
            )
            for item in data["accounts"]
        ),
        tuple(
            TracedTransfer(
                item["tx_id"],
                datetime.fromisoformat(item["ts"]),
                item["payer_account"],
                item["payee_account"],
                item["payee_bank"],
                item["amount_fen"],
                item["hop"],
                _shares_of(item["carried"]),
                ExitKind(item["exit"]) if item["exit"] is not None else None,
            )
            for item in data["transfers"]
        ),
    )


def _shares_json(shares: tuple[Share, ...]) -> list[list[Any]]:
    return [[share.source, share.amount_fen] for share in shares]


def _shares_of(data: list[list[Any]]) -> tuple[Share, ...]:
    return tuple(Share(source, amount) for source, amount in data)
