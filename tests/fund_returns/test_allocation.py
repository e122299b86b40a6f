"""The sharing rule of a return plan: exact, capped by each loss, monotone in the loss, and
independent of the order the victims are listed in, whatever the amounts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import MAX_FEN
from fundwall.fund_returns.allocation import (
    Allocation,
    AllocationMethod,
    VictimLoss,
    allocate,
)

losses = st.integers(min_value=1, max_value=10**12)
frozen = st.integers(min_value=0, max_value=10**12)


@st.composite
def victims(draw: st.DrawFn) -> list[VictimLoss]:
    accounts = draw(st.lists(st.from_regex(r"V[0-9]{1,4}", fullmatch=True), min_size=1,
                             max_size=12, unique=True))  # fmt: skip
    return [VictimLoss(account, draw(losses)) for account in accounts]


def amounts(allocation: Allocation) -> dict[str, int]:
    return {share.victim_account: share.amount_fen for share in allocation.shares}


@given(frozen, victims())
def test_the_sum_is_the_frozen_amount_up_to_the_losses_and_the_rest_stays_frozen(
    frozen_fen: int, listed: list[VictimLoss]
) -> None:
    allocation = allocate(frozen_fen, listed)
    total_loss = sum(v.loss_fen for v in listed)
    assert allocation.returned_fen == min(frozen_fen, total_loss)
    assert allocation.residual_fen == frozen_fen - allocation.returned_fen >= 0
    assert all(0 <= s.amount_fen <= s.loss_fen for s in allocation.shares)


@given(frozen, victims(), st.randoms(use_true_random=False))
def test_the_order_of_the_victims_changes_nothing(
    frozen_fen: int, listed: list[VictimLoss], random: object
) -> None:
    shuffled = list(listed)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert amounts(allocate(frozen_fen, listed)) == amounts(allocate(frozen_fen, shuffled))


@given(frozen, victims(), st.data())
def test_a_larger_loss_never_gets_less(
    frozen_fen: int, listed: list[VictimLoss], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(listed) - 1))
    more = data.draw(st.integers(1, 10**12))
    grown = list(listed)
    grown[index] = VictimLoss(listed[index].victim_account, listed[index].loss_fen + more)
    before = allocate(frozen_fen, listed).shares[index].amount_fen
    assert allocate(frozen_fen, grown).shares[index].amount_fen >= before


@given(frozen, victims())
def test_each_share_is_within_a_fen_of_its_exact_proportion(
    frozen_fen: int, listed: list[VictimLoss]
) -> None:
    total_loss = sum(v.loss_fen for v in listed)
    for share in allocate(frozen_fen, listed).shares:
        exact = min(frozen_fen, total_loss) * share.loss_fen
        assert abs(share.amount_fen * total_loss - exact) < total_loss


def test_one_victim_is_paid_directly_up_to_its_loss() -> None:
    direct = allocate(500_00, [VictimLoss("V1", 300_00)])
    assert direct.method is AllocationMethod.DIRECT
    assert (direct.shares[0].amount_fen, direct.residual_fen) == (300_00, 200_00)
    assert allocate(100_00, [VictimLoss("V1", 300_00)]).shares[0].amount_fen == 100_00


def test_the_fen_left_by_rounding_go_to_the_largest_remainders_then_by_account() -> None:
    # 100 fen among losses 1:1:1 → 33.33 each; the one fen left goes to the first account.
    split = allocate(100, [VictimLoss("V3", 500), VictimLoss("V1", 500), VictimLoss("V2", 500)])
    assert split.method is AllocationMethod.PROPORTIONAL
    assert amounts(split) == {"V1": 34, "V2": 33, "V3": 33}
    # 10 fen among losses 1:2:4 → 1.43, 2.86, 5.71: floors 1, 2, 5; the two left to .86, .71.
    thirds = [VictimLoss("A", 100), VictimLoss("B", 200), VictimLoss("C", 400)]
    assert amounts(allocate(10, thirds)) == {"A": 1, "B": 3, "C": 6}


@pytest.mark.parametrize(
    ("frozen_fen", "listed", "field"),
    [
        (-1, [VictimLoss("V1", 1)], "frozen_fen"),
        (MAX_FEN + 1, [VictimLoss("V1", 1)], "frozen_fen"),
        (10, [], "victims"),
        (10, [VictimLoss("V1", 0)], "victims[0].loss_fen"),
        (10, [VictimLoss("V1", 1), VictimLoss("V1", 2)], "victims[1].victim_account"),
    ],
)
def test_bad_amounts_and_repeated_victims_are_refused(
    frozen_fen: int, listed: list[VictimLoss], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        allocate(frozen_fen, listed)
    assert refused.value.field == field
