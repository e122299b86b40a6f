"""The portal's visit: a short-lived cookie sealed with the deployment's SM4-GCM key, the CSRF
token it carries, the per-address limits and the answer-time floor.

The cookie (`fundwall_portal`, path /portal, HttpOnly, SameSite=Strict, Secure over https)
holds one of three stages, sealed (encrypted and authenticated: a changed byte opens nothing):

- `form`: a visitor with no ID yet (30 minutes);
- `code`: the ID number typed, awaiting its one-time code (`portal.code_minutes`);
- `person`: verified; the person's actor name (the keyed hash of the ID, never the number),
  for `portal.session_minutes` from sign-in, never renewed.

Each stage carries a random CSRF token every form repeats (a double submit the attacker cannot
forge: the cookie is sealed, SameSite=Strict, and an Origin from elsewhere is refused).
Nothing is stored on the server: signing out drops the cookie; a copied cookie lives at most
its minutes.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from starlette.requests import Request
from starlette.responses import Response

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.dependencies import cookie_secure
from fundwall.auth.roles import Role
from fundwall.auth.throttle import address_key
from fundwall.auth.tokens import new_token, same
from fundwall.crypto import DecryptionError, Keyring

COOKIE: Final = "fundwall_portal"
PATH: Final = "/portal"
FORM_MINUTES: Final = 30
"""How long a sign-in form stays good before its token expires."""
MAX_COOKIE: Final = 1024
"""A sealed visit is about 250 characters; a longer cookie is not opened."""
Stage = Literal["form", "code", "person"]


@dataclass(frozen=True, slots=True)
class Visit:
    """Who is at the portal: the stage, what it holds, its CSRF token, when it ends."""

    stage: Stage
    csrf: str
    expires: datetime
    id_number: str | None = None
    """The ID typed (stage `code` only), to check the code against."""
    person: str | None = None
    """The verified person's actor name (stage `person` only)."""

    @classmethod
    def new(cls, now: datetime) -> Visit:
        return cls("form", new_token(), now + timedelta(minutes=FORM_MINUTES))

    @property
    def actor(self) -> Actor | None:
        """The verified person, or None before verification."""
        if self.stage != "person" or not self.person:
            return None
        return Actor(ActorKind.PERSON, self.person, Role.PUBLIC)

    def seal(self, keyring: Keyring) -> str:
        payload = {
            "s": self.stage,
            "c": self.csrf,
            "e": int(self.expires.timestamp()),
            "i": self.id_number,
            "p": self.person,
        }
        sealed = keyring.encrypt(json.dumps(payload, separators=(",", ":")))
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    @classmethod
    def opened(cls, keyring: Keyring, text: str, now: datetime) -> Visit | None:
        """The visit a cookie holds; None when it is missing, altered, foreign or over."""
        if not text or len(text) > MAX_COOKIE:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = json.loads(keyring.decrypt(raw))
            stage, expires = payload["s"], datetime.fromtimestamp(int(payload["e"]), now.tzinfo)
            visit = cls(stage, str(payload["c"]), expires, payload.get("i"), payload.get("p"))
        except (DecryptionError, ValueError, KeyError, TypeError):
            return None
        if stage not in ("form", "code", "person") or expires <= now:
            return None
        return visit

    def token_matches(self, presented: str) -> bool:
        return bool(presented) and same(presented, self.csrf)


def keep(
    response: Response, request: Request, visit: Visit, keyring: Keyring, now: datetime
) -> None:
    """Set the visit's cookie on `response`, living until the visit ends."""
    response.set_cookie(
        COOKIE,
        visit.seal(keyring),
        max_age=max(1, int((visit.expires - now).total_seconds())),
        path=PATH,
        httponly=True,
        secure=cookie_secure(request),
        samesite="strict",
    )


def drop(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path=PATH, httponly=True, secure=cookie_secure(request), samesite="strict"
    )


class SignInFirst(Exception):
    """A page of the verified person's, asked for without a verified visit."""


class HourlyLimit:
    """At most `limit` attempts an hour from one address (an IPv6 client by its /64), in the
    serving process; at most `capacity` addresses remembered (the quietest forgotten first),
    so a flood of addresses costs bounded memory. Safe across threads."""

    WINDOW: Final = timedelta(hours=1)

    def __init__(self, limit: int, capacity: int = 100_000) -> None:
        self.limit = limit
        self.capacity = capacity
        self._seen: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, address: str | None, now: datetime) -> bool:
        """Count an attempt from `address` at `now`; False (not counted) when it is over."""
        key = address_key(address)
        with self._lock:
            times = self._seen.get(key)
            if times is None:
                times = self._seen[key] = deque()
                while len(self._seen) > self.capacity:
                    self._seen.popitem(last=False)
            while times and now - times[0] >= self.WINDOW:
                times.popleft()
            self._seen.move_to_end(key)
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


def wait_out(started: float, floor_ms: int) -> None:
    """Sleep until `floor_ms` have passed since `started` (time.monotonic()): every answer
    of the identity check takes at least that long, whatever the ID."""
    left = floor_ms / 1000 - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)
