"""Cases raised by the mule scores (涉诈账户风险评分): the hub's refresh of the account scores
(`fundwall.models.scores`) hands over the accounts its model flags, and each member that holds
some gets cases about them.

The flagged accounts of one member are grouped by transfers between them: one case per
connected group, a network case for several accounts, an account case for one, about
`mule-score:<first account>`. An account already in an open case of its member (of any kind:
an analyst is looking at it already) is raised no more, so refreshing every hour does not
pile up cases.

A case belongs to a member, and the refresh is the hub's, made with no member. Each case is
written for its member by the scorer (`system:mule-score@<member>`, its opener on the case),
through the cases' own `insert_case` and `attach`; the audit record names the hub's actor
who ran the refresh. `open_case` is not used: it takes a member's analyst, checks alerts a
score case does not have, and commits each case alone, where the scores and their cases are
written in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Permission, Role
from fundwall.auth.usecase import use_case
from fundwall.cases.model import CaseKind, CaseStatus, Priority, connected_groups
from fundwall.cases.queries import attach, cases_visible, insert_case, links_among
from fundwall.config import CaseSettings, get_settings
from fundwall.domain.identity.account_number import mask_account
from fundwall.store.police_tables import CaseAccountRow, CaseRow
from fundwall.store.uow import UnitOfWork

SCORER: Final = "mule-score"
"""The name the scorer writes cases under, for each member (`system:mule-score@301`)."""
SUBJECT_PREFIX: Final = "mule-score:"
_CHUNK: Final = 500
"""Account numbers per IN (...) list: well below SQLite's limit on bound parameters."""


def scorer_of(member: str) -> Actor:
    """The scorer acting for `member`: its customer data, nothing else."""
    return Actor(ActorKind.SYSTEM, SCORER, Role.MEMBER_SYSTEM, member)


def _in_open_cases(session: Session, member: Actor, accounts: Collection[str]) -> set[str]:
    wanted = sorted(accounts)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            session.scalars(
                select(CaseAccountRow.account_no)
                .join(CaseRow, CaseRow.id == CaseAccountRow.case_id)
                .where(
                    cases_visible(member),
                    CaseRow.status != CaseStatus.CLOSED.value,
                    CaseAccountRow.account_no.in_(wanted[start : start + _CHUNK]),
                )
            )
        )
    return found


def _title(accounts: Collection[str]) -> str:
    first, others = min(accounts), len(accounts) - 1
    shown = f"{mask_account(first)} +{others}" if others else mask_account(first)
    return f"涉诈账户风险评分 Mule score: {shown}"


@use_case(Permission.PROMOTE_MODELS)
def open_score_cases(
    uow: UnitOfWork,
    actor: Actor,
    flagged: Mapping[str, str],
    *,
    settings: CaseSettings | None = None,
) -> list[int]:
    """Open the cases of the `flagged` accounts (account number → the member holding it)
    that are in no open case; commits the unit of work (with whatever the caller wrote in
    it) and returns the ids of the cases opened."""
    session = uow.session
    sla = settings or get_settings().cases
    now = uow.clock.now()
    by_member: dict[str, set[str]] = defaultdict(set)
    for account_no, member in flagged.items():
        by_member[member].add(account_no)
    opened = []
    for member in sorted(by_member):
        scorer = scorer_of(member)
        fresh = by_member[member] - _in_open_cases(session, scorer, by_member[member])
        for accounts in connected_groups(fresh, links_among(session, fresh)):
            kind = CaseKind.NETWORK if len(accounts) > 1 else CaseKind.ACCOUNT
            row = insert_case(
                session,
                scorer,
                kind,
                f"{SUBJECT_PREFIX}{min(accounts)}",
                _title(accounts),
                priority=Priority.NORMAL,
                now=now,
                sla_hours=sla.sla_hours(kind.value),
            )
            attach(session, row, (), sorted(accounts), now)
            uow.audit.record(
                actor,
                "case_open",
                f"case:{row.id}",
                {"kind": kind.value, "member": member, "accounts": len(accounts), "by": SCORER},
            )
            opened.append(row.id)
    uow.commit()
    return opened
