"""Builders shared by the engine tests: a small directory and control book, a test pack, and
both executions of the engine (online one by one, bulk replay) behind one call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.engine.controls import ControlBook, ListKind, PartyKeys, is_control_id
from fundwall.engine.core import DecisionCore
from fundwall.engine.features import AccountDirectory, TxEvent
from fundwall.engine.replay import replay
from fundwall.engine.rules import RulePack, parse_pack
from fundwall.region import TRANSACTIONS

T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
"""Monday 2024-03-04 09:00 in Beijing."""
ID_HASH = {party: f"{i:064x}" for i, party in enumerate(("P1", "P2", "P3", "P4"), start=1)}
PHONE_HASH = {party: f"{i:064x}" for i, party in enumerate(("P1", "P2", "P3", "P4"), start=11)}
SHARED_ID = {
    party: (f"v1:{i:064x}", f"v2:{i + 100:064x}")
    for i, party in enumerate(("P1", "P2", "P3", "P4"), start=1)
}
"""Each holder's ID number under two sharing key versions, as the risk list names it."""
SHARED_PHONE = {
    party: (f"v1:{i:064x}", f"v2:{i + 100:064x}")
    for i, party in enumerate(("P1", "P2", "P3", "P4"), start=11)
}

ACCOUNTS = (
    # account, bank, party, class, opening balance (fen)
    ("A1", "301", "P1", "I", 100_000_00),
    ("C2", "302", "P1", "II", 5_000_00),
    ("C3", "303", "P2", "III", 1_000_00),
    ("B1", "301", "P2", "I", 50_000_00),
    ("F1", "304", "P3", "corporate", 1_000_000_00),
    ("D1", "305", "P4", "I", 20_000_00),
)
BOUND = {"C2": "A1", "C3": "B1"}

TEST_PACK = """
pack:
  id: test
  version: "1"
  description: {zh: "测试规则包", en: "test pack"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: T777
    name: {zh: "测试拦截", en: "test block"}
    typology: velocity
    when: amount == 777_00
    score: 10
    action: block
    reason: {zh: "金额{amount}", en: "amount {amount}"}
  - id: T500
    name: {zh: "测试告警", en: "test alert"}
    typology: velocity
    when: amount == 500_00
    score: 30
    reason: {zh: "金额{amount}", en: "amount {amount}"}
""".encode()
"""A pack that forces block on ¥777 and alerts on ¥500, and is quiet otherwise."""


def quiet_pack() -> RulePack:
    return parse_pack(TEST_PACK, "test.yaml")


STRICTER_PACK = TEST_PACK.replace(b'version: "1"', b'version: "2"').replace(
    b"    score: 30\n", b"    score: 30\n    action: block\n"
)
"""The test pack with the alert rule raised to block: a stricter pack under trial."""


def shadow_pack() -> RulePack:
    return parse_pack(STRICTER_PACK, "stricter.yaml")


COUNTING_PACK = """
pack:
  id: counting
  version: "1"
  description: {zh: "计数规则包", en: "counting pack"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: K002
    name: {zh: "一小时内第三笔", en: "third transfer in an hour"}
    typology: velocity
    when: payer_out_count_1h >= 2
    score: 30
    reason: {zh: "近1小时转出{payer_out_count_1h}笔", en: "{payer_out_count_1h} out in 1 h"}
""".encode()
"""Alerts when the payer sent two or more transfers in the hour before: counts show."""


def counting_pack() -> RulePack:
    return parse_pack(COUNTING_PACK, "counting.yaml")


def directory() -> AccountDirectory:
    accounts = pa.table(
        {
            "account_no": [a[0] for a in ACCOUNTS],
            "bank": [a[1] for a in ACCOUNTS],
            "party_id": [a[2] for a in ACCOUNTS],
            "account_class": [a[3] for a in ACCOUNTS],
            "opened_at": pa.array(
                [T0 - timedelta(days=400)] * len(ACCOUNTS), pa.timestamp("us", tz="UTC")
            ),
            "opening_balance_fen": pa.array([a[4] for a in ACCOUNTS], pa.int64()),
        }
    )
    parties = pa.table(
        {
            "party_id": list(ID_HASH),
            "phone_key": [PHONE_HASH[p] for p in ID_HASH],
            "birth_date": pa.array([date(1980, 1, 1)] * len(ID_HASH), pa.date32()),
        }
    )
    return AccountDirectory.from_tables(accounts, parties)


def party_keys(party: str) -> PartyKeys:
    """A holder's keys: the server's ID hash and the shared hashes under both versions."""
    shared = [(ListKind.ID_HASH, key) for key in SHARED_ID[party]]
    shared += [(ListKind.PHONE_HASH, key) for key in SHARED_PHONE[party]]
    return PartyKeys(ID_HASH[party], tuple(shared))


def book(statuses: dict[str, AccountStatus] | None = None) -> ControlBook:
    """The accounts' bound accounts and holders' hashes, with the given statuses."""
    control_book = ControlBook(
        bound=dict(BOUND),
        party_keys={a[0]: party_keys(a[2]) for a in ACCOUNTS},
    )
    for account, status in (statuses or {}).items():
        control_book.set_status(account, status)
    return control_book


def tx(
    minutes: float,
    payer: str | None,
    payee: str | None,
    amount: int,
    *,
    channel: str = "mobile",
    device: str | None = None,
    ip: str | None = None,
    tx_id: str | None = None,
) -> TxEvent:
    """A transaction `minutes` after T0; the kind follows from the missing side."""
    kind = "deposit" if payer is None else "withdrawal" if payee is None else "transfer"
    return TxEvent(
        tx_id=tx_id or f"x{minutes}-{payer}-{payee}-{amount}",
        ts=T0 + timedelta(minutes=minutes),
        kind=kind,
        payer_account=payer,
        payee_account=payee,
        payer_bank=None if payer is None else "301",
        payee_bank=None if payee is None else "302",
        amount_fen=amount,
        channel=channel,
        device_id=device,
        ip=ip,
        city=None,
    )


def table_of(events: Sequence[TxEvent]) -> pa.Table:
    columns = {name: [getattr(e, name, None) for e in events] for name in TRANSACTIONS.names}
    return pa.table(columns, schema=TRANSACTIONS)


@dataclass(frozen=True)
class Verdict:
    """What both executions agree on: the action, the controls and the rules that fired."""

    action: Action
    controls: tuple[str, ...]
    rules: tuple[str, ...]
    score: int


Run = Callable[..., list[Verdict]]
"""`run_online` or `run_bulk`: (events, book, policy[, pack, directory]) → verdicts."""


def run_online(
    events: Sequence[TxEvent],
    control_book: ControlBook,
    policy: PolicySettings,
    pack: RulePack | None = None,
    directory_: AccountDirectory | None = None,
) -> list[Verdict]:
    core = DecisionCore(directory_ or directory(), control_book, policy, pack or quiet_pack())
    verdicts = []
    for event in events:
        decision = core.decide(event).decision
        ids = [reason.rule_id for reason in decision.reasons]
        verdicts.append(
            Verdict(
                decision.action,
                tuple(i for i in ids if is_control_id(i)),
                tuple(i for i in ids if not is_control_id(i)),
                decision.score,
            )
        )
    return verdicts


def run_bulk(
    events: Sequence[TxEvent],
    control_book: ControlBook,
    policy: PolicySettings,
    pack: RulePack | None = None,
    directory_: AccountDirectory | None = None,
) -> list[Verdict]:
    # Batches of 2 rows, so the ledger is carried across batches on every test.
    table = replay(
        table_of(events),
        pack or quiet_pack(),
        policy=policy,
        directory=directory_ or directory(),
        book=control_book,
        batch_rows=2,
    )
    return [
        Verdict(Action(row["action"]), tuple(row["controls"]), tuple(row["rules"]), row["score"])
        for row in table.to_pylist()
    ]
