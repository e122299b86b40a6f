"""Simplified opening (简易开户) on the console, over the console tests' region, whose local
telecom registry knows each person's own phone (tests/web/phone_records.py): the analyst's
form, the decision with its findings, the account it opens, the member's counts; who may
not use it, bad input, a number in the directory already, a registry that does not answer."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import func, select

from fundwall.auth import Actor
from fundwall.crypto import SharingKeys
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.domain.identity.account_number import luhn_check_digit
from fundwall.domain.identity.resident_id import resident_id_check_char
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.phones.registry import PhoneResult, RegistryAnswer, RegistryUnavailable
from fundwall.region import read_table
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries
from fundwall.store.governance_tables import OnboardingDecisionRow
from fundwall.store.tables import AccountRow, PartyRow
from phones.conftest import register  # tests/phones/conftest.py

from .conftest import Browser, Console, open_client

AsUser = Callable[[str], Browser]
FIRM_CODE = "91350200MA2Y3K4LX9"
COUNTS = re.compile(
    r'<span class="kpi-label">([^<]+)</span><span class="kpi-value">([\d,]+)</span>'
)


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    phone: str


def card(n: int) -> str:
    """A card number no account of the region has."""
    number = f"622202099000{n:06d}"
    return number + luhn_check_digit(number)


def region_person(console: Console, *, skip: int = 0) -> Person:
    """A person of the region whose phone the registry says is theirs and who holds no
    account at the first bank (a newcomer there: a class I account, unless restricted)."""
    bank = console.region.first_bank
    registry = console.platform.telecom_registry
    with console.uow() as uow:
        customers = set(
            uow.session.scalars(
                select(AccountRow.party_id).where(AccountRow.institution_code == bank)
            )
        )
        persons = set(
            uow.session.scalars(select(PartyRow.party_id).where(PartyRow.kind == "person"))
        )
    found = []
    for row in read_table(console.region.folder, "parties").to_pylist():
        if row["party_id"] in customers or row["party_id"] not in persons or not row["phone"]:
            continue
        answer = registry.verify(
            MobilePhone(row["phone"]), ResidentId(row["id_number"]), row["name"], None
        )
        if answer.result is PhoneResult.MATCH:
            found.append(Person(row["id_number"], row["name"], row["phone"]))
            if len(found) > skip:
                return found[skip]
    raise AssertionError("no person of the region with a phone of their own")


def newcomer(console: Console, n: int) -> Person:
    """Someone new to the region (n from 1 to 28: their birthday), their phone registered to
    them."""
    first17 = f"350203199202{n:02d}0{n:02d}"
    person = Person(first17 + resident_id_check_char(first17), "王五", f"1391234{n:04d}")
    with console.uow() as uow:
        register(uow, console.platform.keyring, MobilePhone(person.phone),
                 ResidentId(person.id_number))  # fmt: skip
    return person


def application(person: Person, account_no: str = "", **more: str) -> dict[str, str]:
    return {
        "applicant": "flexible_worker",
        "id_number": person.id_number,
        "name": person.name,
        "phone": person.phone,
        "account_no": account_no,
        **more,
    }


def decisions(console: Console) -> int:
    with console.uow() as uow:
        return int(uow.session.scalar(select(func.count(OnboardingDecisionRow.id))) or 0)


def counts(page: str) -> dict[str, str]:
    return dict(COUNTS.findall(page))


def test_an_analyst_finds_the_form_and_the_counts(shared_console: Console, viewer: AsUser) -> None:
    analyst = viewer("analyst1")
    home = analyst.get("/")
    assert '<a href="/onboarding">简易开户</a>' in home.text
    page = analyst.get("/onboarding")
    assert page.status_code == 200
    assert 'aria-current="page">简易开户' in page.text
    assert 'name="csrf_token"' in page.text and 'action="/onboarding"' in page.text
    for field in ("applicant", "id_number", "name", "phone", "representative_id", "account_no"):
        assert f'name="{field}"' in page.text, field
    assert 'value="flexible_worker" checked' in page.text
    assert counts(page.text) == {
        "决策数": "0", "准予开户": "0", "准予开户（受限）": "0", "转柜面办理": "0",
        "已开立账户": "0",
    }  # fmt: skip
    assert viewer("admin1").get("/onboarding").status_code == 200


@pytest.mark.parametrize("user", ["supervisor", "police", "auditor"])
def test_those_who_open_no_accounts_are_refused_and_not_shown_the_page(
    shared_console: Console, viewer: AsUser, user: str
) -> None:
    client = viewer(user)
    assert 'href="/onboarding"' not in client.get("/").text
    assert client.get("/onboarding").status_code == 403
    person = Person("11010519491231002X", "张三", "13812345678")
    assert client.post_form("/onboarding", application(person)).status_code == 403
    assert decisions(shared_console) == 0


def test_signed_out_the_page_asks_to_sign_in(shared_console: Console) -> None:
    client = open_client(shared_console.app)
    answer = client.get("/onboarding")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_clean_newcomer_is_opened_at_once_and_the_account_page_shows_it(
    console: Console, as_user: AsUser
) -> None:
    person = newcomer(console, 1)
    analyst = as_user("analyst1")
    answer = analyst.post_form("/onboarding", application(person, card(1)))
    assert answer.status_code == 200, answer.text
    decision = answer.text[answer.text.index('id="decision"') :]
    assert '<span class="badge outcome-open">准予开户</span>' in decision
    assert "<dt>账户类别</dt><dd>Ⅰ类户</dd>" in decision
    assert f'<a class="mono" href="/accounts/{card(1)}">{card(1)}</a>' in decision
    assert "手机号实名核验一致" in decision and "身份证件有效" in decision
    assert counts(answer.text)["已开立账户"] == "1" and counts(answer.text)["准予开户"] == "1"
    page = analyst.get(f"/accounts/{card(1)}")
    assert page.status_code == 200
    tier = page.text[page.text.index('id="risk-tier"') :]
    assert "低风险" in tier and "开户时的等级，未曾调整" in tier
    with console.uow() as uow:
        opened = uow.session.get(AccountRow, card(1))
        assert opened is not None
        assert (opened.institution_code, opened.account_class, opened.opening_channel) == (
            console.region.first_bank, "I", "online",
        )  # fmt: skip
    analyst.get("/lang/en")
    english = analyst.post_form("/onboarding", application(person)).text
    assert "the phone is the person&#39;s" in english and "Phone real-name check" in english
    analyst.get("/lang/zh")


def test_a_card_dealers_phone_opens_restricted_in_the_medium_tier(
    console: Console, as_user: AsUser
) -> None:
    person = region_person(console)
    keys = SharingKeys.load(console.region.keys, (1,))
    dealer = NewEntry(ListKind.PHONE_HASH, keys.hash("phone", person.phone),
                      RiskCategory.CARD_DEALER, Evidence.MEMBER_SUSPECTED)  # fmt: skip
    with console.uow() as uow:
        publish_entries(uow, Actor.operator("test"), [dealer], member=console.region.second_bank)
    analyst = as_user("analyst1")
    answer = analyst.post_form("/onboarding", application(person, card(2)))
    assert answer.status_code == 200, answer.text
    decision = answer.text[answer.text.index('id="decision"') :]
    assert '<span class="badge outcome-open_restricted">准予开户（受限）</span>' in decision
    assert '<span class="badge tier-medium">中风险</span>' in decision
    assert "身份证件或手机号在共享风险名单上（card_dealer）" in decision
    page = analyst.get(f"/accounts/{card(2)}").text
    tier = page[page.index('id="risk-tier"') :]
    assert '<span class="badge tier-medium">中风险</span>' in tier
    assert "<dt>设定来源</dt><dd>简易开户" in tier
    assert "simplified opening: shared_list" in tier
    assert "非柜面渠道每日向绑定账户以外转出不超过¥5,000.00" in tier
    assert 'id="tier-history"' in tier and "低风险 → " in tier


def test_a_phone_of_someone_else_refers_to_a_counter_and_opens_nothing(
    console: Console, as_user: AsUser
) -> None:
    person = dataclasses.replace(region_person(console), phone=region_person(console, skip=1).phone)
    answer = as_user("analyst1").post_form("/onboarding", application(person, card(3)))
    assert answer.status_code == 200
    decision = answer.text[answer.text.index('id="decision"') :]
    assert '<span class="badge outcome-refer">转柜面办理</span>' in decision
    assert "手机号登记在他人名下，须到柜面核实身份" in decision
    assert "无：须先到柜面核实身份" in decision and f"/accounts/{card(3)}" not in decision
    assert counts(answer.text)["转柜面办理"] == "1"
    with console.uow() as uow:
        assert uow.session.get(AccountRow, card(3)) is None


def test_a_micro_firm_is_checked_by_its_representative_and_gets_a_basic_account(
    console: Console, as_user: AsUser
) -> None:
    representative = region_person(console)
    firm = {"applicant": "micro_firm", "id_number": FIRM_CODE, "name": "厦门小微科技有限公司"}
    form = application(representative, card(4), representative_id=representative.id_number, **firm)
    answer = as_user("analyst1").post_form("/onboarding", form)
    assert answer.status_code == 200, answer.text
    assert '<span class="badge outcome-open">准予开户</span>' in answer.text
    with console.uow() as uow:
        opened = uow.session.get(AccountRow, card(4))
        assert opened is not None and opened.account_class == "corporate"
        holder = uow.session.get(PartyRow, opened.party_id)
        assert holder is not None and holder.kind == "firm"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"applicant": "pensioner"}, "申请人类型"),
        ({"applicant": ""}, "申请人类型"),
        ({"id_number": "350203199202010011"}, "证件号码或统一社会信用代码"),
        ({"name": "  "}, "姓名或名称"),
        ({"name": "名" * 101}, "姓名或名称"),
        ({"phone": "1234"}, "手机号码"),
        ({"account_no": "6222-abc"}, "开立账号"),
        ({"applicant": "micro_firm", "id_number": FIRM_CODE}, "法定代表人身份证号码"),
        (
            {"applicant": "micro_firm", "representative_id": "11010519491231002X"},
            "证件号码或统一社会信用代码",
        ),
    ],
)
def test_bad_input_comes_back_as_the_form_naming_the_field(
    console: Console, as_user: AsUser, change: dict[str, str], field: str
) -> None:
    person = newcomer(console, 5)
    form = {**application(person, card(5)), **change}
    answer = as_user("analyst1").post_form("/onboarding", form)
    assert answer.status_code == 422, answer.text
    refusal = answer.text[answer.text.index('id="refusal"') :]
    assert f"<strong>{field}</strong>" in refusal and "未作出决定，也未留下任何记录" in refusal
    assert 'aria-invalid="true"' in answer.text
    if change.get("name") != "  ":  # what was typed is kept
        assert f'value="{form["phone"]}"' in answer.text
    assert decisions(console) == 0


def test_an_account_number_in_the_directory_is_refused_and_nothing_recorded(
    console: Console, as_user: AsUser
) -> None:
    person = newcomer(console, 6)
    taken = console.region.first_account
    answer = as_user("analyst1").post_form("/onboarding", application(person, taken))
    assert answer.status_code == 409
    assert "该账号已在账户目录中" in answer.text and 'id="decision"' not in answer.text
    assert decisions(console) == 0


def test_a_registry_that_does_not_answer_is_a_503_and_nothing_is_recorded(
    console: Console, as_user: AsUser
) -> None:
    class Silent:
        name = "silent"

        def verify(
            self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
        ) -> RegistryAnswer:
            raise RegistryUnavailable(self.name, "timed out after 3.0 s")

    config = console.app.state.fundwall_console
    console.app.state.fundwall_console = dataclasses.replace(config, telecom_registry=Silent())
    person = newcomer(console, 7)
    answer = as_user("analyst1").post_form("/onboarding", application(person, card(7)))
    assert answer.status_code == 503
    assert "电信实名系统未响应，无法核验手机号，请稍后重试" in answer.text
    assert f'value="{person.id_number}"' in answer.text  # the form as typed, to send again
    assert decisions(console) == 0
    with console.uow() as uow:
        assert uow.session.get(AccountRow, card(7)) is None


def test_a_decision_needs_the_sessions_csrf_token(console: Console, as_user: AsUser) -> None:
    person = newcomer(console, 8)
    analyst = as_user("analyst1")
    for token in ("", "forged"):
        answer = analyst.post("/onboarding", data={**application(person), "csrf_token": token})
        assert answer.status_code == 403
    other_site = analyst.post_form(
        "/onboarding", application(person), headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    assert decisions(console) == 0


def test_each_member_counts_its_own_decisions(console: Console, as_user: AsUser) -> None:
    person = newcomer(console, 9)
    assert as_user("analyst1").post_form("/onboarding", application(person)).status_code == 200
    theirs = counts(as_user("analyst2").get("/onboarding").text)
    assert theirs["决策数"] == "0" and theirs["准予开户"] == "0"
    mine = counts(as_user("analyst1").get("/onboarding").text)
    assert mine["决策数"] == "1" and mine["已开立账户"] == "0"
