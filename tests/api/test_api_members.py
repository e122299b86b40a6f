"""A member submits only its own transactions and never reads another member's decision by
sending that transaction's id again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from fundwall.api import create_app
from fundwall.api.members import ALREADY_USED, RememberedOwners, StoredOwners, TransactionOwners
from fundwall.auth import SystemActor, create_api_key
from fundwall.auth.dependencies import AccessConfig, install_access
from fundwall.clock import FixedClock
from fundwall.config import Settings
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.ingest import parse_transaction
from fundwall.store import UnitOfWork
from fundwall.store.mapping import institution_row
from fundwall.store.tables import TransactionRow

from .pacs import pacs008, statuses, transfer
from .records import record
from .service import RuleOfThumbService

FIRST = "ICBKCNBJ"
SECOND = "ABOCCNBJ"
PROBLEMS = "https://fundwall.example/problems/"
XML = {"content-type": "application/xml"}


@pytest.fixture
def keys(uow_factory: Callable[[], UnitOfWork]) -> dict[str, dict[str, str]]:
    """The headers carrying an API key of each of the two members."""
    headers = {}
    with uow_factory() as uow:
        for code in (FIRST, SECOND):
            institution = Institution(code, code, code, InstitutionKind.BANK, "350200")
            uow.session.add(institution_row(institution))
        uow.commit()
        for code in (FIRST, SECOND):
            _, text = create_api_key(uow, SystemActor("test"), code)
            headers[code] = {"authorization": f"Bearer {text}"}
    return headers


def app_client(
    service: RuleOfThumbService,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    owners: TransactionOwners | None = None,
    *,
    required: bool = True,
) -> TestClient:
    app = create_app(service, settings, clock=clock, owners=owners)
    install_access(app, AccessConfig(engine=engine, clock=clock, api_keys_required=required))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(
    service: RuleOfThumbService, settings: Settings, engine: Engine, clock: FixedClock
) -> Iterator[TestClient]:
    with app_client(service, settings, engine, clock) as test_client:
        yield test_client


def paid_by(bank: str, tx_id: str = "T-1", amount_fen: int = 6_000_000) -> dict[str, Any]:
    """A transfer of ¥60,000 (blocked, with a reason) paid by a customer of `bank`."""
    return record(tx_id, amount_fen, payer_bank=bank, payee_bank="OTHERBANK")


def already_used(record_index: str | None) -> dict[str, Any]:
    """The problem answering an id another member used first: nothing about that transaction."""
    where = f"record {record_index}, " if record_index is not None else ""
    return {
        "type": f"{PROBLEMS}invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": f"{where}field 'tx_id': {ALREADY_USED}",
        "record": record_index,
        "field": "tx_id",
        "reason": ALREADY_USED,
        "errors": [{"record": record_index, "field": "tx_id", "reason": ALREADY_USED}],
        "more": False,
    }


def test_another_members_transaction_id_reveals_nothing_of_its_decision(
    client: TestClient, keys: dict[str, dict[str, str]], service: RuleOfThumbService
) -> None:
    first = client.post("/v1/transactions", json=paid_by(FIRST), headers=keys[FIRST])
    assert first.json()["action"] == "block" and first.json()["reasons"]
    probe = client.post("/v1/transactions", json=paid_by(SECOND), headers=keys[SECOND])
    assert probe.status_code == 422
    assert probe.json() == already_used(None)
    batch = [paid_by(SECOND, "T-2"), paid_by(SECOND)]
    probe = client.post("/v1/transactions/batch", json=batch, headers=keys[SECOND])
    assert probe.status_code == 422
    assert probe.json() == already_used("1")
    assert service.calls == [("decide", ("T-1",))]
    again = client.post("/v1/transactions", json=paid_by(FIRST), headers=keys[FIRST])
    assert again.json() == first.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (paid_by(FIRST), "payer_bank"),
        (
            record(kind="deposit", payer_account=None, payer_bank=None, payee_bank=FIRST),
            "payee_bank",
        ),
    ],
    ids=["transfer", "deposit"],
)
def test_a_member_submits_only_its_own_transactions(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    service: RuleOfThumbService,
    body: dict[str, Any],
    field: str,
) -> None:
    for path, sent, where in (
        ("/v1/transactions", body, ""),
        ("/v1/transactions/batch", [record("T-0", payer_bank=SECOND), body], "record 1, "),
    ):
        refused = client.post(path, json=sent, headers=keys[SECOND])
        assert refused.status_code == 403
        problem = refused.json()
        assert problem["type"] == f"{PROBLEMS}forbidden"
        assert problem["detail"].startswith(f"not allowed: {where}{field} {FIRST}: ")
        assert SECOND in problem["detail"]
    assert service.calls == []
    assert client.post("/v1/transactions", json=body, headers=keys[FIRST]).status_code == 200


def test_a_member_deposits_into_its_customers_accounts(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    deposit = record(kind="deposit", payer_account=None, payer_bank=None, payee_bank=SECOND)
    assert client.post("/v1/transactions", json=deposit, headers=keys[SECOND]).status_code == 200


def test_a_pacs008_decides_only_the_members_own_transfers_under_free_ids(
    client: TestClient, keys: dict[str, dict[str, str]], service: RuleOfThumbService
) -> None:
    first = client.post(
        "/v1/iso20022/pacs.008",
        content=pacs008(transfer("T-1", "60000.00", debtor_agent=FIRST)),
        headers={**XML, **keys[FIRST]},
    )
    assert statuses(first.content) == [("T-1", "RJCT", "FRAD")]
    message = pacs008(
        transfer("T-2", debtor_agent=SECOND),
        transfer("T-3", debtor_agent=FIRST),
        transfer("T-1", "60000.00", debtor_agent=SECOND),
    )
    report = client.post("/v1/iso20022/pacs.008", content=message, headers={**XML, **keys[SECOND]})
    assert report.status_code == 200
    assert statuses(report.content) == [
        ("T-2", "ACSC", None),
        ("T-3", "RJCT", "AG01"),
        ("T-1", "RJCT", "AM05"),
    ]
    assert ALREADY_USED.encode() in report.content
    assert b"T001" not in report.content  # the first member's reason
    assert service.calls[-1] == ("decide_batch", ("T-2",))


def test_the_demo_has_no_members(
    service: RuleOfThumbService, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    """Without API keys there is no member to check: anyone may send anything (the demo)."""
    with app_client(service, settings, engine, clock, required=False) as open_client:
        first = open_client.post("/v1/transactions", json=paid_by(FIRST))
        again = open_client.post("/v1/transactions", json=paid_by(SECOND))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()


def test_stored_transaction_ids_belong_to_their_payers_bank(
    service: RuleOfThumbService,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    keys: dict[str, dict[str, str]],
) -> None:
    """Over the store the ids survive a restart: they are read from `transactions`."""
    logged = [parse_transaction(paid_by(FIRST, f"L-{index}")) for index in range(1_200)]
    deposit = record("D-1", kind="deposit", payer_account=None, payer_bank=None)
    logged.append(parse_transaction({**deposit, "payee_bank": SECOND}))
    with engine.begin() as connection:
        connection.execute(insert(TransactionRow), [tx.as_row() for tx in logged])
    owners = StoredOwners(engine)
    found = owners.owners([tx.tx_id for tx in logged] + ["new"])
    assert found == {**{tx.tx_id: FIRST for tx in logged[:-1]}, "D-1": SECOND}
    with app_client(service, settings, engine, clock, owners) as client:
        mine = client.post("/v1/transactions", json=paid_by(FIRST, "L-7"), headers=keys[FIRST])
        theirs = client.post("/v1/transactions", json=paid_by(SECOND, "L-7"), headers=keys[SECOND])
    assert mine.status_code == 200
    assert theirs.json() == already_used(None)


def test_remembered_owners_keep_the_first_member() -> None:
    owners = RememberedOwners()
    owners.remember(FIRST, ["T-1", "T-2"])
    owners.remember(SECOND, ["T-2", "T-3"])
    assert owners.owners(["T-1", "T-2", "T-3", "T-4"]) == {
        "T-1": FIRST,
        "T-2": FIRST,
        "T-3": SECOND,
    }
