"""Reasons for a member that does not hold the payee's account: no figure of that account.

A rule that reads the payee's account gives its reason a redaction (`Reason.redaction`): the
rule's `reason_redacted`, else its typology's wording, and the payee values to withhold.
`Decision.seen_by` reads a decision that way for any member but the payee's holder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwall.domain.decisions import Action, Decision, Reason, Redaction
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Kind, Role, catalogue, feature_names, features_about
from fundwall.engine.rules import RulePackError, default_pack, diff_packs, parse_pack
from fundwall.engine.rules.pack import REDACTED_BY_TYPOLOGY, TYPOLOGIES

PAYEE = features_about(Role.PAYEE)

PASS_THROUGH = {
    "amount": 2_000_00,
    "payer_class": 1,
    "payer_age_days": 400,
    "payee_class": 1,
    "payee_age_days": 30,
    "payee_in_sum_24h": 60_000_00,
    "payee_out_sum_24h": 55_000_00,
}
"""A transfer into a 30-day-old account that received ¥60,000 and sent on ¥55,000 today."""
PAYEE_FIGURES = ("¥60,000.00", "¥55,000.00", "30天", "30 days")


def features(**given: float) -> dict[str, float]:
    return {name: 0 for name in feature_names()} | given


def fired(rule_id: str, **given: float) -> Reason:
    reasons = default_pack().evaluate(features(**given)).reasons()
    return next(reason for reason in reasons if reason.rule_id == rule_id)


def quotes_payee_figures(reason: Reason) -> bool:
    shown = f"{reason.text_zh} {reason.text_en}"
    return any(figure in shown for figure in PAYEE_FIGURES) or bool(PAYEE & reason.values.keys())


def test_the_catalogue_names_the_payees_features_by_their_role() -> None:
    """A feature about the receiving account is declared so: none escapes the redaction."""
    by_name = {feature.name for feature in catalogue() if feature.name.startswith("payee_")}
    assert by_name == PAYEE


def test_a_pass_through_payee_reads_without_its_figures_to_another_member() -> None:
    reason = fired("R006", **PASS_THROUGH)
    assert quotes_payee_figures(reason), "the full reason keeps every figure"
    assert reason.redaction is not None
    assert reason.redaction.withheld == {
        "payee_in_sum_24h",
        "payee_out_sum_24h",
        "payee_age_days",
        "payee_class",
    }
    shown = reason.redacted()
    assert not quotes_payee_figures(shown)
    assert shown.rule_id == "R006"
    assert "pass-through" in shown.text_en and "过渡账户" in shown.text_zh
    assert default_pack().rule("R006").reason_redacted is not None


def test_the_payers_own_figures_stay_in_the_redacted_reason() -> None:
    reason = fired(
        "R029", **(PASS_THROUGH | {"amount": 25_000_00, "new_payee": 1, "cross_bank": 1})
    )
    shown = reason.redacted()
    assert "¥25,000.00" in shown.text_en and "¥25,000.00" in shown.text_zh
    # The payer's balance is read too (a payment is also large when it takes the whole
    # balance); it is the payer's own figure and stays.
    assert shown.values == {
        "amount": 25_000_00,
        "new_payee": 1,
        "cross_bank": 1,
        "payer_balance": 0,
        "balance_share": 0,
    }


def test_a_reason_that_reads_the_payee_only_in_its_condition_keeps_its_words() -> None:
    reason = fired("R027", amount=6_000_00, new_payee=1, payer_holder_age=70, payee_class=1)
    assert reason.redaction == Redaction(reason.text_zh, reason.text_en, frozenset({"payee_class"}))
    assert "payee_class" not in reason.redacted().values


def test_a_reason_about_the_payer_alone_has_nothing_to_withhold() -> None:
    reason = fired("R017", payer_age_days=2, amount=10_000_00, new_payee=1)
    assert reason.redaction is None
    assert reason.redacted() is reason


def test_the_default_pack_words_each_payee_quoting_reason_itself() -> None:
    pack = default_pack()
    quoting = [rule for rule in pack.rules if rule.quotes_payee]
    assert {rule.id for rule in quoting} >= {"R006", "R045", "R007", "R008", "R038"}
    for rule in quoting:
        assert rule.reason_redacted is not None, f"{rule.id} declares no reason_redacted"
        assert PAYEE.isdisjoint(rule.reason_redacted.features)


USER_PACK = """\
pack: {id: mine, version: "1", description: {zh: 自有规则包, en: my pack}}
policy:
  thresholds: {alert: 30, block: 100}
rules:
  - id: M1
    name: {zh: 收款方快进快出, en: payee passes money on}
    typology: mule
    when: payee_in_sum_24h >= 50_000_00 and payee_out_sum_24h >= 0.8 * payee_in_sum_24h
    score: 40
    reason:
      zh: 收款账户近24小时收到{payee_in_sum_24h}、转出{payee_out_sum_24h}，本笔{amount}
      en: the payee received {payee_in_sum_24h} and sent out {payee_out_sum_24h}; now {amount}
"""


def test_a_pack_without_redacted_wording_falls_back_to_its_typologys() -> None:
    pack = parse_pack(USER_PACK.encode(), "mine.yaml")
    reason = pack.evaluate(features(**PASS_THROUGH)).reasons()[0]
    assert "¥60,000.00" in reason.text_en
    shown = reason.redacted()
    assert (shown.text_zh, shown.text_en) == (
        REDACTED_BY_TYPOLOGY["mule"].zh,
        REDACTED_BY_TYPOLOGY["mule"].en,
    )
    assert shown.values == {"amount": 2_000_00}


def test_every_typology_has_a_redacted_wording() -> None:
    assert REDACTED_BY_TYPOLOGY.keys() == TYPOLOGIES.keys()


def test_a_declared_redacted_wording_is_rendered_with_the_other_values() -> None:
    text = USER_PACK + (
        "    reason_redacted:\n"
        "      zh: 收款账户疑似过渡账户，本笔{amount}\n"
        "      en: the payee looks like a pass-through account; now {amount}\n"
    )
    pack = parse_pack(text.encode(), "mine.yaml")
    shown = pack.evaluate(features(**PASS_THROUGH)).reasons()[0].redacted()
    assert shown.text_en == "the payee looks like a pass-through account; now ¥2,000.00"
    assert shown.text_zh == "收款账户疑似过渡账户，本笔¥2,000.00"


@pytest.mark.parametrize(
    ("wording", "problem"),
    [
        (
            '{zh: "收款账户转出{payee_out_sum_24h}", en: "sent out {payee_out_sum_24h}"}',
            "pack.yaml:13: rule M1 reason_redacted quotes {payee_out_sum_24h}: figures of the "
            "payee's account",
        ),
        ("{zh: 收款账户可疑}", "pack.yaml:13: rule M1 reason_redacted: 'en' is missing"),
        ("{zh: 可疑, en: odd, de: seltsam}", "rule M1 reason_redacted: unknown key 'de'"),
        ('{zh: "可疑{amout}", en: odd}', "rule M1 reason_redacted (zh): unknown feature '{amout}'"),
    ],
)
def test_a_bad_redacted_wording_is_reported_with_its_line(wording: str, problem: str) -> None:
    text = USER_PACK + f"    reason_redacted: {wording}\n"
    with pytest.raises(RulePackError) as raised:
        parse_pack(text.encode(), "pack.yaml")
    assert problem in str(raised.value)


def test_a_redacted_wording_for_a_reason_without_payee_figures_is_refused(
    tmp_path: Path,
) -> None:
    text = USER_PACK.replace(
        "zh: 收款账户近24小时收到{payee_in_sum_24h}、转出{payee_out_sum_24h}，本笔{amount}",
        "zh: 收款方快进快出，本笔{amount}",
    ).replace(
        "en: the payee received {payee_in_sum_24h} and sent out {payee_out_sum_24h}; now {amount}",
        "en: the payee passes money on; now {amount}",
    )
    text += "    reason_redacted: {zh: 可疑, en: odd}\n"
    with pytest.raises(RulePackError) as raised:
        parse_pack(text.encode(), "pack.yaml")
    assert "rule M1 reason_redacted is never shown: the reason quotes no figure" in str(
        raised.value
    )


def test_an_injected_catalogue_still_knows_the_payees_features() -> None:
    small = {"amount": Kind.MONEY, "payee_in_sum_24h": Kind.MONEY, "payee_out_sum_24h": Kind.MONEY}
    pack = parse_pack(USER_PACK.encode(), "mine.yaml", small)
    assert pack.rules[0].payee_values == {"payee_in_sum_24h", "payee_out_sum_24h"}


def test_a_changed_redacted_wording_shows_in_the_diff() -> None:
    before = parse_pack(USER_PACK.encode(), "mine.yaml")
    after = parse_pack(
        (USER_PACK + "    reason_redacted: {zh: 可疑, en: odd}\n").encode(), "mine.yaml"
    )
    changes = {c.field: (c.before, c.after) for c in diff_packs(before, after).changed[0].changes}
    assert changes == {"reason_redacted.zh": ("", "可疑"), "reason_redacted.en": ("", "odd")}


def decision(*reasons: Reason) -> Decision:
    return Decision("T1", Action.DELAY, 70, reasons, "default:1")


def test_a_decision_shows_the_payees_figures_only_to_the_payees_holder() -> None:
    full = decision(fired("R006", **PASS_THROUGH), fired("R045", **PASS_THROUGH))
    for member, holder in (("301", "302"), ("301", None), (None, None)):
        seen = full.seen_by(member, holder)
        assert [r.rule_id for r in seen.reasons] == ["R006", "R045"]
        assert not any(quotes_payee_figures(r) for r in seen.reasons), (member, holder)
        assert (seen.action, seen.score, seen.pack_version) == (Action.DELAY, 70, "default:1")
    assert full.seen_by("302", "302") is full
    assert all(quotes_payee_figures(r) for r in full.reasons), "the decision keeps its figures"


def test_a_decision_without_redactions_is_read_as_it_is() -> None:
    plain = decision(fired("R017", payer_age_days=2, amount=10_000_00, new_payee=1))
    assert plain.seen_by("301", "302") is plain
    passed = Decision("T2", Action.PASS, 0, (), "default:1")
    assert passed.seen_by("301", None) is passed


def test_a_reason_record_keeps_its_redaction() -> None:
    reason = fired("R006", **PASS_THROUGH)
    record = reason.as_record()
    assert record["redaction"]["withheld"] == sorted(reason.redaction.withheld)  # type: ignore[union-attr]
    assert Reason.from_record(record) == reason
    plain = Reason("R1", "文字", "words", {"amount": 1})
    assert "redaction" not in plain.as_record()
    assert Reason.from_record(plain.as_record()) == plain


@pytest.mark.parametrize(
    ("redaction", "field"),
    [
        ({"text_zh": "文字", "text_en": "words", "withheld": "payee_class"}, "redaction.withheld"),
        ({"text_zh": "文字", "text_en": "words", "withheld": []}, "redaction.withheld"),
        ({"text_zh": "", "text_en": "words", "withheld": ["amount"]}, "redaction.text_zh"),
        ({"text_zh": "文字", "withheld": ["amount"]}, "redaction.text_en"),
        ({"text_zh": "文字", "text_en": "words", "withheld": ["other"]}, "redaction.withheld"),
        ("hidden", "redaction"),
    ],
)
def test_a_bad_redaction_record_names_its_field(redaction: object, field: str) -> None:
    record = {
        "rule_id": "R1",
        "text_zh": "文字",
        "text_en": "words",
        "values": {"amount": 1},
        "redaction": redaction,
    }
    with pytest.raises(InvalidInput) as raised:
        Reason.from_record(record)
    assert raised.value.field == field
