"""The SQL pieces the sections share: a window of time on a column, and a scope on the
columns that name a record's member and police unit. Entrypoints never import this."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from fundwall.reports.model import Compute, Scope, ScopeKind, Window


def within(column: InstrumentedAttribute[datetime] | Any, window: Window) -> ColumnElement[bool]:
    """WHERE clause: `column` (a UTC time) falls in the window, its start included."""
    return and_(column >= window.start, column < window.end)


def scoped(
    scope: Scope,
    member: InstrumentedAttribute[Any] | None,
    police: InstrumentedAttribute[Any] | None = None,
) -> ColumnElement[bool]:
    """WHERE clause: the record is the scope's: its `member` column is the member's code, its
    `police` column the police unit's; the region counts every record. A scope a record has
    no column for counts none of it (a section not speaking for that scope never asks)."""
    if scope.kind is ScopeKind.REGION:
        return true()
    column = member if scope.kind is ScopeKind.MEMBER else police
    if column is None:
        return false()
    return column == scope.code


def numbers(row: Sequence[Any] | None, keys: Sequence[str]) -> dict[str, int]:
    """A row of counts and sums (None where nothing was summed) as figures by key."""
    values = row if row is not None else (None,) * len(keys)
    return {key: int(value or 0) for key, value in zip(keys, values, strict=True)}


def each_window(one: Callable[[Session, Scope, Window], Mapping[str, int]]) -> Compute:
    """A section's query from a query of one window: asked once per window (a trend of a
    month asks 31 times; each is a few indexed reads)."""

    def compute(
        session: Session, scope: Scope, windows: Sequence[Window]
    ) -> list[Mapping[str, int]]:
        return [one(session, scope, window) for window in windows]

    return compute
