"""Each hard control, on both executions (online one by one, bulk replay): what it forces,
when it holds and when it does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from engine_fixtures import ID_HASH, SHARED_ID, SHARED_PHONE, T0, Run, Verdict, book, tx

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.engine.controls import (
    Evidence,
    Listing,
    ListKind,
    Restriction,
    RestrictionKind,
    RiskCategory,
    RiskEntry,
)
from fundwall.engine.controls.model import NEVER_US
from fundwall.engine.features.inputs import micros


def at(minutes: float) -> int:
    return micros(T0 + timedelta(minutes=minutes), "t")


def outcome(verdicts: list[Verdict]) -> list[tuple[Action, tuple[str, ...]]]:
    return [(v.action, v.controls) for v in verdicts]


PASS = (Action.PASS, ())


def test_closed_accounts_neither_pay_nor_receive(run: Run, policy: PolicySettings) -> None:
    events = [tx(1, "B1", "A1", 100), tx(2, "A1", "B1", 100), tx(3, "A1", "D1", 100)]
    verdicts = run(events, book({"B1": AccountStatus.CLOSED}), policy)
    assert outcome(verdicts) == [
        (Action.BLOCK, ("HC01",)),
        (Action.BLOCK, ("HC07",)),
        PASS,
    ]


def test_stop_paid_account_receives_but_does_not_pay(run: Run, policy: PolicySettings) -> None:
    events = [
        tx(1, "A1", "B1", 100, channel="counter"),
        tx(2, "B1", "A1", 100),
        tx(3, None, "A1", 100, channel="counter"),
        tx(4, "A1", None, 100, channel="atm"),
    ]
    verdicts = run(events, book({"A1": AccountStatus.STOP_PAID}), policy)
    assert outcome(verdicts) == [
        (Action.BLOCK, ("HC02",)),
        PASS,
        PASS,
        (Action.BLOCK, ("HC02",)),
    ]


def test_a_freeze_holds_only_within_its_period(run: Run, policy: PolicySettings) -> None:
    freezes = book()
    freezes.put_restriction(
        Restriction(1, "A1", RestrictionKind.FREEZE, None, at(10), at(20), "F-2024-1")
    )
    events = [tx(9, "A1", "B1", 100), tx(10, "A1", "B1", 100), tx(20, "A1", "B1", 100)]
    assert outcome(run(events, freezes, policy)) == [PASS, (Action.BLOCK, ("HC03",)), PASS]


def test_frozen_status_and_whole_stop_payment_block_outflows(
    run: Run, policy: PolicySettings
) -> None:
    stopped = book({"D1": AccountStatus.FROZEN_FULL})
    stopped.put_restriction(
        Restriction(2, "B1", RestrictionKind.STOP_PAYMENT, None, at(0), NEVER_US)
    )
    events = [tx(1, "D1", "A1", 100), tx(2, "B1", "A1", 100), tx(3, "A1", "B1", 100)]
    assert outcome(run(events, stopped, policy)) == [
        (Action.BLOCK, ("HC03",)),
        (Action.BLOCK, ("HC02",)),
        PASS,
    ]


def test_a_partial_freeze_leaves_the_balance_above_it_free(
    run: Run, policy: PolicySettings
) -> None:
    partial = book()
    partial.put_restriction(
        Restriction(3, "A1", RestrictionKind.FREEZE, 90_000_00, at(0), NEVER_US)
    )
    events = [
        tx(1, "A1", "B1", 10_000_00),  # the balance of ¥100,000 leaves exactly ¥10,000 free
        tx(2, "A1", "B1", 1),
        tx(3, "B1", "A1", 500),
        tx(4, "A1", "B1", 500),
        tx(5, "A1", "B1", 1),
    ]
    assert outcome(run(events, partial, policy)) == [
        PASS,
        (Action.BLOCK, ("HC04",)),
        PASS,
        PASS,
        (Action.BLOCK, ("HC04",)),
    ]


def test_partial_stop_payments_add_up(run: Run, policy: PolicySettings) -> None:
    held = book()
    held.put_restriction(
        Restriction(4, "B1", RestrictionKind.STOP_PAYMENT, 20_000_00, at(0), NEVER_US)
    )
    held.put_restriction(Restriction(5, "B1", RestrictionKind.FREEZE, 20_000_00, at(0), at(5)))
    events = [tx(1, "B1", "A1", 10_000_00 + 1), tx(6, "B1", "A1", 10_000_00 + 1)]
    assert outcome(run(events, held, policy)) == [(Action.BLOCK, ("HC04",)), PASS]


def test_a_partial_freeze_status_without_amount_frees_nothing(
    run: Run, policy: PolicySettings
) -> None:
    verdicts = run([tx(1, "B1", "A1", 1)], book({"B1": AccountStatus.FROZEN_PARTIAL}), policy)
    assert outcome(verdicts) == [(Action.BLOCK, ("HC04",))]


def test_dormant_account_pays_out_through_no_channel(run: Run, policy: PolicySettings) -> None:
    events = [
        tx(1, "D1", "A1", 100, channel="counter"),
        tx(2, "D1", "A1", 100),
        tx(3, "A1", "D1", 100),
    ]
    verdicts = run(events, book({"D1": AccountStatus.DORMANT}), policy)
    assert outcome(verdicts) == [(Action.BLOCK, ("HC05",)), (Action.BLOCK, ("HC05",)), PASS]


def test_non_counter_suspension_leaves_the_counter_open(run: Run, policy: PolicySettings) -> None:
    suspended = book({"B1": AccountStatus.NON_COUNTER_SUSPENDED})
    suspended.put_restriction(
        Restriction(6, "A1", RestrictionKind.NON_COUNTER_SUSPENSION, None, at(0), at(10))
    )
    events = [
        tx(1, "B1", "A1", 100, channel="mobile"),
        tx(2, "B1", "A1", 100, channel="counter"),
        tx(3, "B1", None, 100, channel="atm"),
        tx(4, "A1", "B1", 100, channel="pos"),
        tx(11, "A1", "B1", 100, channel="online"),
    ]
    assert outcome(run(events, suspended, policy)) == [
        (Action.BLOCK, ("HC06",)),
        PASS,
        (Action.BLOCK, ("HC06",)),
        (Action.BLOCK, ("HC06",)),
        PASS,
    ]


def test_punished_person_pays_only_at_a_counter_while_listed(
    run: Run, policy: PolicySettings
) -> None:
    punished = book()
    punished.put_listing(Listing(1, ID_HASH["P2"], at(0), at(60)))
    events = [
        tx(1, "B1", "A1", 100),
        tx(2, "C3", "A1", 100, channel="atm"),
        tx(3, "B1", "A1", 100, channel="counter"),
        tx(4, "A1", "B1", 100),
        tx(61, "B1", "A1", 100),
    ]
    assert outcome(run(events, punished, policy)) == [
        (Action.BLOCK, ("HC08",)),
        (Action.BLOCK, ("HC08",)),
        PASS,
        PASS,
        PASS,
    ]


DAY = 24 * 60


def test_class_ii_daily_outflow_limit_counts_non_bound_flows(
    run: Run, policy: PolicySettings
) -> None:
    events = [
        tx(1, "C2", "B1", 9_000_00),
        tx(2, "C2", None, 1_000_00, channel="atm"),  # ¥10,000 reached, not passed
        tx(3, "C2", "B1", 1),
        tx(4, "C2", "A1", 3_000_00),  # to its bound account: not limited
        tx(DAY, "C2", "B1", 1_000_00),  # 2024-03-05 09:00 Beijing: a new day
    ]
    assert outcome(run(events, book(), policy)) == [
        PASS,
        PASS,
        (Action.BLOCK, ("HC11",)),
        PASS,
        PASS,
    ]


def test_an_outflow_cap_counts_non_bound_outflows_outside_a_counter(
    run: Run, policy: PolicySettings
) -> None:
    """A risk tier's cap of ¥500 a day on class II C2 (bound to A1), the lower of two caps."""
    capped = book()
    capped.put_restriction(
        Restriction(1, "C2", RestrictionKind.OUTFLOW_CAP, 800_00, at(0), NEVER_US)
    )
    capped.put_restriction(Restriction(2, "C2", RestrictionKind.OUTFLOW_CAP, 500_00, at(0), at(60)))
    events = [
        tx(1, "C2", "B1", 300_00),
        tx(2, "C2", "B1", 300_00),  # ¥600 would pass ¥500
        tx(3, "C2", "B1", 300_00, channel="counter"),  # a counter still pays
        tx(4, "C2", "A1", 2_000_00),  # home to the bound account: not capped
        tx(61, "C2", "B1", 200_00),  # the ¥500 cap ended; ¥800 holds: 300 + 300 + 200
        tx(62, "C2", "B1", 1),
    ]  # fmt: skip
    assert outcome(run(events, capped, policy)) == [
        PASS,
        (Action.BLOCK, ("HC18",)),
        PASS,
        PASS,
        PASS,
        (Action.BLOCK, ("HC18",)),
    ]


def test_limits_follow_the_beijing_calendar(run: Run) -> None:
    tight = PolicySettings(
        class_ii_outflow_daily_limit_fen=10_000_00, class_ii_outflow_yearly_limit_fen=15_000_00
    )
    # T0 is 09:00 on 2024-03-04 in Beijing; 14:59 later is 23:59, 15:00 later is midnight.
    events = [
        tx(0, "C2", "B1", 10_000_00),
        tx(14 * 60 + 59, "C2", "B1", 1),
        tx(15 * 60, "C2", "B1", 5_000_00),
        tx(15 * 60 + 1, "C2", "B1", 1),
    ]
    assert outcome(run(events, book(), tight)) == [
        PASS,
        (Action.BLOCK, ("HC11",)),
        PASS,
        (Action.BLOCK, ("HC12",)),
    ]


def test_yearly_limits_start_again_on_new_year_in_beijing(run: Run) -> None:
    tight = PolicySettings(
        class_iii_outflow_daily_limit_fen=2_000_00, class_iii_outflow_yearly_limit_fen=2_000_00
    )
    eve = (T0.replace(month=12, day=31, hour=15, minute=59) - T0).total_seconds() / 60
    events = [tx(eve, "C3", "A1", 2_000_00), tx(eve + 0.5, "C3", "A1", 1)]
    events.append(tx(eve + 1, "C3", "A1", 1))  # 2025-01-01 00:00 in Beijing
    assert outcome(run(events, book(), tight)) == [
        PASS,
        (Action.BLOCK, ("HC13", "HC14")),
        PASS,
    ]


def test_class_iii_outflow_limit(run: Run, policy: PolicySettings) -> None:
    events = [tx(1, "C3", "A1", 1_000_00), tx(2, "C3", "A1", 1_000_00), tx(3, "C3", "A1", 1)]
    assert outcome(run(events, book(), policy)) == [PASS, PASS, (Action.BLOCK, ("HC13",))]


def test_class_ii_inflow_limit_counts_deposits_not_the_bound_account(
    run: Run, policy: PolicySettings
) -> None:
    events = [
        tx(1, "B1", "C2", 6_000_00),
        tx(2, None, "C2", 4_000_00, channel="counter"),
        tx(3, "A1", "C2", 5_000_00),  # from its bound account: not limited
        tx(4, "D1", "C2", 1),
    ]
    assert outcome(run(events, book(), policy)) == [
        PASS,
        PASS,
        PASS,
        (Action.BLOCK, ("HC15",)),
    ]


def test_class_iii_balance_cap_applies_to_every_inflow(run: Run, policy: PolicySettings) -> None:
    events = [
        tx(1, "D1", "C3", 1_000_00),  # ¥1,000 + ¥1,000 = the ¥2,000 cap
        tx(2, "B1", "C3", 1),  # even from its bound account
        tx(3, "C3", "A1", 500),
        tx(4, "D1", "C3", 500),
    ]
    assert outcome(run(events, book(), policy)) == [
        PASS,
        (Action.BLOCK, ("HC17",)),
        PASS,
        PASS,
    ]


def test_blocked_payments_use_up_no_limit_and_no_balance(run: Run, policy: PolicySettings) -> None:
    events = [
        tx(1, "C3", "A1", 3_000_00),  # over the day's ¥2,000: refused by the control
        tx(2, "C3", "A1", 777_00),  # refused by the pack's rule T777
        tx(3, "C3", "A1", 1_000_00),  # so ¥1,000 of the ¥1,000 balance is still there
        tx(4, "D1", "C3", 2_000_00),  # balance 0 + ¥2,000 = the cap
    ]
    verdicts = run(events, book(), policy)
    assert outcome(verdicts) == [(Action.BLOCK, ("HC13",)), (Action.BLOCK, ()), PASS, PASS]
    assert verdicts[1].rules == ("T777",)


def test_risk_list_hits_act_by_category_and_side(run: Run, policy: PolicySettings) -> None:
    listed = book()
    entries = [
        (ListKind.ACCOUNT, "D1", RiskCategory.FRAUD_ACCOUNT),
        (ListKind.ACCOUNT, "F1", RiskCategory.MULE),
        (ListKind.DEVICE, "DEV-9", RiskCategory.CARD_DEALER),
        (ListKind.IP, "10.9.9.9", RiskCategory.AT_RISK_VICTIM),
        (ListKind.PHONE_HASH, SHARED_PHONE["P1"][0], RiskCategory.AT_RISK_VICTIM),
        (ListKind.ID_HASH, SHARED_ID["P2"][1], RiskCategory.FRAUD_ACCOUNT),
    ]
    for i, (kind, key, category) in enumerate(entries, start=1):
        listed.put_entry(
            RiskEntry(i, kind, key, category, Evidence.POLICE_CONFIRMED, "301", at(0), NEVER_US)
        )
    events = [
        tx(1, "A1", "D1", 100),  # payee a fraud account; payer P1 a likely victim
        tx(2, "F1", "D1", 100),  # payer a mule, payee a fraud account
        tx(3, "F1", None, 100, channel="atm", device="DEV-9"),
        tx(4, "D1", "A1", 100, ip="10.9.9.9"),  # victim category on the payee side: no effect
        tx(5, "F1", "A1", 100, device="DEV-1", ip="10.0.0.1"),
        tx(6, "F1", "B1", 100),  # payee's holder P2 listed by ID number
    ]
    assert outcome(run(events, listed, policy)) == [
        (Action.BLOCK, ("HC22", "HC25")),
        (Action.BLOCK, ("HC21", "HC22")),
        (Action.BLOCK, ("HC21", "HC23")),
        (Action.BLOCK, ("HC21", "HC24")),
        (Action.BLOCK, ("HC21",)),
        (Action.BLOCK, ("HC21", "HC26")),
    ]


def test_list_actions_below_block(run: Run, policy: PolicySettings) -> None:
    listed = book()
    listed.put_entry(
        RiskEntry(
            1, ListKind.DEVICE, "DEV-9", RiskCategory.CARD_DEALER, Evidence.MEMBER_SUSPECTED,
            "302", at(0), NEVER_US,
        )
    )  # fmt: skip
    listed.put_entry(
        RiskEntry(
            2, ListKind.ACCOUNT, "A1", RiskCategory.AT_RISK_VICTIM, Evidence.MEMBER_VERIFIED,
            "301", at(0), NEVER_US,
        )
    )  # fmt: skip
    events = [tx(1, "B1", None, 100, device="DEV-9"), tx(2, "A1", "B1", 100, device="DEV-9")]
    assert outcome(run(events, listed, policy)) == [
        (Action.ALERT, ("HC23",)),
        (Action.WARN, ("HC21", "HC23")),
    ]


def test_list_entries_count_only_while_valid(run: Run, policy: PolicySettings) -> None:
    listed = book()
    listed.put_entry(
        RiskEntry(
            1, ListKind.ACCOUNT, "D1", RiskCategory.FRAUD_ACCOUNT, Evidence.POLICE_CONFIRMED,
            "301", at(10), at(20),
        )
    )  # fmt: skip
    events = [tx(9, "A1", "D1", 100), tx(10, "A1", "D1", 100), tx(20, "A1", "D1", 100)]
    assert outcome(run(events, listed, policy)) == [PASS, (Action.BLOCK, ("HC22",)), PASS]


def test_controls_and_rules_combine_to_the_most_severe(run: Run, policy: PolicySettings) -> None:
    listed = book()
    listed.put_entry(
        RiskEntry(
            1, ListKind.ACCOUNT, "B1", RiskCategory.CARD_DEALER, Evidence.POLICE_CONFIRMED,
            "301", at(0), NEVER_US,
        )
    )  # fmt: skip
    verdicts = run([tx(1, "A1", "B1", 777_00), tx(2, "A1", "B1", 500_00)], listed, policy)
    assert [(v.action, v.controls, v.rules, v.score) for v in verdicts] == [
        (Action.BLOCK, ("HC22",), ("T777",), 10),
        (Action.ALERT, ("HC22",), ("T500",), 30),
    ]


def test_a_transaction_without_channel_is_not_a_non_counter_one(
    run: Run, policy: PolicySettings
) -> None:
    """As the feature `is_non_counter` reads it: suspensions and the punishment list bind
    channels known to be outside a counter."""
    unknown = replace(tx(1, "B1", "A1", 100), channel=None)
    verdicts = run([unknown], book({"B1": AccountStatus.NON_COUNTER_SUSPENDED}), policy)
    assert outcome(verdicts) == [PASS]
