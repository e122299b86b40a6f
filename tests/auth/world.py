"""A small world of two banks for tenancy tests, on SQLite and PostgreSQL alike.

Bank B001 holds accounts A1 and A2, bank B002 holds B1 and B2; X9 is at a bank outside the
region. Transactions (times a few hours apart on 2024-03-05, Beijing):

    T1  A1 → A2   B001 → B001   ¥1,000     live block (R001, R046), shadow block
    T2  A1 → B1   B001 → B002   ¥2,000     live alert (R019),       shadow warn
    T3  B1 → A2   B002 → B001   ¥3,000     live delay (R016)
    T4  B1 → B2   B002 → B002   ¥4,000     live warn (R022)
    T5  B2 → X9   B002 → X999   ¥5,000     live pass

`add_deposit` adds a cash deposit, which belongs to the payee's bank (it has no payer):

    D1  cash → B1        → B002   ¥6,000     live delay (R030)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fundwall.auth import Actor, Passwords, Role
from fundwall.crypto import Keyring
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.identity import MobilePhone, ResidentId, resident_id_check_char
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.money import Money
from fundwall.domain.parties import Party, PartyKind
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.members import add_user, get_user
from fundwall.store import UnitOfWork
from fundwall.store.mapping import (
    account_row,
    decision_row,
    institution_row,
    party_row,
    transaction_row,
)
from fundwall.store.police_tables import CaseRow

BANK_A = "B001"
BANK_B = "B002"
START = datetime(2024, 3, 5, 1, 0, tzinfo=UTC)
ACCOUNTS = {"A1": BANK_A, "A2": BANK_A, "B1": BANK_B, "B2": BANK_B}
TRANSACTIONS = {
    "T1": ("A1", BANK_A, "A2", BANK_A, 100_000),
    "T2": ("A1", BANK_A, "B1", BANK_B, 200_000),
    "T3": ("B1", BANK_B, "A2", BANK_A, 300_000),
    "T4": ("B1", BANK_B, "B2", BANK_B, 400_000),
    "T5": ("B2", BANK_B, "X9", "X999", 500_000),
}
LIVE = {
    "T1": (Action.BLOCK, 130, ("R001", "R046")),
    "T2": (Action.ALERT, 35, ("R019",)),
    "T3": (Action.DELAY, 80, ("R016",)),
    "T4": (Action.WARN, 55, ("R022",)),
    "T5": (Action.PASS, 0, ()),
}
SHADOW = {"T1": (Action.BLOCK, 130, ("R001", "R046")), "T2": (Action.WARN, 55, ("R019",))}
DEPOSIT = "D1"
DEPOSIT_FEN = 600_000
DEPOSIT_AT = START + timedelta(hours=18)
"""Between T4 and T5."""
USERS = {
    "ann": (Role.MEMBER_ANALYST, BANK_A),
    "amy": (Role.MEMBER_ADMIN, BANK_A),
    "bob": (Role.MEMBER_ANALYST, BANK_B),
}
"""Console users of the banks: `add_users` creates them."""
OPERATOR = Actor.operator("test")
"""Who creates them."""
LIVE_PACK = "2025.1:live"
SHADOW_PACK = "2025.1:trial"


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str


def person(n: int) -> Person:
    first17 = f"35020319900101{n:03d}"
    return Person(
        f"张{'三四五六'[n % 4]}", first17 + resident_id_check_char(first17), f"1381234{n:04d}"
    )


def _reason(rule_id: str) -> Reason:
    return Reason(
        rule_id, f"规则{rule_id}命中", f"rule {rule_id} fired", {"amount": 100_000, "new_payee": 1}
    )


def build(uow: UnitOfWork, keyring: Keyring) -> None:
    """Store the world in the unit's database and commit."""
    for code in (BANK_A, BANK_B):
        uow.session.add(
            institution_row(
                Institution(code, f"银行{code}", f"Bank {code}", InstitutionKind.BANK, "350200")
            )
        )
    for code, kind in (("HUB1", InstitutionKind.HUB), ("PSB1", InstitutionKind.POLICE_UNIT)):
        uow.session.add(institution_row(Institution(code, code, code, kind, "350200")))
    uow.session.flush()
    for n, (number, bank) in enumerate(ACCOUNTS.items(), start=1):
        who = person(n)
        party = Party(
            f"P{n}",
            PartyKind.PERSON,
            who.name,
            ResidentId(who.id_number),
            MobilePhone(who.phone),
            "350203",
        )
        uow.session.add(party_row(party, keyring))
        uow.session.flush()
        account = Account(
            number,
            bank,
            party.party_id,
            AccountClass.CLASS_I,
            AccountStatus.NORMAL,
            RiskTier.LOW,
            START - timedelta(days=400),
            OpeningChannel.COUNTER,
        )
        uow.session.add(account_row(account, balance_fen=1_000_000))
    for hour, (tx_id, (payer, payer_bank, payee, payee_bank, fen)) in enumerate(
        TRANSACTIONS.items()
    ):
        ts = START + timedelta(hours=4 * hour)
        uow.session.add(
            transaction_row(
                Transaction(
                    tx_id,
                    ts,
                    TransactionKind.TRANSFER,
                    payer,
                    payee,
                    payer_bank,
                    payee_bank,
                    Money(fen),
                    Channel.MOBILE,
                )
            )
        )
        for decisions, pack, shadow in ((LIVE, LIVE_PACK, False), (SHADOW, SHADOW_PACK, True)):
            if tx_id not in decisions:
                continue
            action, score, rules = decisions[tx_id]
            decision = Decision(
                tx_id, action, score, tuple(_reason(r) for r in rules), pack, shadow=shadow
            )
            uow.session.add(decision_row(decision, decided_at=ts + timedelta(seconds=1)))
    uow.commit()


def add_deposit(uow: UnitOfWork) -> None:
    """Store D1, cash into B1 at the counter, and its live decision (delay); commit."""
    deposit = Transaction(
        DEPOSIT,
        DEPOSIT_AT,
        TransactionKind.DEPOSIT,
        None,
        "B1",
        None,
        BANK_B,
        Money(DEPOSIT_FEN),
        Channel.COUNTER,
    )
    uow.session.add(transaction_row(deposit))
    decision = Decision(DEPOSIT, Action.DELAY, 70, (_reason("R030"),), LIVE_PACK)
    uow.session.add(decision_row(decision, decided_at=DEPOSIT_AT + timedelta(seconds=1)))
    uow.commit()


def add_users(uow: UnitOfWork) -> None:
    """Create the banks' users (`USERS`), each committed."""
    passwords = Passwords.fast_for_tests()
    for name, (role, bank) in USERS.items():
        add_user(uow, OPERATOR, name, role, bank, "long enough pass", passwords)


def user_actor(uow: UnitOfWork, name: str) -> Actor:
    """The actor of one of the banks' users (`USERS`), as its sign-in makes it."""
    return get_user(uow, OPERATOR, name).actor()


def add_open_case(uow: UnitOfWork, member: str, subject: str, title: str) -> None:
    """An open account case of `member` about the account `subject`, committed."""
    now = uow.clock.now()
    uow.session.add(
        CaseRow(member_code=member, kind="account", subject=subject, title=title,
                status="open", priority="normal", opened_at=now, opened_by="user:amy",
                deadline=now + timedelta(days=7), updated_at=now)
    )  # fmt: skip
    uow.commit()
