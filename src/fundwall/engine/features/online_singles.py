"""The online form of the single-value features: fetch the facts of one transaction and of its
entities (`catalog.FACTS_OF`), then make every feature of `SINGLES` from its fact.

Facts sit in one list at `slot(who, fact)` (`who`: a role, or TRANSACTION); a feature made by a
formula gets a slot of its own after them. When the transaction has no entity in a role, the
slots of that role's features get their absent values instead, so the vector is then one
`itemgetter` over the list, in catalogue order.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, Final

from fundwall.engine.features.catalog import ACCOUNT_FACTS, NEVER, SINGLES, Fact, Formula, Role
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.flags import FLAGS
from fundwall.engine.features.inputs import TransactionLike
from fundwall.engine.features.logins import LoginHistory
from fundwall.engine.features.scalar import FORMULAS, civil_date, local_day

Made = tuple[tuple[int, int, Callable[[int, int, int, int], int | float]], ...]
"""Features made by a formula: (slot of the value, slot of the fact, the formula)."""
Absent = tuple[tuple[int, int | float], ...]
"""Features of an absent entity: (slot of the value, the value)."""
TRANSACTION: Final = len(Role)
"""The `who` of the transaction's own facts, after the roles."""


def slot(who: int, fact: Fact) -> int:
    """Where the fact of `who` sits in the list of facts."""
    return who * len(Fact) + int(fact)


def _plan() -> tuple[list[Made], list[Absent], Callable[[list[Any]], tuple[Any, ...]], int]:
    made: list[list[tuple[int, int, Callable[[int, int, int, int], int | float]]]] = [
        [] for _ in range(TRANSACTION + 1)
    ]
    absent: list[dict[int, int | float]] = [{} for _ in range(TRANSACTION + 1)]
    picks = []
    size = (TRANSACTION + 1) * len(Fact)
    for single in SINGLES:
        who = TRANSACTION if single.feature.role is None else int(single.feature.role)
        at = read = slot(who, single.fact)
        if single.formula is not Formula.VALUE:
            at, size = size, size + 1
            made[who].append((at, read, FORMULAS[single.formula]))
        missing = float(single.absent) if single.feature.is_float else single.absent
        if absent[who].setdefault(at, missing) != missing:
            raise ValueError(f"{single.feature.name} and another feature read one fact")
        picks.append(at)
    return (
        [tuple(entries) for entries in made],
        [tuple(values.items()) for values in absent],
        itemgetter(*picks),  # several slots: the getter gives a tuple
        size,
    )


_MADE, _ABSENT, _PICK, _SIZE = _plan()
"""Per `who`, the features made by a formula and the values of its features when absent; the
slots of the vector in catalogue order; the length of the list."""

# Plain ints: an enum member costs several times more to use.
_PAYER_WHO, _PAYEE_WHO, _PERSON_WHO, _DEVICE_WHO = (
    int(Role.PAYER),
    int(Role.PAYEE),
    int(Role.PERSON),
    int(Role.DEVICE),
)
_PAYER, _PAYEE, _PERSON, _DEVICE = (
    slot(who, Fact.AMOUNT) for who in (_PAYER_WHO, _PAYEE_WHO, _PERSON_WHO, _DEVICE_WHO)
)
_MADE_TX, _MADE_PAYER, _MADE_PAYEE, _MADE_PERSON, _MADE_DEVICE = (
    _MADE[who] for who in (TRANSACTION, _PAYER_WHO, _PAYEE_WHO, _PERSON_WHO, _DEVICE_WHO)
)
_NO_PAYER, _NO_PAYEE, _NO_PERSON, _NO_DEVICE = (
    _ABSENT[who] for who in (_PAYER_WHO, _PAYEE_WHO, _PERSON_WHO, _DEVICE_WHO)
)
_AMOUNT: Final = slot(TRANSACTION, Fact.AMOUNT)
_TIME: Final = slot(TRANSACTION, Fact.TIME)
_FLAGS: Final = tuple((slot(TRANSACTION, flag.fact), flag.of) for flag in FLAGS)
_OPENED, _LAST_ACTIVE, _BALANCE, _CLASS = (int(fact) for fact in ACCOUNT_FACTS)
_NEW_PAYEE: Final = int(Fact.NEW_PAYEE)
_NEW_DEVICE: Final = int(Fact.NEW_DEVICE)
_NEW_CITY: Final = int(Fact.NEW_CITY)
_HOLDER_BIRTH: Final = int(Fact.HOLDER_BIRTH)
_ACCOUNTS: Final = int(Fact.ACCOUNTS)
_BANKS: Final = int(Fact.BANKS)
_PHONE_PARTIES: Final = int(Fact.PHONE_PARTIES)
_DEVICE_PAYERS: Final = int(Fact.DEVICE_PAYERS)


class AccountState:
    """What the online state knows about one account: directory facts, balance, habits,
    logins."""

    __slots__ = (
        "balance",
        "birth",
        "device_since",
        "klass",
        "last_ts",
        "logins",
        "opened",
        "party",
        "phones",
        "seen",
    )

    def __init__(self, directory: AccountDirectory, account_no: str) -> None:
        facts = directory.facts(account_no)
        party = facts.party if facts is not None else -1
        self.klass = facts.klass if facts is not None else -1
        self.opened = facts.opened_us if facts is not None else None
        self.balance = facts.opening_balance if facts is not None else 0
        self.party = party
        self.birth, self.phones = directory.holder(party) if party >= 0 else (-1, -1)
        active = facts.last_active_us if facts is not None else NEVER
        self.last_ts: int | None = active if active != NEVER else None
        # Payees paid, devices and cities used, keyed "p:…", "d:…", "c:…" in one dict of
        # strings and ints, which the collector does not track; a device's value is when the
        # account first paid from it (a login from it later is from no new device).
        self.seen: dict[str, int | None] = {}
        self.device_since: int | None = None
        """When the account first paid from a device (of any)."""
        self.logins: LoginHistory | None = None


class SingleValues:
    """The single-value features of one transaction after another (in time order)."""

    __slots__ = ("date", "day", "fact")

    def __init__(self) -> None:
        self.fact: list[Any] = [0] * _SIZE
        """The facts (ints) and the values formulas make of them (ints and floats)."""
        self.day: int | None = None
        self.date = 0
        """The local day and date (YYYYMMDD) of the last transaction."""

    def values(
        self,
        tx: TransactionLike,
        t: int,
        payer: AccountState | None,
        payee: AccountState | None,
        directory: AccountDirectory,
        device_payers: dict[str, dict[str, None]],
    ) -> list[int | float]:
        """The single-value features of `tx` at `t`, in catalogue order."""
        fact = self.fact
        amount = tx.amount_fen
        day = local_day(t)
        if day != self.day:  # time order: the date moves on now and then
            self.day, self.date = day, civil_date(day)
        date = self.date
        fact[_AMOUNT] = amount
        fact[_TIME] = t
        for at, flag in _FLAGS:
            fact[at] = 1 if flag(tx) else 0
        for at, read, formula in _MADE_TX:
            fact[at] = formula(fact[read], t, date, amount)
        party = -1
        if payer is not None:
            opened, last = payer.opened, payer.last_ts
            fact[_PAYER + _OPENED] = opened if opened is not None else NEVER
            fact[_PAYER + _LAST_ACTIVE] = last if last is not None else NEVER
            fact[_PAYER + _BALANCE] = payer.balance
            fact[_PAYER + _CLASS] = payer.klass
            seen = payer.seen
            payee_no, device, city = tx.payee_account, tx.device_id, tx.city
            new_payee = payee_no is not None and f"p:{payee_no}" not in seen
            fact[_PAYER + _NEW_PAYEE] = 1 if new_payee else 0
            fact[_PAYER + _NEW_DEVICE] = (
                1 if device is not None and f"d:{device}" not in seen else 0
            )
            fact[_PAYER + _NEW_CITY] = 1 if city is not None and f"c:{city}" not in seen else 0
            fact[_PAYER + _HOLDER_BIRTH] = payer.birth
            for at, read, formula in _MADE_PAYER:
                fact[at] = formula(fact[read], t, date, amount)
            party = payer.party
        else:
            _fill(fact, _NO_PAYER)
        if party >= 0:
            fact[_PERSON + _ACCOUNTS], fact[_PERSON + _BANKS] = directory.holdings(party, t)
            fact[_PERSON + _PHONE_PARTIES] = payer.phones  # type: ignore[union-attr]
            for at, read, formula in _MADE_PERSON:
                fact[at] = formula(fact[read], t, date, amount)
        else:
            _fill(fact, _NO_PERSON)
        if payee is not None:
            opened, last = payee.opened, payee.last_ts
            fact[_PAYEE + _OPENED] = opened if opened is not None else NEVER
            fact[_PAYEE + _LAST_ACTIVE] = last if last is not None else NEVER
            fact[_PAYEE + _BALANCE] = payee.balance
            fact[_PAYEE + _CLASS] = payee.klass
            for at, read, formula in _MADE_PAYEE:
                fact[at] = formula(fact[read], t, date, amount)
        else:
            _fill(fact, _NO_PAYEE)
        device = tx.device_id
        if device is not None:
            payers = device_payers.get(device)
            fact[_DEVICE + _DEVICE_PAYERS] = len(payers) if payers is not None else 0
            for at, read, formula in _MADE_DEVICE:
                fact[at] = formula(fact[read], t, date, amount)
        else:
            _fill(fact, _NO_DEVICE)
        return list(_PICK(fact))


def _fill(fact: list[Any], absent: Absent) -> None:
    for at, value in absent:
        fact[at] = value
