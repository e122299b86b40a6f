"""Every route of the portal, for each kind of visitor: the table says, one line a route, who
may use it; a portal route without a line fails the first test. An anonymous visitor and a
signed-in console user (whose console session means nothing here) reach the sign-in pages
only; a verified person reaches their own records and not another person's; nothing answers
with a server error."""

from __future__ import annotations

from typing import Final

import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from auth import world
from fundwall.accounts.controls import restrict
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.engine.controls.model import RestrictionKind
from web.access import app_routes  # tests/web/access.py

from .conftest import Served, Uow, Visitor, signed_in, visitor

PUBLIC, PERSON = "public", "person"
ROUTES: Final = {
    ("GET", "/"): (PUBLIC, {}),
    ("GET", "/sign-in"): (PUBLIC, {}),
    ("POST", "/sign-in"): (PUBLIC, {"id_number": "11010519491231002X"}),
    ("GET", "/code"): (PUBLIC, {}),
    ("POST", "/code"): (PUBLIC, {"code": "000000"}),
    ("GET", "/lang/{language}"): (PUBLIC, {}),
    ("GET", "/static/{path}"): (PUBLIC, {}),
    ("GET", "/restrictions"): (PERSON, {}),
    ("GET", "/restrictions/{measure_key}/appeal"): (PERSON, {}),
    ("POST", "/restrictions/{measure_key}/appeal"): (PERSON, {"reason": "本人使用"}),
    ("GET", "/appeals"): (PERSON, {}),
    ("GET", "/appeals/{appeal_id}"): (PERSON, {}),
    ("GET", "/accounts"): (PERSON, {}),
    ("POST", "/accounts/close"): (PERSON, {"account_no": "{account_no}", "confirm": "yes"}),
    ("POST", "/sign-out"): (PERSON, {}),
}
"""Who may use each route of the portal, and the form a POST sends."""
VISITORS: Final = ("anonymous", "console admin", "person", "other person")


def _portal(app: FastAPI) -> FastAPI:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/portal")
    portal = mount.app
    assert isinstance(portal, FastAPI)
    return portal


def test_every_portal_route_is_in_the_table(served: Served) -> None:
    found = app_routes(_portal(served.app))
    assert found == set(ROUTES), (sorted(found - ROUTES.keys()), sorted(ROUTES.keys() - found))


def _records(uow_factory: Uow, account: str, bank: str) -> dict[str, str]:
    admin = Actor(ActorKind.USER, "adm", Role.MEMBER_ADMIN, bank, 9)
    with uow_factory() as uow:
        restriction = restrict(uow, admin, account, RestrictionKind.NON_COUNTER_SUSPENSION,
                               reason="一号多人")  # fmt: skip
    return {"measure_key": f"r{restriction}", "account_no": account, "language": "en",
            "path": "portal.css"}  # fmt: skip


def _client(label: str, served: Served, bound: Uow) -> Visitor:
    if label == "person":
        return signed_in(served.app, bound, 1)
    if label == "other person":
        return signed_in(served.app, bound, 3, peer="203.0.113.8")
    client = visitor(served.app)
    if label == "console admin":
        form = client.get("/login")
        token = form.text.split('name="login_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post("/login", data={"username": "amy", "password": "long enough pass",
                                             "login_token": token})  # fmt: skip
        assert signed.status_code == 303
    client.page("/portal/sign-in")
    return client


@pytest.mark.parametrize("label", VISITORS)
def test_no_visitor_reaches_what_is_not_theirs(label: str, served: Served, bound: Uow) -> None:
    mine = _records(bound, "A1", world.BANK_A)
    theirs = _records(bound, "B1", world.BANK_B)
    # Person 3 files an appeal: its id is theirs; person 1 files one too: theirs is mine.
    appeals = {}
    for n, records in ((3, theirs), (1, mine)):
        filer = signed_in(served.app, bound, n, peer=f"203.0.113.{20 + n}")
        filed = filer.submit(f"/portal/restrictions/{records['measure_key']}/appeal",
                             {"reason": "本人使用"})  # fmt: skip
        appeals[n] = filed.headers["location"].rsplit("/", 1)[1]
    own = {**mine, "appeal_id": appeals[1]}
    other = {**theirs, "appeal_id": appeals[3]}
    if label == "other person":
        own, other = other, own
    client = _client(label, served, bound)
    problems = []
    # The person's routes first: the public ones start a new sign-in.
    for (method, template), (door, form) in sorted(ROUTES.items(), key=lambda r: r[1][0]):
        if template == "/sign-out":
            continue  # ends the visit: asked last
        for whose, records in (("own", own), ("other", other)):
            url = "/portal" + template.format_map(records)
            data = {name: value.format_map(records) for name, value in form.items()}
            answer = client.submit(url, data) if method == "POST" else client.get(url)
            status = answer.status_code
            to_sign_in = answer.headers.get("location") == "/portal/sign-in"
            refused = to_sign_in or status in (401, 403, 404)
            if status >= 500:
                problems.append(f"{method} {url}: server error {status}")
            elif door == PUBLIC:
                continue
            elif label in ("anonymous", "console admin"):
                if not (to_sign_in or status == 403):
                    problems.append(f"{method} {url}: not refused ({status})")
            elif whose == "other" and "{" in template + "".join(form.values()):
                if status != 404:
                    problems.append(f"{method} {url}: another's record answered {status}")
            elif any(
                mark in answer.text
                for mark in (f"/appeals/{other['appeal_id']}", f"/{other['measure_key']}/")
            ):
                problems.append(f"{method} {url}: shows another's appeal or restriction")
            elif refused:
                problems.append(f"{method} {url}: own record refused ({status})")
    out = client.submit("/portal/sign-out", {})
    assert out.status_code in (303, 403)
    assert not problems, f"{label}:\n" + "\n".join(problems)
