"""What the hub reads of the members' publicity (反诈宣传): every member's events held in a
period, the records behind the statistics' event figures. Events hold no personal data
(titles and places are refused when they carry an ID or phone number), so the hub reads
them whole; campaigns, messages and dissuasion tasks stay each member's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput
from fundwall.outreach.campaigns import EventView, event_view
from fundwall.store.outreach_tables import OutreachEventRow
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

REGION_EVENTS_LIMIT: Final = 1000
"""At most this many events a region's list shows, the latest first (a year of a region's
members' events); the figures count them all."""


@dataclass(frozen=True, slots=True)
class MemberEvent:
    """An event and the member that held it."""

    member: str
    member_name: str
    event: EventView


@use_case(Permission.VIEW_REGION)
def region_events(
    uow: UnitOfWork,
    actor: Actor,
    start: date | None = None,
    end: date | None = None,
    member: str | None = None,
) -> list[MemberEvent]:
    """Every member's events (or `member`'s) held from `start` to `end` (Beijing days,
    inclusive), latest first, at most `REGION_EVENTS_LIMIT`."""
    if start is not None and end is not None and end < start:
        raise InvalidInput("the period ends on or after its start", "end")
    query = select(OutreachEventRow, InstitutionRow.name_zh).join(
        InstitutionRow, InstitutionRow.code == OutreachEventRow.member
    )
    if start is not None:
        query = query.where(OutreachEventRow.held_on >= start)
    if end is not None:
        query = query.where(OutreachEventRow.held_on <= end)
    if member:
        query = query.where(OutreachEventRow.member == member[:64])
    rows = uow.session.execute(
        query.order_by(OutreachEventRow.held_on.desc(), OutreachEventRow.id.desc()).limit(
            REGION_EVENTS_LIMIT
        )
    )
    return [MemberEvent(row.member, name, event_view(row)) for row, name in rows]
