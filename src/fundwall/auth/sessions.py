"""Console sessions (会话): sign in with waits that grow, resume from the cookie, sign out.

A session is a row keyed by the SM3 digest of a random token that only the browser's cookie
holds; it carries the session's CSRF token. It ends after `idle_timeout` without a request or
`lifetime` after sign-in, whichever comes first, and at sign-out. Signing in always makes a
new token (no session fixation). Wrong passwords make the user's next sign-in wait, failures
from one address make that address's wait (`fundwall.auth.throttle`); a refusal reads the
same whatever its cause. Every sign-in, refusal and sign-out is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from fundwall.auth.actor import Actor
from fundwall.auth.passwords import Passwords
from fundwall.auth.throttle import AddressThrottle, Backoff
from fundwall.auth.tokens import digest, new_token
from fundwall.auth.users import USERNAME_PATTERN, User
from fundwall.config import SecuritySettings
from fundwall.domain.errors import FundwallError
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ConsoleSessionRow, UserRow
from fundwall.store.personal_data import personal_data_in
from fundwall.store.tables import InstitutionRow


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Session lifetimes and the user's sign-in waits, from the `security` settings."""

    idle_timeout: timedelta
    lifetime: timedelta
    touch_every: timedelta
    """How stale `last_seen_at` may get before a request writes it again (fewer writes)."""
    user_waits: Backoff

    @classmethod
    def of(cls, settings: SecuritySettings | None = None) -> SessionPolicy:
        settings = settings or SecuritySettings()
        return cls(
            idle_timeout=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_lifetime_hours),
            touch_every=timedelta(seconds=settings.session_touch_seconds),
            user_waits=Backoff(
                settings.user_free_failures,
                timedelta(seconds=settings.user_first_wait_seconds),
                timedelta(seconds=settings.user_longest_wait_seconds),
            ),
        )


@dataclass(eq=False)
class LoginFailed(FundwallError):
    """Sign-in refused. One message whatever the cause (unknown name, wrong password,
    disabled user, a user or an address that must wait), so nothing can be probed."""

    kind = "login-failed"

    def message(self) -> str:
        return "wrong user name or password"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: `token` goes into the cookie and is stored nowhere else."""

    user: User
    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A session resumed from its cookie."""

    actor: Actor
    csrf_token: str
    expires_at: datetime
    member_name: tuple[str, str] | None = None
    """The actor's institution in Chinese and English, for the page header."""


def _audit_subject(username: str) -> str:
    """The subject naming a sign-in attempt: the name if it is a possible user name."""
    if USERNAME_PATTERN.fullmatch(username) and personal_data_in(username) is None:
        return f"user:{username}"
    return "user:(not a user name)"


def sign_in(
    uow: UnitOfWork,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    ip: str | None,
    policy: SessionPolicy,
    addresses: AddressThrottle,
) -> SignedIn:
    """Check the password and open a session, committing either way; LoginFailed if not.

    A refusal costs one password verification whatever its cause, so that its timing tells
    nothing either. Every refusal counts against the address, except one refused because
    the address already waits; only a wrong password counts against the user.
    """
    now = uow.clock.now()
    name = username.strip().lower()
    if addresses.waits_until(ip, now) is not None:
        passwords.waste_time(password)
        raise _refuse(uow, name, "address waits", ip, {})
    # Locked on PostgreSQL: sign-ins of one name at the same moment take turns, so each sees
    # the count and the wait the one before left. SQLite has no row locks; there the count,
    # incremented in SQL below, still loses no failure.
    row = uow.session.scalars(
        select(UserRow).where(UserRow.username == name).with_for_update()
    ).one_or_none()
    waits: dict[str, str] = {}
    if row is None:
        passwords.waste_time(password)
        reason = "unknown user"
    elif row.locked_until is not None and row.locked_until > now:
        passwords.waste_time(password)
        reason = "user waits"
    elif row.disabled:
        passwords.waste_time(password)
        reason = "disabled"
    elif not passwords.verify(row.password_hash, password):
        reason = "wrong password"
        row.failed_logins = UserRow.failed_logins + 1  # in SQL: no failure lost to a race
        uow.session.flush()
        wait = policy.user_waits.wait_after(row.failed_logins)
        row.locked_until = now + wait if wait else None
        if row.locked_until is not None:
            waits["user_waits_until"] = row.locked_until.isoformat()
    else:
        return _open_session(uow, passwords, row, password, ip, policy)
    address_waits = addresses.failed(ip, now)
    if address_waits is not None:
        waits["address_waits_until"] = address_waits.isoformat()
    raise _refuse(uow, name, reason, ip, waits)


def _refuse(
    uow: UnitOfWork, username: str, reason: str, ip: str | None, waits: dict[str, str]
) -> LoginFailed:
    uow.audit.record(
        f"anonymous:{ip or 'unknown'}",
        "login_failed",
        _audit_subject(username),
        {"why": reason, **waits},
    )
    uow.commit()
    return LoginFailed()


def _open_session(
    uow: UnitOfWork,
    passwords: Passwords,
    row: UserRow,
    password: str,
    ip: str | None,
    policy: SessionPolicy,
) -> SignedIn:
    now = uow.clock.now()
    row.failed_logins = 0
    row.locked_until = None
    row.last_login_at = now
    if passwords.needs_rehash(row.password_hash):
        row.password_hash = passwords.hash(password)
    uow.session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
    token, csrf = new_token(), new_token()
    expires_at = now + policy.lifetime
    uow.session.add(
        ConsoleSessionRow(
            token_hash=digest(token),
            user_id=row.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            ip=ip,
        )
    )
    user = User.of(row)
    uow.audit.record(user.actor(), "login", f"user:{row.username}", {"ip": ip})
    uow.commit()
    return SignedIn(user, token, csrf, expires_at)


def resume(uow: UnitOfWork, token: str, *, policy: SessionPolicy) -> ActiveSession | None:
    """The session of a cookie's token, or None if unknown, expired, idle or its user
    disabled; ending an idle or expired session is committed."""
    if not token or len(token) > 128:
        return None
    now = uow.clock.now()
    found = uow.session.execute(
        select(ConsoleSessionRow, UserRow, InstitutionRow.name_zh, InstitutionRow.name_en)
        .join(UserRow, UserRow.id == ConsoleSessionRow.user_id)
        .outerjoin(InstitutionRow, InstitutionRow.code == UserRow.member_code)
        .where(ConsoleSessionRow.token_hash == digest(token))
    ).one_or_none()
    if found is None:
        return None
    session, user, name_zh, name_en = found
    if session.expires_at <= now or session.last_seen_at + policy.idle_timeout <= now:
        uow.session.delete(session)
        uow.commit()
        return None
    if user.disabled:
        return None
    if now - session.last_seen_at >= policy.touch_every:
        session.last_seen_at = now
        uow.commit()
    name = (name_zh, name_en) if name_zh is not None else None
    return ActiveSession(User.of(user).actor(), session.csrf_token, session.expires_at, name)


def sign_out(uow: UnitOfWork, token: str) -> None:
    """End the session of `token` (nothing if there is none), audited, and commit."""
    found = uow.session.execute(
        select(ConsoleSessionRow, UserRow)
        .join(UserRow, UserRow.id == ConsoleSessionRow.user_id)
        .where(ConsoleSessionRow.token_hash == digest(token))
    ).one_or_none()
    if found is None:
        return
    session, user = found
    uow.session.delete(session)
    uow.audit.record(User.of(user).actor(), "logout", f"user:{user.username}")
    uow.commit()
