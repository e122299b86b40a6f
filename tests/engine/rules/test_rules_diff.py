"""Comparing two versions of a pack."""

from __future__ import annotations

from fundwall.engine.rules import FieldChange, RulePack, diff_packs, parse_pack

from .strategies import CATALOGUE

BEFORE = """\
pack: {id: test, version: "1", description: {zh: 测试, en: test}}
policy:
  thresholds: {alert: 30, block: 100}
rules:
  - id: A
    name: {zh: 夜间, en: night}
    typology: night
    when: is_night and amount > 100
    score: 30
    reason: {zh: 夜间, en: at night}
  - id: B
    name: {zh: 大额, en: large}
    typology: victim
    when: amount >= 10_000_00
    score: 45
    reason: {zh: "金额{amount}", en: "amount {amount}"}
"""


def load(text: str) -> RulePack:
    return parse_pack(text.encode(), "pack.yaml", CATALOGUE)


def test_identical_packs_have_an_empty_diff() -> None:
    diff = diff_packs(load(BEFORE), load(BEFORE))
    assert diff.empty
    assert diff.before_version == diff.after_version


def test_added_removed_and_changed_rules() -> None:
    after = BEFORE.replace("  - id: A\n", "  - id: C\n").replace("score: 45", "score: 50")
    after = after.replace("en: large}", "en: large amount}\n    action: block")
    diff = diff_packs(load(BEFORE), load(after))
    assert [rule.id for rule in diff.added] == ["C"]
    assert [rule.id for rule in diff.removed] == ["A"]
    (change,) = diff.changed
    assert change.rule_id == "B"
    assert change.changes == (
        FieldChange("name.en", "large", "large amount"),
        FieldChange("score", "45", "50"),
        FieldChange("action", "", "block"),
    )
    assert not diff.empty
    assert diff.before_version != diff.after_version


def test_a_condition_changes_only_when_its_meaning_does() -> None:
    respaced = BEFORE.replace("when: is_night and amount > 100", "when: (is_night)and(amount>100)")
    same_meaning = diff_packs(load(BEFORE), load(respaced))
    assert same_meaning.empty
    assert same_meaning.before_version != same_meaning.after_version
    changed = BEFORE.replace("amount > 100", "amount > 200")
    (change,) = diff_packs(load(BEFORE), load(changed)).changed
    assert change.changes == (
        FieldChange("when", "is_night and amount > 100", "is_night and amount > 200"),
    )


def test_reason_enabled_and_intent_changes_are_listed() -> None:
    after = BEFORE.replace('en: "amount {amount}"}', 'en: "paid {amount}"}\n    enabled: false')
    after = after.replace(
        "reason: {zh: 夜间, en: at night}",
        "reason: {zh: 夜间, en: at night}\n    intent: {zh: 原因, en: why}",
    )
    diff = diff_packs(load(BEFORE), load(after))
    changes = {change.rule_id: change.changes for change in diff.changed}
    assert changes["A"] == (
        FieldChange("intent.zh", "", "原因"),
        FieldChange("intent.en", "", "why"),
    )
    assert changes["B"] == (
        FieldChange("reason.en", "amount {amount}", "paid {amount}"),
        FieldChange("enabled", "true", "false"),
    )


def test_policy_and_description_changes_are_listed() -> None:
    after = BEFORE.replace("{alert: 30, block: 100}", "{alert: 30, warn: 60, block: 120}")
    after = after.replace("en: test}", "en: test pack}")
    diff = diff_packs(load(BEFORE), load(after))
    assert diff.pack == (
        FieldChange("description.en", "test", "test pack"),
        FieldChange("policy.thresholds.warn", "", "60"),
        FieldChange("policy.thresholds.block", "100", "120"),
    )
    assert diff.changed == ()
