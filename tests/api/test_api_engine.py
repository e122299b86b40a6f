"""End to end through the engine's decision service over a tiny simulated region."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import fromstring

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from fundwall.api import DecisionOut, create_app
from fundwall.bootstrap import region_service
from fundwall.config import Settings
from fundwall.domain.decisions import Action
from fundwall.engine.service import DecisionService
from fundwall.sim.run import simulate

from .pacs import PACS002, pacs008, statuses

SEED = 20240304


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api_region") / "region"
    simulate("tiny", SEED, out)
    return out


@pytest.fixture(scope="module")
def history(region: Path) -> list[dict[str, Any]]:
    """The region's first transactions as JSON records, in time order."""
    rows = pq.read_table(region / "transactions.parquet").slice(0, 300).to_pylist()
    return [
        {key: value.isoformat() if key == "ts" else value for key, value in row.items()}
        for row in rows
    ]


@pytest.fixture
def engine_service(region: Path, settings: Settings) -> DecisionService:
    return region_service(region, settings)


@pytest.fixture
def engine_client(engine_service: DecisionService, settings: Settings) -> Iterator[TestClient]:
    app = create_app(engine_service, settings, api_keys_required=False)
    with TestClient(app) as test_client:
        yield test_client


def check(decision: dict[str, Any], service: DecisionService) -> None:
    """A decision of the engine's live pack that follows the rules of a decision."""
    DecisionOut.model_validate(decision)
    assert decision["pack_version"] == service.live_pack.version
    if Action(decision["action"]).restricts:
        assert decision["reasons"]
    assert decision["latency_us"] >= 0


def test_one_transaction_is_decided_by_the_engine(
    engine_client: TestClient, engine_service: DecisionService, history: list[dict[str, Any]]
) -> None:
    response = engine_client.post("/v1/transactions", json=history[0])
    assert response.status_code == 200, response.text
    assert response.json()["tx_id"] == history[0]["tx_id"]
    check(response.json(), engine_service)


def test_a_batch_is_decided_by_the_engine_in_order(
    engine_client: TestClient, engine_service: DecisionService, history: list[dict[str, Any]]
) -> None:
    response = engine_client.post("/v1/transactions/batch", json=history)
    assert response.status_code == 200
    decisions = response.json()
    assert [each["tx_id"] for each in decisions] == [each["tx_id"] for each in history]
    for decision in decisions:
        check(decision, engine_service)


def test_a_transaction_sent_again_gets_its_first_decision(
    engine_client: TestClient, history: list[dict[str, Any]]
) -> None:
    first = engine_client.post("/v1/transactions", json=history[5]).json()
    changed = {**history[5], "amount_fen": history[5]["amount_fen"] * 1000}
    assert engine_client.post("/v1/transactions", json=changed).json() == first
    batch = engine_client.post("/v1/transactions/batch", json=[history[6], changed]).json()
    assert batch[1] == first
    assert engine_client.post("/v1/transactions", json=history[6]).json() == batch[0]


def test_a_pacs008_is_decided_by_the_engine(
    engine_client: TestClient, history: list[dict[str, Any]]
) -> None:
    transfers = [row for row in history if row["kind"] == "transfer"][:3]
    message = pacs008(*(credit_transfer(row) for row in transfers))
    response = engine_client.post(
        "/v1/iso20022/pacs.008", content=message, headers={"content-type": "application/xml"}
    )
    assert response.status_code == 200, response.text
    found = statuses(response.content)
    assert [tx_id for tx_id, _, _ in found] == [row["tx_id"] for row in transfers]
    assert {status for _, status, _ in found} <= {"ACSC", "ACCP", "PDNG", "RJCT"}
    assert fromstring(response.content).tag == f"{PACS002}Document"


def credit_transfer(row: dict[str, Any]) -> str:
    """A region transfer as a CdtTrfTxInf with its risk data."""
    fen = row["amount_fen"]
    risk = "".join(
        f"<{tag}>{row[key]}</{tag}>"
        for tag, key in (("DvcId", "device_id"), ("IPAddr", "ip"), ("City", "city"))
        if row.get(key)
    )
    return f"""
    <CdtTrfTxInf>
      <PmtId><EndToEndId>E2E</EndToEndId><TxId>{row["tx_id"]}</TxId></PmtId>
      <IntrBkSttlmAmt Ccy="CNY">{fen // 100}.{fen % 100:02d}</IntrBkSttlmAmt>
      <AccptncDtTm>{row["ts"]}</AccptncDtTm>
      <ChrgBr>SLEV</ChrgBr>
      <Dbtr><Nm>Payer</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>{row["payer_account"]}</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><ClrSysMmbId><MmbId>{row["payer_bank"]}</MmbId></ClrSysMmbId>
      </FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>{row["payee_bank"]}</MmbId></ClrSysMmbId>
      </FinInstnId></CdtrAgt>
      <Cdtr><Nm>Payee</Nm></Cdtr>
      <CdtrAcct><Id><Othr><Id>{row["payee_account"]}</Id></Othr></Id></CdtrAcct>
      <SplmtryData><Envlp><RskData><Chanl>{row["channel"]}</Chanl>{risk}</RskData></Envlp>
      </SplmtryData>
    </CdtTrfTxInf>"""
