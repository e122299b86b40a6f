"""API keys validated recently, so a request need not open a database session to check one.

A key that the database confirmed is trusted for `KEY_CACHE_SECONDS` (30 s) from that check;
then it is read from the database again, which also records when it was last used. Revoking a
key through this process (`fundwall.members.revoke_api_key`) forgets it at once in every cache
of the process; revoked by another process (`fundwall apikey revoke`), it stops working within
30 seconds.
Only valid keys are kept, so unknown keys sent at random cannot fill a cache.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Final, NamedTuple

from fundwall.auth.actor import Actor
from fundwall.auth.tokens import digest, same

KEY_CACHE_SECONDS: Final = 30.0

_caches: weakref.WeakSet[KeyCache] = weakref.WeakSet()
"""Every cache of the process, so that a revocation reaches them all."""


class _Entry(NamedTuple):
    secret_digest: str
    actor: Actor
    until: float


class KeyCache:
    """Valid keys by key id: the digest of their secret, their actor, and until when.

    Dictionary reads and writes are atomic, so the threads that run FastAPI's dependencies
    share one cache without a lock; at worst two of them check the same key in the database.
    """

    def __init__(
        self,
        seconds: float = KEY_CACHE_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._entries: dict[str, _Entry] = {}
        self._revoked: set[str] = set()
        _caches.add(self)

    def actor(self, key_id: str, secret: str) -> Actor | None:
        """The actor of a key confirmed less than `seconds` ago; None means: ask the database."""
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if self._monotonic() >= entry.until:
            self._entries.pop(key_id, None)
            return None
        if not same(entry.secret_digest, digest(secret)):
            return None
        return entry.actor

    def remember(self, key_id: str, secret: str, actor: Actor) -> None:
        """Keep a key the database has just confirmed, unless it was revoked meanwhile (a
        request may have read the key just before the revocation was committed)."""
        if key_id not in self._revoked:
            self._entries[key_id] = _Entry(digest(secret), actor, self._monotonic() + self.seconds)

    def revoked(self, key_id: str) -> None:
        """Forget a revoked key for good (a revocation is never undone)."""
        self._revoked.add(key_id)
        self._entries.pop(key_id, None)


def forget_key(key_id: str) -> None:
    """Forget a key in every cache of the process: it was just revoked."""
    for cache in list(_caches):
        cache.revoked(key_id)
