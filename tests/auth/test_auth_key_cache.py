"""The cache of validated API keys: trusted for 30 seconds, forgotten at once when revoked here."""

from __future__ import annotations

from collections.abc import Callable

from fundwall.auth import Actor, ActorKind, Role
from fundwall.auth.key_cache import KEY_CACHE_SECONDS, KeyCache, forget_key
from fundwall.members import create_api_key, revoke_api_key
from fundwall.store import UnitOfWork

from .conftest import BANK_A, OPERATOR

Uow = Callable[[], UnitOfWork]
ACTOR = Actor(ActorKind.API_KEY, "k1", Role.MEMBER_SYSTEM, BANK_A)
K1 = "fwk_k1_secret"
K2 = "fwk_k2_secret"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_confirmed_key_is_trusted_for_30_seconds() -> None:
    ticks = Ticks()
    cache = KeyCache(monotonic=ticks)
    assert cache.actor(K1) is None
    cache.remember("k1", K1, ACTOR)
    assert cache.actor(K1) == ACTOR
    ticks.now += KEY_CACHE_SECONDS - 0.001
    assert cache.actor(K1) == ACTOR
    ticks.now += 0.001
    assert cache.actor(K1) is None


def test_the_secret_must_match_the_confirmed_one() -> None:
    cache = KeyCache()
    cache.remember("k1", K1, ACTOR)
    assert cache.actor("fwk_k1_other secret") is None
    assert cache.actor("fwk_k1_secreT") is None
    assert cache.actor(K1 + " ") is None
    assert cache.actor(K2) is None


def test_the_cache_keeps_no_key_text_and_its_fingerprints_differ_between_caches() -> None:
    first, second = KeyCache(), KeyCache()
    for cache in (first, second):
        cache.remember("k1", K1, ACTOR)
    assert "secret" not in repr([vars(first), vars(second)])
    assert set(first._entries).isdisjoint(second._entries)


def test_a_key_confirmed_again_under_another_text_is_forgotten_under_the_old_one() -> None:
    cache = KeyCache()
    cache.remember("k1", K1, ACTOR)
    cache.remember("k1", "fwk_k1_new secret", ACTOR)
    assert cache.actor(K1) is None
    assert cache.actor("fwk_k1_new secret") == ACTOR
    forget_key("k1")
    assert cache.actor("fwk_k1_new secret") is None


def test_a_revocation_reaches_every_cache_and_lasts() -> None:
    caches = [KeyCache(), KeyCache()]
    for cache in caches:
        cache.remember("k1", K1, ACTOR)
        cache.remember("k2", K2, ACTOR)
    forget_key("k1")
    for cache in caches:
        assert cache.actor(K1) is None
        assert cache.actor(K2) == ACTOR
        # A request that read the key just before the revocation does not bring it back.
        cache.remember("k1", K1, ACTOR)
        assert cache.actor(K1) is None


def test_revoking_a_key_forgets_it_in_this_process(institutions: Uow) -> None:
    with institutions() as uow:
        key, text = create_api_key(uow, OPERATOR, BANK_A)
    actor = Actor(ActorKind.API_KEY, key.key_id, Role.MEMBER_SYSTEM, BANK_A)
    cache = KeyCache()
    cache.remember(key.key_id, text, actor)
    assert cache.actor(text) == actor
    with institutions() as uow:
        revoke_api_key(uow, OPERATOR, key.key_id)
    assert cache.actor(text) is None
