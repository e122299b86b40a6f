"""Whose transaction it is: a member submits only its own, and never learns another's decision.

A member's API key submits the transfers and withdrawals its customers pay (the payer's bank)
and the cash deposits they receive (the payee's bank): the member that decides, as in
`fundwall.auth.tenancy`. Because the decision service answers a transaction id it has seen
with the decision first made for it, a transaction id first used by another member is refused
as "transaction id already used", exactly as any invalid value is and without a word about
that transaction or its decision; the member that used it first gets its decision again.

`TransactionOwners` says which ids are taken and by whom: `RememberedOwners` in memory, for a
service whose memory of decisions lasts as long as the process (`fundwall serve --region`,
tests); `StoredOwners` from the store's `transactions` table, for the service that logs every
decision there (`DecisionService.open`), so ids survive a restart.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, NamedTuple, Protocol

from sqlalchemy import Engine, select

from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.transactions import Transaction, TransactionKind
from fundwall.ingest import MAX_ERRORS, InvalidRecords
from fundwall.store.engine import reachable
from fundwall.store.tables import TransactionRow

ALREADY_USED: Final = "transaction id already used"
LOOKUP_CHUNK: Final = 1_000
"""Ids looked up per query: well under every database's limit of bound parameters."""


def owner_of(
    kind: TransactionKind | str, payer_bank: str | None, payee_bank: str | None
) -> str | None:
    """The member a transaction belongs to: the payer's bank, the payee's for a deposit."""
    return payee_bank if kind == TransactionKind.DEPOSIT else payer_bank


def _owner(tx: Transaction) -> str | None:
    return owner_of(tx.kind, tx.payer_bank, tx.payee_bank)


class TransactionOwners(Protocol):
    """Which transaction ids are taken, and by which member."""

    def owners(self, tx_ids: Sequence[str]) -> Mapping[str, str | None]:
        """The member of each of `tx_ids` that is already taken (the others are absent)."""
        ...

    def remember(self, member: str, tx_ids: Iterable[str]) -> None:
        """Note the member's transactions about to be decided (the first member stays)."""
        ...


class RememberedOwners:
    """Owners of the transactions submitted through this process, in memory."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}

    def owners(self, tx_ids: Sequence[str]) -> Mapping[str, str | None]:
        known = self._owners
        return {tx_id: known[tx_id] for tx_id in tx_ids if tx_id in known}

    def remember(self, member: str, tx_ids: Iterable[str]) -> None:
        # Interned: a handful of member codes shared by millions of entries.
        member = sys.intern(member)
        for tx_id in tx_ids:
            self._owners.setdefault(tx_id, member)


class StoredOwners:
    """Owners read from the store's `transactions` table, where the decision service logs each
    transaction before it answers (and `fundwall load` puts the history)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._url = engine.url.render_as_string(hide_password=True)

    def owners(self, tx_ids: Sequence[str]) -> Mapping[str, str | None]:
        found: dict[str, str | None] = {}
        columns = (
            TransactionRow.tx_id,
            TransactionRow.kind,
            TransactionRow.payer_bank,
            TransactionRow.payee_bank,
        )
        with reachable(self._url), self._engine.connect() as connection:
            for start in range(0, len(tx_ids), LOOKUP_CHUNK):
                chunk = tx_ids[start : start + LOOKUP_CHUNK]
                query = select(*columns).where(TransactionRow.tx_id.in_(chunk))
                for tx_id, kind, payer_bank, payee_bank in connection.execute(query):
                    found[tx_id] = owner_of(kind, payer_bank, payee_bank)
        return found

    def remember(self, member: str, tx_ids: Iterable[str]) -> None:
        """Nothing to do: the decision service writes the transactions themselves."""


class Refusal(NamedTuple):
    """Why one transaction is not decided for this member, and the ISO 20022 reason code."""

    code: str
    reason: str


FOREIGN: Final = Refusal("AG01", "the debtor agent is not the member of this API key")
TAKEN: Final = Refusal("AM05", ALREADY_USED)


def refusals(
    member: str, txs: Sequence[Transaction], owners: TransactionOwners
) -> list[Refusal | None]:
    """For each transaction, why the member may not have it decided (None: it may)."""
    taken = owners.owners([tx.tx_id for tx in txs])
    answers: list[Refusal | None] = []
    for tx in txs:
        if _owner(tx) != member:
            answers.append(FOREIGN)
        elif taken.get(tx.tx_id, member) != member:
            answers.append(TAKEN)
        else:
            answers.append(None)
    return answers


def admit(
    member: str, txs: Sequence[Transaction], owners: TransactionOwners, *, batch: bool
) -> None:
    """Refuse the whole request when one transaction is not the member's (PermissionDenied,
    403) or uses an id another member used first (InvalidInput, 422, like any bad value)."""
    for index, tx in enumerate(txs):
        if _owner(tx) != member:
            field = "payee_bank" if tx.kind is TransactionKind.DEPOSIT else "payer_bank"
            where = f"record {index}, " if batch else ""
            raise PermissionDenied(
                f"{where}{field} {_owner(tx)}: this API key is member {member}'s, "
                "which submits the transfers and withdrawals its customers pay and the "
                "deposits they receive"
            )
    taken = owners.owners([tx.tx_id for tx in txs])
    used = [
        InvalidInput(ALREADY_USED, "tx_id", str(index) if batch else None)
        for index, tx in enumerate(txs)
        if taken.get(tx.tx_id, member) != member
    ]
    if used:
        raise InvalidRecords.of(used[:MAX_ERRORS], more=len(used) > MAX_ERRORS)
