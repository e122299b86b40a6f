"""Between domain objects and table rows, both ways: the one mapping every writer uses.

`<table>_values(obj)` gives the row's column values, as bulk writers insert them (the decision
log, `fundwall load`); `<table>_row(obj)` gives the same values as an ORM object, for a unit of
work's session (account reports, the tests' fixtures). So whatever writes a row writes it the
same way. A transaction's row is its record (`Transaction.as_row`, the columns of
`TRANSACTION_FIELDS`), and a decision's is `Decision.to_dict(as_logged=True)` with the time it
was made.

Personal data is encrypted on the way in and decrypted on the way out with a `Keyring`; the
keyed hashes stored beside it use the kinds `ID_HASH_KIND` and `PHONE_HASH_KIND`, so a
lookup hashes its input the same way: `keyring.keyed_hash(ID_HASH_KIND, text)`.
Reading a row back validates it again through the domain constructors, so a row damaged in
the database surfaces as InvalidInput rather than as a wrong object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.decisions import Decision
from fundwall.domain.devices import Device, DeviceKind, FaceCheck, LoginEvent
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.parties import Party, PartyKind
from fundwall.domain.transactions import COLUMNS, Transaction
from fundwall.store.tables import (
    AccountRow,
    DecisionRow,
    DeviceRow,
    InstitutionRow,
    LoginEventRow,
    PartyRow,
    TransactionRow,
)

_DECISION_COLUMNS: Final = tuple(DecisionRow.__table__.c.keys())


def institution_values(institution: Institution) -> dict[str, Any]:
    return {
        "code": institution.code,
        "name_zh": institution.name_zh,
        "name_en": institution.name_en,
        "kind": institution.kind.value,
        "region": institution.region,
    }


def institution_row(institution: Institution) -> InstitutionRow:
    return InstitutionRow(**institution_values(institution))


def institution_of(row: InstitutionRow) -> Institution:
    return Institution(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        kind=InstitutionKind(row.kind),
        region=row.region,
    )


def party_values(party: Party, keyring: Keyring) -> dict[str, Any]:
    """Encrypt name, ID and phone; hash ID and phone for matching; keep the birth year."""
    phone = party.phone.number if party.phone is not None else None
    birth_year = (
        party.id_number.birth_date.year if isinstance(party.id_number, ResidentId) else None
    )
    return {
        "party_id": party.party_id,
        "kind": party.kind.value,
        "name_enc": keyring.encrypt(party.name),
        "id_number_enc": keyring.encrypt(party.id_number.number),
        "id_number_hash": keyring.keyed_hash(ID_HASH_KIND, party.id_number.number),
        "phone_enc": keyring.encrypt(phone) if phone is not None else None,
        "phone_hash": keyring.keyed_hash(PHONE_HASH_KIND, phone) if phone is not None else None,
        "home_region": party.home_region,
        "birth_year": birth_year,
    }


def party_row(party: Party, keyring: Keyring) -> PartyRow:
    return PartyRow(**party_values(party, keyring))


def party_of(row: PartyRow, keyring: Keyring) -> Party:
    """Decrypt a party; DecryptionError if its encrypted fields were altered."""
    kind = PartyKind(row.kind)
    number = keyring.decrypt(row.id_number_enc)
    identity = ResidentId(number) if kind == PartyKind.PERSON else CreditCode(number)
    phone = MobilePhone(keyring.decrypt(row.phone_enc)) if row.phone_enc is not None else None
    return Party(
        party_id=row.party_id,
        kind=kind,
        name=keyring.decrypt(row.name_enc),
        id_number=identity,
        phone=phone,
        home_region=row.home_region,
    )


def account_values(account: Account, *, balance_fen: int = 0) -> dict[str, Any]:
    return {
        "account_no": account.account_no,
        "institution_code": account.institution_code,
        "party_id": account.party_id,
        "account_class": account.account_class.value,
        "status": account.status.value,
        "risk_tier": account.risk_tier.value,
        "opened_at": account.opened_at,
        "opening_channel": account.opening_channel.value,
        "bound_account": account.bound_account,
        "balance_fen": balance_fen,
        "opening_device_id": account.opening_device,
        "opening_ip": account.opening_ip,
        "opening_agent": account.opening_agent,
        "last_active_at": account.last_active_at,
    }


def account_row(account: Account, *, balance_fen: int = 0) -> AccountRow:
    return AccountRow(**account_values(account, balance_fen=balance_fen))


def account_of(row: AccountRow) -> Account:
    return Account(
        account_no=row.account_no,
        institution_code=row.institution_code,
        party_id=row.party_id,
        account_class=AccountClass(row.account_class),
        status=AccountStatus(row.status),
        risk_tier=RiskTier(row.risk_tier),
        opened_at=row.opened_at,
        opening_channel=OpeningChannel(row.opening_channel),
        bound_account=row.bound_account,
        opening_device=row.opening_device_id,
        opening_ip=row.opening_ip,
        opening_agent=row.opening_agent,
        last_active_at=row.last_active_at,
    )


def device_values(device: Device) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "kind": device.kind.value,
        "first_seen": device.first_seen,
    }


def device_row(device: Device) -> DeviceRow:
    return DeviceRow(**device_values(device))


def device_of(row: DeviceRow) -> Device:
    return Device(device_id=row.device_id, kind=DeviceKind(row.kind), first_seen=row.first_seen)


def login_event_values(event: LoginEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "account_no": event.account_no,
        "ts": event.ts,
        "device_id": event.device_id,
        "ip": event.ip,
        "city": event.city,
        "face_check": event.face_check.value,
    }


def login_event_row(event: LoginEvent) -> LoginEventRow:
    return LoginEventRow(**login_event_values(event))


def login_event_of(row: LoginEventRow) -> LoginEvent:
    return LoginEvent(
        event_id=row.event_id,
        account_no=row.account_no,
        ts=row.ts,
        device_id=row.device_id,
        ip=row.ip,
        city=row.city,
        face_check=FaceCheck(row.face_check),
    )


def transaction_values(transaction: Transaction) -> dict[str, Any]:
    """The transaction's record: its columns are the table's (`TRANSACTION_FIELDS`)."""
    return transaction.as_row()


def transaction_row(transaction: Transaction) -> TransactionRow:
    return TransactionRow(**transaction_values(transaction))


def transaction_of(row: TransactionRow) -> Transaction:
    return Transaction.from_mapping({name: getattr(row, name) for name in COLUMNS})


def decision_values(decision: Decision, *, decided_at: datetime) -> dict[str, Any]:
    """The decision as logged at `decided_at` (from the service's clock)."""
    values = decision.to_dict(as_logged=True)
    values["decided_at"] = decided_at
    return values


def decision_row(decision: Decision, *, decided_at: datetime) -> DecisionRow:
    return DecisionRow(**decision_values(decision, decided_at=decided_at))


def decision_of(row: DecisionRow) -> Decision:
    return Decision.from_dict({name: getattr(row, name) for name in _DECISION_COLUMNS})


def phone_registration_values(
    phone: MobilePhone,
    id_number: ResidentId,
    registered_at: datetime,
    deregistered_at: datetime | None,
    keyring: Keyring,
) -> dict[str, Any]:
    """A registration of the local telecom registry: both numbers as keyed hashes only."""
    return {
        "phone_hash": keyring.keyed_hash(PHONE_HASH_KIND, phone.number),
        "id_number_hash": keyring.keyed_hash(ID_HASH_KIND, id_number.number),
        "registered_at": registered_at,
        "deregistered_at": deregistered_at,
    }


def phone_binding_values(
    member: str,
    party_id: str,
    phone: MobilePhone,
    bound_at: datetime | None,
    bound_by: str,
    keyring: Keyring,
) -> dict[str, Any]:
    """A phone bound to a member's customer: encrypted beside its keyed hash."""
    return {
        "member": member,
        "party_id": party_id,
        "phone_enc": keyring.encrypt(phone.number),
        "phone_hash": keyring.keyed_hash(PHONE_HASH_KIND, phone.number),
        "bound_at": bound_at,
        "unbound_at": None,
        "bound_by": bound_by,
        "revision": None,
    }
