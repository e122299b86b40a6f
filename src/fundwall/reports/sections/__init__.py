"""The registry of the official statistics' sections, in the order a report shows them.

Each module declares one `SECTION` (`fundwall.reports.model.Section`) and its query; adding a
section is adding its module and its line here."""

from __future__ import annotations

from typing import Final

from fundwall.reports.model import Section
from fundwall.reports.sections import (
    appeals,
    clues,
    interceptions,
    onboarding,
    orders,
    outreach,
    returns,
    screening,
    sharing,
)

SECTIONS: Final[tuple[Section, ...]] = (
    interceptions.SECTION,
    clues.SECTION,
    orders.SECTION,
    returns.SECTION,
    sharing.SECTION,
    screening.SECTION,
    onboarding.SECTION,
    appeals.SECTION,
    outreach.SECTION,
)
"""Every section, by its place in a report."""

_keys = [section.key for section in SECTIONS]
if len(set(_keys)) != len(_keys):
    raise RuntimeError(f"two sections share a key: {_keys}")
