"""The embedded telecom registry: the registrations held in the store's `phone_registry`
(loaded from a region's `phone_registry.parquet` by `fundwall load`).

It holds keyed hashes only, of the phone and of the ID number (SM3-HMAC under the
deployment's key, as `parties` hashes them): a registry answers by matching and never shows
a number, so it keeps nothing that could be shown; the other holders of a number (people who
are nobody's customer) stay unknown to everyone. It holds no names either (the simulator's
registry has none), so its answers say `name_checked=False`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Engine, select

from fundwall.clock import Clock
from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.phones.registry import Registration, RegistryAnswer, judge
from fundwall.store.phone_tables import PhoneRegistrationRow

LOCAL: Final = "local"


class LocalRegistry:
    """`TelecomRegistry` over the store's `phone_registry`, read on its own connection."""

    def __init__(self, database: Engine, keyring: Keyring, clock: Clock) -> None:
        self._database = database
        self._keyring = keyring
        self._clock = clock

    @property
    def name(self) -> str:
        return LOCAL

    def verify(
        self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
    ) -> RegistryAnswer:
        phone_hash = self._keyring.keyed_hash(PHONE_HASH_KIND, phone.number)
        holder = self._keyring.keyed_hash(ID_HASH_KIND, id_number.number)
        query = select(
            PhoneRegistrationRow.id_number_hash,
            PhoneRegistrationRow.registered_at,
            PhoneRegistrationRow.deregistered_at,
        ).where(PhoneRegistrationRow.phone_hash == phone_hash)
        with self._database.connect() as connection:
            history = [Registration(*row) for row in connection.execute(query)]
        result, released_at = judge(history, holder)
        return RegistryAnswer(result, self._clock.now(), released_at, name_checked=False)
