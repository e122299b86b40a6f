"""The control book: every fact the hard controls read, in memory.

Account statuses that are not normal, the account each Class II/III account is bound to, the
keyed hashes of each account holder's ID number and phone (to match the risk and punishment
lists), account restrictions, risk list entries and punishment listings. Restrictions and
listings carry their period as µs since the epoch, `[start_us, end_us)`, where the end is the
earlier of the planned end and the moment they were lifted or retracted; so a replay of old
transactions sees what was in effect at their time, and an expired order stops by itself.

The book is filled from a region's accounts table (`from_accounts`) or from the store
(`fundwall.engine.controls.changes.load_book`), and updated in place as the store changes
(`put_*`, `set_status`): entries are keyed by id, so reading a changed row again replaces it.

A holder is known to the punishment list by the keyed hash of the ID number under the
server's own key (the hub keeps that list), and to the shared risk list by the shared hashes
of the ID number (or a firm's credit code) and the phone under every sharing key version the
hub accepts (`PartyHasher`): an entry published under an older version still matches until
that version is retired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring, SharingKeys
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls.model import (
    NEVER_US,
    Evidence,
    ListKind,
    RestrictionKind,
    RiskCategory,
)
from fundwall.engine.features.inputs import TransactionLike, micros

if TYPE_CHECKING:
    import pyarrow as pa

PERSON: Final = "person"
"""The party kind whose identity is a resident ID (a firm's is a unified credit code)."""


@dataclass(frozen=True, slots=True)
class PartyKeys:
    """What the lists know an account's holder by: the keyed hash of the ID number under
    the server's key (the punishment list; None where unknown), and the risk list's keys,
    (kind, `vN:<hex>`) of the ID number or credit code and of the phone under every accepted
    sharing key version."""

    id_hash: str | None = None
    shared: tuple[tuple[ListKind, str], ...] = ()


@dataclass(frozen=True)
class PartyHasher:
    """Makes holders' `PartyKeys`: the server's keyed hash with `keyring`, the shared hashes
    with `sharing` (every version it holds); stored identities are decrypted with `keyring`
    first. Without sharing keys a holder has no risk list keys."""

    keyring: Keyring | None
    sharing: SharingKeys | None

    def of_raw(
        self, kind: str, id_number: str, phone: str | None, id_hash: str | None = None
    ) -> PartyKeys:
        """The keys of a holder from the raw ID number (or credit code) and phone;
        `id_hash` when the server's hash is known already."""
        if id_hash is None and self.keyring is not None:
            id_hash = self.keyring.keyed_hash(ID_HASH_KIND, id_number)
        shared: list[tuple[ListKind, str]] = []
        if self.sharing is not None:
            id_kind = ListKind.ID_HASH if kind == PERSON else ListKind.CREDIT_CODE_HASH
            assert id_kind.hash_kind is not None
            shared += [(id_kind, h) for h in self.sharing.hashes(id_kind.hash_kind, id_number)]
            if phone:
                shared += [
                    (ListKind.PHONE_HASH, h) for h in self.sharing.hashes(PHONE_HASH_KIND, phone)
                ]
        return PartyKeys(id_hash, tuple(shared))

    def of_stored(
        self, kind: str, id_hash: str | None, id_number_enc: bytes, phone_enc: bytes | None
    ) -> PartyKeys:
        """The keys of a stored holder (identity encrypted, server hash beside it)."""
        if self.keyring is None or self.sharing is None or not self.sharing.versions:
            return PartyKeys(id_hash)
        phone = None if phone_enc is None else self.keyring.decrypt(phone_enc)
        return self.of_raw(kind, self.keyring.decrypt(id_number_enc), phone, id_hash)


def period_us(start: datetime, *ends: datetime | None) -> tuple[int, int]:
    """[start, end) in µs, the end being the earliest of the given ends (None: open)."""
    given = [micros(end, "period") for end in ends if end is not None]
    return micros(start, "period"), min(given, default=NEVER_US)


@dataclass(frozen=True, slots=True)
class Restriction:
    """A stop-payment, freeze or non-counter suspension of one account for a period."""

    id: int
    account_no: str
    kind: RestrictionKind
    amount_fen: int | None
    start_us: int
    end_us: int
    reference: str | None = None

    def active(self, t: int) -> bool:
        return self.start_us <= t < self.end_us

    @property
    def whole(self) -> bool:
        """Holds the whole account rather than an amount."""
        return self.amount_fen is None


@dataclass(frozen=True, slots=True)
class RiskEntry:
    """One entry of the shared risk list."""

    id: int
    kind: ListKind
    key: str
    category: RiskCategory
    evidence: Evidence
    member: str
    start_us: int
    end_us: int

    def active(self, t: int) -> bool:
        return self.start_us <= t < self.end_us


@dataclass(frozen=True, slots=True)
class Listing:
    """A person on the punishment list, by the keyed hash of the ID number."""

    id: int
    id_hash: str
    start_us: int
    end_us: int

    def active(self, t: int) -> bool:
        return self.start_us <= t < self.end_us


Probes = tuple[tuple[ListKind, str | None], ...]
"""The (kind, key) pairs a transaction's identifier at one role is looked up by."""


@dataclass(eq=False)
class ControlBook:
    """What the hard controls know; see the module docstring."""

    statuses: dict[str, AccountStatus] = field(default_factory=dict)
    bound: dict[str, str] = field(default_factory=dict)
    party_keys: dict[str, PartyKeys] = field(default_factory=dict)
    restrictions: dict[str, dict[int, Restriction]] = field(default_factory=dict)
    entries: dict[ListKind, dict[str, dict[int, RiskEntry]]] = field(
        default_factory=lambda: {kind: {} for kind in ListKind}
    )
    punished: dict[str, dict[int, Listing]] = field(default_factory=dict)
    listed: bool = False
    """Whether the risk list has any entry (most decisions then skip eight look-ups)."""

    def listed_at(self, tx: TransactionLike) -> list[list[RiskEntry]]:
        """The risk list's entries of `tx` at each role, in `ListRole` order: its payer's and
        its payee's accounts, its device, its IP address, its payer's and its payee's holder
        (by every key the holder is shared under)."""
        party_keys = self.party_keys
        payer_keys = party_keys.get(tx.payer_account) if tx.payer_account else None
        payee_keys = party_keys.get(tx.payee_account) if tx.payee_account else None
        probes: tuple[Probes, ...] = (
            ((ListKind.ACCOUNT, tx.payer_account),),
            ((ListKind.ACCOUNT, tx.payee_account),),
            ((ListKind.DEVICE, tx.device_id),),
            ((ListKind.IP, tx.ip),),
            payer_keys.shared if payer_keys is not None else (),
            payee_keys.shared if payee_keys is not None else (),
        )
        entries = self.entries
        found: list[list[RiskEntry]] = []
        for probe in probes:
            at_role: list[RiskEntry] = []
            for kind, key in probe:
                if key is not None:
                    by_id = entries[kind].get(key)
                    if by_id:
                        at_role.extend(by_id.values())
            found.append(at_role)
        return found

    @classmethod
    def from_accounts(
        cls, accounts: pa.Table, party_keys: Mapping[str, PartyKeys] | None = None
    ) -> ControlBook:
        """Statuses and bound accounts from an accounts table (columns `account_no`, `status`,
        `bound_account`, as in accounts.parquet); `party_keys` by account number."""
        for name in ("account_no", "status", "bound_account"):
            if name not in accounts.column_names:
                raise InvalidInput(f"accounts table has no column '{name}'", field=name)
        book = cls(party_keys=dict(party_keys or {}))
        numbers = accounts["account_no"].to_pylist()
        for number, status in zip(numbers, accounts["status"].to_pylist(), strict=True):
            if status is not None and status != AccountStatus.NORMAL.value:
                book.set_status(number, AccountStatus(status))
        for number, bound in zip(numbers, accounts["bound_account"].to_pylist(), strict=True):
            if bound is not None:
                book.bound[number] = bound
        return book

    def set_status(self, account_no: str, status: AccountStatus) -> None:
        if status is AccountStatus.NORMAL:
            self.statuses.pop(account_no, None)
        else:
            self.statuses[account_no] = status

    def put_restriction(self, restriction: Restriction) -> None:
        self.restrictions.setdefault(restriction.account_no, {})[restriction.id] = restriction

    def put_entry(self, entry: RiskEntry) -> None:
        self.entries[entry.kind].setdefault(entry.key, {})[entry.id] = entry
        self.listed = True

    def put_listing(self, listing: Listing) -> None:
        self.punished.setdefault(listing.id_hash, {})[listing.id] = listing

    def all_restrictions(self) -> list[Restriction]:
        return [r for by_id in self.restrictions.values() for r in by_id.values()]

    def all_entries(self) -> list[RiskEntry]:
        return [
            e
            for by_key in self.entries.values()
            for by_id in by_key.values()
            for e in by_id.values()
        ]

    def all_listings(self) -> list[Listing]:
        return [listing for by_id in self.punished.values() for listing in by_id.values()]


def region_book(
    folder: Path, keyring: Keyring | None = None, sharing: SharingKeys | None = None
) -> ControlBook:
    """The control book of a region folder: its accounts' statuses and bound accounts and,
    with `keyring` and `sharing`, each holder's keys (so the punishment list, by the server's
    keyed hash, and the risk list, by shared hashes, match the region's people)."""
    from fundwall.region import read_table  # Arrow: only a region folder needs it

    accounts = read_table(folder, "accounts")
    keys: dict[str, PartyKeys] = {}
    if keyring is not None or sharing is not None:
        hasher = PartyHasher(keyring, sharing)
        parties = read_table(folder, "parties").select(["party_id", "kind", "id_number", "phone"])
        hashed = {
            p["party_id"]: hasher.of_raw(p["kind"], p["id_number"], p["phone"])
            for p in parties.to_pylist()
        }
        holders = accounts.select(["account_no", "party_id"]).to_pylist()
        keys = {a["account_no"]: hashed[a["party_id"]] for a in holders if a["party_id"] in hashed}
    return ControlBook.from_accounts(accounts, keys)
