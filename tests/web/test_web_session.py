"""Signing in and out of the console: cookies, CSRF, sign-in waits, language, security headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from httpx import Response

from .conftest import Browser, Console, open_client, sign_in
from .region import PASSWORD

AsUser = Callable[[str], Browser]
TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
USERNAME = re.compile(r'name="username" value="([^"]*)"')


def _token(client: Browser) -> str:
    found = TOKEN.search(client.get("/login").text)
    assert found is not None
    return found.group(1)


def test_a_page_without_a_session_goes_to_sign_in_and_comes_back(console: Console) -> None:
    with open_client(console.app) as client:
        first = client.get("/alerts?status=new")
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=/alerts%3Fstatus%3Dnew"
        form = client.get(first.headers["location"])
        assert 'name="next" value="/alerts?status=new"' in form.text
        signed = client.post(
            "/login",
            data={
                "username": "analyst1",
                "password": PASSWORD,
                "login_token": TOKEN.search(form.text).group(1),  # type: ignore[union-attr]
                "next": "/alerts?status=new",
            },
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/alerts?status=new"
        assert client.get("/alerts?status=new").status_code == 200


def test_the_session_cookie_is_secure_http_only_and_same_site(console: Console) -> None:
    with open_client(console.app) as client:
        answer = client.post(
            "/login",
            data={"username": "analyst1", "password": PASSWORD, "login_token": _token(client)},
        )
    cookie = answer.headers["set-cookie"].lower()
    assert "fundwall_session=" in cookie
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


def test_the_demo_over_plain_http_on_this_machine_gets_a_cookie_it_can_send_back(
    console: Console,
) -> None:
    with Browser(console.app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        answer = client.post(
            "/login",
            data={"username": "analyst1", "password": PASSWORD, "login_token": _token(client)},
        )
        assert "secure" not in answer.headers["set-cookie"].lower()
        assert client.get("/").status_code == 200


def _attempt(client: Browser, username: str, password: str) -> Response:
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": _token(client)},
    )


def _refusal(answer: Response) -> tuple[int, str, list[str]]:
    """A refused sign-in without what differs by design: the form's token, the name typed."""
    assert answer.status_code == 401, answer.status_code
    text = TOKEN.sub("", answer.text).replace('value="' + USERNAME.search(answer.text)[1], "")
    cookies = sorted(cookie.partition("=")[0] for cookie in answer.headers.get_list("set-cookie"))
    return answer.status_code, text, cookies


def _why(console: Console, count: int) -> list[tuple[str, str]]:
    """(actor, why) of the last `count` audit records."""
    with console.uow() as uow:
        return [(record.actor, record.details.get("why", "")) for record in uow.audit.tail(count)]


def test_unknown_names_wrong_passwords_and_waits_are_answered_alike(console: Console) -> None:
    with open_client(console.app, "198.51.100.7") as client:
        unknown = _refusal(_attempt(client, "nobody", "wrong password"))
        wrong = _refusal(_attempt(client, "analyst1", "wrong password"))
        for _ in range(5):
            _attempt(client, "analyst2", "wrong password")
        user_waits = _refusal(_attempt(client, "analyst2", PASSWORD))
        for number in range(20):
            _attempt(client, f"name{number}", "wrong password")
        address_waits = _refusal(_attempt(client, "analyst1", PASSWORD))
    assert unknown == wrong == user_waits == address_waits
    assert "用户名或密码错误" in unknown[1]
    assert _why(console, 1) == [("anonymous:198.51.100.7", "address waits")]


def test_sixty_names_from_one_address_wait_while_a_user_elsewhere_signs_in(
    console: Console,
) -> None:
    with open_client(console.app, "198.51.100.7") as stranger:
        names = ["analyst1", "analyst2", "supervisor", *(f"user{n}" for n in range(57))]
        for name in names:
            assert _attempt(stranger, name, "wrong password").status_code == 401
        # Even a right password is refused from there now, answered alike.
        assert _attempt(stranger, "police", PASSWORD).status_code == 401
    whys = [why for _, why in _why(console, 61)]
    assert whys[:20] == ["wrong password"] * 3 + ["unknown user"] * 17
    assert whys[20:] == ["address waits"] * 41
    with open_client(console.app, "203.0.113.5") as colleague:
        assert _attempt(colleague, "analyst1", PASSWORD).status_code == 303


def test_a_stranger_delays_a_user_by_seconds_not_a_lock_out(console: Console) -> None:
    with open_client(console.app, "198.51.100.7") as stranger:
        for _ in range(30):
            _attempt(stranger, "analyst1", "wrong password")
    with open_client(console.app, "203.0.113.5") as owner:
        assert _attempt(owner, "analyst1", PASSWORD).status_code == 401
        console.clock.advance(timedelta(seconds=1))
        assert _attempt(owner, "analyst1", PASSWORD).status_code == 303


def test_a_sign_in_without_its_form_token_or_from_another_site_is_refused(
    console: Console,
) -> None:
    with open_client(console.app) as client:
        token = _token(client)
        missing = client.post("/login", data={"username": "analyst1", "password": PASSWORD})
        assert missing.status_code == 401 and "已过期" in missing.text
        foreign = client.post(
            "/login",
            data={"username": "analyst1", "password": PASSWORD, "login_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 401
        assert client.get("/").status_code == 303


def test_unsafe_requests_need_the_sessions_csrf_token(as_user: AsUser, console: Console) -> None:
    client = as_user("analyst1")
    account = console.region.first_account
    path = f"/accounts/{account}/unmask"
    assert client.post(path, data={"purpose": "check"}).status_code == 403
    bad = client.post(path, data={"purpose": "check", "csrf_token": "forged"})
    assert bad.status_code == 403
    assert "表单已过期" in bad.text or "expired" in bad.text
    foreign = client.post_form(
        path, {"purpose": "check"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert client.post_form(path, {"purpose": "call-back check"}).status_code == 200


def test_signing_out_ends_the_session(as_user: AsUser) -> None:
    client = as_user("analyst1")
    assert client.post("/logout").status_code == 403
    out = client.post_form("/logout", {})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_the_language_is_chinese_until_english_is_chosen_and_then_remembered(
    as_user: AsUser,
) -> None:
    client = as_user("analyst1")
    chinese = client.get("/transactions")
    assert '<html lang="zh-CN">' in chinese.text and "<title>交易 · Fundwall" in chinese.text
    switched = client.get("/lang/en?next=/transactions%3Fpage%3D2")
    assert switched.status_code == 303 and switched.headers["location"] == "/transactions?page=2"
    english = client.get("/transactions")
    assert '<html lang="en">' in english.text and "<title>Transactions · Fundwall" in english.text
    assert client.get("/lang/xx?next=https://evil.example").headers["location"] == "/"
    client.get("/lang/zh")
    assert '<html lang="zh-CN">' in client.get("/").text


def test_console_pages_carry_security_headers_and_are_not_cached(as_user: AsUser) -> None:
    page = as_user("analyst1").get("/")
    assert page.headers["cache-control"] == "no-store"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_signed_in_users_are_sent_on_from_the_sign_in_page(console: Console) -> None:
    client = sign_in(open_client(console.app), "supervisor")
    answer = client.get("/login?next=/packs")
    assert answer.status_code == 303 and answer.headers["location"] == "/packs"
    assert client.get("/login?next=//evil.example").headers["location"] == "/"
    client.close()


def test_the_demo_shows_its_users_on_the_sign_in_page(demo_console: Console) -> None:
    with open_client(demo_console.app) as client:
        page = client.get("/login").text
    assert "fundwall-demo" in page and "analyst2" in page
