"""A member reads no figure of another member's customer in a decision's reasons.

Member A's customer pays into a pass-through account that member B holds: the engine's
decision names the sign (the payee looks like a pass-through account), and A's answer, JSON or
pacs.002, carries none of B's customer's figures (24-hour totals, age, class) in its texts or
its values. Paying into A's own pass-through account shows them; the decision as the engine
made it (what the log keeps for the hub) keeps them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import fromstring

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from fundwall.api import create_app
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import Settings
from fundwall.domain.decisions import Decision
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.transactions import Transaction
from fundwall.engine.controls import ControlBook
from fundwall.engine.core import DecisionCore
from fundwall.engine.features import AccountDirectory
from fundwall.engine.features.catalog import feature_names
from fundwall.engine.rules import default_pack
from fundwall.engine.service import DecisionService
from fundwall.members import create_api_key
from fundwall.store.mapping import institution_row

from .pacs import PACS002

A, B, C = "ICBKCNBJ", "ABOCCNBJ", "BKCHCNBJ"
"""Member A submits; member B holds the other member's pass-through account; C feeds them."""
T0 = datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
PAYER = "6222020200112231234"
OWN_MULE = "6222020200112241233"
THEIR_MULE = "6228480010203041230"
THEIR_CLASS_II = "6228480010203051239"
FEEDER_1 = "6216610000123451237"
FEEDER_2 = "6216610000123461236"
SINK = "6216610000123471235"
OUTSIDE = "6216610000123481234"
"""An account at a bank outside the region: the directory does not know it."""
ACCOUNTS = (
    # account, bank, class, days open, opening balance (fen)
    (PAYER, A, "I", 400, 1_000_000_00),
    (OWN_MULE, A, "I", 30, 0),
    (THEIR_MULE, B, "I", 30, 0),
    (THEIR_CLASS_II, B, "II", 400, 0),
    (FEEDER_1, C, "I", 400, 1_000_000_00),
    (FEEDER_2, C, "I", 400, 1_000_000_00),
    (SINK, C, "I", 400, 0),
)
PAYEE = {name for name in feature_names() if name.startswith("payee_")}
"""The features of the receiving account (as the catalogue declares them by role)."""
MULE_FIGURES = ("¥60,000.00", "¥55,000.00", "30天", "30 days", "Ⅰ类户", "class I")
"""How the pass-through accounts' figures read: 24-hour in and out, age, class."""


def directory() -> AccountDirectory:
    accounts = pa.table(
        {
            "account_no": [a[0] for a in ACCOUNTS],
            "bank": [a[1] for a in ACCOUNTS],
            "party_id": [f"P{i}" for i in range(len(ACCOUNTS))],
            "account_class": [a[2] for a in ACCOUNTS],
            "opened_at": pa.array(
                [T0 - timedelta(days=a[3]) for a in ACCOUNTS], pa.timestamp("us", tz="UTC")
            ),
            "opening_balance_fen": pa.array([a[4] for a in ACCOUNTS], pa.int64()),
        }
    )
    parties = pa.table(
        {
            "party_id": [f"P{i}" for i in range(len(ACCOUNTS))],
            "phone_key": [f"{i:064x}" for i in range(len(ACCOUNTS))],
            "birth_date": pa.array([date(1980, 1, 1)] * len(ACCOUNTS), pa.date32()),
        }
    )
    return AccountDirectory.from_tables(accounts, parties)


def transfer(
    tx_id: str, minutes: float, payer: str, payee: str, fen: int, **changes: Any
) -> dict[str, Any]:
    banks = {a[0]: a[1] for a in ACCOUNTS}
    return {
        "tx_id": tx_id,
        "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
        "kind": "transfer",
        "payer_account": payer,
        "payee_account": payee,
        "payer_bank": banks[payer],
        "payee_bank": banks.get(payee, "OUTSIDE1"),
        "amount_fen": fen,
        "channel": "mobile",
    } | changes


@pytest.fixture
def service(settings: Settings) -> DecisionService:
    """The engine with two pass-through accounts, one at A and one at B: each received
    ¥60,000 from two payers at C and sent ¥55,000 on within the hour."""
    database = DecisionCore(directory(), ControlBook(), settings.policy, default_pack())
    decisions = DecisionService(database)
    for n, mule in enumerate((OWN_MULE, THEIR_MULE)):
        history = [
            transfer(f"H{n}-1", 1, FEEDER_1, mule, 30_000_00),
            transfer(f"H{n}-2", 2, FEEDER_2, mule, 30_000_00),
            transfer(f"H{n}-3", 3, mule, SINK, 55_000_00),
        ]
        decisions.decide_batch([Transaction.from_mapping(record) for record in history])
    return decisions


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0 + timedelta(minutes=31))


@pytest.fixture
def client(service: DecisionService, settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(service, settings, api_keys_required=False, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def full_decision(service: DecisionService, record: dict[str, Any]) -> Decision:
    """The decision as the engine made it and logs it (a repeat of its id answers it)."""
    return service.decide(Transaction.from_mapping(record))


def shows_figures(text: str, figures: tuple[str, ...] = MULE_FIGURES) -> bool:
    return any(figure in text for figure in figures)


def reason_of(decision: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(reason for reason in decision["reasons"] if reason["rule_id"] == rule_id)


def assert_withheld(decision: dict[str, Any]) -> None:
    """No reason of the answer quotes the payee account's figures, in words or values."""
    for reason in decision["reasons"]:
        assert not shows_figures(reason["text_zh"] + " " + reason["text_en"]), reason
        assert PAYEE.isdisjoint(reason["values"]), reason


@pytest.mark.parametrize("declared_payee_bank", [B, A])
def test_another_members_pass_through_payee_is_named_without_its_figures(
    client: TestClient, service: DecisionService, declared_payee_bank: str
) -> None:
    """Declaring the payee's bank as one's own changes nothing: the directory says who
    holds the account."""
    record = transfer("A-1", 30, PAYER, THEIR_MULE, 2_000_00, payee_bank=declared_payee_bank)
    answer = client.post("/v1/transactions", json=record)
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert {"R006", "R045"} <= {reason["rule_id"] for reason in decision["reasons"]}
    assert_withheld(decision)
    r006 = reason_of(decision, "R006")
    assert "pass-through account" in r006["text_en"] and "过渡账户" in r006["text_zh"]
    # R045 keeps the payer's own figures (the amount, and the balance its money condition
    # reads) and none of the payee's.
    r045 = reason_of(decision, "R045")["values"]
    assert set(r045) == {"amount", "payer_balance", "balance_share"}
    assert r045["amount"] == 2_000_00
    full = full_decision(service, record)
    assert (full.action.value, full.score) == (decision["action"], decision["score"])
    logged = next(reason for reason in full.reasons if reason.rule_id == "R006")
    assert shows_figures(logged.text_en) and shows_figures(logged.text_zh)
    assert logged.values["payee_in_sum_24h"] == 60_000_00


def test_a_transfer_between_two_accounts_of_one_member_shows_the_figures(
    client: TestClient,
) -> None:
    answer = client.post("/v1/transactions", json=transfer("A-2", 30, PAYER, OWN_MULE, 2_000_00))
    assert answer.status_code == 200, answer.text
    r006 = reason_of(answer.json(), "R006")
    assert "¥60,000.00" in r006["text_en"] and "¥55,000.00" in r006["text_zh"]
    assert r006["values"]["payee_out_sum_24h"] == 55_000_00
    assert r006["values"]["payee_age_days"] == 30


def test_a_batch_reads_each_decision_by_who_holds_its_payee(client: TestClient) -> None:
    batch = [
        transfer("A-3", 30, PAYER, THEIR_MULE, 2_000_00),
        transfer("A-4", 30.5, PAYER, OWN_MULE, 2_000_00),
    ]
    answer = client.post("/v1/transactions/batch", json=batch)
    assert answer.status_code == 200, answer.text
    theirs, own = answer.json()
    assert_withheld(theirs)
    assert reason_of(own, "R006")["values"]["payee_in_sum_24h"] == 60_000_00


def credit_transfer(tx_id: str, minutes: float, payee: str, payee_bank: str) -> str:
    accepted = (T0 + timedelta(minutes=minutes)).isoformat()
    return f"""
    <CdtTrfTxInf>
      <PmtId><EndToEndId>E2E-{tx_id}</EndToEndId><TxId>{tx_id}</TxId></PmtId>
      <IntrBkSttlmAmt Ccy="CNY">2000.00</IntrBkSttlmAmt>
      <AccptncDtTm>{accepted}</AccptncDtTm>
      <ChrgBr>SLEV</ChrgBr>
      <Dbtr><Nm>Payer</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>{PAYER}</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BICFI>{A}</BICFI></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><BICFI>{payee_bank}</BICFI></FinInstnId></CdtrAgt>
      <Cdtr><Nm>Payee</Nm></Cdtr>
      <CdtrAcct><Id><Othr><Id>{payee}</Id></Othr></Id></CdtrAcct>
    </CdtTrfTxInf>"""


def pacs008(*transfers: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>MSG-R1</MsgId>
      <CreDtTm>{(T0 + timedelta(minutes=30)).isoformat()}</CreDtTm>
      <NbOfTxs>{len(transfers)}</NbOfTxs>
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>
    {"".join(transfers)}
  </FIToFICstmrCdtTrf>
</Document>""".encode()


def status_texts(report: bytes) -> dict[str, str]:
    """Each transaction's AddtlInf, by its OrgnlTxId."""
    root = fromstring(report)
    return {
        info.findtext(f"{PACS002}OrgnlTxId", ""): info.findtext(
            f"{PACS002}StsRsnInf/{PACS002}AddtlInf", ""
        )
        for info in root.iter(f"{PACS002}TxInfAndSts")
    }


def test_the_pacs002_status_text_quotes_no_figure_of_another_members_payee(
    client: TestClient,
) -> None:
    message = pacs008(
        credit_transfer("P-1", 30, THEIR_MULE, B), credit_transfer("P-2", 30.5, OWN_MULE, A)
    )
    answer = client.post(
        "/v1/iso20022/pacs.008", content=message, headers={"content-type": "application/xml"}
    )
    assert answer.status_code == 200, answer.text
    texts = status_texts(answer.content)
    assert texts["P-1"].startswith("R006: the payee account looks like a pass-through account")
    assert not shows_figures(texts["P-1"])
    assert shows_figures(texts["P-2"])


def test_a_payee_the_directory_does_not_know_counts_as_another_members(
    client: TestClient, service: DecisionService
) -> None:
    """A burst of payments into an account outside the region: its count and sum stay out."""
    burst = [
        transfer(f"O-{n}", 20 + n, (FEEDER_1, FEEDER_2)[n % 2], OUTSIDE, 3_000_00) for n in range(5)
    ]
    service.decide_batch([Transaction.from_mapping(record) for record in burst])
    record = transfer("A-5", 26, PAYER, OUTSIDE, 1_000_00)
    answer = client.post("/v1/transactions", json=record)
    assert answer.status_code == 200, answer.text
    r008 = reason_of(answer.json(), "R008")
    assert not shows_figures(r008["text_en"] + r008["text_zh"], ("¥15,000.00",))
    assert PAYEE.isdisjoint(r008["values"])
    logged = next(r for r in full_decision(service, record).reasons if r.rule_id == "R008")
    assert "¥15,000.00" in logged.text_en


def test_another_members_class_ii_inflow_limit_is_stated_without_what_it_received(
    client: TestClient, service: DecisionService
) -> None:
    first = client.post(
        "/v1/transactions", json=transfer("A-6", 30, PAYER, THEIR_CLASS_II, 9_000_00)
    )
    assert first.status_code == 200, first.text
    record = transfer("A-7", 31, PAYER, THEIR_CLASS_II, 2_000_00)
    answer = client.post("/v1/transactions", json=record)
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert decision["action"] == "block"
    hc15 = reason_of(decision, "HC15")
    assert "¥9,000.00" not in hc15["text_zh"] + hc15["text_en"]
    assert hc15["values"] == {"amount": 2_000_00, "limit_fen": 10_000_00}
    assert "¥10,000.00" in hc15["text_en"] and "¥2,000.00" in hc15["text_en"]
    logged = next(r for r in full_decision(service, record).reasons if r.rule_id == "HC15")
    assert logged.values["used_fen"] == 9_000_00 and "¥9,000.00" in logged.text_en


@pytest.fixture
def keyed(
    service: DecisionService, settings: Settings, platform: Platform
) -> Iterator[tuple[TestClient, str]]:
    """The API with access control, and member A's API key."""
    with platform.unit_of_work() as uow:
        uow.session.add(institution_row(Institution(A, A, A, InstitutionKind.BANK, "350200")))
        uow.commit()
        _, key = create_api_key(uow, platform.operator, A)
    app = create_app(service, settings, access=platform.access, clock=platform.clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, key


def test_member_as_key_reads_no_figure_of_member_bs_customer(keyed: tuple[TestClient, str]) -> None:
    client, key = keyed
    headers = {"authorization": f"Bearer {key}"}
    theirs = client.post(
        "/v1/transactions", json=transfer("K-1", 30, PAYER, THEIR_MULE, 2_000_00), headers=headers
    )
    assert theirs.status_code == 200, theirs.text
    assert_withheld(theirs.json())
    own = client.post(
        "/v1/transactions", json=transfer("K-2", 30.5, PAYER, OWN_MULE, 2_000_00), headers=headers
    )
    assert reason_of(own.json(), "R006")["values"]["payee_in_sum_24h"] == 60_000_00
