"""Between domain objects and table rows, both ways.

Personal data is encrypted on the way in and decrypted on the way out with a `Keyring`; the
keyed hashes stored beside it use the kinds `ID_HASH_KIND` and `PHONE_HASH_KIND`, so a
lookup hashes its input the same way: `keyring.keyed_hash(ID_HASH_KIND, text)`.
Reading a row back validates it again through the domain constructors, so a row damaged in
the database surfaces as InvalidInput rather than as a wrong object.
"""

from __future__ import annotations

from datetime import datetime

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.devices import Device, DeviceKind, FaceCheck, LoginEvent
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.money import Money
from fundwall.domain.parties import Party, PartyKind
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.store.tables import (
    AccountRow,
    DecisionRow,
    DeviceRow,
    InstitutionRow,
    LoginEventRow,
    PartyRow,
    TransactionRow,
)


def institution_row(institution: Institution) -> InstitutionRow:
    return InstitutionRow(
        code=institution.code,
        name_zh=institution.name_zh,
        name_en=institution.name_en,
        kind=institution.kind.value,
        region=institution.region,
    )


def institution_of(row: InstitutionRow) -> Institution:
    return Institution(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        kind=InstitutionKind(row.kind),
        region=row.region,
    )


def party_row(party: Party, keyring: Keyring) -> PartyRow:
    """Encrypt name, ID and phone; hash ID and phone for matching; keep the birth year."""
    phone = party.phone.number if party.phone is not None else None
    birth_year = (
        party.id_number.birth_date.year if isinstance(party.id_number, ResidentId) else None
    )
    return PartyRow(
        party_id=party.party_id,
        kind=party.kind.value,
        name_enc=keyring.encrypt(party.name),
        id_number_enc=keyring.encrypt(party.id_number.number),
        id_number_hash=keyring.keyed_hash(ID_HASH_KIND, party.id_number.number),
        phone_enc=keyring.encrypt(phone) if phone is not None else None,
        phone_hash=keyring.keyed_hash(PHONE_HASH_KIND, phone) if phone is not None else None,
        home_region=party.home_region,
        birth_year=birth_year,
    )


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


def account_row(account: Account, *, balance_fen: int = 0) -> AccountRow:
    return AccountRow(
        account_no=account.account_no,
        institution_code=account.institution_code,
        party_id=account.party_id,
        account_class=account.account_class.value,
        status=account.status.value,
        risk_tier=account.risk_tier.value,
        opened_at=account.opened_at,
        opening_channel=account.opening_channel.value,
        bound_account=account.bound_account,
        balance_fen=balance_fen,
    )


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
    )


def device_row(device: Device) -> DeviceRow:
    return DeviceRow(
        device_id=device.device_id, kind=device.kind.value, first_seen=device.first_seen
    )


def device_of(row: DeviceRow) -> Device:
    return Device(device_id=row.device_id, kind=DeviceKind(row.kind), first_seen=row.first_seen)


def login_event_row(event: LoginEvent) -> LoginEventRow:
    return LoginEventRow(
        event_id=event.event_id,
        account_no=event.account_no,
        ts=event.ts,
        device_id=event.device_id,
        ip=event.ip,
        city=event.city,
        face_check=event.face_check.value,
    )


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


def transaction_row(transaction: Transaction) -> TransactionRow:
    return TransactionRow(
        tx_id=transaction.tx_id,
        ts=transaction.ts,
        kind=transaction.kind.value,
        payer_account=transaction.payer_account,
        payee_account=transaction.payee_account,
        payer_bank=transaction.payer_bank,
        payee_bank=transaction.payee_bank,
        amount_fen=transaction.amount.fen,
        channel=transaction.channel.value,
        device_id=transaction.device_id,
        ip=transaction.ip,
        city=transaction.city,
        purpose=transaction.purpose,
    )


def transaction_of(row: TransactionRow) -> Transaction:
    return Transaction(
        tx_id=row.tx_id,
        ts=row.ts,
        kind=TransactionKind(row.kind),
        payer_account=row.payer_account,
        payee_account=row.payee_account,
        payer_bank=row.payer_bank,
        payee_bank=row.payee_bank,
        amount=Money.of_fen(row.amount_fen),
        channel=Channel(row.channel),
        device_id=row.device_id,
        ip=row.ip,
        city=row.city,
        purpose=row.purpose,
    )


def decision_row(decision: Decision, *, decided_at: datetime) -> DecisionRow:
    """The decision as logged at `decided_at` (from the service's clock)."""
    return DecisionRow(
        tx_id=decision.tx_id,
        action=decision.action.value,
        score=decision.score,
        reasons=[reason.as_record() for reason in decision.reasons],
        pack_version=decision.pack_version,
        model_version=decision.model_version,
        latency_us=decision.latency_us,
        shadow=decision.shadow,
        decided_at=decided_at,
    )


def decision_of(row: DecisionRow) -> Decision:
    return Decision(
        tx_id=row.tx_id,
        action=Action(row.action),
        score=row.score,
        reasons=tuple(Reason.from_record(item) for item in row.reasons),
        pack_version=row.pack_version,
        model_version=row.model_version,
        latency_us=row.latency_us,
        shadow=row.shadow,
    )
