"""Slowing down password guessing without handing strangers a way to lock users out.

A hard lock after N wrong passwords lets anyone who knows a user name lock its owner out, and
without a limit per source address one machine may try every name. Instead, failures buy
waits that grow: after `free` failures the next attempt waits `first`, twice as long after each
further failure, never more than `longest`. Two counts are kept:

- per user, in the store (`users.failed_logins`, `users.locked_until`), so an administrator's
  `fundwall user unlock` in another process lifts the wait at once;
- per source address, here in the serving process (`fundwall serve` is one process), bounded
  in size and forgotten after a quiet while. An IPv6 client counts by its /64 network, which
  one subscriber usually holds whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address, ip_network
from typing import Final

from fundwall.config import SecuritySettings

_MAX_DOUBLINGS: Final = 32
"""Doubling stops here long before a `timedelta` would overflow; `longest` caps it anyway."""
_UNKNOWN_ADDRESS: Final = "unknown"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Free failures, then waits that double up to `longest`."""

    free: int
    first: timedelta
    longest: timedelta

    def wait_after(self, failures: int) -> timedelta:
        """How long the next attempt waits after `failures` failures in a row."""
        if failures < self.free:
            return timedelta(0)
        return min(self.first * (1 << min(failures - self.free, _MAX_DOUBLINGS)), self.longest)


def address_key(address: str | None) -> str:
    """What failures are counted by: the address, or for IPv6 its /64 network."""
    if not address:
        return _UNKNOWN_ADDRESS
    try:
        parsed = ip_address(address)
    except ValueError:
        return address[:64]  # not an IP (a test client, a Unix socket): counted as it is
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(slots=True)
class _Tally:
    failures: int
    last_failure: datetime
    waits_until: datetime | None


class AddressThrottle:
    """Failed sign-ins per source address, and until when each address waits.

    At most `capacity` addresses are remembered; past that, the one quiet for longest is
    forgotten first, so a flood of addresses costs bounded memory. Safe across threads.
    """

    def __init__(self, backoff: Backoff, memory: timedelta, capacity: int) -> None:
        self.backoff = backoff
        self.memory = memory
        self.capacity = capacity
        self._tallies: OrderedDict[str, _Tally] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: SecuritySettings | None = None) -> AddressThrottle:
        settings = settings or SecuritySettings()
        return cls(
            Backoff(
                settings.address_free_failures,
                timedelta(seconds=settings.address_first_wait_seconds),
                timedelta(seconds=settings.address_longest_wait_seconds),
            ),
            timedelta(minutes=settings.address_memory_minutes),
            settings.addresses_remembered,
        )

    def waits_until(self, address: str | None, now: datetime) -> datetime | None:
        """Until when sign-ins from `address` are refused, if they are at `now`."""
        with self._lock:
            tally = self._current(address_key(address), now)
        if tally is None or tally.waits_until is None or tally.waits_until <= now:
            return None
        return tally.waits_until

    def failed(self, address: str | None, now: datetime) -> datetime | None:
        """Count a failed sign-in from `address`; until when the next one waits, if it does."""
        key = address_key(address)
        with self._lock:
            tally = self._current(key, now)
            if tally is None:
                tally = self._tallies[key] = _Tally(0, now, None)
                while len(self._tallies) > self.capacity:
                    self._tallies.popitem(last=False)
            tally.failures += 1
            tally.last_failure = now
            self._tallies.move_to_end(key)
            wait = self.backoff.wait_after(tally.failures)
            tally.waits_until = now + wait if wait else None
            return tally.waits_until

    def __len__(self) -> int:
        return len(self._tallies)

    def _current(self, key: str, now: datetime) -> _Tally | None:
        tally = self._tallies.get(key)
        if tally is not None and now - tally.last_failure >= self.memory:
            del self._tallies[key]
            return None
        return tally
