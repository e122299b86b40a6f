"""Every route of `fundwall serve`, for every role and both members: nobody reaches what is
not theirs.

The routes come from the app's own route table, and `ROUTES` says for each who may use it
(public, any signed-in user, or the holders of a permission) and what a request carries; a
route missing from `ROUTES` fails the first test, so a new route cannot go unchecked. Then,
for each principal (anonymous; an admin, an analyst and an API key of each of two members;
the hub supervisor, a police officer and an auditor), each route is asked once about the
principal's own member's records and once about the other member's:

* a principal that may not use the route is refused: 401, 403, 404, or the sign-in page;
* one that may is let in for its own records (neither refused nor sent to sign in);
* no answer shows anything of a member the principal does not belong to: none of that
  member's transaction ids or account numbers that the principal's member never dealt with
  (for principals of no member, no customer's at all) appear in it;
* nothing answers with a server error.

The police see what their orders cover, and there are no orders yet: an officer sees no
customer data at all, which the last check holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from enum import Enum
from typing import Any, Final

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, or_, select
from starlette.routing import Mount, Route

from api.pacs import member_pacs008  # tests/api/pacs.py
from fundwall.auth import Passwords, Role, SystemActor, add_user
from fundwall.auth.dependencies import SAFE_METHODS
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission
from fundwall.engine.rules import default_pack
from fundwall.store import UnitOfWork, open_engine
from fundwall.store.mapping import transaction_of
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow
from fundwall.web.data.alerts import is_alert
from fundwall.web.errors import is_console

from .conftest import Browser, Console, open_client, sign_in
from .region import ADMIN, NOW, PASSWORD, Region

SECOND_ADMIN: Final = "admin2"
REFUSALS: Final = frozenset({401, 403, 404})
RECORD_PLACEHOLDERS: Final = ("{account_no}", "{tx_id}")
"""Path placeholders that name a member's record."""
SIGN_IN_FIRST: Final = "/login?next="
"""Where the console sends a request without a session."""


@dataclass(frozen=True)
class Records:
    """One member's records that a request names: the values of the path's placeholders,
    and the stored transaction (resent as is by the decision routes)."""

    bank: str
    account_no: str
    tx_id: str
    transaction: Mapping[str, Any]
    placeholders: Mapping[str, str] = field(default_factory=dict)

    def path(self, template: str, **fill: str) -> str:
        values = {"account_no": self.account_no, "tx_id": self.tx_id, **self.placeholders}
        return template.format_map({**values, **fill})


Request = Callable[[Records], dict[str, Any]]
"""What a request carries for a member's records: keyword arguments of httpx's request."""


def _nothing(records: Records) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Expect:
    """Who may use a route (`permission`; None: any signed-in user) and what it is sent."""

    permission: Permission | None
    request: Request = _nothing
    public: bool = False
    ends_session: bool = False
    fill: Mapping[str, str] = field(default_factory=dict)
    """Values of path placeholders that are this route's own (a static file's name)."""


def public(request: Request = _nothing, **fill: str) -> Expect:
    return Expect(None, request, public=True, fill=fill)


def needs(permission: Permission | None, request: Request = _nothing) -> Expect:
    return Expect(permission, request)


def _transaction(records: Records) -> dict[str, Any]:
    return {"json": dict(records.transaction)}


def _batch(records: Records) -> dict[str, Any]:
    return {"json": [dict(records.transaction)]}


def _pacs008(records: Records) -> dict[str, Any]:
    message = member_pacs008(
        records.tx_id, records.bank, records.account_no, NOW.isoformat(timespec="seconds")
    )
    return {"content": message, "headers": {"content-type": "application/xml"}}


P = Permission
ROUTES: Final[Mapping[tuple[str, str], Expect]] = {
    # Public: the documentation, the health check, static files, signing in, the language.
    ("GET", "/healthz"): public(),
    ("GET", "/openapi.json"): public(),
    ("GET", "/docs"): public(),
    ("GET", "/docs/assets/{path}"): public(path="swagger-ui.css"),
    ("GET", "/static/{path}"): public(path="app.js"),
    ("GET", "/login"): public(),
    ("POST", "/login"): public(lambda r: {"data": {"username": ADMIN, "password": "wrong"}}),
    ("GET", "/lang/{language}"): public(),
    # The engine's API: a member's key submits its own transactions.
    ("POST", "/v1/transactions"): needs(P.SUBMIT_TRANSACTIONS, _transaction),
    ("POST", "/v1/transactions/batch"): needs(P.SUBMIT_TRANSACTIONS, _batch),
    ("POST", "/v1/iso20022/pacs.008"): needs(P.SUBMIT_TRANSACTIONS, _pacs008),
    # The member-data API: a key, or a console session, reads its member's records.
    ("GET", "/v1/accounts/{account_no}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/accounts/{account_no}/transactions"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/transactions/{tx_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/alerts"): needs(P.VIEW_CUSTOMER_DATA),
    # The console.
    ("POST", "/logout"): Expect(None, ends_session=True),
    ("GET", "/"): needs(None),
    ("GET", "/overview/live"): needs(P.VIEW_OVERVIEW),
    ("GET", "/transactions"): needs(
        P.VIEW_CUSTOMER_DATA, lambda r: {"params": {"account": r.account_no}}
    ),
    ("GET", "/transactions/{tx_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/accounts/{account_no}"): needs(P.VIEW_CUSTOMER_DATA),
    ("POST", "/accounts/{account_no}/unmask"): needs(
        P.UNMASK_PERSONAL_DATA, lambda r: {"data": {"purpose": "fraud report 24-117"}}
    ),
    ("GET", "/alerts"): needs(P.WORK_ALERTS),
    ("POST", "/alerts/{tx_id}"): needs(
        P.WORK_ALERTS, lambda r: {"data": {"status": "in_progress", "note": "checking"}}
    ),
    ("GET", "/packs"): needs(P.VIEW_RULE_PACKS),
    ("GET", "/packs/{version}"): needs(P.VIEW_RULE_PACKS),
    ("GET", "/packs/diff"): needs(
        P.VIEW_RULE_PACKS,
        lambda r: {"params": {"before": r.path("{live}"), "after": r.path("{version}")}},
    ),
    ("GET", "/packs/compare"): needs(
        P.VIEW_RULE_PACKS, lambda r: {"params": {"shadow": r.path("{version}")}}
    ),
    ("GET", "/packs/backtests"): needs(P.VIEW_RULE_PACKS),
    ("GET", "/packs/backtests/compare"): needs(
        P.VIEW_RULE_PACKS,
        lambda r: {
            "params": {
                "region": r.path("{region}"),
                "base": r.path("{live}"),
                "other": r.path("{version}"),
            }
        },
    ),
    ("POST", "/packs/{version}/shadow"): needs(P.PROMOTE_RULE_PACKS),
    ("POST", "/packs/shadow/stop"): needs(P.PROMOTE_RULE_PACKS),
    ("POST", "/packs/{version}/promote"): needs(P.PROMOTE_RULE_PACKS),
    ("GET", "/audit"): needs(P.VIEW_AUDIT_LOG),
    ("GET", "/audit/verify"): needs(P.VIEW_AUDIT_LOG),
}
"""Every route of the app, one line each. The request's path placeholders are filled from
the records (`{account_no}`, `{tx_id}`, and `{version}`, `{live}`, `{region}`, `{language}`
for the rest) and the entry's `fill`; the entry's function adds the query, form or body."""


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
        return door and (
            expect.permission is None or expect.permission in ROLE_PERMISSIONS[self.role]
        )


def principals(region: Region) -> dict[str, Principal]:
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
        Principal("police officer", Role.POLICE_OFFICER, None, username="police"),
        Principal("auditor", Role.AUDITOR, None, username="auditor"),
    ]
    return {principal.label: principal for principal in every}


PRINCIPALS: Final = [
    "anonymous",
    "admin of the first",
    "admin of the second",
    "analyst of the first",
    "analyst of the second",
    "key of the first",
    "key of the second",
    "hub supervisor",
    "police officer",
    "auditor",
]


def _records(engine: Engine, region: Region, bank: str, private: frozenset[str]) -> Records:
    """An alerted transaction the member's customer paid from an account the other member
    never dealt with (`private`: what the other must not be shown), and that account."""
    tx = TransactionRow
    query = (
        select(tx)
        .join(DecisionRow, DecisionRow.tx_id == tx.tx_id)
        .where(is_alert(), tx.payer_bank == bank)
        .order_by(tx.ts)
    )
    with UnitOfWork(engine) as uow:
        row = next(row for row in uow.session.scalars(query) if row.payer_account in private)
        stored = transaction_of(row).as_row()
    transaction = {name: value for name, value in stored.items() if value is not None}
    transaction["ts"] = stored["ts"].astimezone(UTC).isoformat()
    return Records(
        bank,
        str(stored["payer_account"]),
        str(stored["tx_id"]),
        transaction,
        {
            "version": region.shadow_version,
            "live": default_pack().version,
            "region": region.folder.name,
            "language": "en",
        },
    )


def _hidden_from(engine: Engine, member: str | None) -> frozenset[str]:
    """Transaction ids and account numbers a principal of `member` must never be shown: of
    transactions and accounts its member has nothing to do with (all of them for a
    principal of no member)."""
    tx = TransactionRow
    with engine.connect() as connection:
        if member is None:
            txs = set(connection.scalars(select(tx.tx_id)))
            return frozenset(txs | set(connection.scalars(select(AccountRow.account_no))))
        txs = set(
            connection.scalars(
                select(tx.tx_id).where(
                    tx.payer_bank.is_distinct_from(member), tx.payee_bank.is_distinct_from(member)
                )
            )
        )
        others = connection.scalars(
            select(AccountRow.account_no).where(AccountRow.institution_code != member)
        )
        dealt_with = connection.execute(
            select(tx.payer_account, tx.payee_account).where(
                or_(tx.payer_bank == member, tx.payee_bank == member)
            )
        )
        counterparts = {account for pair in dealt_with for account in pair}
        return frozenset(txs | (set(others) - counterparts))


@dataclass(frozen=True)
class World:
    """The two members' records, and what each principal's member must not be shown."""

    records: Mapping[str, Records]
    hidden: Mapping[str | None, frozenset[str]]

    def own_and_other(self, principal: Principal, region: Region) -> tuple[Records, Records]:
        """The principal's member's records and the other member's (the first's and the
        second's for a principal of no member)."""
        first, second = region.first_bank, region.second_bank
        own = principal.member or first
        return self.records[own], self.records[second if own == first else first]


@pytest.fixture(scope="module")
def world(region: Region) -> Iterator[World]:
    engine = open_engine(f"sqlite:///{region.database}")
    try:
        first, second = region.first_bank, region.second_bank
        hidden = {member: _hidden_from(engine, member) for member in (first, second, None)}
        records = {
            first: _records(engine, region, first, hidden[second]),
            second: _records(engine, region, second, hidden[first]),
        }
        yield World(records, hidden)
    finally:
        engine.dispose()


@pytest.fixture
def served(console: Console, region: Region) -> Console:
    """The console of the test, with an admin for the second member too."""
    with console.uow() as uow:
        add_user(
            uow,
            SystemActor("test"),
            SECOND_ADMIN,
            Role.MEMBER_ADMIN,
            region.second_bank,
            PASSWORD,
            Passwords.fast_for_tests(),
        )
    return console


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


def test_every_route_is_in_the_table(served: Console) -> None:
    found = app_routes(served.app)
    missing = sorted(found - ROUTES.keys())
    stale = sorted(ROUTES.keys() - found)
    assert not missing, f"routes without a line in ROUTES (add one each): {missing}"
    assert not stale, f"lines in ROUTES for routes the app does not have: {stale}"


def test_the_principals_cover_every_role_and_both_members(region: Region) -> None:
    every = principals(region).values()
    assert {p.role for p in every} == {*Role, None}
    for role in (Role.MEMBER_ADMIN, Role.MEMBER_ANALYST, Role.MEMBER_SYSTEM):
        members = {p.member for p in every if p.role is role}
        assert members == {region.first_bank, region.second_bank}, role
    assert set(PRINCIPALS) == {p.label for p in every}


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
        if method not in SAFE_METHODS and is_console(url):
            request = {
                **request,
                "data": {**request.get("data", {}), "csrf_token": self.client.csrf},
            }
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


def _door(principal: Principal, method: str, template: str, expect: Expect, *, mine: bool) -> Door:
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


def _refused(answer: httpx.Response) -> bool:
    """Refused outright, or sent to sign in first (and brought back after)."""
    if answer.status_code in REFUSALS:
        return True
    return answer.is_redirect and answer.headers.get("location", "").startswith(SIGN_IN_FIRST)


def _check(answer: httpx.Response, asked: str, hidden: frozenset[str], door: Door) -> list[str]:
    """What is wrong with `answer` to the request `asked` (its method, URL and content)."""
    problems = []
    if answer.status_code >= 500:
        problems.append(f"server error {answer.status_code}")
    shown = sorted((_tokens(answer.text) & hidden) - _tokens(asked))
    if shown:
        problems.append(f"shows what is not the principal's: {shown[:5]}")
    if door is Door.SHUT and not _refused(answer):
        problems.append(f"not refused: {answer.status_code}")
    if door is Door.OPEN and _refused(answer):
        problems.append(f"its own records refused: {answer.status_code}")
    return problems


@pytest.mark.parametrize("label", PRINCIPALS)
def test_no_principal_reaches_what_is_not_its_own(
    label: str, served: Console, region: Region, world: World
) -> None:
    principal = principals(region)[label]
    hidden = world.hidden[principal.member]
    own, other = world.own_and_other(principal, region)
    caller = Caller(served.app, principal)
    problems: list[str] = []
    try:
        for (method, template), expect in ROUTES.items():
            sent: set[str] = set()
            for records in (own, other):
                url = records.path(template, **expect.fill)
                request = expect.request(records)
                asked = f"{method} {url} {request}"
                if asked in sent:
                    continue
                sent.add(asked)
                answer = caller.send(method, url, request)
                door = _door(principal, method, template, expect, mine=records is own)
                found = _check(answer, asked, hidden, door)
                problems += [f"{asked[:160]}: {problem}" for problem in found]
                if expect.ends_session:
                    caller.start_again()
    finally:
        caller.client.close()
    assert not problems, f"{label}:\n" + "\n".join(problems)
