"""The languages the engine writes its words in (reasons, rule and feature names): Chinese and
English. Apart from the templates so that the command line can offer them without loading the
engine."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
