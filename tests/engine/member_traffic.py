"""Member systems sending their own customers' transactions to `fundwall serve` from threads,
alone and in batches of every body format, and what they were answered: the load of the
server crash tests."""

from __future__ import annotations

import http.client
import io
import itertools
import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from serve_process import HOST, WAIT_SECONDS

from fundwall.auth import Actor
from fundwall.config import load_settings
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.members import create_api_key
from fundwall.region import read_table
from fundwall.sim.load import load_region
from fundwall.store import UnitOfWork, open_database
from fundwall.store.migrate import upgrade

OPERATOR: Final = Actor.operator("test")
BATCH: Final = 100
"""The largest batch a system sends (each batch of a random size up to it): larger than
`core.BULK_ROWS`, so some batches' vectors go through the packs' bulk evaluation."""
FORMATS: Final = (
    "application/json",
    "application/x-ndjson",
    "text/csv",
    "application/vnd.apache.parquet",
)
"""The batch route's body formats; each batch is sent in one of them."""
FIELDS: Final = (
    "tx_id", "ts", "kind", "payer_account", "payee_account", "payer_bank", "payee_bank",
    "amount_fen", "channel", "device_id", "ip", "city",
)  # fmt: skip
RESEND_BATCH: Final = 500
UNAVAILABLE_TRIES: Final = 10
"""Calls a member's system makes while the server answers 503 (at most a second apart)."""
SEED: Final = 8

Record = dict[str, Any]


def prepare_store(data_dir: Path, region: Path, url: str) -> tuple[Keyring, dict[str, str]]:
    """What an operator does before `fundwall serve` over the empty database at `url`:
    `fundwall db upgrade`, `fundwall load REGION --no-transactions` and `fundwall apikey add
    --member M` for each member that holds accounts; returns the keys of the data directory
    and each API key."""
    upgrade(url)
    keyring = Keyring.from_settings(load_settings(config_file=None, data_dir=data_dir))
    members = sorted(set(read_table(region, "accounts")["bank"].to_pylist()))
    database = open_database(url)
    keys: dict[str, str] = {}
    try:
        load_region(region, database, keyring, transactions=False)
        for member in members:
            with UnitOfWork(database) as uow:
                _, keys[member] = create_api_key(uow, OPERATOR, member, "crash test")
    finally:
        database.dispose()
    return keyring, keys


class Customers:
    """The region's accounts by bank, and its devices: what the member systems pay from."""

    def __init__(self, region: Path) -> None:
        self.by_bank: dict[str, list[str]] = {}
        self.bank_of: dict[str, str] = {}
        for row in read_table(region, "accounts").to_pylist():
            if row["status"] == "normal":
                self.by_bank.setdefault(row["bank"], []).append(row["account_no"])
                self.bank_of[row["account_no"]] = row["bank"]
        self.accounts = list(self.bank_of)
        self.devices = [
            (row["device_id"], row["ip"]) for row in read_table(region, "devices").to_pylist()
        ]


class Traffic:
    """What the member systems sent and were answered, shared by their threads."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.sent: dict[str, tuple[str, Record]] = {}
        """Every transaction sent: its member and the record."""
        self.answered: dict[str, Record] = {}
        """Every decision received with a 200, by transaction id."""
        self.unanswered: list[str] = []
        """Sent when the server died: no answer, maybe decided."""
        self.refused: list[str] = []
        """Answers other than 200: each one fails the test."""
        self.answers = 0
        """Requests answered in this round."""
        self.running = 0
        self.halt = threading.Event()
        """Set: every system stops after its request in flight."""

    def sending(self, member: str, records: Sequence[Record]) -> None:
        with self.changed:
            self.sent.update((r["tx_id"], (member, r)) for r in records)

    def answer(self, records: Sequence[Record], decisions: Sequence[Record]) -> None:
        with self.changed:
            assert [d["tx_id"] for d in decisions] == [r["tx_id"] for r in records]
            self.answered.update((d["tx_id"], d) for d in decisions)
            self.answers += 1
            self.changed.notify_all()

    def end(self, records: Sequence[Record], refusal: str | None) -> None:
        """A system stops: its last request got no answer (the server died), or a refusal."""
        with self.changed:
            self.running -= 1
            self.unanswered.extend(r["tx_id"] for r in records)
            if refusal is not None:
                self.refused.append(refusal)
            self.changed.notify_all()

    def wait_for(self, answers: int) -> None:
        """Until this round has `answers` answers; fails on a refusal or when all stopped."""
        with self.changed:
            done = self.changed.wait_for(
                lambda: self.answers >= answers or self.refused or not self.running,
                timeout=WAIT_SECONDS,
            )
            assert not self.refused, self.refused
            assert done and self.answers >= answers, f"{self.answers} answers of {answers}"


def encoded(body: object, media_type: str) -> bytes:
    """A record, or a batch of them, as a body of `media_type`."""
    if media_type == "application/json":
        return json.dumps(body).encode()
    assert isinstance(body, list)
    if media_type == "application/x-ndjson":
        return "".join(json.dumps(record) + "\n" for record in body).encode()
    columns = {
        name: pa.array(
            [record.get(name) for record in body],
            pa.int64() if name == "amount_fen" else pa.string(),
        )
        for name in FIELDS
    }
    out = io.BytesIO()
    if media_type == "text/csv":
        pa_csv.write_csv(pa.table(columns), out)
    else:
        pq.write_table(pa.table(columns), out)
    return out.getvalue()


def post(
    connection: http.client.HTTPConnection,
    path: str,
    body: object,
    key: str,
    media_type: str = "application/json",
) -> tuple[int, Any]:
    """The answer to a call, asked again as a member's system does while the server says
    "nothing was decided, ask again" (503 with Retry-After: its database or shared state
    was slow to answer under the load); anything else is the answer."""
    for _ in range(UNAVAILABLE_TRIES):
        connection.request(
            "POST",
            path,
            encoded(body, media_type),
            {"Content-Type": media_type, "Authorization": f"Bearer {key}"},
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        after = response.getheader("Retry-After")
        if response.status != 503 or after is None:
            break
        time.sleep(min(float(after), 1.0))
    return response.status, answer


class MemberSystem(threading.Thread):
    """A system sending its members' transactions, alone or in batches, until the server
    stops answering: each transfer or withdrawal paid from an account of the member, each
    deposit into one, to an account of the region, at the time it is sent."""

    def __init__(
        self,
        name: str,
        port: int,
        members: Sequence[str],
        keys: Mapping[str, str],
        customers: Customers,
        traffic: Traffic,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.port, self.members, self.keys = port, members, keys
        self.customers, self.traffic = customers, traffic
        self.random = random.Random(f"{SEED}-{name}")
        self.serial = itertools.count()
        self.last = datetime.now(UTC)

    def record(self, member: str) -> Record:
        pick = self.random.choice
        now = datetime.now(UTC)
        self.last = now if now > self.last else self.last + timedelta(microseconds=1)
        own = pick(self.customers.by_bank[member])
        record: Record = {
            "tx_id": f"{self.name}-{next(self.serial)}",
            "ts": self.last.isoformat(),
            "amount_fen": self.random.randint(100, 2_000_000),
        }
        kind = self.random.choices(("transfer", "withdrawal", "deposit"), (18, 1, 1))[0]
        if kind == "deposit":
            record.update(kind=kind, payee_account=own, payee_bank=member, channel="counter")
            return record
        record.update(kind=kind, payer_account=own, payer_bank=member, channel="atm")
        if kind == "transfer":
            payee = own
            while payee == own:
                payee = pick(self.customers.accounts)
            device, ip = pick(self.customers.devices)
            record.update(payee_account=payee, payee_bank=self.customers.bank_of[payee],
                          channel="mobile", device_id=device, ip=ip, city="Xiamen")  # fmt: skip
        return record

    def run(self) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=WAIT_SECONDS)
        records: list[Record] = []
        try:
            for member in itertools.cycle(self.members):
                if self.traffic.halt.is_set():
                    records = []
                    self.traffic.end(records, None)
                    return
                single = self.random.random() < 0.5
                size = 1 if single else self.random.randint(2, BATCH)
                records = [self.record(member) for _ in range(size)]
                self.traffic.sending(member, records)
                try:
                    status, body = post(
                        connection,
                        "/v1/transactions" if single else "/v1/transactions/batch",
                        records[0] if single else records,
                        self.keys[member],
                        FORMATS[0] if single else self.random.choice(FORMATS),
                    )
                except (OSError, http.client.HTTPException):
                    self.traffic.end(records, None)
                    return
                if status != 200:
                    self.traffic.end(records, f"{status}: {body}")
                    return
                self.traffic.answer(records, [body] if single else body)
        except BaseException as error:
            self.traffic.end(records, f"{type(error).__name__}: {error}")
            raise
        finally:
            connection.close()


def resend(
    port: int, keys: Mapping[str, str], traffic: Traffic, tx_ids: list[str]
) -> dict[str, Record]:
    """Send these transactions again, each by its member, in batches; their answers."""
    by_member: dict[str, list[Record]] = {}
    for tx_id in dict.fromkeys(tx_ids):
        member, record = traffic.sent[tx_id]
        by_member.setdefault(member, []).append(record)
    answers: dict[str, Record] = {}
    connection = http.client.HTTPConnection(HOST, port, timeout=WAIT_SECONDS)
    try:
        for member, records in by_member.items():
            for start in range(0, len(records), RESEND_BATCH):
                chunk = records[start : start + RESEND_BATCH]
                status, body = post(connection, "/v1/transactions/batch", chunk, keys[member])
                assert status == 200, body
                answers.update((d["tx_id"], d) for d in body)
    finally:
        connection.close()
    return answers


def as_answered(traffic: Traffic, customers: Customers, decision: Decision) -> Record:
    """A logged decision as its member reads it (without the figures of a payee another
    member holds, `Decision.seen_by`)."""
    member, record = traffic.sent[decision.tx_id]
    payee = record.get("payee_account")
    holder = customers.bank_of.get(payee) if payee is not None else None
    return decision.seen_by(member, holder).to_dict()
