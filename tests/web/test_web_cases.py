"""The case pages in the console: alerts grouped from the queue, a case worked on its page,
evidence uploaded and downloaded, in Chinese by default."""

from __future__ import annotations

import re
from datetime import timedelta

from fundwall.crypto import sm3_hex

from .clue_records import EVIDENCE, clue_values
from .conftest import Console, open_client, sign_in

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def test_an_analyst_groups_alerts_and_works_a_case_with_evidence(console: Console) -> None:
    client = sign_in(open_client(console.app), "analyst1")
    queue = client.get("/cases")
    assert queue.status_code == 200 and "归并预警" in queue.text
    grouped = client.post_form("/cases/group", {"by": "network"})
    assert grouped.status_code == 303
    found = re.search(r'href="/cases/(\d+)"', client.get("/cases").text)
    assert found is not None
    case = f"/cases/{found.group(1)}"
    assert client.post_form(case, {"assignee": "analyst1", "priority": "urgent"}).status_code == 303
    upload = client.post(
        f"{case}/evidence",
        data={"csrf_token": client.csrf},
        files={"file": ("流水.pdf", PDF, "application/pdf")},
    )
    assert upload.status_code == 303, upload.text
    refused = client.post(
        f"{case}/evidence",
        data={"csrf_token": client.csrf},
        files={"file": ("fake.pdf", b"MZ\x90\x00", "application/pdf")},
    )
    assert refused.status_code == 400 and "application/pdf" in refused.text
    shown = client.get(case)
    assert "流水.pdf" in shown.text and "紧急" in shown.text and "处理中" in shown.text
    link = re.search(rf'href="({case}/evidence/\d+)"', shown.text)
    assert link is not None
    download = client.get(link.group(1))
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    closed = client.post_form(f"{case}/close", {"outcome": "mule", "reason": "卡农"})
    assert closed.status_code == 303
    assert "涉案过渡账户" in client.get(case).text


def test_an_upload_over_the_limit_is_refused_before_it_is_read(console: Console) -> None:
    client = sign_in(open_client(console.app), "analyst1")
    client.post_form("/cases/group", {"by": "account"})
    found = re.search(r'href="/cases/(\d+)"', client.get("/cases").text)
    assert found is not None
    big = b"%PDF-" + bytes(11 * 1024 * 1024)
    answer = client.post(
        f"/cases/{found.group(1)}/evidence",
        data={"csrf_token": client.csrf},
        files={"file": ("big.pdf", big, "application/pdf")},
    )
    assert answer.status_code == 413
    assert "big.pdf" not in client.get(f"/cases/{found.group(1)}").text


def test_a_plain_form_route_does_not_read_an_upload(console: Console) -> None:
    client = sign_in(open_client(console.app), "analyst1")
    answer = client.post(
        "/cases/group",
        data={"csrf_token": client.csrf, "by": "account"},
        files={"file": ("a.csv", b"a\n", "text/csv")},
    )
    assert answer.status_code == 403


def test_a_banks_system_reads_its_cases_over_the_api(console: Console) -> None:
    """The region's first bank has two cases (tests/web/clue_records.py), one with an
    evidence file; the second bank one."""
    region = console.region
    with console.uow() as uow:
        first = clue_values(uow, region.first_bank, region.police_unit)
        second = clue_values(uow, region.second_bank, region.police_unit)
    bank = open_client(console.app)
    bank.headers["Authorization"] = f"Bearer {region.first_key}"
    queue = bank.get("/v1/cases")
    assert queue.status_code == 200, queue.text
    listed = queue.json()["items"]
    assert int(first["case_id"]) in {c["id"] for c in listed}
    assert int(second["case_id"]) not in {c["id"] for c in listed}
    assert {(c["status"], c["overdue"]) for c in listed} == {("open", False)}
    assert bank.get("/v1/cases", params={"status": "closed"}).json()["items"] == []
    assert bank.get("/v1/cases", params={"overdue": "true"}).json()["items"] == []
    reads = [bank.get(f"/v1/cases/{c['id']}") for c in listed]
    reply = next(r for r in reads if r.json()["evidence"])
    with_file = reply.json()
    assert with_file["accounts"] == [region.first_account]
    assert with_file["case"]["kind"] == "account" and with_file["opened_by"].startswith(
        "user:analyst1@"
    )
    evidence = with_file["evidence"][0]
    assert evidence["evidence_id"] == int(first["police_evidence_id"])
    assert evidence["sm3"] == sm3_hex(EVIDENCE) and EVIDENCE.decode() not in reply.text
    missing = bank.get(f"/v1/cases/{second['case_id']}")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    bad = bank.get("/v1/cases", params={"status": "shelved"})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    console.clock.advance(timedelta(days=4))  # past the account cases' 72-hour deadline
    late = bank.get("/v1/cases", params={"overdue": "true"}).json()["items"]
    assert {c["id"] for c in late} == {c["id"] for c in listed}
    assert all(c["overdue"] for c in late)
    spec = bank.get("/openapi.json").json()
    listing, case = (spec["paths"][p]["get"] for p in ("/v1/cases", "/v1/cases/{case_id}"))
    assert listing["tags"] == case["tags"] == ["cases"]
    assert {"401", "403", "422"} <= set(listing["responses"]) and "404" in case["responses"]
