"""A deposit belongs to the payee's bank: the bank that submits one sees its decision and its
alert in the console and through the member-data API; the other bank sees neither."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.rules import default_pack
from fundwall.store.mapping import decision_row, transaction_row

from .conftest import Browser, Console, open_client
from .region import NOW, Region

AsUser = Callable[[str], Browser]
DEPOSIT = "DEP-CASH-1"


@pytest.fixture
def deposited(console: Console, region: Region) -> dict[str, Any]:
    """Cash into the first bank's account, stored with its live decision (delay) as the
    engine logs them; the transaction as its member sends it."""
    deposit = Transaction(
        DEPOSIT,
        NOW - timedelta(minutes=5),
        TransactionKind.DEPOSIT,
        None,
        region.first_account,
        None,
        region.first_bank,
        Money(48_000_00),
        Channel.COUNTER,
    )
    reason = Reason("R001", "大额现金存入", "a large cash deposit", {"amount": 48_000_00})
    decision = Decision(DEPOSIT, Action.DELAY, 70, (reason,), default_pack().version)
    with console.uow() as uow:
        uow.session.add(transaction_row(deposit))
        uow.session.add(decision_row(decision, decided_at=NOW - timedelta(minutes=5)))
        uow.commit()
    body = {key: value for key, value in deposit.as_row().items() if value is not None}
    return body | {"ts": deposit.ts.isoformat()}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _alerts(client: Browser, key: str) -> set[str]:
    answer = client.get("/v1/alerts", params={"action": "delay"}, headers=_bearer(key))
    assert answer.status_code == 200, answer.text
    return {alert["tx_id"] for alert in answer.json()["items"]}


def test_the_submitting_bank_reads_its_deposits_decision_and_alert_through_the_api(
    console: Console, region: Region, deposited: dict[str, Any]
) -> None:
    client = open_client(console.app)
    mine = _bearer(region.first_key)
    submitted = client.post("/v1/transactions", json=deposited, headers=mine)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["action"] == "delay"
    read = client.get(f"/v1/transactions/{DEPOSIT}", headers=mine)
    assert read.status_code == 200, read.text
    assert [(d["action"], d["shadow"]) for d in read.json()["decisions"]] == [("delay", False)]
    assert DEPOSIT in _alerts(client, region.first_key)


def test_the_other_bank_neither_submits_nor_reads_the_deposit(
    console: Console, region: Region, deposited: dict[str, Any]
) -> None:
    client = open_client(console.app)
    theirs = _bearer(region.second_key)
    assert client.post("/v1/transactions", json=deposited, headers=theirs).status_code == 403
    assert client.get(f"/v1/transactions/{DEPOSIT}", headers=theirs).status_code == 404
    assert DEPOSIT not in _alerts(client, region.second_key)


def test_the_submitting_banks_analyst_works_the_deposits_alert_in_the_console(
    as_user: AsUser, deposited: dict[str, Any]
) -> None:
    client = as_user("analyst1")
    page = client.get(f"/transactions/{DEPOSIT}")
    assert page.status_code == 200
    assert f'hx-post="/alerts/{DEPOSIT}"' in page.text and "预警 · 新建" in page.text
    assert DEPOSIT in client.get("/alerts?action=delay").text
    taken = client.post_form(
        f"/alerts/{DEPOSIT}",
        {"assignee": "analyst1", "status": "in_progress"},
        headers={"HX-Request": "true"},
    )
    assert taken.status_code == 200 and "预警 · 处理中" in taken.text


def test_the_other_banks_analyst_does_not_see_the_deposit(
    as_user: AsUser, deposited: dict[str, Any]
) -> None:
    client = as_user("analyst2")
    assert client.get(f"/transactions/{DEPOSIT}").status_code == 404
    assert DEPOSIT not in client.get("/alerts?action=delay").text
    refused = client.post_form(
        f"/alerts/{DEPOSIT}", {"status": "in_progress"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 404
