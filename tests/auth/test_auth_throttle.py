"""Sign-in waits: how they grow, what an address is counted by, what memory they may hold,
and the `security` settings they come from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pytest

from fundwall.auth import AddressThrottle, Backoff, SessionPolicy
from fundwall.auth.throttle import address_key
from fundwall.config import SecuritySettings, load_settings
from fundwall.domain.errors import InvalidInput

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def test_waits_start_after_the_free_failures_double_and_stop_at_the_longest() -> None:
    backoff = Backoff(3, timedelta(seconds=2), timedelta(seconds=30))
    waits = [backoff.wait_after(failures).total_seconds() for failures in range(9)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 30, 30]
    assert backoff.wait_after(10**9) == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("testclient", "testclient"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_an_ipv6_client_counts_by_its_64_network(address: str | None, key: str) -> None:
    assert address_key(address) == key


def _throttle(free: int = 2, memory_minutes: int = 60, capacity: int = 1000) -> AddressThrottle:
    return AddressThrottle(
        Backoff(free, timedelta(seconds=1), timedelta(seconds=60)),
        timedelta(minutes=memory_minutes),
        capacity,
    )


def test_an_address_waits_after_its_free_failures_and_others_do_not() -> None:
    throttle = _throttle()
    assert throttle.failed("198.51.100.7", NOW) is None
    assert throttle.failed("198.51.100.7", NOW) == NOW + timedelta(seconds=1)
    assert throttle.waits_until("198.51.100.7", NOW) == NOW + timedelta(seconds=1)
    assert throttle.waits_until("198.51.100.7", NOW + timedelta(seconds=1)) is None
    assert throttle.waits_until("198.51.100.8", NOW) is None
    # Hopping to another address of the same /64 does not start afresh.
    assert throttle.failed("2001:db8::1", NOW) is None
    assert throttle.failed("2001:db8::2", NOW) is not None


def test_an_address_is_forgotten_after_a_quiet_while() -> None:
    throttle = _throttle(memory_minutes=60)
    for _ in range(5):
        throttle.failed("198.51.100.7", NOW)
    later = NOW + timedelta(minutes=60)
    assert throttle.waits_until("198.51.100.7", later) is None
    assert throttle.failed("198.51.100.7", later) is None  # counted from one again
    assert len(throttle) == 1


def test_the_addresses_remembered_are_bounded_and_the_quietest_go_first() -> None:
    throttle = _throttle(free=1, capacity=3)
    for number in range(10):
        throttle.failed(f"198.51.100.{number}", NOW + timedelta(seconds=number))
    assert len(throttle) == 3
    at = NOW + timedelta(seconds=9)
    assert throttle.waits_until("198.51.100.9", at) is not None
    assert throttle.waits_until("198.51.100.0", at) is None


def test_the_policy_comes_from_the_security_settings() -> None:
    settings = SecuritySettings(
        session_idle_minutes=5,
        session_lifetime_hours=2,
        session_touch_seconds=10,
        user_free_failures=3,
        user_first_wait_seconds=4,
        user_longest_wait_seconds=40,
        address_free_failures=7,
        address_memory_minutes=30,
        addresses_remembered=50,
    )
    policy = SessionPolicy.of(settings)
    assert (policy.idle_timeout, policy.lifetime, policy.touch_every) == (
        timedelta(minutes=5),
        timedelta(hours=2),
        timedelta(seconds=10),
    )
    assert policy.user_waits == Backoff(3, timedelta(seconds=4), timedelta(seconds=40))
    throttle = AddressThrottle.of(settings)
    assert (throttle.backoff.free, throttle.memory, throttle.capacity) == (
        7,
        timedelta(minutes=30),
        50,
    )


def test_security_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDWALL_SECURITY__TRUSTED_PROXIES", '["10.0.0.1", "192.168.8.0/24"]')
    monkeypatch.setenv("FUNDWALL_SECURITY__TLS", "true")
    monkeypatch.setenv("FUNDWALL_SECURITY__FORM_MAX_BYTES", "4096")
    security = load_settings(config_file=None).security
    assert security.trusted_proxies == (ip_network("10.0.0.1/32"), ip_network("192.168.8.0/24"))
    assert security.tls and security.form_max_bytes == 4096


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"trusted_proxies": ["proxy.example"]}, "FUNDWALL_SECURITY__TRUSTED_PROXIES__0"),
        ({"user_first_wait_seconds": 600}, "must not exceed user_longest_wait_seconds"),
        ({"address_longest_wait_seconds": 7200}, "must not exceed address_memory_minutes"),
        ({"form_max_bytes": 0}, "FUNDWALL_SECURITY__FORM_MAX_BYTES"),
    ],
)
def test_a_bad_security_setting_is_named(override: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_settings(config_file=None, security=override)
