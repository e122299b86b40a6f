"""Loading rule pack files: every kind of mistake is reported with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Kind
from fundwall.engine.rules import RulePackError, load_pack, parse_pack

from .strategies import CATALOGUE

VALID = """\
pack:
  id: test
  version: "1.0"
  description: {zh: 测试规则包, en: Test pack}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: R001
    name: {zh: 夜间大额, en: Large at night}
    typology: night
    when: is_night and amount >= 5_000_00
    score: 40
    reason: {zh: "夜间转账{amount}", en: "{amount} at night"}
  - id: R002
    name: {zh: 新收款方, en: New payee}
    typology: victim
    when: new_payee
    score: 20
    action: warn
    enabled: true
    reason: {zh: 首次向该收款方转账, en: first payment to this payee}
    intent: {zh: 说明, en: why}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def expected_line(text: str) -> int:
    """The line the case marks with `#!`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if "#!" in line)


def test_a_valid_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, VALID), CATALOGUE)
    assert pack.id == "test"
    assert pack.declared_version == "1.0"
    assert [rule.id for rule in pack.rules] == ["R001", "R002"]
    first, second = pack.rules
    assert first.line == 8
    assert first.action is None
    assert second.action is Action.WARN
    assert second.intent is not None and second.intent.en == "why"
    assert pack.policy.thresholds == {
        Action.ALERT: 30,
        Action.WARN: 50,
        Action.DELAY: 70,
        Action.BLOCK: 100,
    }


CASES = {
    "unknown feature": (
        "when: is_night and amount >= 5_000_00",
        "when: is_night and amout >= 5_000_00  #!",
        "rule R001 'when', column 14: unknown feature 'amout'; did you mean 'amount'?",
    ),
    "bad syntax": (
        "when: new_payee\n",
        "when: new_payee and  #!\n",
        "rule R002 'when', column 14: expected a number, a feature, a function or '('",
    ),
    "duplicate id": (
        "  - id: R002",
        "  - id: R001  #!",
        "rule id R001 is used twice (first at line 8)",
    ),
    "missing zh": (
        "name: {zh: 夜间大额, en: Large at night}",
        "name: {en: Large at night}  #!",
        "rule R001 name: 'zh' is missing",
    ),
    "missing en reason": (
        'reason: {zh: "夜间转账{amount}", en: "{amount} at night"}',
        'reason: {zh: "夜间转账{amount}"}  #!',
        "rule R001 reason: 'en' is missing",
    ),
    "empty text": (
        "en: Large at night}",
        "en: ''}  #!",
        "rule R001 name (en) must be non-empty text",
    ),
    "score as text": (
        "score: 40",
        "score: high  #!",
        "rule R001 score must be a whole number (found 'high')",
    ),
    "score as decimal": ("score: 40", "score: 40.5  #!", "rule R001 score must be a whole number"),
    "negative score": (
        "score: 40",
        "score: -5  #!",
        "rule R001 score must be between 0 and 1000, not -5",
    ),
    "score too high": (
        "score: 40",
        "score: 5000  #!",
        "score must be between 0 and 1000, not 5000",
    ),
    "score 0 without action": (
        "score: 40",
        "score: 0  #!",
        "rule R001: a rule with score 0 must force an action",
    ),
    "unknown placeholder": (
        'reason: {zh: "夜间转账{amount}", en: "{amount} at night"}',
        'reason: {zh: "夜间转账{amont}", en: "{amount} at night"}  #!',
        "rule R001 reason (zh): unknown feature '{amont}' in the reason",
    ),
    "stray brace": (
        'reason: {zh: "夜间转账{amount}", en: "{amount} at night"}',
        'reason: {zh: "夜间转账{amount}", en: "{amount} at night}"}  #!',
        "rule R001 reason (en): stray '}'",
    ),
    "unknown rule key": (
        "    score: 40\n",
        "    score: 40\n    wen: is_night  #!\n",
        "rule #1: unknown key 'wen' (did you mean 'when'?)",
    ),
    "unknown top key": (
        "policy:\n",
        "polcy:  #!\n",
        "the file: unknown key 'polcy' (did you mean 'policy'?)",
    ),
    "unknown pack key": (
        '  version: "1.0"\n',
        '  version: "1.0"\n  author: me  #!\n',
        "'pack': unknown key 'author'",
    ),
    "repeated key": (
        "    score: 40\n",
        "    score: 40\n    score: 41  #!\n",
        "rule #1: 'score' is given twice",
    ),
    "unknown typology": (
        "typology: night",
        "typology: nigth  #!",
        "rule R001 typology 'nigth' is unknown (did you mean 'night'?)",
    ),
    "unknown action": ("action: warn", "action: stop  #!", "rule R002 action 'stop' is unknown"),
    "pass is not a forced action": (
        "action: warn",
        "action: pass  #!",
        "rule R002 action 'pass' is unknown",
    ),
    "enabled not a flag": (
        "enabled: true",
        "enabled: sometimes  #!",
        "rule R002 enabled must be true or false",
    ),
    "thresholds out of order": (
        "{alert: 30, warn: 50, delay: 70, block: 100}",
        "{alert: 30, warn: 80, delay: 70, block: 100}  #!",
        "'policy.thresholds': the delay threshold (70) must be above the warn threshold (80)",
    ),
    "threshold for pass": (
        "{alert: 30, warn: 50, delay: 70, block: 100}",
        "{pass: 0, alert: 30, warn: 50, delay: 70, block: 100}  #!",
        "'policy.thresholds': unknown key 'pass'",
    ),
    "threshold below one": (
        "{alert: 30, warn: 50, delay: 70, block: 100}",
        "{alert: 0, warn: 50, delay: 70, block: 100}  #!",
        "the alert threshold must be at least 1, not 0",
    ),
    "bad rule id": ("  - id: R001", "  - id: R 1  #!", "rule #1 id 'R 1' must be 1 to 24 letters"),
    "bad pack version": (
        'version: "1.0"',
        'version: "1.0 beta"  #!',
        "the pack version '1.0 beta' must be",
    ),
    "rule not a mapping": ("rules:\n", "rules:\n  - just text  #!\n", "rule #1 must be a mapping"),
    "rules not a list": (
        "rules:\n",
        "rules: none  #!\nrest:\n",
        "'rules' must be a list of rules",
    ),
    "condition is a number": (
        "when: new_payee\n",
        "when: amount + 1  #!\n",
        "a condition must be yes/no",
    ),
    "merge key": (
        "    score: 40\n",
        "    score: 40\n    <<: {enabled: true}  #!\n",
        "YAML merge keys (<<) are not supported",
    ),
    "number as a key": (
        "    score: 40\n",
        "    score: 40\n    12: x  #!\n",
        "rule #1: keys must be words",
    ),
    "constant condition": (
        "when: new_payee\n",
        "when: true or 1 > 2  #!\n",
        "rule R002 'when' reads no feature: it would fire always or never",
    ),
    "condition not text": (
        "when: new_payee\n",
        "when: true  #!\n",
        "rule R002 'when' must be non-empty text",
    ),
    "invalid yaml": ("    score: 20\n", "    score: [20\n    x: {  #!\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_mistake_names_file_and_line(tmp_path: Path, case: str) -> None:
    old, new, words = CASES[case]
    assert old in VALID
    text = VALID.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(RulePackError) as caught:
        load_pack(path, CATALOGUE)
    problems = caught.value.problems
    assert any(words in problem.text for problem in problems), problems
    problem = next(problem for problem in problems if words in problem.text)
    assert problem.file == str(path)
    assert problem.line == expected_line(text)
    assert f"{path}:{problem.line}: " in str(caught.value)


def test_a_pack_error_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        load_pack(write(tmp_path, VALID.replace("score: 40", "score: x")), CATALOGUE)


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    text = VALID.replace("amount >= 5_000_00", "amout >= 5_000_00").replace(
        "score: 20", "score: -1"
    )
    text = text.replace("typology: night", "typology: nite")
    with pytest.raises(RulePackError) as caught:
        load_pack(write(tmp_path, text), CATALOGUE)
    lines = [problem.line for problem in caught.value.problems]
    assert lines == [10, 11, 18]
    assert str(caught.value).startswith("3 problems in rule pack:\n")


def test_an_error_in_a_folded_condition_names_the_line_it_is_on(tmp_path: Path) -> None:
    text = VALID.replace(
        "when: is_night and amount >= 5_000_00",
        "when: >-\n      is_night\n      and amount >= 5_000_00\n      and payer_balanse > 0",
    )
    with pytest.raises(RulePackError) as caught:
        load_pack(write(tmp_path, text), CATALOGUE)
    (problem,) = caught.value.problems
    assert problem.line == 14
    assert "column 37: unknown feature 'payer_balanse'" in problem.text


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("pack: {}\n", 1, "the file: 'policy' is missing"),
        ("- a\n- b\n", 1, "the file must be a mapping"),
    ],
)
def test_empty_and_misshapen_files(tmp_path: Path, text: str, line: int, words: str) -> None:
    with pytest.raises(RulePackError) as caught:
        load_pack(write(tmp_path, text), CATALOGUE)
    assert any(p.line == line and words in p.text for p in caught.value.problems), caught.value


def test_a_pack_with_every_rule_disabled_is_refused(tmp_path: Path) -> None:
    text = VALID.replace("    score: 40\n", "    score: 40\n    enabled: false\n")
    text = text.replace("enabled: true", "enabled: false")
    with pytest.raises(RulePackError, match="every rule is disabled"):
        load_pack(write(tmp_path, text), CATALOGUE)


def test_text_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_bytes(VALID.encode() + "  # 注释\n".encode("gbk"))
    with pytest.raises(RulePackError) as caught:
        load_pack(path, CATALOGUE)
    assert caught.value.problems[0].line == VALID.count("\n") + 1
    assert "not UTF-8" in caught.value.problems[0].text


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read rule pack"):
        load_pack(tmp_path / "absent.yaml", CATALOGUE)


def test_the_catalogue_is_injected(tmp_path: Path) -> None:
    text = VALID.replace("when: new_payee\n", "when: custom_score > 3\n")
    with pytest.raises(RulePackError, match="unknown feature 'custom_score'"):
        load_pack(write(tmp_path, text), CATALOGUE)
    pack = load_pack(write(tmp_path, text), {**CATALOGUE, "custom_score": Kind.COUNT})
    assert "custom_score" in pack.feature_names


def test_the_real_catalogue_is_the_default(tmp_path: Path) -> None:
    text = VALID.replace("when: new_payee\n", "when: payee_in_distinct_1h >= 5\n")
    assert "payee_in_distinct_1h" in load_pack(write(tmp_path, text)).feature_names
    with pytest.raises(RulePackError, match="unknown feature"):
        load_pack(write(tmp_path, text.replace("payee_in_distinct_1h", "payee_in_distinct_2h")))


def test_version_is_the_declared_version_and_a_content_hash() -> None:
    first = parse_pack(VALID.encode(), "a.yaml", CATALOGUE)
    same = parse_pack(VALID.encode(), "b.yaml", CATALOGUE)
    spaced = parse_pack((VALID + "\n").encode(), "c.yaml", CATALOGUE)
    assert first.version.startswith("1.0:")
    assert first.version == same.version
    assert spaced.version != first.version
    assert spaced.declared_version == first.declared_version
