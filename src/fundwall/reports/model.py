"""What the official statistics are made of: sections declared as data, the scope a report
covers, and the figures computed.

A `Section` is a small declaration: its key, its titles, the figures it yields (each with
its unit and the console list of the records behind it), the scopes it speaks for, and the
query computing its figures for a scope and a window of time. Adding a section is adding one
declaration and its query to `fundwall.reports.sections`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.reports.period import Bucket, Period


class Unit(StrEnum):
    COUNT = "count"
    """A number of records (clues, transactions, accounts …)."""
    FEN = "fen"
    """An amount of money in fen, shown in yuan."""
    PEOPLE = "people"
    """A number of persons (suspects caught, people reached)."""


class ScopeKind(StrEnum):
    REGION = "region"
    """Every member of the region, added up (the hub)."""
    MEMBER = "member"
    """One bank or payment institution."""
    POLICE = "police"
    """One police unit: what it was party to (its clues, orders, returns)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose records a report counts: the region, a member (`code`), or a police unit."""

    kind: ScopeKind
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """The instants a figure counts, `start` included, `end` excluded (UTC)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Link:
    """The console list of the records behind a figure: `path` with `{first}`, `{last}` (the
    period's days) and `{member}` filled in, shown to actors holding `permission`."""

    path: str
    permission: Permission


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    zh: str
    en: str
    unit: Unit
    links: tuple[Link, ...] = ()
    """The lists behind the figure; an actor is shown the first it may read."""

    def label(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


Compute = Callable[[Session, Scope, Sequence[Window]], list[Mapping[str, int]]]
"""A section's query: its figures (by key) for a scope, in each of the windows (the period,
or the buckets of its trend); `fundwall.reports.queries.each_window` makes one from a query
of one window."""


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    zh: str
    en: str
    figures: tuple[Figure, ...]
    scopes: frozenset[ScopeKind]
    compute: Compute

    def title(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True, slots=True)
class FigureValue:
    figure: Figure
    value: int
    trend: tuple[int, ...]
    """The same figure in each bucket of the report's trend."""
    link: str | None
    """The console list behind it, for the actor who asked (None: no list it may read)."""


@dataclass(frozen=True, slots=True)
class SectionFigures:
    section: Section
    figures: tuple[FigureValue, ...]


@dataclass(frozen=True, slots=True)
class MemberChoice:
    code: str
    name_zh: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class OfficialFigures:
    """The figures of a period for a scope, section by section, with their trend."""

    period: Period
    scope: Scope
    scope_name: tuple[str, str]
    """The scope in Chinese and English (the region, or the member's names)."""
    buckets: tuple[Bucket, ...]
    sections: tuple[SectionFigures, ...]
    generated_at: datetime
    members: tuple[MemberChoice, ...]
    """The members the actor may pick (the hub: every one; a member: itself)."""

    def scope_label(self, language: str) -> str:
        return self.scope_name[0] if language == "zh" else self.scope_name[1]

    def value(self, section: str, figure: str) -> int:
        """A figure's value by keys (KeyError for a section or figure not in the report)."""
        for computed in self.sections:
            if computed.section.key == section:
                for value in computed.figures:
                    if value.figure.key == figure:
                        return value.value
        raise KeyError(f"{section}.{figure}")

    @property
    def by_key(self) -> Mapping[str, Mapping[str, int]]:
        return {
            computed.section.key: {value.figure.key: value.value for value in computed.figures}
            for computed in self.sections
        }
