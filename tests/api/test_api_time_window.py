"""A transaction's time lies near the API's clock, or it is refused before anything is decided
or remembered: JSON (one and batch) with a 422 naming `ts`, pacs.008 with RJCT DT01."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fundwall.api import create_app
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import load_settings
from fundwall.domain.errors import InvalidInput
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.members import create_api_key
from fundwall.store.mapping import institution_row

from .pacs import pacs008, statuses, transfer
from .records import record
from .service import RuleOfThumbService

MEMBER = "ICBKCNBJ"
NOW = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
"""The API's clock: 10:00 in Beijing, the CreDtTm of `pacs.pacs008`, half an hour after the
time of `records.record`."""
FAR_AHEAD = "9999-12-31T23:59:59+00:00"
TEN_YEARS_AGO = "2014-05-01T09:30:00+08:00"
XML = {"content-type": "application/xml"}


@dataclass
class Member:
    """An app with access control and one member's key, and what the app keeps."""

    client: TestClient
    headers: dict[str, str]
    service: RuleOfThumbService
    clock: FixedClock

    def post(self, path: str, **args: Any) -> Any:
        headers = {**self.headers, **args.pop("headers", {})}
        return self.client.post(path, headers=headers, **args)

    def remembered(self, *tx_ids: str) -> dict[str, str | None]:
        """The member of each id the service took (decided or kept for repeats)."""
        firsts = {tx_id: self.service.first_transaction(tx_id) for tx_id in tx_ids}
        return {tx_id: tx.payer_bank for tx_id, tx in firsts.items() if tx is not None}


MakeMember = Callable[..., Member]


@pytest.fixture
def make_member(platform: Platform) -> Iterator[MakeMember]:
    """Builds an app over a rule-of-thumb service for MEMBER's key, with `api` settings."""
    with platform.unit_of_work() as uow:
        uow.session.add(
            institution_row(Institution(MEMBER, MEMBER, MEMBER, InstitutionKind.BANK, "350200"))
        )
        uow.commit()
        _, key = create_api_key(uow, platform.operator, MEMBER)
    clients: list[TestClient] = []

    def make(**api: Any) -> Member:
        payer = str(mine()["payer_account"])
        service, clock = RuleOfThumbService({payer: MEMBER}, (MEMBER,)), FixedClock(NOW)
        settings = load_settings(config_file=None, api=api)
        app = create_app(service, settings, access=platform.access, clock=clock)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return Member(client, {"authorization": f"Bearer {key}"}, service, clock)

    yield make
    for client in clients:
        client.close()


def mine(tx_id: str = "T-1", **changes: Any) -> dict[str, Any]:
    return record(tx_id, payer_bank=MEMBER, **{"payee_bank": "ABOCCNBJ", **changes})


def refused_at(response: Any) -> list[tuple[str | None, str]]:
    """(record, field) of each error of a 422 problem."""
    assert response.status_code == 422, response.text
    return [(error["record"], error["field"]) for error in response.json()["errors"]]


@pytest.mark.parametrize("ts", [FAR_AHEAD, TEN_YEARS_AGO])
def test_one_transaction_far_off_the_clock_is_refused(make_member: MakeMember, ts: str) -> None:
    member = make_member()
    response = member.post("/v1/transactions", json=mine(ts=ts))
    assert refused_at(response) == [(None, "ts")]
    reason = response.json()["reason"]
    assert reason.startswith("more than 5 minutes ahead" if ts == FAR_AHEAD else "more than 24")
    assert "2024-05-01T02:00:00Z" in reason
    assert member.service.calls == []
    assert member.remembered("T-1") == {}


@pytest.mark.parametrize("ts", [FAR_AHEAD, TEN_YEARS_AGO])
def test_a_batch_with_one_time_far_off_is_refused_whole(make_member: MakeMember, ts: str) -> None:
    member = make_member()
    body = [mine("T-0"), mine("T-1"), mine("T-2", ts=ts), mine("T-3")]
    response = member.post("/v1/transactions/batch", json=body)
    assert refused_at(response) == [("2", "ts")]
    assert member.service.calls == []
    assert member.remembered("T-0", "T-1", "T-2", "T-3") == {}


def test_a_batch_names_every_record_far_off(make_member: MakeMember) -> None:
    member = make_member()
    body = [mine("T-0", ts=TEN_YEARS_AGO), mine("T-1"), mine("T-2", ts=FAR_AHEAD)]
    response = member.post("/v1/transactions/batch", json=body)
    assert refused_at(response) == [("0", "ts"), ("2", "ts")]


def with_time(tx_id: str, accepted: str) -> str:
    """A credit transfer of MEMBER accepted at `accepted` (AccptncDtTm)."""
    return transfer(tx_id, debtor_agent=MEMBER).replace(
        "</IntrBkSttlmAmt>", f"</IntrBkSttlmAmt>\n      <AccptncDtTm>{accepted}</AccptncDtTm>"
    )


def test_a_pacs008_rejects_each_transfer_far_off_with_dt01(make_member: MakeMember) -> None:
    member = make_member()
    message = pacs008(
        with_time("T-1", FAR_AHEAD),
        transfer("T-2", debtor_agent=MEMBER),  # at the group header's CreDtTm, NOW
        with_time("T-3", TEN_YEARS_AGO),
    )
    report = member.post("/v1/iso20022/pacs.008", content=message, headers=XML)
    assert report.status_code == 200
    assert statuses(report.content) == [
        ("T-1", "RJCT", "DT01"),
        ("T-2", "ACSC", None),
        ("T-3", "RJCT", "DT01"),
    ]
    assert b"ts: more than 5 minutes ahead of the service's clock" in report.content
    assert member.service.calls == [("decide_batch", ("T-2",))]
    assert member.remembered("T-1", "T-2", "T-3") == {"T-2": MEMBER}


def test_a_pacs008_dated_far_off_as_a_whole_decides_nothing(make_member: MakeMember) -> None:
    member = make_member()
    member.clock.set(NOW + timedelta(days=2))  # the group header's CreDtTm is 2 days old
    message = pacs008(transfer("T-1", debtor_agent=MEMBER), transfer("T-2", debtor_agent=MEMBER))
    report = member.post("/v1/iso20022/pacs.008", content=message, headers=XML)
    assert statuses(report.content) == [("T-1", "RJCT", "DT01"), ("T-2", "RJCT", "DT01")]
    assert member.service.calls == []
    assert member.remembered("T-1", "T-2") == {}


@pytest.mark.parametrize(
    ("ahead", "late"), [(timedelta(minutes=5), timedelta(hours=24)), (timedelta(0), timedelta(0))]
)
def test_the_window_includes_both_ends(
    make_member: MakeMember, ahead: timedelta, late: timedelta
) -> None:
    member = make_member(
        max_ahead_seconds=int(ahead.total_seconds()), max_late_seconds=int(late.total_seconds())
    )
    tick = timedelta(microseconds=1)
    times = {
        "AHEAD": NOW + ahead,
        "LATE": NOW - late,
        "PAST-AHEAD": NOW + ahead + tick,
        "PAST-LATE": NOW - late - tick,
    }
    sent = {
        tx_id: member.post("/v1/transactions", json=mine(tx_id, ts=when.isoformat()))
        for tx_id, when in times.items()
    }
    assert {tx_id: answer.status_code for tx_id, answer in sent.items()} == {
        "AHEAD": 200,
        "LATE": 200,
        "PAST-AHEAD": 422,
        "PAST-LATE": 422,
    }


def test_the_window_moves_with_the_clock(make_member: MakeMember) -> None:
    member = make_member()
    two_days_ago = (NOW - timedelta(days=2)).isoformat()
    assert member.post("/v1/transactions", json=mine(ts=two_days_ago)).status_code == 422
    member.clock.set(NOW - timedelta(days=2))
    assert member.post("/v1/transactions", json=mine(ts=two_days_ago)).status_code == 200


def test_without_the_check_any_time_is_taken(make_member: MakeMember) -> None:
    member = make_member(check_time=False)
    body = [mine("T-0", ts=FAR_AHEAD), mine("T-1", ts=TEN_YEARS_AGO)]
    assert member.post("/v1/transactions/batch", json=body).status_code == 200
    message = pacs008(with_time("T-2", FAR_AHEAD))
    report = member.post("/v1/iso20022/pacs.008", content=message, headers=XML)
    assert statuses(report.content) == [("T-2", "ACSC", None)]


def test_the_window_is_set_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(config_file=None).api.model_dump() == {
        "check_time": True,
        "max_ahead_seconds": 300,
        "max_late_seconds": 86_400,
    }
    monkeypatch.setenv("FUNDWALL_API__CHECK_TIME", "false")
    monkeypatch.setenv("FUNDWALL_API__MAX_AHEAD_SECONDS", "60")
    monkeypatch.setenv("FUNDWALL_API__MAX_LATE_SECONDS", "3600")
    api = load_settings(config_file=None).api
    assert (api.check_time, api.max_ahead_seconds, api.max_late_seconds) == (False, 60, 3600)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_ahead_seconds", -1),
        ("max_late_seconds", -1),
        ("max_ahead_seconds", 3601),
        ("max_late_seconds", 7 * 86_400 + 1),
    ],
)
def test_a_window_out_of_bounds_is_refused(name: str, value: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        load_settings(config_file=None, api={name: value})
    assert raised.value.field == f"api.{name}"


def test_the_api_documentation_states_the_window() -> None:
    def described(**api: Any) -> str:
        app = create_app(RuleOfThumbService(), load_settings(config_file=None, api=api))
        return str(app.openapi()["info"]["description"])

    assert "more than 5 minutes ahead of the service's clock or more than 24 hours" in described()
    assert "ahead of the service's clock" not in described(check_time=False)
