from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.decisions import Action, Decision, Reason, Redaction, most_severe
from fundwall.domain.errors import InvalidInput

QUICK_IN_OUT = Reason(
    rule_id="R012",
    text_zh="1小时内转入¥60,000.00后转出¥58,000.00",
    text_en="received ¥60,000.00 and sent out ¥58,000.00 within an hour",
    values={"in_amount_1h": 6_000_000, "out_ratio": 0.97, "typology": "mule"},
)


def test_severity_order() -> None:
    order = [Action.PASS, Action.ALERT, Action.WARN, Action.DELAY, Action.BLOCK]
    assert sorted(Action, key=lambda action: action.severity) == order
    assert [action.restricts for action in order] == [False, False, False, True, True]


def test_most_severe() -> None:
    assert most_severe([Action.WARN, Action.BLOCK, Action.ALERT]) is Action.BLOCK
    assert most_severe([Action.ALERT, Action.PASS]) is Action.ALERT
    assert most_severe(iter([Action.DELAY])) is Action.DELAY
    assert most_severe([]) is Action.PASS


@given(st.lists(st.sampled_from(list(Action))))
def test_most_severe_dominates_every_action(actions: list[Action]) -> None:
    top = most_severe(actions)
    assert all(top.severity >= action.severity for action in actions)
    assert top in actions or (not actions and top is Action.PASS)


def test_reason_values_are_read_only_and_hashable() -> None:
    assert QUICK_IN_OUT.values["in_amount_1h"] == 6_000_000
    with pytest.raises(TypeError):
        QUICK_IN_OUT.values["x"] = 1  # type: ignore[index]
    copy = Reason(QUICK_IN_OUT.rule_id, QUICK_IN_OUT.text_zh, QUICK_IN_OUT.text_en, {
        "typology": "mule", "out_ratio": 0.97, "in_amount_1h": 6_000_000,
    })  # fmt: skip
    assert copy == QUICK_IN_OUT
    assert hash(copy) == hash(QUICK_IN_OUT)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"x": float("nan")}, "values.x"),
        ({"x": float("inf")}, "values.x"),
        ({"x": True}, "values.x"),
        ({"x": None}, "values.x"),
        ({"x": ""}, "values.x"),
        ({"bad key": 1}, "values"),
        ({3: 1}, "values"),
        ([("x", 1)], "values"),
    ],
)
def test_reason_value_errors(values: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Reason("R1", "原因", "reason", values)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "原因", "reason", {}), "rule_id"),
        (("R1", " ", "reason", {}), "text_zh"),
        (("R1", "原因", "x" * 501, {}), "text_en"),
    ],
)
def test_reason_text_errors(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Reason(*args)  # type: ignore[arg-type]
    assert caught.value.field == field


def decision(**changes: object) -> Decision:
    values: dict[str, Any] = {
        "tx_id": "T1",
        "action": Action.DELAY,
        "score": 70,
        "reasons": (QUICK_IN_OUT,),
        "pack_version": "2024.05.1",
    }
    return Decision(**(values | changes))


def test_decision_defaults_and_normalisation() -> None:
    made = decision(action="block", reasons=[QUICK_IN_OUT])
    assert made.action is Action.BLOCK
    assert made.reasons == (QUICK_IN_OUT,)
    assert (made.model_version, made.latency_us, made.shadow) == (None, None, False)
    assert decision(action=Action.PASS, reasons=(), score=0).reasons == ()
    assert decision(model_version="lgbm-3", latency_us=0, shadow=True).shadow
    assert hash(made) == hash(decision(action="block"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tx_id": ""}, "tx_id"),
        ({"action": "hold"}, "action"),
        ({"score": 7.5}, "score"),
        ({"score": True}, "score"),
        ({"reasons": QUICK_IN_OUT}, "reasons"),
        ({"reasons": ("R012",)}, "reasons[0]"),
        ({"reasons": ()}, "reasons"),
        ({"action": Action.BLOCK, "reasons": ()}, "reasons"),
        ({"pack_version": "v 1"}, "pack_version"),
        ({"model_version": ""}, "model_version"),
        ({"latency_us": -1}, "latency_us"),
        ({"latency_us": 1.5}, "latency_us"),
        ({"shadow": "yes"}, "shadow"),
    ],
)
def test_decision_errors_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decision(**change)
    assert caught.value.field == field


def test_a_restriction_must_state_its_reason() -> None:
    with pytest.raises(InvalidInput, match="a block decision must state a reason"):
        decision(action=Action.BLOCK, reasons=())


REDACTED = Reason(
    "R020",
    "收款账户24小时转入¥90,000.00",
    "the payee account received ¥90,000.00 in 24 hours",
    {"payee_in_sum_24h": 9_000_000, "amount": 100},
    Redaction("收款账户疑似过渡账户", "the payee account looks like a pass-through account",
              frozenset({"payee_in_sum_24h"})),
)  # fmt: skip


def test_a_decision_the_engine_made_equals_the_checked_one_and_still_states_its_reason() -> None:
    made = Decision.made("T1", Action.DELAY, 70, (QUICK_IN_OUT,), "default-1", "m1", 12)
    assert made == Decision("T1", Action.DELAY, 70, (QUICK_IN_OUT,), "default-1", "m1", 12)
    assert made.shadow is False and hash(made) == hash(Decision.from_dict(made.to_dict()))
    with pytest.raises(InvalidInput, match="must state a reason") as raised:
        Decision.made("T1", Action.BLOCK, 0, (), "default-1", None, 3)
    assert raised.value.field == "reasons"


def test_decisions_made_as_columns_equal_the_checked_ones_and_still_state_their_reasons() -> None:
    made = Decision.made_many(
        ["T1", "T2", "T3"],
        [Action.DELAY, Action.PASS, Action.ALERT],
        [70, 0, 20],
        [(QUICK_IN_OUT,), (), (QUICK_IN_OUT,)],
        "default-1",
        ["m1", None, "m1"],
        [12, 12, 12],
        shadow=True,
    )
    assert made == [
        Decision("T1", Action.DELAY, 70, (QUICK_IN_OUT,), "default-1", "m1", 12, shadow=True),
        Decision("T2", Action.PASS, 0, (), "default-1", None, 12, shadow=True),
        Decision("T3", Action.ALERT, 20, (QUICK_IN_OUT,), "default-1", "m1", 12, shadow=True),
    ]
    assert [hash(decision) for decision in made] == [
        hash(replace(decision, latency_us=12)) for decision in made
    ]
    with pytest.raises(InvalidInput, match="must state a reason") as raised:
        Decision.made_many(
            ["T1", "T2"], [Action.PASS, Action.BLOCK], [0, 0], [(), ()], "default-1",
            [None, None], [3, 3],
        )  # fmt: skip
    assert raised.value.field == "reasons"


def test_to_dict_is_the_answer_without_what_only_the_log_keeps() -> None:
    decision = Decision("T1", Action.BLOCK, 130, (QUICK_IN_OUT, REDACTED), "p1", "m1", 412)
    assert decision.to_dict() == {
        "tx_id": "T1",
        "action": "block",
        "score": 130,
        "reasons": [
            {
                "rule_id": reason.rule_id,
                "text_zh": reason.text_zh,
                "text_en": reason.text_en,
                "values": dict(reason.values),
            }
            for reason in (QUICK_IN_OUT, REDACTED)
        ],
        "pack_version": "p1",
        "model_version": "m1",
        "latency_us": 412,
    }
    logged = decision.to_dict(as_logged=True)
    assert logged["shadow"] is False
    assert logged["reasons"][1]["redaction"]["withheld"] == ["payee_in_sum_24h"]
    assert "redaction" not in logged["reasons"][0]


def test_from_dict_reads_back_what_to_dict_wrote() -> None:
    decision = Decision("T1", Action.DELAY, 80, (REDACTED,), "p1", shadow=True)
    assert Decision.from_dict(decision.to_dict(as_logged=True)) == decision
    answered = Decision.from_dict(decision.to_dict())
    assert answered.shadow is False and answered.reasons[0].redaction is None


@pytest.mark.parametrize(
    ("change", "field"),
    [({"tx_id": ...}, "tx_id"), ({"reasons": "R1"}, "reasons"), ({"score": "9"}, "score")],
)
def test_from_dict_names_what_is_wrong(change: dict[str, object], field: str) -> None:
    data = Decision("T1", Action.PASS, 0, (), "p1").to_dict() | change
    with pytest.raises(InvalidInput) as error:
        Decision.from_dict({k: v for k, v in data.items() if v is not ...})
    assert error.value.field == field
