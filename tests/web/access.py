"""What the route access test needs: who asks, about whose records, what each route expects,
and how an answer is judged. The table of routes and the tests are in test_route_access.py.

A principal is an anonymous visitor, a console user or a member's API key. Each request is
about one member's `Records` (an account, an alerted transaction), named by the path's
placeholders or carried in the query, form or body. An answer is judged by its `Door`: shut
(refused: 401, 403, 404, or sent to sign in first), open (let in), or ajar (refused, or
answered without anything that is not the principal's). "Anything" is a transaction id or
an account number that the principal's member never dealt with (`hidden_from`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, or_, select
from starlette.routing import Mount, Route

from fundwall.auth import Role
from fundwall.auth.dependencies import SAFE_METHODS
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission
from fundwall.cases.queries import is_alert
from fundwall.engine.rules import default_pack
from fundwall.store import UnitOfWork
from fundwall.store.mapping import transaction_of
from fundwall.store.police_tables import ClueAccountRow, ClueRow, PoliceOrderRow
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow
from fundwall.web.errors import is_console

from .clue_records import clue_values
from .conftest import Browser, open_client, sign_in
from .region import ADMIN, Region

SECOND_ADMIN: Final = "admin2"
"""The second member's admin, which the region does not create (the first's is ADMIN)."""
REFUSALS: Final = frozenset({401, 403, 404})
SIGN_IN_FIRST: Final = "/login?next="
"""Where the console sends a request without a session."""
RECORD_PLACEHOLDERS: Final = (
    "{account_no}",
    "{tx_id}",
    "{case_id}",
    "{order_id}",
    "{clue_id}",
    "{trace_id}",
    "{plan_id}",
    "{appeal_id}",
    "{task_id}",
    "{campaign_id}",
)
"""Path placeholders that name a member's record."""
QUERY_PERIOD: Final = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 10, tzinfo=UTC))
"""The period of the police orders `issue_orders` issues (account queries)."""


@dataclass(frozen=True)
class Records:
    """One member's records a request is about, as values of placeholders (`{account_no}`,
    `{tx_id}`, `{version}` …), and the stored transaction, which the decision routes resend."""

    bank: str
    values: Mapping[str, str]
    transaction: Mapping[str, Any]

    def fill(self, template: str, **more: str) -> str:
        return template.format_map({**self.values, **more})

    def adding(self, **more: str) -> Records:
        """These records and more placeholders' values (records the test's console made)."""
        return replace(self, values={**self.values, **more})


Body = Callable[[Records], dict[str, Any]]
"""A request body for a member's records: `json=` or `content=` of httpx's request."""


@dataclass(frozen=True)
class Expect:
    """Who may use a route (`permission`; None: any signed-in user, or anyone if `public`)
    and what a request carries: query and form fields (templates filled from the records),
    a body, and the route's own path placeholders (`fill`: a static file's name, or a
    placeholder naming another of the records, as `{police_clue_id}`)."""

    permission: Permission | None
    params: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, str] = field(default_factory=dict)
    body: Body | None = None
    public: bool = False
    ends_session: bool = False
    fill: Mapping[str, str] = field(default_factory=dict)
    alternatively: Permission | None = None
    """A second permission that lets a principal in as well (a page a member's staff and the
    hub each read their part of)."""

    def request(self, method: str, template: str, records: Records) -> tuple[str, dict[str, Any]]:
        """The URL and httpx's keyword arguments of a request about `records`."""
        url = records.fill(template, **{name: records.fill(v) for name, v in self.fill.items()})
        kwargs: dict[str, Any] = self.body(records) if self.body is not None else {}
        if self.params:
            kwargs["params"] = {name: records.fill(v) for name, v in self.params.items()}
        if self.data:
            kwargs["data"] = {name: records.fill(v) for name, v in self.data.items()}
        return url, kwargs


def public(**fill: str) -> Expect:
    return Expect(None, public=True, fill=fill)


def needs(
    permission: Permission | None,
    *,
    params: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    body: Body | None = None,
    fill: Mapping[str, str] | None = None,
    alternatively: Permission | None = None,
) -> Expect:
    return Expect(
        permission, params or {}, data or {}, body, fill=fill or {}, alternatively=alternatively
    )


@dataclass(frozen=True)
class Principal:
    """Who asks: an anonymous visitor (no role), a console user or a member's API key."""

    label: str
    role: Role | None
    member: str | None
    username: str | None = None
    key: str | None = None

    def may(self, method: str, path: str, expect: Expect) -> bool:
        """Whether the route lets this principal in. Console pages take a session; the API
        reads with a key or a session and takes anything else only with a key."""
        if expect.public:
            return True
        if self.role is None:
            return False
        if is_console(path):
            door = self.username is not None
        else:
            door = method in SAFE_METHODS or self.key is not None
        held = ROLE_PERMISSIONS[self.role]
        permitted = (
            expect.permission is None
            or expect.permission in held
            or (expect.alternatively is not None and expect.alternatively in held)
        )
        return door and permitted


def principals(region: Region) -> dict[str, Principal]:
    """Every role, and every member role for both members, by label."""
    first, second = region.first_bank, region.second_bank
    every = [
        Principal("anonymous", None, None),
        Principal("admin of the first", Role.MEMBER_ADMIN, first, username=ADMIN),
        Principal("admin of the second", Role.MEMBER_ADMIN, second, username=SECOND_ADMIN),
        Principal("analyst of the first", Role.MEMBER_ANALYST, first, username="analyst1"),
        Principal("analyst of the second", Role.MEMBER_ANALYST, second, username="analyst2"),
        Principal("key of the first", Role.MEMBER_SYSTEM, first, key=region.first_key),
        Principal("key of the second", Role.MEMBER_SYSTEM, second, key=region.second_key),
        Principal("hub supervisor", Role.HUB_SUPERVISOR, None, username="supervisor"),
        Principal("police officer", Role.POLICE_OFFICER, region.police_unit, username="police"),
        Principal("police key", Role.POLICE_SYSTEM, region.police_unit, key=region.police_key),
        Principal("auditor", Role.AUDITOR, None, username="auditor"),
    ]
    return {principal.label: principal for principal in every}


def hidden_from(database: Engine, member: str | None) -> frozenset[str]:
    """Transaction ids and account numbers a principal of `member` must never be shown: of
    the transactions and accounts its member has nothing to do with (all of them for a
    principal of no member)."""
    tx = TransactionRow
    with database.connect() as connection:
        if member is None:
            txs = set(connection.scalars(select(tx.tx_id)))
            return frozenset(txs | set(connection.scalars(select(AccountRow.account_no))))
        unrelated = select(tx.tx_id).where(
            tx.payer_bank.is_distinct_from(member), tx.payee_bank.is_distinct_from(member)
        )
        others = select(AccountRow.account_no).where(AccountRow.institution_code != member)
        dealt_with = select(tx.payer_account, tx.payee_account).where(
            or_(tx.payer_bank == member, tx.payee_bank == member)
        )
        counterparts = {account for pair in connection.execute(dealt_with) for account in pair}
        accounts = set(connection.scalars(others)) - counterparts
        return frozenset(set(connection.scalars(unrelated)) | accounts)


def clue_accounts_of(database: Engine, unit: str) -> frozenset[str]:
    """The accounts named by the clues sent to police unit `unit`."""
    with database.connect() as connection:
        return frozenset(
            connection.scalars(
                select(ClueAccountRow.account_no)
                .join(ClueRow, ClueRow.id == ClueAccountRow.clue_id)
                .where(ClueRow.police_unit == unit)
            )
        )


def police_scope_of(database: Engine, avoid: frozenset[str]) -> tuple[str, str, frozenset[str]]:
    """An account for the police unit's order, a transaction of it, and what the unit must
    not be shown once its order covers that account: every transaction not touching it, and
    every account but it and its counterparties. The account is one that never dealt with
    the accounts of `avoid` (the members' records), so those stay out of the scope."""
    tx = TransactionRow
    with database.connect() as connection:
        pairs = connection.execute(select(tx.tx_id, tx.payer_account, tx.payee_account)).all()
        accounts = set(connection.scalars(select(AccountRow.account_no)))
    touched = {a for _, payer, payee in pairs if {payer, payee} & avoid for a in (payer, payee)}
    account, tx_id = next(
        (payer, tx_id)
        for tx_id, payer, payee in sorted(pairs)
        if payer in accounts and payer not in touched and payee not in avoid
    )
    mine = {t for t, payer, payee in pairs if account in (payer, payee)}
    counterparts = {a for t, payer, payee in pairs if t in mine for a in (payer, payee)}
    hidden = ({t for t, _, _ in pairs} - mine) | (accounts - counterparts)
    return account, tx_id, frozenset(hidden)


def issue_orders(uow: UnitOfWork, region: Region, accounts: list[str]) -> list[int]:
    """Account queries of the second police unit on all but the last of `accounts` and of
    the officer's unit on the last (what it then sees); the orders' ids."""
    from fundwall.auth import Actor
    from fundwall.domain.police import OrderKind
    from fundwall.police import OrderRequest, issue_order

    units = [region.second_police_unit] * (len(accounts) - 1) + [region.police_unit]
    return [
        issue_order(
            uow,
            Actor.operator("test"),
            OrderRequest(
                OrderKind.QUERY,
                f"查〔2024〕{n:04d}号",
                "王警官",
                "A3502002024030001",
                "《反电信网络诈骗法》第三十二条",
                account_no=account,
                period_from=QUERY_PERIOD[0],
                period_to=QUERY_PERIOD[1],
                police_unit=unit,
            ),
        ).id
        for n, (account, unit) in enumerate(zip(accounts, units, strict=True), start=1)
    ]


def store_trace(uow: UnitOfWork, region: Region, records: Records) -> tuple[int, frozenset[str]]:
    """A trace of the officer's unit from a payment into its records' account: its id, and
    the accounts and transactions it shows the unit (following the money is what a trace is
    for: the unit sees where it went before it orders anything there)."""
    from fundwall.auth import Actor
    from fundwall.tracing.model import AttributionRule, TraceStart
    from fundwall.tracing.traces import start_trace

    start = TraceStart("报案-R", records.values["account_no"], QUERY_PERIOD[0], 100)
    actor = Actor.operator("test")
    view = start_trace(uow, actor, [start], AttributionRule.LIFO, police_unit=region.police_unit)
    shown = {account.account_no for account in view.result.accounts}
    shown |= {transfer.tx_id for transfer in view.result.transfers}
    return view.id, frozenset(shown)


def add_return_plans(uow: UnitOfWork, order_ids: list[int]) -> list[int]:
    """A draft return plan on each order, of its unit on its account, with one share and one
    objection (written directly: the plans' own tests hold their use cases; here only whose
    they are matters); the plans' ids, the same as their shares' and objections'."""
    from fundwall.store.return_tables import (
        ReturnAllocationRow,
        ReturnObjectionRow,
        ReturnPlanRow,
    )

    now, plans = datetime(2024, 3, 10, tzinfo=UTC), []
    for order_id in order_ids:
        order = uow.session.get(PoliceOrderRow, order_id)
        assert order is not None
        plan = ReturnPlanRow(
            police_unit=order.police_unit, order_id=order.id, account_no=order.account_no,
            bank_code=order.bank_code, method="direct", frozen_fen=100, returned_fen=100,
            residual_fen=0, status="draft", created_at=now, created_by="test", updated_at=now,
        )  # fmt: skip
        uow.session.add(plan)
        uow.session.flush()
        uow.session.add(ReturnAllocationRow(plan_id=plan.id, victim_account=order.account_no,
                                            loss_fen=100, amount_fen=100))  # fmt: skip
        uow.session.add(ReturnObjectionRow(plan_id=plan.id, objector="other", text="异议",
                                           recorded_at=now, recorded_by="test"))  # fmt: skip
        plans.append(plan.id)
    uow.commit()
    return plans


def records_of(database: Engine, region: Region, bank: str, private: frozenset[str]) -> Records:
    """An alerted transaction the member's customer paid from an account the other member
    never dealt with (`private`: what the other must not be shown), and that account."""
    tx = TransactionRow
    alerted = (
        select(tx)
        .join(DecisionRow, DecisionRow.tx_id == tx.tx_id)
        .where(is_alert(), tx.payer_bank == bank)
        .order_by(tx.ts)
    )
    with UnitOfWork(database) as uow:
        row = next(row for row in uow.session.scalars(alerted) if row.payer_account in private)
        stored = transaction_of(row).as_row()
        clues = clue_values(uow, bank, region.police_unit)
        holder = uow.session.get(AccountRow, row.payer_account)
        assert holder is not None
        party_id = holder.party_id
    transaction = {name: value for name, value in stored.items() if value is not None}
    transaction["ts"] = stored["ts"].astimezone(UTC).isoformat()
    values = {
        "account_no": str(stored["payer_account"]),
        "party_id": party_id,
        "tx_id": str(stored["tx_id"]),
        "bank": bank,
        "version": region.shadow_version,
        "live": default_pack().version,
        "region": region.folder.name,
        "language": "en",
        **clues,
    }
    return Records(bank, values, transaction)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; a mount's files as `{path}` below it."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(("GET", f"{route.path}/{{path}}"))
        elif isinstance(route, Route) or context.methods:
            found |= {
                (method, context.path) for method in context.methods or () if method != "HEAD"
            }
        else:
            found.add(("?", repr(route)))
    return found


class Caller:
    """A principal's client: signed in for a user, the key in every request for a key."""

    def __init__(self, app: FastAPI, principal: Principal) -> None:
        self.app = app
        self.principal = principal
        self.client = self._open()

    def _open(self) -> Browser:
        client = open_client(self.app)
        if self.principal.username is not None:
            return sign_in(client, self.principal.username)
        if self.principal.key is not None:
            client.headers["Authorization"] = f"Bearer {self.principal.key}"
        return client

    def send(self, method: str, url: str, request: dict[str, Any]) -> httpx.Response:
        """The request, with the session's CSRF token on a console form."""
        if method not in SAFE_METHODS and is_console(url):
            data = {**request.get("data", {}), "csrf_token": self.client.csrf}
            request = {**request, "data": data}
        return self.client.request(method, url, **request)

    def start_again(self) -> None:
        """A new session, after a route that ended the last one."""
        self.client.close()
        self.client = self._open()


class Door(Enum):
    """What a route should do with a request."""

    SHUT = "refuse it"
    OPEN = "let it in (the principal's own records)"
    AJAR = "refuse it or answer without anything that is not the principal's"


def door(principal: Principal, method: str, template: str, expect: Expect, *, mine: bool) -> Door:
    """What the route should do with the principal's request about its own member's records
    (`mine`) or the other's. A path that names another member's record is refused."""
    if expect.public:
        return Door.AJAR
    if not principal.may(method, template, expect):
        return Door.SHUT
    if mine:
        return Door.OPEN
    if any(placeholder in template for placeholder in RECORD_PLACEHOLDERS):
        return Door.SHUT
    return Door.AJAR


_TOKEN: Final = re.compile(r"[0-9A-Za-z]+")


def _tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(text))


def refused(answer: httpx.Response) -> bool:
    """Refused outright, or sent to sign in first (and brought back after)."""
    if answer.status_code in REFUSALS:
        return True
    return answer.is_redirect and answer.headers.get("location", "").startswith(SIGN_IN_FIRST)


def judge(answer: httpx.Response, asked: str, hidden: frozenset[str], expected: Door) -> list[str]:
    """What is wrong with `answer` to the request `asked` (its method, URL and content). What
    the request itself names is not held against the answer that repeats it."""
    problems = []
    if answer.status_code >= 500:
        problems.append(f"server error {answer.status_code}")
    shown = sorted((_tokens(answer.text) & hidden) - _tokens(asked))
    if shown:
        problems.append(f"shows what is not the principal's: {shown[:5]}")
    if expected is Door.SHUT and not refused(answer):
        problems.append(f"not refused: {answer.status_code}")
    if expected is Door.OPEN and refused(answer):
        problems.append(f"its own records refused: {answer.status_code}")
    return problems


def add_dissuasion_task(uow: UnitOfWork, records: Records) -> int:
    """A dissuasion task of the records' member on its transaction (as a warn decision on it
    would make); its id."""
    from fundwall.store.outreach_tables import DissuasionTaskRow

    tx_id = records.values["tx_id"]
    decision = uow.session.scalars(select(DecisionRow.id).where(DecisionRow.tx_id == tx_id)).first()
    transaction = uow.session.get(TransactionRow, tx_id)
    assert decision is not None and transaction is not None
    now = uow.clock.now()
    task = DissuasionTaskRow(
        member=records.bank,
        decision_id=decision,
        tx_id=tx_id,
        payer_account=records.values["account_no"],
        amount_fen=transaction.amount_fen,
        warned_at=now,
        created_at=now,
        due_at=now,
        status="open",
    )
    uow.session.add(task)
    uow.commit()
    return task.id
