"""The portal's identity check: a resident ID number and a one-time code (验证码) sent through
the outbox to the phones the banks bound to that person's accounts.

Nothing tells whether an ID number is known: `request_code` answers the same (None) whether
codes went out or not, and an unknown ID sends nothing; the caller (the portal) waits the
same floor either way. A code is random (`secrets`), stored as its keyed hash bound to the
person, good for `portal.code_minutes`, and spent after `portal.code_attempts` wrong entries
or its first right one. A phone's hourly limit (`outreach.phone_per_hour`) holds codes back
silently. The addresses' limits are the portal's (per process), as the console's are.

These run before anyone is verified, so they take no actor: the portal acts as the server
(`PORTAL`), and the person's actor is made only by `verify_code`.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Final

from sqlalchemy import select

from fundwall.appeals.queries import person_actor
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.config import PortalSettings, get_settings
from fundwall.crypto import ID_HASH_KIND
from fundwall.domain.errors import Conflict
from fundwall.domain.identity import ResidentId
from fundwall.outreach.model import SmsPurpose
from fundwall.outreach.queries import queue_sms
from fundwall.store.appeal_tables import PortalCodeRow
from fundwall.store.phone_tables import PhoneBindingRow
from fundwall.store.tables import PartyRow
from fundwall.store.uow import UnitOfWork

PORTAL: Final = Actor(ActorKind.SYSTEM, "portal", Role.OPERATOR)
"""Who queues the codes: the server's portal itself (no member, no person yet)."""
CODE_KIND: Final = "portal_code"


def _code_hash(uow: UnitOfWork, id_hash: str, code: str) -> str:
    return uow.keyring.keyed_hash(CODE_KIND, f"{id_hash}:{code}")


def _id_hash(uow: UnitOfWork, id_number: str) -> str:
    """The keyed hash of a well-formed resident ID (InvalidInput naming `id_number` for a
    malformed one: that says nothing of who is known)."""
    number = ResidentId.parse(id_number, field="id_number").number
    return uow.keyring.keyed_hash(ID_HASH_KIND, number)


def request_code(uow: UnitOfWork, id_number: str, settings: PortalSettings | None = None) -> None:
    """Send a new code to every phone currently bound to the person's accounts, when the ID
    is known and a phone is bound; otherwise do nothing, alike. A code sent ends the
    person's earlier ones; one held back by the phones' hourly limit ends nothing."""
    config = settings or get_settings().portal
    id_hash = _id_hash(uow, id_number)
    now = uow.clock.now()
    phones = {
        uow.keyring.decrypt(binding.phone_enc)
        for binding in uow.session.scalars(
            select(PhoneBindingRow)
            .join(PartyRow, PartyRow.party_id == PhoneBindingRow.party_id)
            .where(PartyRow.id_number_hash == id_hash, PhoneBindingRow.unbound_at.is_(None))
        )
    }
    if not phones:
        return
    code = "".join(secrets.choice("0123456789") for _ in range(config.code_digits))
    sent = 0
    for phone in sorted(phones):
        try:
            queue_sms(
                uow, PORTAL, phone=phone, template="portal_code",
                variables={"code": code, "minutes": str(config.code_minutes)},
                member=None, purpose=SmsPurpose.CODE,
            )  # fmt: skip
            sent += 1
        except Conflict:  # the phone's hourly limit: held back, and said to nobody
            continue
    if sent:
        # Only a code that went out ends the earlier ones: a request held back by the phones'
        # limit (anyone may type the person's ID) leaves the code the person holds good.
        for earlier in uow.session.scalars(
            select(PortalCodeRow).where(
                PortalCodeRow.person_hash == id_hash, PortalCodeRow.ended_at.is_(None)
            )
        ):
            earlier.ended_at = now
        uow.session.add(
            PortalCodeRow(
                person_hash=id_hash,
                code_hash=_code_hash(uow, id_hash, code),
                created_at=now,
                expires_at=now + timedelta(minutes=config.code_minutes),
                attempts=0,
            )
        )
        uow.audit.record(
            PORTAL, "portal_code", f"person:{person_actor(id_hash).name}", {"phones": sent}
        )
    uow.commit()


def verify_code(
    uow: UnitOfWork, id_number: str, code: str, settings: PortalSettings | None = None
) -> Actor | None:
    """The verified person's actor when `code` is their good code; None otherwise (unknown
    ID, no code, expired, spent, wrong: alike). A wrong entry counts against the code."""
    config = settings or get_settings().portal
    id_hash = _id_hash(uow, id_number)
    now = uow.clock.now()
    row = uow.session.scalars(
        select(PortalCodeRow)
        .where(PortalCodeRow.person_hash == id_hash, PortalCodeRow.ended_at.is_(None))
        .order_by(PortalCodeRow.id.desc())
        .limit(1)
    ).first()
    if row is None or row.expires_at <= now:
        return None
    given = code.strip() if isinstance(code, str) else ""
    if hmac.compare_digest(row.code_hash, _code_hash(uow, id_hash, given)):
        row.ended_at = now
        actor = person_actor(id_hash)
        uow.audit.record(actor, "portal_sign_in", f"person:{actor.name}", {})
        uow.commit()
        return actor
    row.attempts += 1
    if row.attempts >= config.code_attempts:
        row.ended_at = now
    uow.commit()
    return None
