"""What a funds-chain trace (资金链查控) is made of: where it starts, the rule that attributes
the victims' money, and what it finds — the accounts reached, the transfers that carried the
money, and where the money left the region's accounts.

Pure values: no database, no actor. `fundwall.tracing.trace` computes a `TraceResult` over a
`fundwall.tracing.index.TransferIndex`; the `tracing` workflow's use cases store it, draw it
and turn it into a batch of stop-payment orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

MAX_HOPS: Final = 10
"""The longest chain followed (real cases reached the 10th level, REGULATIONS.md)."""
MAX_STARTS: Final = 10_000
"""Victim payments one trace starts from at most (every report of a region at once)."""


class AttributionRule(StrEnum):
    """How the money leaving an account is told apart (docs/tracing.md).

    FIFO: the money that came in first goes out first, so an outgoing payment carries the
    oldest money in the account. LIFO: the money that came in last goes out first, as a mule
    passes on what it was just sent. PROPORTIONAL (the "haircut" rule): an outgoing payment
    carries each source's share of the balance it leaves from."""

    FIFO = "fifo"
    LIFO = "lifo"
    PROPORTIONAL = "proportional"


DEFAULT_RULE: Final = AttributionRule.LIFO
"""The rule a trace uses unless told: a mule holds money briefly and passes on what it was
just sent (TYPOLOGIES.md, "How the money moves"); docs/tracing.md compares the three."""


class ExitKind(StrEnum):
    """How traced money left the accounts the region's banks hold."""

    CASH = "cash"
    """Withdrawn in cash (ATM, counter)."""
    OUTSIDE = "outside"
    """Paid to an account at a bank outside the region (or one the directory does not know)."""
    BEYOND = "beyond"
    """Paid on past the trace's last hop: followed no further."""


@dataclass(frozen=True, slots=True)
class TraceStart:
    """A victim's payment a trace follows: `source` names the victim (a report id, or a label
    the officer types), the first-level account paid, when and how much."""

    source: str
    account_no: str
    at: datetime
    amount_fen: int
    tx_id: str | None = None
    """The victim's transfer itself, when known (then it is the trace's first edge)."""


@dataclass(frozen=True, slots=True)
class Share:
    """How much of one source's money a place holds or carried."""

    source: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class TracedAccount:
    """An account the victims' money reached.

    `hop` is 1 for a first-level account; `attributed` what of each source's money came in,
    `held` what of it is still there at the trace's `as_of` (after what left it)."""

    account_no: str
    bank: str | None
    hop: int
    reached_at: datetime
    attributed: tuple[Share, ...]
    held: tuple[Share, ...]

    @property
    def attributed_fen(self) -> int:
        return sum(share.amount_fen for share in self.attributed)

    @property
    def held_fen(self) -> int:
        return sum(share.amount_fen for share in self.held)


@dataclass(frozen=True, slots=True)
class TracedTransfer:
    """A transfer that carried traced money (`carried`, by source) from one account to the
    next, or out of the region (`exit`)."""

    tx_id: str
    ts: datetime
    payer_account: str
    payee_account: str | None
    payee_bank: str | None
    amount_fen: int
    hop: int
    carried: tuple[Share, ...]
    exit: ExitKind | None = None

    @property
    def carried_fen(self) -> int:
        return sum(share.amount_fen for share in self.carried)


@dataclass(frozen=True, slots=True)
class TraceResult:
    """A trace: its starts and rule, as of a moment, and what it found."""

    rule: AttributionRule
    starts: tuple[TraceStart, ...]
    as_of: datetime
    accounts: tuple[TracedAccount, ...]
    transfers: tuple[TracedTransfer, ...]

    @property
    def exits(self) -> tuple[TracedTransfer, ...]:
        """The transfers by which traced money left the region's accounts."""
        return tuple(transfer for transfer in self.transfers if transfer.exit is not None)


@dataclass(frozen=True, slots=True)
class ProposedStop:
    """A stop-payment the trace proposes: an account still holding traced money, with the
    amount of it (the order's amount)."""

    account_no: str
    bank: str | None
    hop: int
    amount_fen: int
    sources: tuple[str, ...]


def proposed_stops(result: TraceResult, minimum_fen: int = 1) -> tuple[ProposedStop, ...]:
    """Every reached account still holding at least `minimum_fen` of traced money, the
    nearest hops first: what the officer stops in one batch."""
    held = [account for account in result.accounts if account.held_fen >= minimum_fen]
    held.sort(key=lambda account: (account.hop, -account.held_fen, account.account_no))
    return tuple(
        ProposedStop(
            account.account_no,
            account.bank,
            account.hop,
            account.held_fen,
            tuple(share.source for share in account.held if share.amount_fen > 0),
        )
        for account in held
    )


def result_dict(result: TraceResult) -> dict[str, Any]:
    """The trace as plain JSON values (money in fen, times in ISO 8601): what is stored, sent
    by the API and printed by `fundwall trace --json`."""

    def shares(values: tuple[Share, ...]) -> dict[str, int]:
        return {share.source: share.amount_fen for share in values}

    return {
        "rule": result.rule.value,
        "as_of": result.as_of.isoformat(),
        "starts": [
            {
                "source": start.source,
                "account_no": start.account_no,
                "at": start.at.isoformat(),
                "amount_fen": start.amount_fen,
                "tx_id": start.tx_id,
            }
            for start in result.starts
        ],
        "accounts": [
            {
                "account_no": account.account_no,
                "bank": account.bank,
                "hop": account.hop,
                "reached_at": account.reached_at.isoformat(),
                "attributed": shares(account.attributed),
                "held": shares(account.held),
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
                "carried": shares(transfer.carried),
                "exit": transfer.exit.value if transfer.exit else None,
            }
            for transfer in result.transfers
        ],
    }
