"""Screening runs (存量账户排查): screen a member's accounts, or the whole region as the hub;
read a run, its work list and the figures officials publish.

A run reads the account base from the store once (`queries.base_table`), runs the chosen
checks over it as columns (`checks`), and keeps the accounts found in scope as its work list,
each with the figures of every reason, in one transaction with its audit record. The checks
across members (one person's accounts at many banks, batches, shared phones) look at the
whole region's accounts through keyed hashes; a member's run lists only its own accounts and
tells of the others in counts.

    run = screen_accounts(uow, actor, settings.policy, checks=["dormant", "new_idle"])
    page = work_list(uow, actor, run.id, check="dormant")
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import PolicySettings
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.moments import past_moment
from fundwall.domain.screening import Check, parse_checks
from fundwall.screening.base import AccountBase
from fundwall.screening.checks import screen
from fundwall.screening.model import (
    ITEMS_PAGE,
    FindingView,
    ItemView,
    MemberCounts,
    MemberFigures,
    RunView,
)
from fundwall.screening.queries import (
    base_table,
    items_of,
    items_visible,
    member_figures,
    runs_visible,
    shown_account,
    targets_of,
    visible_run,
)
from fundwall.screening.reasons import finding_details, reason
from fundwall.store.paging import Page, fetch_page
from fundwall.store.screening_tables import (
    ScreeningFindingRow,
    ScreeningItemRow,
    ScreeningRunRow,
    ScreeningTargetRow,
)
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

_HOLDERS = (InstitutionKind.BANK.value, InstitutionKind.PAYMENT_INSTITUTION.value)


@use_case(Permission.SCREEN_ACCOUNTS)
def screen_accounts(
    uow: UnitOfWork,
    actor: Actor,
    policy: PolicySettings,
    *,
    member: str | None = None,
    checks: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> RunView:
    """Screen a member's accounts with `checks` (every check by default) as of `as_of` (now
    by default; never later): the actor's own member's (an actor of a member names no
    other), or for the operator the member it names."""
    chosen = parse_checks(checks)
    if actor.member is not None:
        if member is not None and member != actor.member:
            raise PermissionDenied(f"a member screens its own accounts only ({actor.audit_id})")
        member = actor.member
    if member is None:
        raise InvalidInput("name the member whose accounts to screen", "member")
    _check_member(uow.session, member)
    return _run(uow, actor, policy, member, chosen, past_moment(as_of, uow.clock.now()))


@use_case(Permission.SCREEN_REGION)
def screen_region(
    uow: UnitOfWork,
    actor: Actor,
    policy: PolicySettings,
    *,
    checks: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> RunView:
    """Screen every member's accounts as the hub, in one run, as of `as_of` (now by default):
    each member then reads and works its own part of the work list."""
    if actor.member is not None:
        raise PermissionDenied(f"whole-region runs are the hub's ({actor.audit_id})")
    return _run(uow, actor, policy, None, parse_checks(checks), past_moment(as_of, uow.clock.now()))


@use_case(Permission.SCREEN_REGION)
def screen_region_if_due(
    uow: UnitOfWork, actor: Actor, policy: PolicySettings, every: timedelta
) -> RunView | None:
    """The hub's scheduled run: screen the whole region with every check when the newest
    whole-region run started `every` ago or earlier, or there is none; None when not due."""
    newest = uow.session.scalar(
        select(func.max(ScreeningRunRow.started_at)).where(ScreeningRunRow.member.is_(None))
    )
    if newest is not None and uow.clock.now() - newest < every:
        return None
    return screen_region(uow, actor, policy)


def _check_member(session: Session, member: str) -> None:
    if not isinstance(member, str) or not member:
        raise InvalidInput("a member's institution code", "member")
    kind = session.scalar(select(InstitutionRow.kind).where(InstitutionRow.code == member))
    if kind not in _HOLDERS:
        raise InvalidInput(f"no bank or payment institution has the code {member[:64]!r}", "member")


def _run(
    uow: UnitOfWork,
    actor: Actor,
    policy: PolicySettings,
    member: str | None,
    checks: tuple[Check, ...],
    as_of: datetime,
) -> RunView:
    began = time.perf_counter()
    session = uow.session
    base = AccountBase.of_table(base_table(session, as_of, member), as_of)
    if member is None:
        scope = np.ones(base.count, dtype=np.bool_)
    else:
        codes = [code for code, name in enumerate(base.members) if name == member]
        scope = base.member == (codes[0] if codes else -1)
    found: dict[int, list[tuple[Check, dict[str, Any]]]] = defaultdict(list)
    for check, finding in screen(base, policy, checks).items():
        for row, details in zip(
            finding.rows.tolist(), finding_details(check, finding), strict=True
        ):
            if scope[row]:
                found[row].append((check, details))
    live = scope & ~base.closed
    screened = {
        base.members[code]: int(count)
        for code, count in enumerate(np.bincount(base.member[live], minlength=len(base.members)))
        if count
    }
    counts = {check.value: 0 for check in checks}
    for findings in found.values():
        for check, _ in findings:
            counts[check.value] += 1
    record = uow.audit.record(
        actor,
        "screen_accounts",
        f"screening:{member or 'region'}",
        {
            "checks": [check.value for check in checks],
            "as_of": as_of.isoformat(),
            "screened": sum(screened.values()),
            "found": counts,
        },
    )
    run = ScreeningRunRow(
        member=member,
        checks=[check.value for check in checks],
        as_of=as_of,
        started_at=record.ts,
        started_by=record.actor,
        duration_ms=0,
        screened=screened,
        revision=record.seq,
    )
    session.add(run)
    session.flush()
    rows = sorted(found)
    if rows:
        account_no = base.account_no.take(rows).to_pylist()
        party_id = base.party_id.take(rows).to_pylist()
        item_ids = session.scalars(
            insert(ScreeningItemRow).returning(ScreeningItemRow.id, sort_by_parameter_order=True),
            [
                {
                    "run_id": run.id,
                    "member": base.members[base.member[row]],
                    "account_no": number,
                    "party_id": party,
                }
                for row, number, party in zip(rows, account_no, party_id, strict=True)
            ],
        ).all()
        session.execute(
            insert(ScreeningFindingRow),
            [
                {"item_id": item, "check": check.value, "run_id": run.id, "details": details}
                for item, row in zip(item_ids, rows, strict=True)
                for check, details in found[row]
            ],
        )
    run.duration_ms = round((time.perf_counter() - began) * 1000)
    uow.commit()
    return _view(session, actor, run)


@use_case(Permission.VIEW_SCREENING)
def list_runs(uow: UnitOfWork, actor: Actor, page: int = 1) -> Page[RunView]:
    """The runs the actor sees, newest first (a member: its own and the hub's)."""
    session = uow.session
    query = select(ScreeningRunRow).where(runs_visible(actor)).order_by(ScreeningRunRow.id.desc())
    return fetch_page(session, query, page, ITEMS_PAGE, lambda row: _view(session, actor, row[0]))


@use_case(Permission.VIEW_SCREENING)
def read_run(uow: UnitOfWork, actor: Actor, run_id: int) -> RunView:
    """One run with its counts (a member's own part of a region run); NotFound for a run the
    actor may not see."""
    return _view(uow.session, actor, visible_run(uow.session, actor, run_id))


def _view(session: Session, actor: Actor, run: ScreeningRunRow) -> RunView:
    item = ScreeningItemRow
    found = session.execute(
        select(item.member, ScreeningFindingRow.check, func.count())
        .join(ScreeningFindingRow, ScreeningFindingRow.item_id == item.id)
        .where(item.run_id == run.id, items_visible(actor))
        .group_by(item.member, ScreeningFindingRow.check)
    ).all()
    items = dict(
        session.execute(
            select(item.member, func.count())
            .where(item.run_id == run.id, items_visible(actor))
            .group_by(item.member)
        ).all()
    )
    screened = {
        code: count
        for code, count in run.screened.items()
        if actor.member is None or code == actor.member
    }
    by_member = {
        code: MemberCounts(
            screened=screened.get(code, 0),
            found={Check(check): int(count) for owner, check, count in found if owner == code},
            items=int(items.get(code, 0)),
        )
        for code in sorted(set(screened) | set(items))
    }
    totals: dict[Check, int] = {Check(check): 0 for check in run.checks}
    for _, check, count in found:
        totals[Check(check)] += int(count)
    return RunView(
        id=run.id,
        member=run.member,
        checks=tuple(Check(check) for check in run.checks),
        as_of=run.as_of,
        started_at=run.started_at,
        started_by=run.started_by,
        duration_ms=run.duration_ms,
        screened=sum(screened.values()),
        found=totals,
        items=sum(int(count) for count in items.values()),
        by_member=by_member,
    )


@use_case(Permission.VIEW_SCREENING)
def work_list(
    uow: UnitOfWork,
    actor: Actor,
    run_id: int,
    *,
    page: int = 1,
    check: str | None = None,
    size: int = ITEMS_PAGE,
) -> Page[ItemView]:
    """One page of a run's work list as the actor sees it (a member: its own accounts),
    optionally of one check's accounts only; each item with its reasons and the actions
    taken on it since."""
    session = uow.session
    run = visible_run(session, actor, run_id)
    query = items_of(run.id, actor)
    if check is not None:
        (only,) = parse_checks([check], "check")
        query = query.where(
            ScreeningItemRow.id.in_(
                select(ScreeningFindingRow.item_id).where(
                    ScreeningFindingRow.run_id == run.id, ScreeningFindingRow.check == only.value
                )
            )
        )
    rows = fetch_page(session, query, page, size, lambda row: row[0])
    ids = [row.id for row in rows.items]
    findings: dict[int, list[FindingView]] = defaultdict(list)
    for finding in session.scalars(
        select(ScreeningFindingRow).where(ScreeningFindingRow.item_id.in_(ids))
    ):
        zh, en = reason(Check(finding.check), finding.details)
        findings[finding.item_id].append(FindingView(Check(finding.check), finding.details, zh, en))
    actions = targets_of(session, actor, ScreeningTargetRow.item_id.in_(ids))
    return Page(
        [
            ItemView(
                id=row.id,
                account_no=shown_account(actor, row.member, row.account_no),
                member=row.member,
                findings=tuple(sorted(findings[row.id], key=lambda f: list(Check).index(f.check))),
                actions=tuple(target for item, target in actions if item == row.id),
            )
            for row in rows.items
        ],
        rows.number,
        rows.size,
        rows.more,
    )


@use_case(Permission.VIEW_SCREENING)
def screening_figures(
    uow: UnitOfWork, actor: Actor, *, since: datetime | None = None, until: datetime | None = None
) -> list[MemberFigures]:
    """Per member (a member: its own), the period's screening as officials publish it:
    runs, accounts screened by the latest run, accounts found, notified, cleaned, closed."""
    for moment, field in ((since, "since"), (until, "until")):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput("a time with its UTC offset", field)
    if since is not None and until is not None and until <= since:
        raise InvalidInput("the end must come after the start", "until")
    return member_figures(uow.session, actor.member, since, until)
