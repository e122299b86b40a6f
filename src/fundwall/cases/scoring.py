"""Cases raised by the mule scores (涉诈账户风险评分): the hub's refresh of the account scores
(`fundwall.models.scores`) hands over the accounts its model flags, and the detected networks
among them (`fundwall.models.account_networks`: flagged accounts tied by money over every
member's transfers, with the relays and collectors that tie them, which are raised too), and
each member that holds some gets cases about them.

A detected network is one case at each member holding part of it: a member sees its own
customers only, so the case holds that member's accounts of the network, and the cases of
one network share the subject `network:<key>`, by which the hub and the police see them as
one. The title says the network's size and how many institutions hold it, never another
member's account. The key is the one of an open case already holding an account of the
network (a network found again at the next refresh keeps its key), else a new one made of
the refresh's time (to the second) and the network's place in it. A flagged account in no
network is an account case of its own, about `mule-score:<account>`.

An account already in an open case of its member (of any kind: an analyst is looking at it
already) is raised no more, so refreshing every hour does not pile up cases; a network that
grew since its cases were opened gets a case for the new accounts only, under its key. An
account whose latest case at its member was closed (with any outcome) is held back for
`cases.score_hold_days` after the closing, unless a transaction of it dated after the
closing has come in: the analyst's judgement stands until there is something new to judge.
A transaction's time is the sender's, so a member could date one late to bring another's
account back a day early: one case, the same an ordinary new transfer would raise.

A case belongs to a member, and the refresh is the hub's, made with no member. Each case is
written for its member by the scorer (`system:mule-score@<member>`, its opener on the case),
through the cases' own `insert_case` and `attach`; the audit record names the hub's actor
who ran the refresh. `open_case` is not used: it takes a member's analyst, checks alerts a
score case does not have, and commits each case alone, where the scores and their cases are
written in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Permission, Role
from fundwall.auth.usecase import use_case
from fundwall.cases.model import CaseKind, CaseStatus, Priority
from fundwall.cases.queries import attach, cases_visible, insert_case
from fundwall.config import CaseSettings, get_settings
from fundwall.domain.identity.account_number import mask_account
from fundwall.store.police_tables import CaseAccountRow, CaseRow
from fundwall.store.tables import TransactionRow
from fundwall.store.uow import UnitOfWork

SCORER: Final = "mule-score"
"""The name the scorer writes cases under, for each member (`system:mule-score@301`)."""
SUBJECT_PREFIX: Final = "mule-score:"
"""The subject of an account case: `mule-score:<account>`."""
NETWORK_PREFIX: Final = "network:"
"""The subject shared by the cases of one detected network, one at each member."""
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


def _closed_lately(
    session: Session, member: Actor, accounts: Collection[str], since: datetime
) -> dict[str, datetime]:
    """Account → when the member's latest case holding it was closed, where that was at or
    after `since` (a merged case did not end: its accounts went on in another)."""
    wanted = sorted(accounts)
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(CaseAccountRow.account_no, func.max(CaseRow.closed_at))
            .join(CaseRow, CaseRow.id == CaseAccountRow.case_id)
            .where(
                cases_visible(member),
                CaseRow.status == CaseStatus.CLOSED.value,
                CaseRow.merged_into.is_(None),
                CaseAccountRow.account_no.in_(wanted[start : start + _CHUNK]),
            )
            .group_by(CaseAccountRow.account_no)
        )
        found.update(
            (account_no, closed_at)
            for account_no, closed_at in rows
            if closed_at is not None and closed_at >= since
        )
    return found


def _last_activity(session: Session, accounts: Collection[str]) -> dict[str, datetime]:
    """Account → the time of its latest transaction, paid or received."""
    wanted = sorted(accounts)
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        sides = union_all(
            select(TransactionRow.payer_account.label("account_no"), TransactionRow.ts).where(
                TransactionRow.payer_account.in_(chunk)
            ),
            select(TransactionRow.payee_account.label("account_no"), TransactionRow.ts).where(
                TransactionRow.payee_account.in_(chunk)
            ),
        ).subquery()
        rows = session.execute(
            select(sides.c.account_no, func.max(sides.c.ts)).group_by(sides.c.account_no)
        )
        found.update((account_no, ts) for account_no, ts in rows)
    return found


def _held_back(
    session: Session, member: Actor, accounts: Collection[str], now: datetime, hold: timedelta
) -> set[str]:
    """The `accounts` whose latest case at the member was closed within `hold` of `now`,
    with no transaction of theirs dated after the closing."""
    closed = _closed_lately(session, member, accounts, now - hold) if hold else {}
    last = _last_activity(session, closed)
    return {
        account_no
        for account_no, closed_at in closed.items()
        if account_no not in last or last[account_no] <= closed_at
    }


def _network_keys(session: Session, accounts: Collection[str]) -> dict[str, str]:
    """Account → the key of an open network case holding it (any member's: the key is the
    hub's, and no member is shown another's case through it)."""
    wanted = sorted(accounts)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(CaseAccountRow.account_no, CaseRow.subject)
            .join(CaseRow, CaseRow.id == CaseAccountRow.case_id)
            .where(
                CaseRow.status != CaseStatus.CLOSED.value,
                CaseRow.subject.startswith(NETWORK_PREFIX),
                CaseAccountRow.account_no.in_(wanted[start : start + _CHUNK]),
            )
        )
        for account_no, subject in rows:
            key = subject.removeprefix(NETWORK_PREFIX)
            found[account_no] = min(key, found.get(account_no, key))
    return found


def _shown(accounts: Collection[str]) -> str:
    first, others = min(accounts), len(accounts) - 1
    return f"{mask_account(first)} +{others}" if others else mask_account(first)


def _account_title(account_no: str) -> str:
    return f"涉诈账户风险评分 Mule score: {mask_account(account_no)}"


def _network_title(key: str, size: int, institutions: int, mine: Collection[str]) -> str:
    return (
        f"涉诈账户网络 {key}：{size}个账户，{institutions}家机构；本机构 {_shown(mine)} · "
        f"Mule network {key}: {size} accounts at {institutions} institutions; "
        f"here {_shown(mine)}"
    )


@dataclass(frozen=True, slots=True)
class _Raised:
    """A case to open: for whom, about what, which accounts."""

    member: str
    kind: CaseKind
    subject: str
    title: str
    accounts: frozenset[str]
    network: str | None


def _plan(
    session: Session,
    flagged: Mapping[str, str],
    networks: Sequence[Collection[str]],
    now: datetime,
    hold: timedelta,
) -> list[_Raised]:
    by_member: dict[str, set[str]] = defaultdict(set)
    for account_no, member in flagged.items():
        by_member[member].add(account_no)
    fresh: set[str] = set()
    for member, held in by_member.items():
        scorer = scorer_of(member)
        unseen = held - _in_open_cases(session, scorer, held)
        fresh |= unseen - _held_back(session, scorer, unseen, now, hold)
    raised: list[_Raised] = []
    grouped: set[str] = set()
    for number, network in enumerate(networks, start=1):
        accounts = [account_no for account_no in network if account_no in flagged]
        grouped.update(accounts)
        new = [account_no for account_no in accounts if account_no in fresh]
        if not new:
            continue
        known = _network_keys(session, accounts)
        key = min(known.values()) if known else f"{now:%Y%m%d%H%M%S}-{number}"
        institutions = len({flagged[account_no] for account_no in accounts})
        for member in sorted({flagged[account_no] for account_no in new}):
            mine = frozenset(a for a in new if flagged[a] == member)
            title = _network_title(key, len(accounts), institutions, mine)
            raised.append(
                _Raised(member, CaseKind.NETWORK, f"{NETWORK_PREFIX}{key}", title, mine, key)
            )
    for account_no in sorted(fresh - grouped):
        raised.append(
            _Raised(
                flagged[account_no],
                CaseKind.ACCOUNT,
                f"{SUBJECT_PREFIX}{account_no}",
                _account_title(account_no),
                frozenset({account_no}),
                None,
            )
        )
    return raised


@use_case(Permission.PROMOTE_MODELS)
def open_score_cases(
    uow: UnitOfWork,
    actor: Actor,
    flagged: Mapping[str, str],
    networks: Sequence[Collection[str]] = (),
    *,
    settings: CaseSettings | None = None,
) -> list[int]:
    """Open the cases of the `flagged` accounts (account number → the member holding it:
    those the score flags and the accounts of the detected networks) that are in no open case
    of their member: one case per detected network (`networks`, groups of those accounts) at
    each member holding part of it, one per other account;
    commits the unit of work (with whatever the caller wrote in it) and returns the ids of
    the cases opened."""
    session = uow.session
    sla = settings or get_settings().cases
    now = uow.clock.now()
    opened = []
    hold = timedelta(days=sla.score_hold_days)
    for case in _plan(session, flagged, networks, now, hold):
        row = insert_case(
            session,
            scorer_of(case.member),
            case.kind,
            case.subject,
            case.title,
            priority=Priority.NORMAL,
            now=now,
            sla_hours=sla.sla_hours(case.kind.value),
        )
        attach(session, row, (), sorted(case.accounts), now)
        uow.audit.record(
            actor,
            "case_open",
            f"case:{row.id}",
            {
                "kind": case.kind.value,
                "member": case.member,
                "accounts": len(case.accounts),
                "network": case.network,
                "by": SCORER,
            },
        )
        opened.append(row.id)
    uow.commit()
    return opened
