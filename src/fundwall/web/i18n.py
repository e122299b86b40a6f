"""The console's languages: Chinese by default, English by choice (remembered in a cookie).

Messages are written in English in the code and templates (`_("Overview")`) and translated
by the Babel catalogue `locale/zh_CN/LC_MESSAGES/messages.po`. The catalogue is compiled in
memory when first used, so a fresh checkout needs no build step and no `.mo` file exists to
fall out of date with its `.po`.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any, Final, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

Language = Literal["zh", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh", "en")
DEFAULT_LANGUAGE: Final[Language] = "zh"
LANGUAGE_COOKIE: Final = "fundwall_lang"
DOMAIN: Final = "messages"
_LOCALES: Final[dict[Language, str]] = {"zh": "zh_CN"}


def N_(message: str) -> str:  # noqa: N802 - the conventional name for a marked message
    """Mark a message for extraction without translating it yet (translated where shown)."""
    return message


def catalogue_path(language: Language) -> Any:
    """The .po file of a language (a Traversable inside the package)."""
    return files("fundwall.web").joinpath(f"locale/{_LOCALES[language]}/LC_MESSAGES/{DOMAIN}.po")


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The compiled translations of `language`; English is the source and needs none."""
    if language not in _LOCALES:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=_LOCALES[language], domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def request_language(request: Request) -> Language:
    """The language the person chose (cookie), else Chinese."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return "en" if chosen == "en" else DEFAULT_LANGUAGE


def translator(language: Language) -> Callable[..., str]:
    """`_` for templates and routes: translate, then fill %(name)s placeholders."""
    table = translations(language)

    def translate(message: str, **values: object) -> str:
        text = table.gettext(message)
        return text % values if values else text

    return translate
