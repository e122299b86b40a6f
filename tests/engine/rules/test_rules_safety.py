"""The language cannot reach Python: no names but features, no calls but the whitelist."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.engine.rules.errors import ExpressionError
from fundwall.engine.rules.parser import parse
from fundwall.engine.rules.templates import parse_template

from .strategies import CATALOGUE


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os').system('true')", "the language has no strings"),
        ("__import__(1)", "unknown function '__import__'"),
        ("eval(1)", "unknown function 'eval'"),
        ("exec(1)", "unknown function 'exec'"),
        ("open(1)", "unknown function 'open'"),
        ("getattr(amount, 1)", "unknown function 'getattr'"),
        ("amount.__class__", "attribute access is not part of the language"),
        ("(1).real > 0", "attribute access"),
        ("().__class__.__bases__", "attribute access"),
        ("()", "expected a number, a feature, a function or '('"),
        ("'os'", "no strings"),
        ('"os"', "no strings"),
        ("lambda: 1", "unexpected character ':'"),
        ("lambda", "unknown feature 'lambda'"),
        ("__builtins__", "unknown feature '__builtins__'"),
        ("amount[0]", "unexpected '['"),
        ("{1: 2}", "unexpected character '{'"),
        ("amount if is_night else 1", "unexpected 'if'"),
        ("amount; 1", "unexpected character ';'"),
        ("金额 > 1", "unexpected character '金'"),
        ("amount > 1 # comment", "unexpected character '#'"),
        ("min.__call__(1, 2)", "attribute access"),
        ("(min)(1, 2)", "unknown feature 'min'"),
    ],
)
def test_attempts_to_reach_python_are_refused(text: str, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text, CATALOGUE)
    assert words in caught.value.reason


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("amount_is night()[],.<>=!+-*/% 0123456789'\"x")), max_size=60
    )
)
def test_any_text_parses_or_raises_expression_error(text: str) -> None:
    try:
        parse(text, CATALOGUE)
    except ExpressionError as error:
        assert 1 <= error.column <= len(text) + 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_parses_or_raises_expression_error(text: str) -> None:
    try:
        parse(text, CATALOGUE)
    except ExpressionError as error:
        assert 1 <= error.column <= len(text) + 1


@pytest.mark.parametrize(
    "template",
    ["{amount.__class__}", "{amount!r}", "{amount:>10}", "{0}", "{}", "{amount[0]}", "{ amount }"],
)
def test_reason_templates_take_plain_feature_names_only(template: str) -> None:
    with pytest.raises(InvalidInput):
        parse_template(template, CATALOGUE)
