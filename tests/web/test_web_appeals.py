"""Appeals on the console: an appeal left undecided past its deadline is flagged on the hub's
overview, linked to the hub's list of overdue appeals; a member's users see no such flag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from fundwall.accounts.controls import restrict
from fundwall.appeals.filing import file_appeal
from fundwall.appeals.queries import person_actor
from fundwall.appeals.review import overdue_count
from fundwall.auth import Actor, ActorKind, Role
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.tables import AccountRow, PartyRow

from .conftest import Browser, Console

AsUser = Callable[[str], Browser]


def test_an_overdue_appeal_is_flagged_on_the_hubs_overview(
    console: Console, as_user: AsUser
) -> None:
    bank = console.region.first_bank
    admin = Actor(ActorKind.USER, "adm", Role.MEMBER_ADMIN, bank, 9)
    with console.uow() as uow:
        account, id_hash = uow.session.execute(
            select(AccountRow.account_no, PartyRow.id_number_hash)
            .join(PartyRow, PartyRow.party_id == AccountRow.party_id)
            .where(AccountRow.institution_code == bank, PartyRow.kind == "person")
            .order_by(AccountRow.account_no)
            .limit(1)
        ).one()
        restriction = restrict(uow, admin, account, RestrictionKind.NON_COUNTER_SUSPENSION,
                               reason="一号多人")  # fmt: skip
    with console.uow() as uow:
        file_appeal(uow, person_actor(id_hash), f"r{restriction}", "本人使用", uow.keyring)
    supervisor = Actor(ActorKind.USER, "sup", Role.HUB_SUPERVISOR, None, 8)
    with console.uow() as uow:
        assert overdue_count(uow, supervisor) == 0  # within its deadline
    console.clock.advance(timedelta(days=30))
    hub = as_user("supervisor")
    flagged = hub.get("/").text
    assert 'id="overdue-appeals"' in flagged and "1件异议申诉已超过办理期限" in flagged
    assert 'href="/appeals/overdue"' in flagged
    assert account[-4:] in hub.get("/appeals/overdue").text
    assert 'id="overdue-appeals"' not in as_user("analyst1").get("/").text
