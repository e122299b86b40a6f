"""Evaluating a pack: policy, forced actions, fired rules, online and bulk agreement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.decisions import Action, Reason
from fundwall.domain.errors import InvalidInput
from fundwall.engine.rules import ACTIONS_BY_CODE, Policy, RulePack, parse_pack

from .strategies import CATALOGUE

PACK = """\
pack: {id: test, version: "1", description: {zh: 测试, en: test}}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: A
    name: {zh: 夜间, en: night}
    typology: night
    when: is_night
    score: 30
    reason: {zh: "夜间{hour}", en: "at {hour}"}
  - id: B
    name: {zh: 大额, en: large}
    typology: victim
    when: amount >= 10_000_00
    score: 45
    reason: {zh: "金额{amount}", en: "amount {amount}"}
  - id: C
    name: {zh: 新收款方, en: new payee}
    typology: victim
    when: new_payee and amount / payer_balance > 0.5
    score: 0
    action: delay
    reason: {zh: "占余额{balance_share}", en: "{balance_share} of the balance"}
  - id: D
    name: {zh: 停用, en: disabled}
    typology: velocity
    when: amount > 0
    score: 500
    enabled: false
    reason: {zh: 停用, en: disabled}
"""


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return parse_pack(PACK.encode(), "test.yaml", CATALOGUE)


def features(**values: float) -> dict[str, float]:
    base = dict.fromkeys(CATALOGUE, 0.0)
    base["payer_balance"] = 100_000_00
    return base | values


@pytest.mark.parametrize(
    ("score", "action"),
    [
        (0, Action.PASS),
        (29, Action.PASS),
        (30, Action.ALERT),
        (49, Action.ALERT),
        (50, Action.WARN),
        (70, Action.DELAY),
        (99, Action.DELAY),
        (100, Action.BLOCK),
        (10_000, Action.BLOCK),
    ],
)
def test_policy_maps_scores_to_actions(pack: RulePack, score: int, action: Action) -> None:
    assert pack.policy.action_for(score) is action
    codes = pack.policy.codes_for(np.array([score], np.int64))
    assert ACTIONS_BY_CODE[int(codes[0])] is action


def test_a_policy_may_leave_actions_out() -> None:
    policy = Policy({Action.ALERT: 20, Action.BLOCK: 60})
    assert [policy.action_for(s) for s in (19, 20, 59, 60)] == [
        Action.PASS,
        Action.ALERT,
        Action.ALERT,
        Action.BLOCK,
    ]
    codes = policy.codes_for(np.array([19, 20, 59, 60], np.int64))
    assert codes.tolist() == [
        0,
        Action.ALERT.severity,
        Action.ALERT.severity,
        Action.BLOCK.severity,
    ]


def test_policy_thresholds_must_rise_with_severity() -> None:
    with pytest.raises(InvalidInput, match="block threshold"):
        Policy({Action.WARN: 50, Action.BLOCK: 50})


def test_scores_add_up_and_fired_rules_are_ordered_by_score(pack: RulePack) -> None:
    result = pack.evaluate(features(is_night=1, amount=20_000_00, hour=3))
    assert result.score == 75
    assert result.action is Action.DELAY
    assert [fired.rule_id for fired in result.fired] == ["B", "A"]
    assert result.fired[0].values == {"amount": 20_000_00}
    assert result.fired[1].values == {"is_night": 1, "hour": 3}
    assert type(result.fired[0].values["amount"]) is int


def test_a_forced_action_raises_the_result(pack: RulePack) -> None:
    result = pack.evaluate(features(new_payee=1, amount=60_000_00, balance_share=0.6))
    assert [fired.rule_id for fired in result.fired] == ["B", "C"]
    assert result.score == 45
    assert result.action is Action.DELAY


def test_a_forced_action_never_lowers_the_result(pack: RulePack) -> None:
    result = pack.evaluate(
        features(new_payee=1, is_night=1, amount=60_000_00, payer_balance=70_000_00)
    )
    assert result.score == 75
    assert result.action is Action.DELAY
    more = pack.evaluate(features(new_payee=1, is_night=1, amount=90_000_00, payer_balance=1))
    assert more.action is Action.DELAY


def test_a_vector_may_hold_ints_floats_or_numpy_numbers(pack: RulePack) -> None:
    by_name = features(is_night=1, amount=20_000_00, hour=3)
    as_ints = [int(by_name[name]) for name in pack.feature_names]
    as_numpy = list(np.array(as_ints, np.int64))
    expected = pack.evaluate(by_name)
    for vector in (as_ints, as_numpy):
        result = pack.evaluate_vector(vector)
        assert (result.score, result.action) == (expected.score, expected.action)
        assert [fired.values for fired in result.fired] == [f.values for f in expected.fired]


def test_a_bound_evaluator_reads_vectors_in_another_layout(pack: RulePack) -> None:
    layout = ["payer_balance", "extra", *reversed(pack.feature_names)]
    by_name = features(is_night=1, amount=20_000_00, hour=3) | {"extra": 5}
    evaluate = pack.bind(layout)
    result = evaluate([by_name[name] for name in layout])
    expected = pack.evaluate(by_name)
    assert (result.score, result.action, result.fired) == (
        expected.score,
        expected.action,
        expected.fired,
    )
    with pytest.raises(InvalidInput, match="the layout lacks features: amount"):
        pack.bind([name for name in layout if name != "amount"])


def test_disabled_rules_do_not_run(pack: RulePack) -> None:
    assert [rule.id for rule in pack.active] == ["A", "B", "C"]
    assert pack.evaluate(features(amount=1)).fired == ()
    assert pack.rule("D").enabled is False


def test_nothing_fired_passes(pack: RulePack) -> None:
    result = pack.evaluate(features())
    assert (result.score, result.action, result.fired) == (0, Action.PASS, ())


def test_fired_rules_explain_themselves_in_both_languages(pack: RulePack) -> None:
    result = pack.evaluate(features(new_payee=1, amount=60_000_00, balance_share=0.6))
    large, share = result.fired
    assert large.reason("zh") == "金额¥60,000.00"
    assert large.reason("en") == "amount ¥60,000.00"
    assert share.reason("en") == "60% of the balance"
    assert share.to_reason() == Reason(
        "C",
        "占余额60%",
        "60% of the balance",
        {
            "new_payee": 1.0,
            "amount": 6_000_000.0,
            "payer_balance": 10_000_000.0,
            "balance_share": 0.6,
        },
    )
    assert result.reasons() == (large.to_reason(), share.to_reason())
    recorded = share.to_reason().values
    assert (type(recorded["amount"]), type(recorded["balance_share"])) == (int, float)


def test_a_ratio_stays_a_ratio_when_it_is_whole(pack: RulePack) -> None:
    result = pack.evaluate(features(new_payee=1, amount=60_000_00, balance_share=1))
    share = next(fired for fired in result.fired if fired.rule_id == "C")
    assert share.values["balance_share"] == 1.0
    assert type(share.values["balance_share"]) is float
    assert share.reason("zh") == "占余额100%"


def test_division_by_zero_is_zero_not_an_error(pack: RulePack) -> None:
    result = pack.evaluate(features(new_payee=1, amount=100, payer_balance=0))
    assert result.fired == ()


def test_missing_or_non_numeric_features_are_invalid_input(pack: RulePack) -> None:
    incomplete = features()
    del incomplete["hour"]
    with pytest.raises(InvalidInput, match="feature 'hour' is missing"):
        pack.evaluate(incomplete)
    with pytest.raises(InvalidInput, match="feature 'amount' is not a number"):
        pack.evaluate(features() | {"amount": None})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match="expected 6 feature values, got 2"):
        pack.evaluate_vector([1.0, 2.0])


def test_unknown_rule_is_invalid_input(pack: RulePack) -> None:
    with pytest.raises(InvalidInput, match="no rule 'Z'"):
        pack.rule("Z")


def test_bulk_columns_are_checked(pack: RulePack) -> None:
    columns = {name: np.zeros(3) for name in pack.feature_names}
    with pytest.raises(InvalidInput, match="missing feature columns: amount"):
        pack.evaluate_bulk({k: v for k, v in columns.items() if k != "amount"})
    with pytest.raises(InvalidInput, match="one-dimensional and of equal length"):
        pack.evaluate_bulk(columns | {"amount": np.zeros(4)})
    with pytest.raises(InvalidInput, match="not numeric: hour"):
        pack.evaluate_bulk(columns | {"hour": np.array(["a", "b", "c"])})


def test_bulk_results_name_their_rules(pack: RulePack) -> None:
    columns = {name: np.zeros(2, np.int64) for name in pack.feature_names}
    columns["is_night"] = np.array([1, 0])
    columns["amount"] = np.array([20_000_00, 5])
    result = pack.evaluate_bulk(columns)
    assert result.rule_ids == ("A", "B", "C")
    assert result.fired_rules(0) == ("A", "B")
    assert result.fired_rules(1) == ()
    assert result.action(0) is Action.DELAY
    assert result.scores.tolist() == [75, 0]


rows = st.fixed_dictionaries(
    {
        "is_night": st.integers(0, 1),
        "new_payee": st.integers(0, 1),
        "amount": st.integers(0, 200_000_00),
        "payer_balance": st.one_of(st.just(0), st.integers(0, 200_000_00)),
        "hour": st.integers(0, 23),
        "balance_share": st.floats(0, 2),
    }
)


@settings(max_examples=50, deadline=None)
@given(st.lists(rows, min_size=1, max_size=20))
def test_bulk_and_online_give_the_same_verdicts(
    pack: RulePack, batch: list[dict[str, float]]
) -> None:
    columns = {name: np.array([row[name] for row in batch]) for name in pack.feature_names}
    bulk = pack.evaluate_bulk(columns)
    for index, row in enumerate(batch):
        online = pack.evaluate(row)
        assert bulk.scores[index] == online.score
        assert bulk.action(index) is online.action
        assert set(bulk.fired_rules(index)) == {fired.rule_id for fired in online.fired}
