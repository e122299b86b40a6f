"""Members report their own accounts' life (账户开立、变更、销户) to the account directory.

The account directory says which bank holds each account of the region; the engine admits a
member's transactions only from accounts it holds there, and reads each account's class,
opening date and holder from it. So a member reports each account it opens, each change of
class, and each change of standing status it makes itself (非柜面暂停, 久悬, 销户); stop-payments
and freezes come from police orders, not from the member. Each use case takes the actor,
checks its permission and that the account is the actor's member's, writes the account and an
audit record in one transaction, and stamps the account with the record's sequence number
(`revision`), so the running decision service reads the report at its next decision.

Another member's account reads as unknown (404), exactly as an account no one holds, so a
member cannot learn which accounts other members hold.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select

from fundwall.accounts.controls import check_member_status, own_account
from fundwall.accounts.queries import write_status
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import ID_HASH_KIND, Keyring
from fundwall.domain.accounts import (
    Account,
    AccountClass,
    AccountStatus,
    OpeningChannel,
    RiskTier,
)
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.identity import (
    AccountNumber,
    CreditCode,
    MobilePhone,
    ResidentId,
    mask_account,
)
from fundwall.domain.parties import Party, PartyKind
from fundwall.engine.controls.changes import stated_reason
from fundwall.phones.queries import bind, current_binding, record_check
from fundwall.phones.registry import CheckTrigger, RegistryAnswer, TelecomRegistry
from fundwall.store.mapping import account_of, account_row, party_row
from fundwall.store.tables import AccountRow, PartyRow
from fundwall.store.uow import UnitOfWork

CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of the server's clock an opening time may lie (members' clocks differ)."""
PARTY_PREFIX: Final = "H"
PARTY_HASH_CHARS: Final = 20
"""A reported holder's party id: "H" and the ID number's keyed hash in base32, cut to 100 bits
(no raw ID in an identifier; distinct holders stay apart). Base32 has no 0 or 1, so no run of
its characters reads as an ID or mobile number to the audit log's guard."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a reported account: a person by resident ID or a firm by credit code."""

    kind: PartyKind
    id_number: ResidentId | CreditCode
    name: str
    phone: MobilePhone | None = None


@dataclass(frozen=True, slots=True)
class AccountOpening:
    """An account a member opened (账户开立)."""

    account_no: AccountNumber
    account_class: AccountClass
    opened_at: datetime
    opening_channel: OpeningChannel
    holder: Holder
    bound_account: AccountNumber | None = None
    balance_fen: int = 0


def _member(actor: Actor) -> str:
    if actor.member is None:
        raise PermissionDenied(f"report accounts without a member ({actor.audit_id})")
    return actor.member


def new_party_id(id_hash: str) -> str:
    """The party id of a holder new to the store, from the keyed hash of its ID number."""
    encoded = base64.b32encode(bytes.fromhex(id_hash)).decode()
    return PARTY_PREFIX + encoded[:PARTY_HASH_CHARS]


def _party_id(uow: UnitOfWork, holder: Holder, keyring: Keyring) -> tuple[str, bool]:
    """The holder's party id, and whether the party is new to the store."""
    id_hash = keyring.keyed_hash(ID_HASH_KIND, holder.id_number.number)
    found = uow.session.scalar(select(PartyRow.party_id).where(PartyRow.id_number_hash == id_hash))
    if found is not None:
        return found, False
    return new_party_id(id_hash), True


@use_case(Permission.REPORT_ACCOUNTS)
def open_account(
    uow: UnitOfWork,
    actor: Actor,
    opening: AccountOpening,
    keyring: Keyring,
    registry: TelecomRegistry | None = None,
) -> Account:
    """Put an account the actor's member opened into the directory (账户开立).

    With a telecom `registry`, a person's phone given with the opening is checked against
    it (手机实名验证) and bound to the holder at the member, the check kept with the binding
    (`fundwall.phones`); the registry is asked before anything is written, so one that does
    not answer refuses the opening whole. A firm's phone is its owner's and is not checked
    here."""
    account = write_opening(uow, actor, opening, keyring, registry)
    uow.commit()
    return account


def write_opening(
    uow: UnitOfWork,
    actor: Actor,
    opening: AccountOpening,
    keyring: Keyring,
    registry: TelecomRegistry | None,
    *,
    answer: RegistryAnswer | None = None,
) -> Account:
    """`open_account`'s checks and writes, not committed; `answer` is the registry's answer
    on the holder's phone when the caller asked it already (simplified opening). Its callers
    are use cases that checked the actor."""
    member = _member(actor)
    number = opening.account_no.number
    if uow.session.get(AccountRow, number) is not None:
        raise Conflict(f"account {mask_account(number)} is already in the account directory")
    now = uow.clock.now()
    if opening.opened_at > now + CLOCK_SKEW:
        raise InvalidInput("an account cannot be opened in the future", "opened_at")
    if type(opening.balance_fen) is not int or opening.balance_fen < 0:
        raise InvalidInput("a whole, non-negative number of fen", "balance_fen")
    party_id, new_party = _party_id(uow, opening.holder, keyring)
    holder = opening.holder
    phone_answer = None
    if (
        registry is not None
        and holder.phone is not None
        and isinstance(holder.id_number, ResidentId)
        and _phone_changes(uow, member, party_id, holder.phone, keyring)
    ):
        phone_answer = answer or registry.verify(
            holder.phone, holder.id_number, holder.name, opening.opened_at
        )
    bound = opening.bound_account.number if opening.bound_account is not None else None
    account = Account(
        account_no=number,
        institution_code=member,
        party_id=party_id,
        account_class=opening.account_class,
        status=AccountStatus.NORMAL,
        risk_tier=RiskTier.LOW,
        opened_at=opening.opened_at,
        opening_channel=opening.opening_channel,
        bound_account=bound,
    )
    record = uow.audit.record(
        actor,
        "open_account",
        f"account:{mask_account(number)}",
        {
            "class": account.account_class.value,
            "opened_at": opening.opened_at.isoformat(),
            "channel": account.opening_channel.value,
            "holder": f"party:{party_id}",
            "new_holder": new_party,
            **(
                {"phone_check": phone_answer.result.value, "registry": registry.name}
                if phone_answer is not None and registry is not None
                else {}
            ),
        },
    )
    if new_party:
        party = Party(
            party_id=party_id,
            kind=holder.kind,
            name=holder.name,
            id_number=holder.id_number,
            phone=holder.phone,
            home_region=holder.id_number.region_code,
        )
        uow.session.add(party_row(party, keyring))
        uow.session.flush()
    row = account_row(account, balance_fen=opening.balance_fen)
    row.revision = record.seq
    uow.session.add(row)
    if phone_answer is not None and registry is not None and holder.phone is not None:
        uow.session.flush()
        binding = bind(
            uow.session,
            keyring,
            member=member,
            party_id=party_id,
            phone=holder.phone,
            at=record.ts,
            by=actor.audit_id,
            revision=record.seq,
        )
        record_check(
            uow.session,
            binding,
            phone_answer,
            registry=registry.name,
            trigger=CheckTrigger.OPEN_ACCOUNT,
            at=record.ts,
            by=actor.audit_id,
        )
    uow.session.flush()
    return account


def _phone_changes(
    uow: UnitOfWork, member: str, party_id: str, phone: MobilePhone, keyring: Keyring
) -> bool:
    """Whether `phone` is not yet the one the member has bound to the party (a second
    account of a customer, opened with the same phone, checks nothing again)."""
    current = current_binding(uow.session, member, party_id)
    return current is None or keyring.decrypt(current.phone_enc) != phone.number


@use_case(Permission.REPORT_ACCOUNTS)
def change_account(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    *,
    reason: str,
    account_class: AccountClass | None = None,
    status: AccountStatus | None = None,
) -> Account:
    """Change the class (账户分类变更) or the standing status (非柜面暂停, 久悬, 销户) of an
    account the actor's member holds; both in one transaction."""
    member = _member(actor)
    why = stated_reason(reason)
    if account_class is None and status is None:
        raise InvalidInput("say what changes: account_class or status", "account_class")
    row = own_account(uow, member, account_no)
    current = AccountStatus(row.status)
    if status is not None and status is not current:
        check_member_status(account_no, current, status)
    if account_class is not None and account_class.value != row.account_class:
        if (account_class is AccountClass.CORPORATE) != (row.account_class == "corporate"):
            raise InvalidInput(
                "a personal account cannot become a company account or the other way round",
                "account_class",
            )
        record = uow.audit.record(
            actor,
            "change_account_class",
            f"account:{mask_account(account_no)}",
            {"from": row.account_class, "to": account_class.value, "reason": why},
        )
        row.account_class = account_class.value
        if not account_class.may_be_bound:
            row.bound_account = None
        row.revision = record.seq
    if status is not None and status is not current:
        write_status(uow, actor, row, status, why)
    else:
        uow.commit()
    return account_of(row)
