"""Reason templates and value formatting in both languages."""

from __future__ import annotations

import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Kind
from fundwall.engine.rules.templates import Language, format_money, format_value, parse_template

from .strategies import CATALOGUE

KINDS = {
    "amount": Kind.MONEY,
    "balance_share": Kind.RATIO,
    "is_night": Kind.FLAG,
    "payer_age_days": Kind.DAYS,
    "payer_holder_age": Kind.YEARS,
    "hour": Kind.HOUR,
    "payer_class": Kind.CLASS,
    "payer_in_count_1h": Kind.COUNT,
}


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (123456, "¥1,234.56"),
        (5_000_000, "¥50,000.00"),
        (999_999_999_999_999, "¥9,999,999,999,999.99"),
        (-123456, "-¥1,234.56"),
    ],
)
def test_money_reads_as_yuan_with_thousands(fen: int, shown: str) -> None:
    assert format_money(fen) == shown


@pytest.mark.parametrize(
    ("kind", "value", "zh", "en"),
    [
        (Kind.MONEY, 4_700_000.0, "¥47,000.00", "¥47,000.00"),
        (Kind.RATIO, 0.969, "96.9%", "96.9%"),
        (Kind.RATIO, 1.0, "100%", "100%"),
        (Kind.RATIO, 0.0, "0%", "0%"),
        (Kind.RATIO, -1.0, "无", "none"),
        (Kind.HOURS, 3.0, "3小时", "3 hours"),
        (Kind.HOURS, 1.0, "1小时", "1 hour"),
        (Kind.HOURS, -1.0, "无", "none"),
        (Kind.FLAG, 1.0, "是", "yes"),
        (Kind.FLAG, 0.0, "否", "no"),
        (Kind.DAYS, 12.0, "12天", "12 days"),
        (Kind.DAYS, 1.0, "1天", "1 day"),
        (Kind.DAYS, 1200.0, "1,200天", "1,200 days"),
        (Kind.DAYS, -1.0, "无", "none"),
        (Kind.YEARS, 68.0, "68岁", "68 years"),
        (Kind.YEARS, -1.0, "未知", "unknown"),
        (Kind.HOUR, 2.0, "02:00", "02:00"),
        (Kind.CLASS, 0.0, "对公账户", "a corporate account"),
        (Kind.CLASS, 2.0, "Ⅱ类户", "class II"),
        (Kind.CLASS, -1.0, "未知", "unknown"),
        (Kind.COUNT, 1234.0, "1,234", "1,234"),
    ],
)
def test_values_read_with_their_units(kind: Kind, value: float, zh: str, en: str) -> None:
    assert format_value(value, kind, "zh") == zh
    assert format_value(value, kind, "en") == en


def test_a_template_renders_placeholders_in_both_languages() -> None:
    values = {"amount": 4_700_000.0, "balance_share": 0.969, "payer_age_days": 12.0}
    zh = parse_template("开户{payer_age_days}即转出{amount}，占余额{balance_share}", KINDS)
    en = parse_template("{payer_age_days} after opening, {amount} ({balance_share})", KINDS)
    assert zh.features == ("payer_age_days", "amount", "balance_share")
    assert zh.render(values, KINDS, "zh") == "开户12天即转出¥47,000.00，占余额96.9%"
    assert en.render(values, KINDS, "en") == "12 days after opening, ¥47,000.00 (96.9%)"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_doubled_braces_are_literal(language: Language) -> None:
    template = parse_template("{{amount}} is {amount}", KINDS)
    assert template.features == ("amount",)
    assert template.render({"amount": 100.0}, KINDS, language) == "{amount} is ¥1.00"


def test_a_template_without_placeholders_is_its_text() -> None:
    template = parse_template("首次向该收款方转账", CATALOGUE)
    assert template.features == ()
    assert template.render({}, CATALOGUE, "zh") == "首次向该收款方转账"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{amont}", "unknown feature '{amont}'"),
        ("a } b", "stray '}' at character 3"),
        ("{amount", "stray '{' at character 1"),
        ("{1x}", "stray '{'"),
    ],
)
def test_bad_templates_are_refused(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words.replace("{", r"\{").replace("}", r"\}")):
        parse_template(text, CATALOGUE)
