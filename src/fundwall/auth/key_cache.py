"""API keys validated recently, so a request need not open a database session to check one.

A key that the database confirmed is trusted for `KEY_CACHE_SECONDS` (30 s) from that check;
then it is read from the database again, which also records when it was last used. Revoking a
key through this process (`fundwall.members.revoke_api_key`) forgets it at once in every cache
of the process; revoked by another process (`fundwall apikey revoke`), it stops working within
30 seconds.
Only valid keys are kept, so unknown keys sent at random cannot fill a cache.

A key is found by a fingerprint of the whole text presented: BLAKE2b keyed with 32 random bytes
that each cache draws when it is made and never shows. Neither the text nor its secret is
kept, and the fingerprint of a text cannot be computed, or checked, without that key, which
lives only in this process's memory. The database keeps the SM3 digest of the secret
(`fundwall.auth.tokens`); the cache's check is one keyed hash of about 60 bytes and a
dictionary read, with no parse of the key and no SM3 digest, which were most of the key
check's 7% of a single decision's server CPU. A presented text that differs from the
confirmed one in any byte has another fingerprint: it is not found, and the database decides.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import weakref
from collections.abc import Callable
from typing import Final, NamedTuple

from fundwall.auth.actor import Actor

KEY_CACHE_SECONDS: Final = 30.0
_FINGERPRINT_BYTES: Final = 32

_caches: weakref.WeakSet[KeyCache] = weakref.WeakSet()
"""Every cache of the process, so that a revocation reaches them all."""


class _Entry(NamedTuple):
    key_id: str
    actor: Actor
    until: float


class KeyCache:
    """Valid keys by the fingerprint of their text: their id, their actor, and until when.

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
        self._hash_key = secrets.token_bytes(_FINGERPRINT_BYTES)
        self._entries: dict[bytes, _Entry] = {}
        self._by_key_id: dict[str, bytes] = {}
        """The fingerprint each key id was last confirmed under, to forget it by id."""
        self._revoked: set[str] = set()
        _caches.add(self)

    def _fingerprint(self, presented: str) -> bytes:
        return hashlib.blake2b(
            presented.encode(),
            key=self._hash_key,
            digest_size=_FINGERPRINT_BYTES,
        ).digest()

    def actor(self, presented: str) -> Actor | None:
        """The actor of the key text `presented`, confirmed less than `seconds` ago; None
        means: ask the database."""
        fingerprint = self._fingerprint(presented)
        entry = self._entries.get(fingerprint)
        if entry is None:
            return None
        if self._monotonic() >= entry.until:
            self._entries.pop(fingerprint, None)
            return None
        return entry.actor

    def remember(self, key_id: str, presented: str, actor: Actor) -> None:
        """Keep the key text `presented` (of key `key_id`) the database has just confirmed,
        unless the key was revoked meanwhile (a request may have read the key just before
        the revocation was committed)."""
        if key_id in self._revoked:
            return
        fingerprint = self._fingerprint(presented)
        earlier = self._by_key_id.get(key_id)
        if earlier is not None and earlier != fingerprint:
            self._entries.pop(earlier, None)
        self._by_key_id[key_id] = fingerprint
        self._entries[fingerprint] = _Entry(key_id, actor, self._monotonic() + self.seconds)
        if key_id in self._revoked:  # revoked while this was kept: forget it after all
            self.revoked(key_id)

    def revoked(self, key_id: str) -> None:
        """Forget a revoked key for good (a revocation is never undone)."""
        self._revoked.add(key_id)
        fingerprint = self._by_key_id.pop(key_id, None)
        if fingerprint is not None:
            self._entries.pop(fingerprint, None)


def forget_key(key_id: str) -> None:
    """Forget a key in every cache of the process: it was just revoked."""
    for cache in list(_caches):
        cache.revoked(key_id)
