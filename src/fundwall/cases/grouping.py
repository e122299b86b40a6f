"""Alerts group into cases (预警归并): by account, by holder, or by network.

The alerts grouped are the member's that are not closed and in no case yet. Each belongs to
the account its member answers for by that transaction (`fundwall.domain.ownership`: the
payer's account, the payee's of a deposit). By account, its alerts make one case about that
account; by person, the alerts of all the accounts of one holder (party) make one case; by
network, the accounts linked by transfers (the alerted accounts and their direct
counterparties at the member: a 跑分 network's mules and collectors) make one case per
connected group. An open case of the same kind about the same subject (for a network: one
that holds any of its accounts) gets the new alerts instead of a new case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.model import (
    GROUPINGS,
    CaseKind,
    CaseStatus,
    Priority,
    answering_account,
    connected_groups,
)
from fundwall.cases.queries import (
    attach,
    cases_visible,
    holders_of,
    insert_case,
    links_among,
    ungrouped_alerts,
)
from fundwall.config import CaseSettings, get_settings
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity.account_number import mask_account
from fundwall.store.police_tables import CaseAccountRow, CaseRow
from fundwall.store.uow import UnitOfWork


@dataclass
class _Group:
    """Alerts bound for one case, about `subject`, naming `accounts`."""

    subject: str
    title: str
    tx_ids: list[str] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)


@use_case(Permission.WORK_CASES)
def group_alerts(
    uow: UnitOfWork, actor: Actor, by: CaseKind, *, settings: CaseSettings | None = None
) -> list[int]:
    """Put the member's alerts that are in no case yet into cases of kind `by` (account,
    person or network); returns the ids of the cases opened (cases that existed and got
    alerts are not among them)."""
    if by not in GROUPINGS:
        raise InvalidInput(f"alerts group by {', '.join(GROUPINGS)}; open a {by} case by hand")
    session = uow.session
    owned: dict[str, str] = {}
    counterparts: dict[str, str | None] = {}
    for tx_id, kind, payer, payee in session.execute(ungrouped_alerts(actor)):
        account_no, counterparts[tx_id] = answering_account(kind, payer, payee)
        if account_no is not None:
            owned[tx_id] = account_no
    if by is CaseKind.ACCOUNT:
        groups = _by_account(owned)
    elif by is CaseKind.PERSON:
        groups = _by_person(session, actor, owned)
    else:
        groups = _by_network(session, actor, owned, counterparts)
    sla = (settings or get_settings().cases).sla_hours(by.value)
    now = uow.clock.now()
    opened = []
    for group in groups:
        row = _open_case_for(session, actor, by, group)
        if row is None:
            row = insert_case(
                session,
                actor,
                by,
                group.subject,
                group.title,
                priority=Priority.NORMAL,
                now=now,
                sla_hours=sla,
            )
            opened.append(row.id)
        attach(session, row, group.tx_ids, sorted(group.accounts), now)
        uow.audit.record(
            actor,
            "case_group",
            f"case:{row.id}",
            {"by": by.value, "alerts": len(group.tx_ids), "new": row.id in opened},
        )
    uow.commit()
    return opened


def _by_account(owned: dict[str, str]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for tx_id, account_no in owned.items():
        group = groups.setdefault(account_no, _Group(account_no, mask_account(account_no)))
        group.tx_ids.append(tx_id)
        group.accounts.add(account_no)
    return list(groups.values())


def _by_person(session: Session, actor: Actor, owned: dict[str, str]) -> list[_Group]:
    """One group a holder; an alert whose account the member has no holder of stays out."""
    holders = holders_of(session, actor.customer_member or "", owned.values())
    groups: dict[str, _Group] = {}
    for tx_id, account_no in owned.items():
        party_id = holders.get(account_no)
        if party_id is None:
            continue
        group = groups.setdefault(party_id, _Group(party_id, party_id))
        group.tx_ids.append(tx_id)
        group.accounts.add(account_no)
    return list(groups.values())


def _by_network(
    session: Session, actor: Actor, owned: dict[str, str], counterparts: dict[str, str | None]
) -> list[_Group]:
    """Connected groups of the alerted accounts and their counterparties at the member,
    linked by any transfer between two of them."""
    at_member = set(
        holders_of(session, actor.customer_member or "", (c for c in counterparts.values() if c))
    )
    nodes = set(owned.values()) | at_member
    group_of = {
        account_no: accounts
        for accounts in connected_groups(nodes, links_among(session, nodes))
        for account_no in accounts
    }
    groups: dict[str, _Group] = {}
    for tx_id, account_no in owned.items():
        accounts = group_of[account_no]
        subject = min(accounts)
        others = len(accounts) - 1
        title = f"{mask_account(subject)} +{others}" if others else mask_account(subject)
        group = groups.setdefault(subject, _Group(subject, title, accounts=accounts))
        group.tx_ids.append(tx_id)
    return list(groups.values())


def _open_case_for(session: Session, actor: Actor, kind: CaseKind, group: _Group) -> CaseRow | None:
    """The member's oldest case of `kind` not closed about the group's subject (a network:
    holding any of its accounts), if any."""
    query = (
        select(CaseRow)
        .where(
            cases_visible(actor),
            CaseRow.kind == kind.value,
            CaseRow.status != CaseStatus.CLOSED.value,
        )
        .order_by(CaseRow.id)
        .limit(1)
    )
    if kind is CaseKind.NETWORK:
        holding = select(CaseAccountRow.case_id).where(
            CaseAccountRow.account_no.in_(sorted(group.accounts))
        )
        query = query.where(CaseRow.id.in_(holding))
    else:
        query = query.where(CaseRow.subject == group.subject)
    return session.scalars(query).one_or_none()
