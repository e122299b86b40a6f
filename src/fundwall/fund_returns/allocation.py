"""How a frozen amount is shared among the victims whose money it is (资金返还的分配).

Pure computation: no database, no actor. The rule (docs/returns.md):

- One victim: the frozen money goes back to that victim directly, up to the victim's loss.
- Several victims: each gets frozen × loss ÷ total loss, rounded down to the fen; the fen
  the rounding leaves over go one each to the victims with the largest rounding remainders
  (largest-remainder method), ties by the victim's account number, so the result does not
  depend on the order the victims are listed in.
- Never more than the losses: what the victims lost in total caps what is returned; the rest
  of the frozen money (the residual) stays frozen, for victims found later.

The sum returned is min(frozen, total loss) exactly; no victim gets more than its loss; a
victim's amount never falls when its loss grows (tests/fund_returns/test_allocation.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import MAX_FEN

MAX_VICTIMS: Final = 1_000
"""Victims one plan shares a frozen amount among at most."""


class AllocationMethod(StrEnum):
    DIRECT = "direct"
    """直接返还: the money is one victim's."""
    PROPORTIONAL = "proportional"
    """按比例分配: several victims' money is mixed; shared in proportion to their losses."""


@dataclass(frozen=True, slots=True)
class VictimLoss:
    """A victim, named by the account the money goes back to, and its traced loss in the
    frozen account."""

    victim_account: str
    loss_fen: int


@dataclass(frozen=True, slots=True)
class Share:
    """What one victim gets back."""

    victim_account: str
    loss_fen: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Allocation:
    """The frozen amount shared: each victim's share, in the order given, and the residual
    that stays frozen."""

    method: AllocationMethod
    frozen_fen: int
    shares: tuple[Share, ...]
    residual_fen: int

    @property
    def returned_fen(self) -> int:
        return sum(share.amount_fen for share in self.shares)


def allocate(frozen_fen: int, victims: Sequence[VictimLoss]) -> Allocation:
    """Share `frozen_fen` among `victims` by the rule above; InvalidInput for an empty or
    too long list, a victim listed twice, or an amount that is not a whole number of fen
    between 1 (0 for the frozen amount) and `MAX_FEN`."""
    _check(frozen_fen, victims)
    total_loss = sum(victim.loss_fen for victim in victims)
    returned = min(frozen_fen, total_loss)
    method = AllocationMethod.DIRECT if len(victims) == 1 else AllocationMethod.PROPORTIONAL
    if returned == total_loss:
        amounts = {victim.victim_account: victim.loss_fen for victim in victims}
    else:
        amounts = _largest_remainder(frozen_fen, total_loss, victims)
    shares = tuple(
        Share(victim.victim_account, victim.loss_fen, amounts[victim.victim_account])
        for victim in victims
    )
    return Allocation(method, frozen_fen, shares, frozen_fen - returned)


def _largest_remainder(
    frozen_fen: int, total_loss: int, victims: Sequence[VictimLoss]
) -> dict[str, int]:
    """frozen × loss ÷ total rounded down, and the fen left over one each to the largest
    remainders (exact integers: every remainder has the same denominator, `total_loss`)."""
    amounts: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for victim in victims:
        amount, remainder = divmod(frozen_fen * victim.loss_fen, total_loss)
        amounts[victim.victim_account] = amount
        remainders.append((remainder, victim.victim_account))
    left_over = frozen_fen - sum(amounts.values())
    # Largest remainder first; equal remainders by account number, whatever the input order.
    remainders.sort(key=lambda pair: (-pair[0], pair[1]))
    for _, account in remainders[:left_over]:
        amounts[account] += 1
    return amounts


def _check(frozen_fen: int, victims: Sequence[VictimLoss]) -> None:
    if type(frozen_fen) is not int or not 0 <= frozen_fen <= MAX_FEN:
        raise InvalidInput(f"a whole number of fen from 0 to {MAX_FEN}", "frozen_fen")
    if not 1 <= len(victims) <= MAX_VICTIMS:
        raise InvalidInput(f"name 1 to {MAX_VICTIMS} victims", "victims")
    seen: set[str] = set()
    for index, victim in enumerate(victims):
        if type(victim.loss_fen) is not int or not 1 <= victim.loss_fen <= MAX_FEN:
            raise InvalidInput(
                f"a loss is a whole number of fen from 1 to {MAX_FEN}", f"victims[{index}].loss_fen"
            )
        if victim.victim_account in seen:
            raise InvalidInput(
                "this victim account is listed twice; give its losses as one sum",
                f"victims[{index}].victim_account",
            )
        seen.add(victim.victim_account)
