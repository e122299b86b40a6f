"""Hard controls state their reason in both languages, with the figures, and where to object;
a restricting decision always carries one; controls come before the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from engine_fixtures import ID_HASH, T0, book, directory, quiet_pack, tx

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action, Decision
from fundwall.engine.controls import (
    CONTROLS,
    ControlBook,
    Evidence,
    Listing,
    ListKind,
    Restriction,
    RestrictionKind,
    RiskCategory,
    RiskEntry,
)
from fundwall.engine.controls.model import NEVER_US
from fundwall.engine.controls.reasons import APPEAL_EN, APPEAL_ZH, local_time
from fundwall.engine.core import DecisionCore
from fundwall.engine.features.inputs import micros


def decide(control_book: ControlBook, *events: object) -> list[Decision]:
    core = DecisionCore(directory(), control_book, PolicySettings(), quiet_pack())
    return [core.decide(event).decision for event in events]  # type: ignore[arg-type]


def only_reason(decision: Decision) -> tuple[str, str, str, dict[str, object]]:
    (reason,) = decision.reasons
    return reason.rule_id, reason.text_zh, reason.text_en, dict(reason.values)


def test_stop_payment_names_its_order_its_end_and_the_appeal() -> None:
    ends = micros(T0 + timedelta(hours=48), "t")
    stopped = book()
    stopped.put_restriction(
        Restriction(
            1, "A1", RestrictionKind.STOP_PAYMENT, None, micros(T0, "t"), ends, "ZF-2024-0042"
        )
    )
    (decision,) = decide(stopped, tx(1, "A1", "B1", 100))
    rule_id, zh, en, values = only_reason(decision)
    assert decision.action is Action.BLOCK
    assert rule_id == "HC02"
    assert "紧急止付" in zh and "只收不付" in zh and "（至2024-03-06 09:00）" in zh
    assert "emergency stop-payment" in en and "(until 2024-03-06 09:00)" in en
    assert zh.endswith(APPEAL_ZH) and en.endswith(APPEAL_EN)
    assert values == {"reference": "ZF-2024-0042"}


def test_free_balance_reason_gives_the_figures() -> None:
    partial = book()
    partial.put_restriction(
        Restriction(1, "A1", RestrictionKind.FREEZE, 95_000_00, micros(T0, "t"), NEVER_US)
    )
    (decision,) = decide(partial, tx(1, "A1", "B1", 6_000_00))
    rule_id, zh, en, values = only_reason(decision)
    assert rule_id == "HC04"
    assert "¥95,000.00" in zh and "可用余额¥5,000.00" in zh and "¥6,000.00" in zh
    assert "free balance of ¥5,000.00 does not cover this ¥6,000.00" in en
    assert values == {"amount": 6_000_00, "payer_balance": 100_000_00, "held_fen": 95_000_00}


@pytest.mark.parametrize(
    ("status", "control", "zh_word", "en_word"),
    [
        (AccountStatus.CLOSED, "HC01", "销户", "closed"),
        (AccountStatus.FROZEN_FULL, "HC03", "冻结", "frozen"),
        (AccountStatus.DORMANT, "HC05", "久悬", "dormant"),
        (AccountStatus.NON_COUNTER_SUSPENDED, "HC06", "非柜面", "non-counter"),
    ],
)
def test_status_controls_say_what_the_status_means(
    status: AccountStatus, control: str, zh_word: str, en_word: str
) -> None:
    (decision,) = decide(book({"B1": status}), tx(1, "B1", "A1", 100))
    rule_id, zh, en, values = only_reason(decision)
    assert (decision.action, rule_id) == (Action.BLOCK, control)
    assert zh_word in zh and en_word in en and APPEAL_ZH in zh
    assert "（至" not in zh and "(until" not in en and values == {}


def test_limit_reason_gives_used_amount_and_limit() -> None:
    first, second = decide(book(), tx(1, "C2", "B1", 9_500_00), tx(2, "C2", "B1", 600_00))
    assert first.reasons == ()
    rule_id, zh, en, values = only_reason(second)
    assert rule_id == "HC11"
    assert zh == "Ⅱ类户当日已累计转出¥9,500.00，本笔¥600.00将超过日累计限额¥10,000.00"
    assert en == (
        "class II account: ¥9,500.00 paid out today; this ¥600.00 would pass the daily limit "
        "of ¥10,000.00"
    )
    assert values == {"used_fen": 9_500_00, "amount": 600_00, "limit_fen": 10_000_00}


def test_balance_cap_and_inflow_limit_reasons() -> None:
    capped, inflow = decide(book(), tx(1, "D1", "C3", 1_500_00), tx(2, "D1", "C2", 10_000_01))
    assert only_reason(capped)[1:3] == (
        "Ⅲ类户余额¥1,000.00，转入¥1,500.00后将超过余额上限¥2,000.00",
        "class III account: balance ¥1,000.00, this ¥1,500.00 would take it above the cap of "
        "¥2,000.00",
    )
    assert "从非绑定账户转入" in only_reason(inflow)[1]


def test_punishment_and_list_reasons() -> None:
    listed = book()
    listed.put_listing(Listing(1, ID_HASH["P2"], micros(T0, "t"), micros(T0, "t") + 10**12))
    listed.put_entry(
        RiskEntry(
            7, ListKind.ACCOUNT, "D1", RiskCategory.FRAUD_ACCOUNT, Evidence.POLICE_CONFIRMED,
            "PSB350200", micros(T0, "t"), NEVER_US,
        )
    )  # fmt: skip
    punished, hit = decide(listed, tx(1, "B1", "A1", 100), tx(2, "A1", "D1", 100))
    rule_id, zh, en, _ = only_reason(punished)
    assert rule_id == "HC08" and "联合惩戒" in zh and "joint punishment list" in en
    assert local_time(micros(T0, "t") + 10**12) in zh
    rule_id, zh, en, values = only_reason(hit)
    assert rule_id == "HC22"
    assert zh.startswith("收款账户在共享风险名单上：涉诈账户（公安机关确认）")
    assert "PSB350200" not in zh + en  # who reported an entry is not told to other members
    assert en.startswith("the receiving account is on the shared risk list: fraud account")
    assert values == {
        "category": "fraud_account",
        "evidence": "police_confirmed",
    }


def test_controls_come_first_then_rules_by_score() -> None:
    (decision,) = decide(book({"B1": AccountStatus.CLOSED}), tx(1, "A1", "B1", 777_00))
    assert [reason.rule_id for reason in decision.reasons] == ["HC07", "T777"]
    assert decision.score == 10 and decision.pack_version == quiet_pack().version


def test_every_control_has_a_unique_id_and_both_names() -> None:
    assert len({control.id for control in CONTROLS}) == len(CONTROLS)
    assert all(control.zh and control.en for control in CONTROLS)
