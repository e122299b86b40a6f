"""Fixtures of the API tests: the app over a small rule-of-thumb decision service."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from fundwall.api import ApiLimits, create_app
from fundwall.clock import FixedClock
from fundwall.config import Settings, load_settings

from .service import RuleOfThumbService

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package for its test client; httpx works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def service() -> RuleOfThumbService:
    return RuleOfThumbService()


@pytest.fixture
def settings() -> Settings:
    """The default settings without the time window: these tests send the documentation's
    times of 2024 to apps on the system clock (the window has tests of its own, in
    test_api_time_window.py)."""
    return load_settings(config_file=None, api={"check_time": False})


@pytest.fixture
def client(
    service: RuleOfThumbService, settings: Settings, clock: FixedClock
) -> Iterator[TestClient]:
    """A client of the app with small body limits, so that limit tests send little, and
    open as the demo's (these tests are of bodies and answers; test_api_access.py tests keys)."""
    limits = ApiLimits(transaction_bytes=4096, batch_bytes=64 * 1024, xml_bytes=32 * 1024)
    app = create_app(service, settings, api_keys_required=False, clock=clock, limits=limits)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
