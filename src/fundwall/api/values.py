"""Value types the API's queries and bodies share: days and times written as text only.

Pydantic reads a number as seconds since 1970 where a date or a time is expected
(`end=1716940800`, `"held_on": 1716940800`); a member who sends one has made a mistake, and
is told so instead of getting a day it never meant. (Bodies are validated in Python mode,
where `strict` would refuse the text too.)"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Final

from pydantic import AwareDatetime, BeforeValidator

_FULL_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _full_date(value: object) -> object:
    if not isinstance(value, date) and not (isinstance(value, str) and _FULL_DATE.fullmatch(value)):
        raise ValueError("a day as YYYY-MM-DD, e.g. 2024-03-31")
    return value


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 time as text, e.g. 2024-03-31T00:00:00+08:00")
    return value


Day = Annotated[date, BeforeValidator(_full_date)]
"""A day, written YYYY-MM-DD."""

TextTime = Annotated[AwareDatetime, BeforeValidator(_text_only)]
"""A moment, written as ISO 8601 text with its UTC offset."""
