"""The Chinese catalogue covers every message of the console and compiles on first use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import fundwall.portal
import fundwall.web
from fundwall.web.i18n import catalogue_path, translations, translator

WEB = Path(fundwall.web.__file__).parent
PORTAL = Path(fundwall.portal.__file__).parent
"""The public portal's templates share the console's catalogue."""
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in (WEB, PORTAL):
        for filename, line, message, _comments, _context in extract_from_dir(
            str(folder),
            method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
            keywords={"_": None, "N_": None},
        ):
            found.setdefault(message, f"{folder.name}/{filename}:{line}")
    return found


def _catalogue() -> dict[str, tuple[str, bool]]:
    with catalogue_path("zh").open("rb") as handle:
        catalog = read_po(handle)
    return {m.id: (m.string, m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)}


def test_every_message_of_the_console_has_a_chinese_translation() -> None:
    catalogue = _catalogue()
    missing = {msg: where for msg, where in _messages().items() if msg not in catalogue}
    assert missing == {}
    untranslated = [msg for msg, (text, fuzzy) in catalogue.items() if not text or fuzzy]
    assert untranslated == []


def test_translations_keep_every_placeholder() -> None:
    for message, (text, _) in _catalogue().items():
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(text)), message


def test_each_message_has_one_translation() -> None:
    """A message written twice in the .po keeps only one of its translations, so two places
    meaning different things must be two messages."""
    with catalogue_path("zh").open("r", encoding="utf-8") as handle:
        ids = [line for line in handle if line.startswith('msgid "') and line != 'msgid ""\n']
    assert sorted(line for line in set(ids) if ids.count(line) > 1) == []


def test_the_catalogue_has_no_stale_messages() -> None:
    assert set(_catalogue()) - set(_messages()) == set()


def test_the_catalogue_compiles_in_memory_and_english_is_the_source() -> None:
    assert translations("zh").gettext("Overview") == "总览"
    assert translator("zh")("Page %(number)s", number=3) == "第3页"
    assert translator("en")("Page %(number)s", number=3) == "Page 3"
    assert not list(WEB.rglob("*.mo")), "compiled catalogues are not kept in the tree"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_unknown_message_reads_as_written(language: str) -> None:
    assert translator(language)("no such message") == "no such message"  # type: ignore[arg-type]
