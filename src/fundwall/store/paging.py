"""Pages of long lists: a page number in, one page of rows and whether more follow out.

No total count: counting every matching row of a busy region on each page view costs more
than the page itself, and "next" only needs to know that one more row exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

T = TypeVar("T")

PAGE_SIZE: Final = 50
MAX_PAGE: Final = 10_000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Rows of page `number` (from 1) of `size` rows; `more` when a next page exists."""

    items: Sequence[T]
    number: int
    size: int
    more: bool

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1


def fetch_page(
    session: Session,
    query: Select[Any],
    number: int,
    size: int,
    row: Callable[[Any], T],
) -> Page[T]:
    """Run `query` (already ordered) for page `number`, mapping each result row with `row`."""
    number = min(max(number, 1), MAX_PAGE)
    rows = session.execute(query.limit(size + 1).offset((number - 1) * size)).all()
    return Page([row(each) for each in rows[:size]], number, size, len(rows) > size)
