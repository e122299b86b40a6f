"""A member submits only transactions from accounts it holds, to banks that exist, under ids
it alone uses; it never reads another member's decision by sending that transaction's id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fundwall.api import create_app
from fundwall.bootstrap import Platform
from fundwall.config import Settings
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.engine.admission import ALREADY_USED
from fundwall.members import create_api_key
from fundwall.store.mapping import institution_row

from .pacs import pacs008, statuses, transfer
from .records import record
from .service import RuleOfThumbService

FIRST = "ICBKCNBJ"
SECOND = "ABOCCNBJ"
FIRSTS = "6222020200112233445"
"""The payer account of every test record, held by the first member."""
SECONDS = "6228480010203040506"
"""The payee account of every test record, held by the second member."""
OUTSIDE = "BKCHCNBJ"
"""A bank outside the region, by its BIC."""
PROBLEMS = "https://fundwall.example/problems/"
XML = {"content-type": "application/xml"}


@pytest.fixture
def keys(platform: Platform) -> dict[str, dict[str, str]]:
    """The headers carrying an API key of each of the two members."""
    headers = {}
    with platform.unit_of_work() as uow:
        for code in (FIRST, SECOND):
            institution = Institution(code, code, code, InstitutionKind.BANK, "350200")
            uow.session.add(institution_row(institution))
        uow.commit()
        for code in (FIRST, SECOND):
            _, text = create_api_key(uow, platform.operator, code)
            headers[code] = {"authorization": f"Bearer {text}"}
    return headers


@pytest.fixture
def service() -> RuleOfThumbService:
    """The rule of thumb over a directory of one account at each member."""
    return RuleOfThumbService({FIRSTS: FIRST, SECONDS: SECOND}, (FIRST, SECOND))


def app_client(
    service: RuleOfThumbService, settings: Settings, platform: Platform, *, required: bool = True
) -> TestClient:
    app = create_app(
        service,
        settings,
        access=platform.access,
        api_keys_required=required,
        clock=platform.clock,
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(
    service: RuleOfThumbService, settings: Settings, platform: Platform
) -> Iterator[TestClient]:
    with app_client(service, settings, platform) as test_client:
        yield test_client


def paid_by(bank: str, tx_id: str = "T-1", amount_fen: int = 6_000_000) -> dict[str, Any]:
    """A transfer of ¥60,000 (blocked, with a reason) paid from the account of `bank`'s
    customer to a bank outside the region."""
    payer = FIRSTS if bank == FIRST else SECONDS
    return record(
        tx_id, amount_fen, payer_account=payer, payer_bank=bank, payee_account="88001234567",
        payee_bank=OUTSIDE,
    )  # fmt: skip


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
            record(
                kind="deposit",
                payer_account=None,
                payer_bank=None,
                payee_account=FIRSTS,
                payee_bank=FIRST,
            ),
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
        ("/v1/transactions/batch", [paid_by(SECOND, "T-0"), body], "record 1, "),
    ):
        refused = client.post(path, json=sent, headers=keys[SECOND])
        assert refused.status_code == 403
        problem = refused.json()
        assert problem["type"] == f"{PROBLEMS}forbidden"
        assert problem["detail"].startswith(f"not allowed: {where}{field}: {FIRST}: ")
        assert SECOND in problem["detail"]
    assert service.calls == []
    assert client.post("/v1/transactions", json=body, headers=keys[FIRST]).status_code == 200


def test_a_member_deposits_into_its_customers_accounts(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    deposit = record(
        kind="deposit", payer_account=None, payer_bank=None, payee_account=SECONDS,
        payee_bank=SECOND,
    )  # fmt: skip
    assert client.post("/v1/transactions", json=deposit, headers=keys[SECOND]).status_code == 200


def test_a_pacs008_decides_only_the_members_own_transfers_under_free_ids(
    client: TestClient, keys: dict[str, dict[str, str]], service: RuleOfThumbService
) -> None:
    first = client.post(
        "/v1/iso20022/pacs.008",
        content=pacs008(transfer("T-1", "60000.00", creditor_agent=SECOND)),
        headers={**XML, **keys[FIRST]},
    )
    assert statuses(first.content) == [("T-1", "RJCT", "FRAD")]
    theirs = {
        "debtor_agent": SECOND,
        "debtor_account": SECONDS,
        "creditor_agent": OUTSIDE,
        "creditor_account": "88001234567",
    }
    message = pacs008(
        transfer("T-2", **theirs),
        transfer("T-3", debtor_agent=FIRST),
        transfer("T-1", "60000.00", **theirs),
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
    service: RuleOfThumbService, settings: Settings, platform: Platform
) -> None:
    """Without API keys there is no member to check: anyone may send anything (the demo)."""
    with app_client(service, settings, platform, required=False) as open_client:
        first = open_client.post("/v1/transactions", json=paid_by(FIRST))
        again = open_client.post("/v1/transactions", json=paid_by(SECOND))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
