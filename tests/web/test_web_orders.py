"""The police orders in the console: the officer issues an order through the form, the bank
answers it on the order's page, both see its history and documents; refusals come back with
their reason; Chinese by default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from .conftest import Browser, Console, open_client, sign_in

FORM = {
    "kind": "stop_payment",
    "document_no": "厦公(思)止字〔2024〕0042号",
    "officers": "王警官",
    "police_case_no": "A3502032024030001",
    "legal_basis": "《反电信网络诈骗法》第三十二条",
}


def test_an_order_goes_from_the_officers_form_to_the_banks_answer(
    console: Console, as_user: Callable[[str], Browser]
) -> None:
    police, bank, other = as_user("police"), as_user("analyst1"), as_user("analyst2")
    account = console.region.first_account
    assert "公安指令" in police.get("/").text  # the navigation's entry
    form = police.get("/orders/new")
    assert form.status_code == 200 and "签发指令" in form.text
    issued = police.post_form("/orders", {**FORM, "account_no": account})
    assert issued.status_code == 303, issued.text
    path = issued.headers["location"]
    shown = police.get(path).text
    assert "紧急止付" in shown and "已签发" in shown and "47:59:59" not in shown
    assert "48:00:00" in shown or "2d 00:00:00" in shown
    assert "答复指令" not in shown  # the officer does not answer
    assert other.get(path).status_code == 404
    listed = bank.get("/orders").text
    assert FORM["document_no"] in listed and "24小时内到期" in listed
    assert "答复指令" in bank.get(path).text
    answered = bank.post_form(f"{path}/answer", {"result": "executed", "held": "100.00"})
    assert answered.status_code == 303
    page = police.get(path).text
    assert "已执行" in page and "¥100.00" in page and "银行回执" in page
    assert police.get(f"/v1{path}/receipt.pdf").content.startswith(b"%PDF-")
    console.clock.advance(timedelta(hours=47))
    police = sign_in(open_client(console.app), "police")  # the old session has lapsed
    listing = police.get("/orders")
    assert FORM["document_no"] in listing.text.split("24小时内到期")[1]
    again = police.post_form("/orders", {**FORM, "account_no": account, "document_no": "X-0002"})
    assert again.status_code == 422 and "stopped already" in again.text
    assert 'value="X-0002"' in again.text  # the form comes back filled in
    assert police.get("/orders?lang=en").status_code == 200
    police.close()


def test_the_form_refuses_bad_input_naming_it(as_user: Callable[[str], Browser]) -> None:
    police = as_user("police")
    for changes, reason in (
        ({"account_no": "NOSUCH"}, "directory"),
        ({"account_no": "X", "amount": "1.234"}, "amount"),
        ({"kind": "seize"}, "kind"),
        ({"document_no": ""}, "document number is missing"),
    ):
        answer = police.post_form("/orders", {**FORM, **changes})
        assert answer.status_code == 422 and reason in answer.text, (changes, answer.text)
    assert as_user("analyst1").get("/orders/new").status_code == 403
