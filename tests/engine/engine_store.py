"""Store helpers of the engine tests: the small account set of `engine_fixtures` in a
database, domain transactions, a region loaded as accounts only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from engine_fixtures import ACCOUNTS, BOUND
from sqlalchemy import Engine, bindparam, delete, insert, update

from fundwall.clock import FixedClock
from fundwall.config import PolicySettings, load_settings
from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.identity.resident_id import resident_id_check_char
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.service import DecisionService
from fundwall.region import read_table
from fundwall.sim.load import load_region
from fundwall.store import open_database
from fundwall.store.migrate import upgrade
from fundwall.store.tables import AccountRow, Base, InstitutionRow, PartyRow, TransactionRow

PARTIES = ("P1", "P2", "P3", "P4")
ACCOUNTS_TABLE = Base.metadata.tables[AccountRow.__tablename__]


def id_number(party: str) -> str:
    """A valid resident ID number, born 198n-01-01 for party Pn."""
    first17 = f"350203198{PARTIES.index(party) + 1}0101123"
    return first17 + resident_id_check_char(first17)


def phone(party: str) -> str:
    return f"1380000000{PARTIES.index(party) + 1}"


def seed(database: Engine, keyring: Keyring) -> dict[str, tuple[str, str]]:
    """Insert the banks, parties and accounts of `engine_fixtures.ACCOUNTS` (balance = the
    opening balance, no history); returns each party's (ID hash, phone hash)."""
    banks = sorted({a[1] for a in ACCOUNTS})
    institutions = [
        {
            "code": b,
            "name_zh": f"银行{b}",
            "name_en": f"Bank {b}",
            "kind": "bank",
            "region": "350200",
        }
        for b in banks
    ]
    parties = [
        {
            "party_id": p,
            "kind": "person",
            "name_enc": keyring.encrypt(f"客户{p}"),
            "id_number_enc": keyring.encrypt(id_number(p)),
            "id_number_hash": keyring.keyed_hash(ID_HASH_KIND, id_number(p)),
            "phone_enc": keyring.encrypt(phone(p)),
            "phone_hash": keyring.keyed_hash(PHONE_HASH_KIND, phone(p)),
            "home_region": "350203",
            "birth_year": 1980 + PARTIES.index(p) + 1,
        }
        for p in PARTIES
    ]
    accounts = [
        {
            "account_no": a[0],
            "institution_code": a[1],
            "party_id": a[2],
            "account_class": a[3],
            "status": "normal",
            "risk_tier": "low",
            "opened_at": datetime(2023, 1, 1, tzinfo=UTC),
            "opening_channel": "counter",
            "bound_account": BOUND.get(a[0]),
            "balance_fen": a[4],
        }
        for a in ACCOUNTS
    ]
    with database.begin() as connection:
        connection.execute(insert(Base.metadata.tables[InstitutionRow.__tablename__]), institutions)
        connection.execute(insert(Base.metadata.tables[PartyRow.__tablename__]), parties)
        connection.execute(insert(ACCOUNTS_TABLE), accounts)
    return {
        p: (row["id_number_hash"], row["phone_hash"])
        for p, row in zip(PARTIES, parties, strict=True)
    }


def transaction(
    tx_id: str,
    when: datetime,
    payer: str | None,
    payee: str | None,
    fen: int,
    channel: Channel = Channel.MOBILE,
) -> Transaction:
    """A domain transaction; the kind follows from the missing side."""
    kind = TransactionKind.TRANSFER
    if payer is None:
        kind = TransactionKind.DEPOSIT
    elif payee is None:
        kind = TransactionKind.WITHDRAWAL
    return Transaction(
        tx_id=tx_id,
        ts=when,
        kind=kind,
        payer_account=payer,
        payee_account=payee,
        payer_bank=None if payer is None else "301",
        payee_bank=None if payee is None else "302",
        amount=Money.of_fen(fen),
        channel=channel,
    )


def load_accounts(region: Path, database: Engine, keyring: Keyring) -> None:
    """Load a region, then keep its accounts and parties only: no transactions, each balance
    back at its opening balance, so the engine starts where the region starts."""
    load_region(region, database, keyring)
    opening = read_table(region, "accounts").select(["account_no", "opening_balance_fen"])
    with database.begin() as connection:
        connection.execute(delete(Base.metadata.tables[TransactionRow.__tablename__]))
        connection.execute(
            update(ACCOUNTS_TABLE)
            .where(ACCOUNTS_TABLE.c.account_no == bindparam("no"))
            .values(balance_fen=bindparam("fen")),
            [{"no": r["account_no"], "fen": r["opening_balance_fen"]} for r in opening.to_pylist()],
        )


def region_store(folder: Path, region: Path) -> tuple[str, Keyring]:
    """A SQLite store in `folder` holding the region's accounts and parties, no history."""
    url = f"sqlite:///{folder / 'fundwall.db'}"
    upgrade(url)
    keyring = Keyring.from_settings(load_settings(config_file=None, data_dir=folder))
    database = open_database(url)
    try:
        load_accounts(region, database, keyring)
    finally:
        database.dispose()
    return url, keyring


@contextmanager
def service_opener(
    database: Engine, clock: FixedClock, keyring: Keyring
) -> Iterator[Callable[..., DecisionService]]:
    """Opens decision services over the log of `engine` (options as `DecisionService.over`
    takes them); closes every one on the way out."""
    opened: list[DecisionService] = []

    def make(**options: object) -> DecisionService:
        policy = options.pop("policy", PolicySettings())
        service = DecisionService.over(
            DecisionLog(database, clock),
            policy=policy,  # type: ignore[arg-type]
            keyring=keyring,
            **options,  # type: ignore[arg-type]
        )
        opened.append(service)
        return service

    try:
        yield make
    finally:
        for service in opened:
            service.close()
