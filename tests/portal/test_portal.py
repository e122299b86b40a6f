"""The public portal on SQLite and PostgreSQL, through its pages as a browser uses them: the
identity check answers alike whatever the ID, within its per-address limits and never faster
than the floor; the sealed cookie and CSRF tokens; a person's restrictions, appeal (with a
file), answer and online closure; one person never reaches another's."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from auth import world
from fundwall.accounts.controls import restrict
from fundwall.appeals.model import Outcome
from fundwall.appeals.review import decide_appeal
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.clock import FixedClock
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.tables import AccountRow

from .conftest import PHONES, Served, Uow, code_sent_to, signed_in, visitor

ADMIN_A = Actor(ActorKind.USER, "amy", Role.MEMBER_ADMIN, world.BANK_A, 1)
ADMIN_B = Actor(ActorKind.USER, "bea", Role.MEMBER_ADMIN, world.BANK_B, 2)
STRANGER = "11010519491231002X"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _suspend(uow_factory: Uow, account: str, admin: Actor = ADMIN_A) -> int:
    with uow_factory() as uow:
        return restrict(uow, admin, account, RestrictionKind.NON_COUNTER_SUSPENSION,
                        reason="一号多人：绑定手机号同时绑定了7人")  # fmt: skip


def test_a_known_an_unknown_and_a_phoneless_id_are_answered_alike(
    served: Served, bound: Uow
) -> None:
    answers = []
    for id_number in (world.person(1).id_number, STRANGER, world.person(2).id_number):
        client = visitor(served.app)
        client.page("/portal/sign-in")
        started = time.monotonic()
        answer = client.submit("/portal/sign-in", {"id_number": id_number})
        took = time.monotonic() - started
        assert took >= served.platform.settings.portal.answer_floor_ms / 1000
        page = client.page("/portal/code")
        answers.append(
            (answer.status_code, answer.headers["location"], page.replace(client.csrf, ""))
        )
    assert answers[0] == answers[1] == answers[2]
    code_sent_to(bound, PHONES[1][2])  # the known ID's phone got its code


def test_a_bad_code_an_unknown_ids_code_and_a_good_one(served: Served, bound: Uow) -> None:
    stranger = visitor(served.app)
    stranger.page("/portal/sign-in")
    stranger.submit("/portal/sign-in", {"id_number": STRANGER})
    stranger.page("/portal/code")
    wrong = stranger.submit("/portal/code", {"code": "123456"})
    assert wrong.status_code == 401 and "错误或已过期" in wrong.text
    assert stranger.get("/portal/restrictions").headers["location"] == "/portal/sign-in"
    person = signed_in(served.app, bound, 1)
    assert "暂无被管控的账户" in person.page("/portal/restrictions")


def test_the_cookie_is_sealed_strict_and_forms_need_their_token(served: Served, bound: Uow) -> None:
    client = visitor(served.app)
    form = client.get("/portal/sign-in")
    cookie = form.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    assert "Path=/portal" in cookie
    forged = client.post("/portal/sign-in", data={"id_number": STRANGER, "csrf_token": "x"})
    assert forged.status_code == 403
    elsewhere = client.post("/portal/sign-in", headers={"origin": "https://evil.example"},
                            data={"id_number": STRANGER})  # fmt: skip
    assert elsewhere.status_code == 403
    bare = visitor(served.app).post("/portal/sign-in", data={"id_number": STRANGER})
    assert bare.status_code == 403
    person = signed_in(served.app, bound, 1)
    sealed = person.cookies.get("fundwall_portal", path="/portal")
    assert sealed and world.person(1).id_number not in sealed
    tampered = sealed[:-3] + ("AAA" if not sealed.endswith("AAA") else "BBB")
    person.cookies.clear()
    person.cookies.set("fundwall_portal", tampered)
    assert person.get("/portal/restrictions").headers["location"] == "/portal/sign-in"


def test_the_session_ends_after_its_minutes_and_on_sign_out(
    served: Served, bound: Uow, clock: FixedClock
) -> None:
    person = signed_in(served.app, bound, 1)
    out = person.submit("/portal/sign-out", {})
    assert out.status_code == 303
    assert person.get("/portal/restrictions").headers["location"] == "/portal/sign-in"
    again = signed_in(served.app, bound, 1)
    clock.advance(timedelta(minutes=served.platform.settings.portal.session_minutes))
    assert again.get("/portal/restrictions").headers["location"] == "/portal/sign-in"


def test_one_address_asks_for_so_many_codes_an_hour(served: Served, bound: Uow) -> None:
    limit = served.platform.settings.portal.codes_per_address_per_hour
    client = visitor(served.app, "198.51.100.9")
    client.page("/portal/sign-in")
    statuses = [
        client.submit("/portal/sign-in", {"id_number": STRANGER}).status_code
        for _ in range(limit + 1)
    ]
    assert statuses == [303] * limit + [429]
    elsewhere = visitor(served.app, "198.51.100.10")
    elsewhere.page("/portal/sign-in")
    assert elsewhere.submit("/portal/sign-in", {"id_number": STRANGER}).status_code == 303


def test_a_person_appeals_with_a_file_and_reads_the_banks_answer(
    served: Served, bound: Uow
) -> None:
    restriction = _suspend(bound, "A1")
    person = signed_in(served.app, bound, 1)
    page = person.page("/portal/restrictions")
    assert "一号多人" in page and "非柜面业务暂停" in page and "身份证件" in page
    form = person.page(f"/portal/restrictions/r{restriction}/appeal")
    assert 'for="reason"' in form and 'for="files"' in form
    empty = person.submit(f"/portal/restrictions/r{restriction}/appeal", {"reason": " "},
                        files={"files": ("slip.png", PNG, "image/png")})  # fmt: skip
    assert empty.status_code == 422 and "reason" in empty.text
    assert "请填写申诉理由，不超过1000字" in empty.text  # what to do, in the person's language
    bad_phone = person.submit(f"/portal/restrictions/r{restriction}/appeal",
                              {"reason": "本人使用", "contact": "12345"})  # fmt: skip
    assert bad_phone.status_code == 422 and "请填写11位中国大陆手机号" in bad_phone.text
    fake = person.submit(f"/portal/restrictions/r{restriction}/appeal", {"reason": "本人使用"},
                         files={"files": ("slip.png", b"MZ" + b"0" * 64, "image/png")})  # fmt: skip
    assert fake.status_code == 422 and "文件内容须与其扩展名相符" in fake.text
    filed = person.submit(f"/portal/restrictions/r{restriction}/appeal",
                        {"reason": "本人工资卡，正常使用", "contact": ""},
                        files=[("files", ("slip.png", PNG, "image/png")),
                               ("files", ("slip2.png", PNG, "image/png"))])  # fmt: skip
    assert filed.status_code == 303, filed.text
    appeal_id = int(filed.headers["location"].rsplit("/", 1)[1])
    shown = person.page(filed.headers["location"])
    assert "slip.png" in shown and "slip2.png" in shown and "本人工资卡" in shown
    twice = person.submit(f"/portal/restrictions/r{restriction}/appeal", {"reason": "again"})
    assert twice.status_code == 409
    with bound() as uow:
        keyring = served.platform.keyring
        analyst = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 3)
        decide_appeal(
            uow, analyst, appeal_id, Outcome.MAINTAINED, "经核实，交易对手涉诈。", keyring
        )
    answer = person.page(f"/portal/appeals/{appeal_id}")
    assert "经核实，交易对手涉诈。" in answer and "维持" in answer
    assert str(appeal_id) in person.page("/portal/appeals")


def test_one_person_never_reaches_anothers_restrictions_or_appeals(
    served: Served, bound: Uow
) -> None:
    theirs = _suspend(bound, "B1", ADMIN_B)
    mine = _suspend(bound, "A1")
    other = signed_in(served.app, bound, 3, peer="203.0.113.8")
    filed = other.submit(f"/portal/restrictions/r{theirs}/appeal", {"reason": "本人使用"})
    assert filed.status_code == 303
    their_appeal = filed.headers["location"]
    person = signed_in(served.app, bound, 1)
    # Its appeal link names it (a bare "r1" may be inside the page's random form token).
    assert f"/restrictions/r{theirs}/" not in person.page("/portal/restrictions")
    assert person.get(f"/portal/restrictions/r{theirs}/appeal").status_code == 404
    refused = person.submit(f"/portal/restrictions/r{theirs}/appeal", {"reason": "x"})
    assert refused.status_code == 404
    assert person.get(their_appeal).status_code == 404
    assert person.get("/portal/appeals/abc").status_code == 404
    assert f"/restrictions/r{mine}/" in person.page("/portal/restrictions")
    closing = person.submit("/portal/accounts/close", {"account_no": "B1", "confirm": "yes"})
    assert closing.status_code == 404


def test_a_person_closes_an_account_online_once_nothing_holds_it(
    served: Served, bound: Uow
) -> None:
    person = signed_in(served.app, bound, 1)
    accounts = person.page("/portal/accounts")
    # Shown masked, sent whole (the page's random form token may hold "A1" too).
    assert "A1" not in accounts.replace(person.csrf, "").replace('value="A1"', "")
    assert "银行B001 · *1" in accounts  # the bank by name
    unticked = person.submit("/portal/accounts/close", {"account_no": "A1", "move_to": ""})
    assert unticked.status_code == 422 and "请勾选确认" in unticked.text  # nothing closed
    held = person.submit("/portal/accounts/close",
                         {"account_no": "A1", "move_to": "", "confirm": "yes"})  # fmt: skip
    assert held.status_code == 409 and "未能销户" in held.text and "须先转出" in held.text
    assert "moved out first" not in held.text  # said in the reader's language
    home = {"account_no": "A1", "move_to": "6222020200112233445", "confirm": "yes"}
    named = person.submit("/portal/accounts/close", home)
    assert named.status_code == 409 and "转至所填账户6222" in named.text  # none paid once closed
    person.get("/portal/lang/en?next=/portal/accounts")
    english = person.submit("/portal/accounts/close", home)
    assert "moved out first (to 6222" in english.text and "须先转出" not in english.text
    person.get("/portal/lang/zh?next=/portal/accounts")
    with bound() as uow:
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0  # the holder moved it out through the bank
        uow.commit()
    closed = person.submit("/portal/accounts/close", home)
    assert closed.status_code == 200 and "已销户" in closed.text
    assert "注销此账户" not in closed.text  # its only account is closed: no form left


def test_the_portal_speaks_english_on_request(served: Served, bound: Uow) -> None:
    client = visitor(served.app)
    assert '<html lang="zh-CN">' in client.page("/portal/sign-in")
    chosen = client.get("/portal/lang/en?next=/portal/sign-in")
    assert chosen.headers["location"] == "/portal/sign-in"
    page = client.page("/portal/sign-in")
    assert '<html lang="en">' in page and "Resident ID number" in page
    away = client.get("/portal/lang/en?next=https://evil.example/")
    assert away.headers["location"] == "/portal/"


PERSONS_PAGES = ["/portal/restrictions", "/portal/appeals", "/portal/accounts",
                 "/portal/appeals/1", "/portal/restrictions/r1/appeal"]  # fmt: skip


@pytest.mark.parametrize("path", PERSONS_PAGES)
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(served: Served, path: str) -> None:
    answer = visitor(served.app).get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/sign-in"
