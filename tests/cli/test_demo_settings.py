"""The demo's portal address: the notices and answers the demo sends lead to the portal it
serves, unless the configuration names an address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fundwall.cli.demo import demo_settings, portal_address
from fundwall.config import get_settings

VARIABLE = "FUNDWALL_PORTAL__PUBLIC_URL"


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv(VARIABLE, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.delenv(VARIABLE, raising=False)  # demo_settings may have set it
    get_settings.cache_clear()


def test_the_demo_on_another_port_gives_that_ports_portal(fresh: pytest.MonkeyPatch) -> None:
    assert demo_settings("127.0.0.1", 8615).portal.public_url == "http://127.0.0.1:8615/portal"
    assert get_settings().portal.public_url == "http://127.0.0.1:8615/portal"  # every reader


def test_a_configured_portal_address_is_kept(fresh: pytest.MonkeyPatch) -> None:
    fresh.setenv(VARIABLE, "https://fw.example.cn/portal")
    get_settings.cache_clear()
    assert demo_settings("0.0.0.0", 9000).portal.public_url == "https://fw.example.cn/portal"


@pytest.mark.parametrize(
    ("host", "port", "address"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000/portal"),
        ("0.0.0.0", 8001, "http://127.0.0.1:8001/portal"),
        ("::1", 8002, "http://[::1]:8002/portal"),
    ],
)
def test_the_address_a_browser_on_this_machine_reaches(host: str, port: int, address: str) -> None:
    assert portal_address(host, port) == address
