"""The public portal in a real browser over the live server of tests/web/test_web_browser.py:
a person restricted by the first bank signs in with their ID and the code their handset
received, appeals with a file; the bank lifts the measure in the console and the running
engine passes the person's next payment. Then the portal's accessibility (labels, lang,
contrast, keyboard) and its width on a phone."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import select

from fundwall.accounts.controls import restrict
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.domain.decisions import Decision
from fundwall.domain.identity import MobilePhone
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.controls.model import RestrictionKind
from fundwall.engine.service import DecisionService
from fundwall.outreach.gateway import LocalGateway
from fundwall.outreach.outbox import delivered_to, dispatch_outbox
from fundwall.phones.queries import bind
from fundwall.store.tables import AccountRow, PartyRow

from .conftest import Console
from .region import Region
from .test_web_browser import Session, browser, live

__all__ = ["browser", "live"]  # the fixtures this module borrows

PHONE: Final = "13912345670"
NON_COUNTER: Final = "HC06"
CODE: Final = re.compile(r"验证码为(\d{6})")
_numbers = count(1)


@pytest.fixture(scope="module")
def holder(live: tuple[str, Console], region: Region) -> tuple[str, str]:
    """A person holding an open account of the first bank, to whom the bank bound PHONE and
    whose account it then suspended (non-counter): their ID number and the account."""
    _, console = live
    admin = Actor(ActorKind.USER, "browser", Role.MEMBER_ADMIN, region.first_bank)
    with console.uow() as uow:
        account, party = uow.session.execute(
            select(AccountRow, PartyRow)
            .join(PartyRow, PartyRow.party_id == AccountRow.party_id)
            .where(
                AccountRow.institution_code == region.first_bank,
                AccountRow.status == "normal",
                PartyRow.kind == "person",
                AccountRow.account_no != region.first_account,
            )
            .order_by(AccountRow.account_no)
            .limit(1)
        ).one()
        bind(uow.session, uow.keyring, member=region.first_bank, party_id=party.party_id,
             phone=MobilePhone(PHONE), at=uow.clock.now(), by="system:test",
             revision=None)  # fmt: skip
        uow.commit()
        id_number, number = uow.keyring.decrypt(party.id_number_enc), account.account_no
    with console.uow() as uow:
        restrict(uow, admin, number, RestrictionKind.NON_COUNTER_SUSPENSION,
                 reason="存量账户排查：一号多人")  # fmt: skip
    return id_number, number


@pytest.fixture(scope="module")
def engine(live: tuple[str, Console]) -> Iterator[DecisionService]:
    _, console = live
    service = console.platform.decision_service()
    try:
        yield service
    finally:
        service.close()


def _texts(console: Console) -> list[str]:
    with console.uow() as uow:
        dispatch_outbox(uow, LocalGateway())
        return [sms.text for sms in delivered_to(uow, PHONE)]


def _pays(engine: DecisionService, console: Console, region: Region, account: str) -> Decision:
    tx = Transaction(
        f"PORTAL{next(_numbers)}", console.clock.now() + timedelta(seconds=next(_numbers)),
        TransactionKind.TRANSFER, account, region.second_account,
        region.first_bank, region.second_bank, Money.of_fen(100_00), Channel.MOBILE,
    )  # fmt: skip
    return engine.decide(tx, member=region.first_bank)


def _phone_page(browser: Any, base: str, width: int = 390) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/portal/sign-in")
    return page


def _newest_code(console: Console) -> str:
    """The newest one-time code the holder's handset received."""
    codes = [found.group(1) for text in _texts(console) if (found := CODE.search(text))]
    assert codes
    return codes[-1]


def _sign_in(page: Any, console: Console, id_number: str) -> None:
    page.fill("#id_number", id_number)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.fill("#code", _newest_code(console))
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/portal/restrictions")


def test_an_appeal_walks_from_the_portal_to_its_lifting_and_the_payment_passes(
    browser: Any,
    live: tuple[str, Console],
    region: Region,
    holder: tuple[str, str],
    engine: DecisionService,
    tmp_path: Path,
) -> None:
    base, console = live
    (notice,) = [text for text in _texts(console) if "申诉" in text and "验证码" not in text]
    assert "暂停非柜面业务" in notice and "/portal" in notice
    id_number, account = holder
    blocked = _pays(engine, console, region, account)
    assert NON_COUNTER in {reason.rule_id for reason in blocked.reasons}

    page = _phone_page(browser, base)
    _sign_in(page, console, id_number)
    card = page.locator("article.card", has_text="一号多人")
    assert "需携带的材料" in card.inner_text()
    with page.expect_navigation():
        card.locator("a.button").click()
    page.fill("#reason", "这是我的工资卡，本人正常使用，有劳动合同为证。")
    slip = tmp_path / "工资条.png"
    slip.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.set_input_files("#files", str(slip))
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    assert "/portal/appeals/" in page.url and "银行审核中" in page.inner_text("main")
    appeal_id = page.url.rsplit("/", 1)[1]

    bank = Session(browser, base, "analyst1")
    bank.open("/appeals")
    with bank.page.expect_navigation():
        bank.page.click(f"a[href='/appeals/{appeal_id}']")
    assert "工资条.png" in bank.page.inner_text("main")
    bank.page.check("input[name=outcome][value=lifted]")
    bank.page.fill("#answer", "经核实为本人正常使用，已解除限制。")
    with bank.page.expect_navigation():
        bank.page.click("form[action$='/decision'] button[type=submit]")
    assert "已解除" in bank.page.inner_text("main")
    assert bank.errors == []
    bank.close()

    passed = _pays(engine, console, region, account)
    assert NON_COUNTER not in {reason.rule_id for reason in passed.reasons}
    page.goto(f"{base}/portal/appeals/{appeal_id}")
    assert "经核实为本人正常使用" in page.inner_text("main")
    assert "已解除限制" in page.inner_text("main")
    page.goto(f"{base}/portal/restrictions")
    assert "一号多人" not in page.inner_text("main")
    page.context.close()


CONTRAST: Final = """
(selector) => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((el) => {
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    return [el.tagName + ':' + el.textContent.trim().slice(0, 20), ratio];
  });
}
"""
LABELLED: Final = """
() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select')].filter(
  (el) => !(el.id && document.querySelector(`label[for="${el.id}"]`)) && !el.closest('label')
).map((el) => el.name)
"""


def test_the_portal_is_labelled_legible_and_works_from_the_keyboard(
    browser: Any, live: tuple[str, Console], holder: tuple[str, str]
) -> None:
    base, console = live
    page = _phone_page(browser, base)
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.evaluate(LABELLED) == []
    ratios = page.evaluate(CONTRAST, "p, label, h1, button, a, footer")
    low = [(what, round(ratio, 2)) for what, ratio in ratios if ratio < 4.5]
    assert ratios and low == []
    # Keyboard alone: Tab from the top reaches the field and then the submit button; Enter sends.
    page.keyboard.press("Tab")
    reached = []
    for _ in range(10):
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.type"))
        if reached[-1] == "id_number":
            break
        page.keyboard.press("Tab")
    assert reached[-1] == "id_number", reached
    page.keyboard.type(holder[0])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/portal/code")
    assert page.evaluate(LABELLED) == []
    page.focus("#code")
    page.keyboard.type(_newest_code(console))
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter in the field submits its form
    assert page.url.endswith("/portal/restrictions")
    for path in ("/portal/restrictions", "/portal/appeals", "/portal/accounts"):
        page.goto(base + path)
        assert page.evaluate(LABELLED) == [], path
        ratios = page.evaluate(CONTRAST, "main p, main h1, main h2, main button, main a, main dd")
        assert [r for r in ratios if r[1] < 4.5] == [], path
    page.context.close()


def test_the_portal_fits_a_phone_390_pixels_wide(
    browser: Any, live: tuple[str, Console], holder: tuple[str, str], tmp_path: Path
) -> None:
    """With FUNDWALL_SCREENSHOTS=DIR the restrictions page is saved as DIR/portal.png
    (docs/screenshots, as docs/public.md shows it)."""
    base, console = live
    console.clock.advance(timedelta(hours=1, seconds=1))  # past the phone's hourly limit on codes
    page = _phone_page(browser, base, 390)
    _sign_in(page, console, holder[0])
    for path in ("/portal/sign-in", "/portal/restrictions", "/portal/appeals", "/portal/accounts"):
        page.goto(base + path)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, (path, scroll, inner)
    page.goto(base + "/portal/restrictions")
    folder = Path(os.environ.get("FUNDWALL_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(folder / "portal.png"), full_page=True)
    page.context.close()
