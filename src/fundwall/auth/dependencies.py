"""FastAPI dependencies: the unit of work, the signed-in Actor, API keys, permissions.

`create_app(..., access=AccessConfig(...))` puts the configuration on the app
(`install_access`); then routes ask:

    @router.get("/v1/accounts/{account_no}")
    def account(account_no: str, actor: ApiActor, uow: UnitOfWorkDep) -> ...: ...

    Analyst = Annotated[Actor, Depends(require(Permission.WORK_ALERTS))]

    @router.get("/alerts")
    def alerts(actor: Analyst, session: SessionDep) -> ...: ...

Console pages use `ConsoleActor`/`SessionDep` (the session cookie; NotSignedIn sends the
browser to the sign-in page), and `fundwall.web.forms` for their forms and CSRF. API routes use
`ApiActor`: an API key (`Authorization: Bearer fwk_…` or `X-API-Key`), or the console session
for reads. The engine's transaction routes call `transaction_submitter`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from ipaddress import ip_address
from typing import Annotated, Final

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from fundwall.auth.actor import Actor
from fundwall.auth.api_keys import actor_for_key, parse_key
from fundwall.auth.key_cache import KeyCache
from fundwall.auth.passwords import Passwords
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession, SessionPolicy, resume
from fundwall.auth.throttle import AddressThrottle
from fundwall.clock import Clock, SystemClock
from fundwall.crypto import Keyring
from fundwall.domain.errors import FundwallError, PermissionDenied
from fundwall.store import UnitOfWork

SESSION_COOKIE: Final = "fundwall_session"
API_KEY_HEADER: Final = "X-API-Key"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="fundwall"'}


@dataclass(frozen=True)
class AccessConfig:
    """What the access dependencies need, set once per app by `install_access`
    (`fundwall.bootstrap` builds it from the settings).

    `database` holds the users, sessions and API keys; `keys` the API keys validated in the
    last 30 seconds (`fundwall.auth.key_cache`); `addresses` the failed sign-ins per source
    address (`fundwall.auth.throttle`); `keyring` the personal-data keys of each request's
    unit of work (None: the deployment's).
    """

    database: Engine
    passwords: Passwords = field(default_factory=Passwords)
    policy: SessionPolicy = field(default_factory=SessionPolicy.of)
    addresses: AddressThrottle = field(default_factory=AddressThrottle.of)
    clock: Clock = field(default_factory=SystemClock)
    keys: KeyCache = field(default_factory=KeyCache)
    keyring: Keyring | None = None


@dataclass(eq=False)
class NotSignedIn(FundwallError):
    """A console page was asked for without a valid session."""

    kind = "not-signed-in"

    def message(self) -> str:
        return "please sign in"


def install_access(app: FastAPI, config: AccessConfig) -> None:
    app.state.fundwall_access = config


def installed_access(app: FastAPI) -> AccessConfig | None:
    """The access control of `app`; None for an app built without one (it knows no key)."""
    config: AccessConfig | None = getattr(app.state, "fundwall_access", None)
    return config


def access_config(request: Request) -> AccessConfig:
    config: AccessConfig = request.app.state.fundwall_access
    return config


AccessDep = Annotated[AccessConfig, Depends(access_config)]


def unit_of_work(config: AccessDep) -> Iterator[UnitOfWork]:
    """One unit of work per request, closed (and rolled back unless committed) after it."""
    with UnitOfWork(config.database, clock=config.clock, keyring=config.keyring) as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


def client_ip(request: Request) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy names (the console's
    `TrustedFront` puts it in the scope; `X-Forwarded-For` from anyone else is ignored)."""
    return request.client.host if request.client else None


def cookie_secure(request: Request) -> bool:
    """Secure cookies, except over plain HTTP to this machine (the demo on 127.0.0.1),
    where a browser would not send them back. A deployment served over TLS says so
    (`security.tls`, or a trusted proxy's `X-Forwarded-Proto`), and the scheme is https."""
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return True


def current_session(
    request: Request, uow: UnitOfWorkDep, config: AccessDep
) -> ActiveSession | None:
    """The session of the request's cookie, if valid (cached for the request)."""
    if hasattr(request.state, "fundwall_session"):
        cached: ActiveSession | None = request.state.fundwall_session
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    found = resume(uow, token, policy=config.policy) if token else None
    request.state.fundwall_session = found
    return found


MaybeSessionDep = Annotated[ActiveSession | None, Depends(current_session)]


def signed_in(session: MaybeSessionDep) -> ActiveSession:
    """The session of a console page; NotSignedIn (→ sign-in page) without one."""
    if session is None:
        raise NotSignedIn()
    return session


SessionDep = Annotated[ActiveSession, Depends(signed_in)]


def console_actor(session: SessionDep) -> Actor:
    """The signed-in user of a console page."""
    return session.actor


ConsoleActor = Annotated[Actor, Depends(console_actor)]


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials
    return request.headers.get(API_KEY_HEADER)


def key_actor(config: AccessConfig, presented: str, uow: UnitOfWork | None = None) -> Actor:
    """The actor of a presented API key, from the cache or else the database (in `uow`, or in
    a unit of work of its own); 401 with a Bearer challenge when the key is not valid."""
    cached = config.keys.actor(presented)
    if cached is not None:
        return cached
    parsed = parse_key(presented)
    if parsed is not None:
        if uow is None:
            with UnitOfWork(config.database, clock=config.clock) as own:
                actor = actor_for_key(own, presented)
        else:
            actor = actor_for_key(uow, presented)
        if actor is not None:
            config.keys.remember(parsed[0], presented, actor)
            return actor
    raise _invalid_key()


def _invalid_key() -> HTTPException:
    return HTTPException(
        HTTPStatus.UNAUTHORIZED, "the API key is not valid or was revoked", _CHALLENGE
    )


def _no_key() -> HTTPException:
    return HTTPException(
        HTTPStatus.UNAUTHORIZED,
        "send an API key: 'Authorization: Bearer fwk_…' or 'X-API-Key: fwk_…'",
        _CHALLENGE,
    )


def api_actor(request: Request, uow: UnitOfWorkDep) -> Actor:
    """The caller of an API route: an API key, or a console session on a read.

    401 with a Bearer challenge when neither is there or the key is not valid.
    """
    config = access_config(request)
    presented = _presented_key(request)
    if presented is not None:
        return key_actor(config, presented, uow)
    if request.method in SAFE_METHODS:
        session = current_session(request, uow, config)
        if session is not None:
            return session.actor
    raise _no_key()


ApiActor = Annotated[Actor, Depends(api_actor)]


def transaction_submitter(request: Request) -> Actor:
    """For the engine's transaction routes: the member's API key (401 without a valid one,
    403 without the right to submit). A console session does not submit.

    A key checked in the last 30 seconds is not read from the database again."""
    actor = presented_key_actor(request)
    actor.require(Permission.SUBMIT_TRANSACTIONS)
    return actor


def presented_key_actor(request: Request) -> Actor:
    """The actor of the API key the request presents; 401 without a valid one (and with any
    key at all in an app without access control, which knows no key)."""
    presented = _presented_key(request)
    if presented is None:
        raise _no_key()
    config = installed_access(request.app)
    if config is None:
        raise _invalid_key()
    return key_actor(config, presented)


def require(permission: Permission) -> Callable[..., Actor]:
    """A dependency giving the console user, refused (403) without `permission`."""

    def dependency(actor: ConsoleActor) -> Actor:
        if not actor.can(permission):
            raise PermissionDenied(f"{permission.value} (role {actor.role.value})")
        return actor

    return dependency
