"""The feature vocabulary rules are written in: names and how each value is shown.

The rule layer needs two facts about a feature: whether it is a yes/no flag (flags are
booleans in the expression language) and how to show its value in a reason (money as
¥1,234.56, ratios as percentages). `Display` carries both.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Display(StrEnum):
    """How a feature's value reads in a reason, and its type in an expression."""

    MONEY = "money"
    RATIO = "ratio"
    COUNT = "count"
    FLAG = "flag"
    NUMBER = "number"

    @property
    def is_flag(self) -> bool:
        return self is Display.FLAG


Catalogue = Mapping[str, Display]
"""Feature name → display; the vocabulary a rule pack is validated against."""

WINDOWS = ("10m", "1h", "24h", "7d", "30d")

_WINDOWED: dict[str, Display] = {
    "payer_out_count": Display.COUNT,
    "payer_out_sum": Display.MONEY,
    "payer_out_max": Display.MONEY,
    "payer_out_distinct": Display.COUNT,
    "payer_in_count": Display.COUNT,
    "payer_in_sum": Display.MONEY,
    "payee_in_count": Display.COUNT,
    "payee_in_sum": Display.MONEY,
    "payee_in_distinct": Display.COUNT,
    "payee_out_count": Display.COUNT,
    "payee_out_sum": Display.MONEY,
    "device_count": Display.COUNT,
    "device_distinct": Display.COUNT,
    "ip_count": Display.COUNT,
    "ip_distinct": Display.COUNT,
    "person_out_count": Display.COUNT,
    "person_out_sum": Display.MONEY,
}

_SINGLE: dict[str, Display] = {
    "amount": Display.MONEY,
    "is_night": Display.FLAG,
    "hour": Display.NUMBER,
    "payer_age_days": Display.NUMBER,
    "payee_age_days": Display.NUMBER,
    "payer_idle_days": Display.NUMBER,
    "payee_idle_days": Display.NUMBER,
    "new_payee": Display.FLAG,
    "payer_balance": Display.MONEY,
    "balance_share": Display.RATIO,
    "cross_bank": Display.FLAG,
    "is_atm": Display.FLAG,
    "is_non_counter": Display.FLAG,
    "is_withdrawal": Display.FLAG,
    "payer_class": Display.NUMBER,
    "payee_class": Display.NUMBER,
    "payer_holder_age": Display.NUMBER,
    "person_accounts": Display.COUNT,
    "person_banks": Display.COUNT,
    "phone_parties": Display.COUNT,
    "device_accounts": Display.COUNT,
    "payer_new_device": Display.FLAG,
    "payer_new_city": Display.FLAG,
}


def brief_catalogue() -> dict[str, Display]:
    """The agreed feature names, used until `fundwall.engine.features.catalog` is present."""
    names = {f"{stem}_{window}": kind for stem, kind in _WINDOWED.items() for window in WINDOWS}
    return names | _SINGLE


def default_catalogue() -> Catalogue:
    """The vocabulary rule packs are validated against by default."""
    return brief_catalogue()
