"""Clues on the console and the API, over the console tests' region (tests/web/region.py),
where each bank sent a clue to another police unit and the first bank one more, with an
evidence file, to the demo officer's unit (tests/web/clue_records.py)."""

from __future__ import annotations

from collections.abc import Callable

from fundwall.auth import Actor
from fundwall.members import create_api_key

from .clue_records import EVIDENCE, clue_values
from .conftest import Browser, Console, open_client

AsUser = Callable[[str], Browser]
PROBLEM = "application/problem+json"
CASE_NO = "A3502035100002024030001"


def _values(console: Console, bank: str) -> dict[str, str]:
    with console.uow() as uow:
        return clue_values(uow, bank, console.region.police_unit)


def test_the_bank_sees_its_clues_and_not_the_others(console: Console, as_user: AsUser) -> None:
    region = console.region
    first, second = _values(console, region.first_bank), _values(console, region.second_bank)
    analyst = as_user("analyst1")
    outbox = analyst.get("/clues/outbox")
    assert outbox.status_code == 200 and "已移送线索" in outbox.text
    assert f'href="/clues/{first["clue_id"]}"' in outbox.text
    assert f'href="/clues/{second["clue_id"]}"' not in outbox.text
    page = analyst.get(f"/clues/{first['clue_id']}")
    assert page.status_code == 200 and region.first_account in page.text
    assert "持有人" not in page.text  # the bank's view has no holders
    assert analyst.get(f"/clues/{second['clue_id']}").status_code == 404
    assert analyst.get("/clues/inbox").status_code == 403


def test_the_officer_reads_answers_and_downloads_from_the_inbox(
    console: Console, as_user: AsUser
) -> None:
    values = _values(console, console.region.first_bank)
    clue_id = values["police_clue_id"]
    police = as_user("police")
    inbox = police.get("/clues/inbox")
    assert f'href="/clues/{clue_id}"' in inbox.text
    assert f'href="/clues/{values["clue_id"]}"' not in inbox.text  # another unit's
    page = police.get(f"/clues/{clue_id}")
    assert page.status_code == 200 and "每次查看均记入审计日志" in page.text
    assert console.region.first_account in page.text
    assert police.get(f"/clues/{values['clue_id']}").status_code == 404
    download = police.get(f"/clues/{clue_id}/evidence/{values['police_evidence_id']}")
    assert download.content == EVIDENCE
    assert download.headers["content-disposition"].startswith("attachment")
    bad = police.post_form(
        f"/clues/{clue_id}/answer", {"status": "accepted", "police_case_no": "2024-1"}
    )
    assert bad.status_code == 422 and "police_case_no" in bad.text
    accepted = police.post_form(
        f"/clues/{clue_id}/answer", {"status": "accepted", "police_case_no": CASE_NO}
    )
    assert accepted.status_code == 303
    again = police.post_form(f"/clues/{clue_id}/answer", {"status": "received"})
    assert again.status_code == 409 and "accepted" in again.text
    page = police.get(f"/clues/{clue_id}?lang=en")
    assert CASE_NO in page.text
    # Accepted: the account is in the unit's scope now.
    assert police.get(f"/accounts/{console.region.first_account}").status_code == 200


def test_a_clue_is_sent_from_a_case_page_form(console: Console, as_user: AsUser) -> None:
    values = _values(console, console.region.first_bank)
    analyst = as_user("analyst1")
    sent = analyst.post_form(
        f"/cases/{values['case_id']}/clue",
        {"police_unit": console.region.police_unit, "summary": "money in and straight out"},
    )
    assert sent.status_code == 303
    assert analyst.get(sent.headers["location"]).status_code == 200
    again = analyst.post_form(
        f"/cases/{values['case_id']}/clue",
        {"police_unit": console.region.police_unit, "summary": "money in and straight out"},
    )
    assert again.status_code == 409
    other = as_user("analyst2").post_form(
        f"/cases/{values['case_id']}/clue",
        {"police_unit": console.region.police_unit, "summary": "money in and straight out"},
    )
    assert other.status_code == 404


def test_the_hub_sees_counts_only(console: Console, as_user: AsUser) -> None:
    page = as_user("supervisor").get("/clues/counts")
    assert page.status_code == 200
    assert console.region.first_bank in page.text and console.region.first_account not in page.text
    assert 'href="/clues/counts"' in page.text  # in the navigation


def test_the_api_sends_lists_reads_and_answers(console: Console) -> None:
    region = console.region
    first, second = _values(console, region.first_bank), _values(console, region.second_bank)
    with console.uow() as uow:
        _, police_key = create_api_key(uow, Actor.operator("test"), region.police_unit)
    bank = open_client(console.app)
    bank.headers["Authorization"] = f"Bearer {region.first_key}"
    police = open_client(console.app)
    police.headers["Authorization"] = f"Bearer {police_key}"
    body = {"case_id": int(first["case_id"]), "police_unit": region.police_unit, "summary": "x"}
    short = bank.post("/v1/clues", json=body)
    assert short.status_code == 422 and short.headers["content-type"] == PROBLEM
    assert short.json()["errors"][0]["field"] == "summary"
    sent = bank.post("/v1/clues", json={**body, "summary": "money in and straight out"})
    assert sent.status_code == 201, sent.text
    clue = sent.json()
    assert [a["account_no"] for a in clue["package"]["accounts"]] == [region.first_account]
    assert clue["package"]["accounts"][0]["holder"] is None
    listed = bank.get("/v1/clues").json()["items"]
    assert {c["clue_id"] for c in listed} >= {clue["clue_id"], int(first["clue_id"])}
    assert bank.get(f"/v1/clues/{second['clue_id']}").status_code == 404
    inbox = police.get("/v1/clues/inbox", params={"status": "sent"}).json()["items"]
    assert {c["clue_id"] for c in inbox} == {clue["clue_id"], int(first["police_clue_id"])}
    read = police.get(f"/v1/clues/{clue['clue_id']}").json()
    holder = read["package"]["accounts"][0]["holder"]
    assert holder is not None and "*" not in holder["id_number"]
    assert read["answers"] == ["received", "accepted", "rejected"]
    answered = police.post(
        f"/v1/clues/{clue['clue_id']}/answer", json={"status": "rejected", "reason": "not ours"}
    )
    assert answered.status_code == 200 and answered.json()["status"] == "rejected"
    late = police.post(f"/v1/clues/{clue['clue_id']}/answer", json={"status": "received"})
    assert late.status_code == 409 and "rejected" in late.json()["detail"]
    assert police.get(f"/v1/clues/{second['clue_id']}").status_code == 404
    assert (
        bank.post(f"/v1/clues/{clue['clue_id']}/answer", json={"status": "received"}).status_code
        == 403
    )
    openapi = bank.get("/openapi.json").json()
    assert {"/v1/clues", "/v1/clues/inbox", "/v1/clues/{clue_id}"} <= set(openapi["paths"])
