"""The telecom registry the configuration selects (`phones.registry`): the local registry
over the store, or an operator's verification API over HTTP."""

from __future__ import annotations

from sqlalchemy import Engine

from fundwall.clock import Clock
from fundwall.config import PhoneSettings
from fundwall.crypto import Keyring
from fundwall.phones.http import HttpRegistry
from fundwall.phones.local import LocalRegistry
from fundwall.phones.registry import TelecomRegistry


def configured_registry(
    settings: PhoneSettings, database: Engine, keyring: Keyring, clock: Clock
) -> TelecomRegistry:
    """The registry `settings` name (their validation guarantees an HTTP URL for `http`)."""
    if settings.registry == "http":
        assert settings.http_url is not None  # PhoneSettings checks it
        token = settings.http_token.get_secret_value() if settings.http_token else None
        return HttpRegistry(
            settings.http_url,
            token,
            timeout_seconds=settings.http_timeout_seconds,
            retries=settings.http_retries,
        )
    return LocalRegistry(database, keyring, clock)
