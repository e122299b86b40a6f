"""The shared risk list as people read it on the console: pages of entries, one entry with
its changes, the latest changes to watch the feed from, and the members whose publishing the
hub may suspend.

What an actor sees of an entry is `entry_view`'s, as for every other route: another member's
entries without their reporter, reference, note or retraction reason. None of these reads is
audited, as reading an entry or the feed is not: they show what every member's feed already
carries. A lookup of one identifier (`query_identifier`) and a bulk match are audited, since
they say what a member is looking for.
"""

from __future__ import annotations

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.engine.controls.changes import reference
from fundwall.engine.controls.model import ListKind, RiskCategory
from fundwall.sharing.model import (
    FEED_PAGE,
    LIST_PAGE,
    EntryEvent,
    EntryFilter,
    EntryHistory,
    EntryStatus,
    EntryView,
    EventKind,
    Feed,
    MemberPublishing,
)
from fundwall.sharing.queries import (
    entry_row,
    entry_view,
    feed_events,
    feed_query,
    has_status,
    sees_all,
)
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.paging import Page, fetch_page
from fundwall.store.sharing_tables import PublishingSuspensionRow, RiskListEventRow
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.QUERY_RISK_LIST)
def risk_entries(uow: UnitOfWork, actor: Actor, wanted: EntryFilter) -> Page[EntryView]:
    """One page of the list as the actor may see it, newest first: every member's entries,
    of the kind, category, status and reporter wanted. A member may ask for its own entries,
    never for another member's by name (that would tell who reported them)."""
    if wanted.reporter is not None and not sees_all(actor) and wanted.reporter != actor.member:
        raise PermissionDenied(
            f"list member {wanted.reporter}'s entries as a user of {actor.member}: who "
            "reported another member's entry is the hub's to know"
        )
    now = uow.clock.now()
    query = select(RiskListEntryRow)
    if wanted.kind is not None:
        query = query.where(RiskListEntryRow.kind == ListKind(wanted.kind).value)
    if wanted.category is not None:
        query = query.where(RiskListEntryRow.category == RiskCategory(wanted.category).value)
    if wanted.status is not None:
        query = query.where(has_status(EntryStatus(wanted.status), now))
    if wanted.reporter is not None:
        member = reference(wanted.reporter, "reporter")
        query = query.where(RiskListEntryRow.reporting_member == member)
    return fetch_page(
        uow.session,
        query.order_by(RiskListEntryRow.id.desc()),
        wanted.page,
        LIST_PAGE,
        lambda found: entry_view(found[0], actor, now),
    )


@use_case(Permission.QUERY_RISK_LIST)
def entry_history(uow: UnitOfWork, actor: Actor, entry_id: int) -> EntryHistory:
    """One entry as the actor may see it (retracted and expired ones too), with its changes
    oldest first; who made each is told to the entry's reporter and the hub only."""
    row = entry_row(uow, entry_id)
    view = entry_view(row, actor, uow.clock.now())
    private = view.reporting_member is not None
    events = uow.session.scalars(
        select(RiskListEventRow)
        .where(RiskListEventRow.entry_id == entry_id)
        .order_by(RiskListEventRow.id)
    )
    history = []
    for event in events:
        kind = EventKind(event.event)
        by = row.created_by if kind is EventKind.PUBLISHED else row.retracted_by
        history.append(EntryEvent(event.id, kind, event.at, by if private else None))
    return EntryHistory(view, history)


@use_case(Permission.QUERY_RISK_LIST)
def latest_risk_events(uow: UnitOfWork, actor: Actor, limit: int = LIST_PAGE) -> Feed:
    """The newest `limit` changes of the list (up to FEED_PAGE), oldest first, and the
    cursor to follow the feed from (`risk_feed`): where a person watching the list starts."""
    if not 1 <= limit <= FEED_PAGE:
        raise InvalidInput(f"from 1 to {FEED_PAGE}", "limit")
    query = feed_query().order_by(RiskListEventRow.id.desc()).limit(limit)
    events = feed_events(uow, actor, query)[::-1]
    return Feed(events, events[-1].cursor if events else 0, False)


@use_case(Permission.MANAGE_RISK_LIST)
def publishing_members(uow: UnitOfWork, actor: Actor) -> list[MemberPublishing]:
    """The members that may publish (banks and payment institutions) by code, each with the
    hub's suspension of its publishing in effect, if any."""
    holders = [kind.value for kind in InstitutionKind if kind.holds_accounts]
    suspended = PublishingSuspensionRow
    query = (
        select(InstitutionRow, suspended)
        .outerjoin(
            suspended,
            (suspended.member == InstitutionRow.code) & suspended.lifted_at.is_(None),
        )
        .where(InstitutionRow.kind.in_(holders))
        .order_by(InstitutionRow.code)
    )
    return [
        MemberPublishing(
            member.code,
            member.name_zh,
            member.name_en,
            suspension.suspended_at if suspension else None,
            suspension.suspended_by if suspension else None,
            suspension.reason if suspension else None,
        )
        for member, suspension in uow.session.execute(query).all()
    ]
