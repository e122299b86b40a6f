"""Which transactions a member may have decided: its own customers' accounts, real banks, ids
used once.

An account is (bank, number): the account directory says which bank holds each account number
of the region. A member submits the transfers and withdrawals paid from accounts it holds and
the cash deposits into them (`fundwall.domain.ownership.owner_of`), so:

- the account it answers for (the payer's; the payee's for a deposit) must be held by it in
  the directory (403, pacs.008 AG01): a member never spends, or fills up the limits of, another
  member's customer's account, and an account it has not reported (`/v1/accounts`) is unknown;
- the counterparty's bank is a bank or payment institution of the region, or a bank outside it
  written as a 12-digit CNAPS bank code (支付系统行号) or an ISO 9362 BIC (422 naming the field,
  RC01); an account the directory holds at another bank than the one named is refused (AC03),
  and so is an account of a member bank that the directory does not know; a counterparty
  account outside the region must be a valid account or card number (AC03);
- a transaction id already used by another member is refused as "transaction id already used"
  (422, AM05) without a word about that transaction; the member that used it may send it again
  and gets its first decision, unless the content differs: then a 409 names the fields.

Nothing of a refused request reaches the engine: the checks run before any decision.

Login events (`admit_logins`) follow the same rules: a member sends the logins of accounts it
holds in the directory (403), and a login id used by another member is refused as "login id
already used" (422), one it sent before with other content is a 409 naming the fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Final, NamedTuple, Protocol

from fundwall.domain.devices import LoginEvent
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.identity import AccountNumber
from fundwall.domain.ownership import OWNING_SIDE, Side, owner_of
from fundwall.domain.transactions import Transaction, TransactionKind
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords

ALREADY_USED: Final = "transaction id already used"
LOGIN_ALREADY_USED: Final = "login id already used"
LOGIN_FIELDS: Final = {"event_id": "login_id"}
"""The login event's fields as members send them, where the names differ."""
OUTSIDE_BANK: Final = re.compile(r"[0-9]{12}|[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
"""A bank outside the region: a CNAPS bank code of 12 digits, or a BIC of 8 or 11 characters."""


class Holders(Protocol):
    """What the admission of logins reads: the account directory."""

    def bank_of(self, account_no: str) -> str | None:
        """The bank holding an account of the region, None when no member holds it."""
        ...


class Register(Holders, Protocol):
    """What the admission of transactions reads: the account directory, the region's
    institutions and the first content of each transaction id."""

    def holds_accounts(self, code: str) -> bool:
        """Whether `code` is a bank or payment institution of the region."""
        ...

    def first_transaction(self, tx_id: str) -> Transaction | None:
        """The transaction first decided under `tx_id`, None for a new id."""
        ...


class Refusal(NamedTuple):
    """Why one transaction is not decided for a member: the answer's status, the field, the
    reason and the ISO 20022 status reason code."""

    status: int
    field: str | None
    reason: str
    code: str


def _own_side(tx: Transaction) -> tuple[Side, str | None, str | None]:
    """(the side the member answers for, its account, its declared bank)."""
    side = OWNING_SIDE[tx.kind]
    if side is Side.PAYEE:
        return side, tx.payee_account, tx.payee_bank
    return side, tx.payer_account, tx.payer_bank


def _counterparty(tx: Transaction) -> tuple[str, str | None, str | None] | None:
    """(field prefix, account, bank) of the other side of a transfer; None without one."""
    if tx.kind is TransactionKind.TRANSFER:
        return "payee", tx.payee_account, tx.payee_bank
    return None


def different_fields(first: Transaction, again: Transaction) -> list[str]:
    """The fields in which a transaction sent again differs from the first one."""
    return [f.name for f in fields(Transaction) if getattr(first, f.name) != getattr(again, f.name)]


def refusal(member: str, tx: Transaction, register: Register) -> Refusal | None:
    """Why `member` may not have `tx` decided, None when it may."""
    side, account, bank = _own_side(tx)
    if bank != member:
        return Refusal(
            403,
            f"{side}_bank",
            f"{bank}: this API key is member {member}'s, which submits the "
            "transfers and withdrawals its customers pay and the deposits they receive",
            "AG01",
        )
    if account is None or register.bank_of(account) != member:
        return Refusal(
            403,
            f"{side}_account",
            f"not an account of member {member} in the account directory "
            "(report new accounts through /v1/accounts)",
            "AG01",
        )
    other = _counterparty(tx)
    if other is not None:
        found = _counterparty_refusal(*other, register)
        if found is not None:
            return found
    first = register.first_transaction(tx.tx_id)
    if first is not None:
        if owner_of(first.kind, first.payer_bank, first.payee_bank) != member:
            return Refusal(422, "tx_id", ALREADY_USED, "AM05")
        changed = different_fields(first, tx)
        if changed:
            return Refusal(
                409,
                "tx_id",
                f"transaction id sent before with other content: {', '.join(changed)} differ",
                "AM05",
            )
    return None


def _counterparty_refusal(
    side: str, account: str | None, bank: str | None, register: Register
) -> Refusal | None:
    bank_field, account_field = f"{side}_bank", f"{side}_account"
    if bank is None or account is None:
        return None
    member_bank = register.holds_accounts(bank)
    if not member_bank and OUTSIDE_BANK.fullmatch(bank) is None:
        return Refusal(
            422,
            bank_field,
            "not a bank or payment institution of the region, nor a bank outside it written "
            "as a 12-digit CNAPS bank code or a BIC",
            "RC01",
        )
    holder = register.bank_of(account)
    if holder is not None and holder != bank:
        return Refusal(422, account_field, f"not an account of bank {bank}", "AC03")
    if holder is None and member_bank:
        return Refusal(
            422, account_field, f"bank {bank} holds no such account in the directory", "AC03"
        )
    if holder is None:
        try:
            AccountNumber.parse(account, field=account_field)
        except InvalidInput as error:
            return Refusal(422, account_field, error.reason, "AC03")
    return None


def refusals(member: str, txs: Sequence[Transaction], register: Register) -> list[Refusal | None]:
    """For each transaction, why the member may not have it decided (None: it may)."""
    return [refusal(member, tx, register) for tx in txs]


def admit(member: str, txs: Sequence[Transaction], register: Register, *, batch: bool) -> None:
    """Refuse the whole request when one transaction may not be decided for `member`: 403 for
    another member's account, 409 for an id sent again with other content, else 422 naming
    every bad record and field (up to `MAX_ERRORS`)."""
    found = [(index, r) for index, tx in enumerate(txs) if (r := refusal(member, tx, register))]
    refuse(found, batch=batch)


def login_refusal(
    member: str, login: LoginEvent, register: Holders, first: LoginEvent | None
) -> Refusal | None:
    """Why `member` may not send `login` (`first`: the login logged under its id before, if
    any), None when it may."""
    if register.bank_of(login.account_no) != member:
        return Refusal(
            403,
            "account_no",
            f"not an account of member {member} in the account directory "
            "(report new accounts through /v1/accounts)",
            "AG01",
        )
    if first is None:
        return None
    if register.bank_of(first.account_no) != member:
        return Refusal(422, "login_id", LOGIN_ALREADY_USED, "AM05")
    changed = login_changes(first, login)
    return None if changed is None else Refusal(409, "login_id", changed, "AM05")


def login_changes(first: LoginEvent, again: LoginEvent) -> str | None:
    """What differs in a login sent again under the same id (None: nothing), in members'
    field names."""
    changed = [
        LOGIN_FIELDS.get(f.name, f.name)
        for f in fields(LoginEvent)
        if getattr(first, f.name) != getattr(again, f.name)
    ]
    if not changed:
        return None
    return f"login id sent before with other content: {', '.join(changed)} differ"


def admit_logins(
    member: str,
    logins: Sequence[LoginEvent],
    register: Holders,
    first: Mapping[str, LoginEvent],
) -> None:
    """Refuse the whole request, as `admit` does, when `member` may not send one of `logins`
    (`first`: the logins logged before under their ids)."""
    found = [
        (index, r)
        for index, login in enumerate(logins)
        if (r := login_refusal(member, login, register, first.get(login.event_id)))
    ]
    refuse(found, batch=True)


def refuse(found: Sequence[tuple[int, Refusal]], *, batch: bool) -> None:
    """Raise for the refusals of a request ((index, refusal) of each refused record): the first
    403 as PermissionDenied, else the first 409 as Conflict, else every 422 as InvalidRecords;
    nothing when there are none."""
    if not found:
        return
    for status, error in ((403, PermissionDenied), (409, Conflict)):
        index, first = next(((i, r) for i, r in found if r.status == status), (None, None))
        if first is not None:
            where = f"record {index}, " if batch else ""
            raise error(f"{where}{first.field}: {first.reason}")
    invalid = [InvalidInput(r.reason, r.field, str(index) if batch else None) for index, r in found]
    raise InvalidRecords.of(invalid[:MAX_ERRORS], more=len(invalid) > MAX_ERRORS)
