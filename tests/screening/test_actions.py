"""Bulk actions on a work list over the store (SQLite and PostgreSQL) holding the tiny region:
a restriction the engine enforces at once, police orders and money refusing what must not be
done, notices that say why and where to appeal, each member acting on its own accounts only,
bad input naming its field, and the figures officials publish."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from fundwall.accounts.model import TierSource
from fundwall.accounts.tiers import tier_history
from fundwall.appeals.filing import file_appeal
from fundwall.appeals.model import Outcome as AppealOutcome
from fundwall.appeals.queries import person_actor
from fundwall.appeals.review import decide_appeal
from fundwall.bootstrap import Platform
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.money import Money
from fundwall.domain.police import OrderKind
from fundwall.domain.screening import Check, Outcome, ScreeningAction
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.service import DecisionService
from fundwall.police import OrderRequest, issue_order
from fundwall.screening.actions import action_progress, carry_out_action, request_action
from fundwall.screening.model import ItemView, RunView
from fundwall.screening.runs import screen_accounts, screen_region, screening_figures, work_list
from fundwall.store import UnitOfWork
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.outreach_tables import SmsMessageRow
from fundwall.store.screening_tables import HolderNoticeRow
from fundwall.store.tables import AccountRow, PartyRow

from .conftest import HUB, OPERATOR, admin, analyst, key

MEMBER, OTHER = "302", "303"
NON_COUNTER = "HC06"
_documents = count(1)


def items_of(uow: UnitOfWork, actor: object, run_id: int) -> list[ItemView]:
    return list(work_list(uow, actor, run_id, size=500).items)  # type: ignore[arg-type]


def run_of(platform: Platform, actor: object, checks: list[str] | None = None) -> RunView:
    with platform.unit_of_work() as uow:
        if getattr(actor, "member", None) is None:
            return screen_region(uow, actor, platform.settings.policy, checks=checks)  # type: ignore[arg-type]
        return screen_accounts(uow, actor, platform.settings.policy, checks=checks)  # type: ignore[arg-type]


def act(platform: Platform, actor: object, run_id: int, action: str, accounts: list[str]) -> int:
    """Request the action on the accounts and carry it out; the action's id."""
    with platform.unit_of_work() as uow:
        view = request_action(uow, actor, run_id, action, reason="存量账户排查",  # type: ignore[arg-type]
                              accounts=accounts)  # fmt: skip
    assert view.counts[Outcome.PENDING] == len(accounts) and view.finished_at is None
    with platform.unit_of_work() as uow:
        done = carry_out_action(uow, actor, view.id, platform.settings.policy)  # type: ignore[arg-type]
    assert done.counts[Outcome.PENDING] == 0 and done.finished_at is not None
    return view.id


def outcomes(platform: Platform, actor: object, action_id: int) -> dict[str, tuple[Outcome, str]]:
    with platform.unit_of_work() as uow:
        view = action_progress(uow, actor, action_id)  # type: ignore[arg-type]
    return {t.account_no: (t.outcome, t.detail or "") for t in view.targets.items}


def status_of(platform: Platform, account_no: str) -> str:
    with platform.unit_of_work() as uow:
        row = uow.session.get(AccountRow, account_no)
        assert row is not None
        return row.status


@pytest.fixture
def engine(loaded: Platform) -> Iterator[DecisionService]:
    service = loaded.decision_service()
    try:
        yield service
    finally:
        service.close()


class Payer:
    def __init__(self, engine: DecisionService, platform: Platform) -> None:
        self.engine, self.platform, self.numbers = engine, platform, count(1)

    def pays(self, account_no: str, channel: Channel) -> Decision:
        tx = Transaction(f"SCR{next(self.numbers)}", self.platform.clock.now(),
                         TransactionKind.TRANSFER, account_no, "X9", MEMBER, "X999", Money(100),
                         channel)  # fmt: skip
        return self.engine.decide(tx)


def fired(decision: Decision) -> set[str]:
    return {reason.rule_id for reason in decision.reasons}


def test_a_restriction_on_chosen_accounts_is_enforced_by_the_engine_at_once(
    loaded: Platform, engine: DecisionService
) -> None:
    run = run_of(loaded, admin(MEMBER), ["shared_phone"])
    with loaded.unit_of_work() as uow:
        items = items_of(uow, admin(MEMBER), run.id)
    chosen, spared = [items[0].account_no, items[1].account_no], items[2].account_no
    payer = Payer(engine, loaded)
    assert NON_COUNTER not in fired(payer.pays(chosen[0], Channel.MOBILE))
    action_id = act(loaded, admin(MEMBER), run.id, "restrict", chosen)
    assert outcomes(loaded, admin(MEMBER), action_id) == {
        number: (Outcome.DONE, "") for number in chosen
    }
    refused = payer.pays(chosen[1], Channel.MOBILE)
    assert refused.action is Action.BLOCK and NON_COUNTER in fired(refused)
    assert NON_COUNTER not in fired(payer.pays(chosen[0], Channel.COUNTER))
    assert NON_COUNTER not in fired(payer.pays(spared, Channel.MOBILE))
    with loaded.unit_of_work() as uow:
        notices = uow.session.execute(
            select(
                HolderNoticeRow.account_no, HolderNoticeRow.text_zh, HolderNoticeRow.text_en
            ).order_by(HolderNoticeRow.id)
        ).all()
        listed = items_of(uow, admin(MEMBER), run.id)
    assert [number for number, _, _ in notices] == chosen
    for number, zh, en in notices:
        assert "绑定了" in zh and "申诉" in zh and "非柜面" in zh and f"尾号{number[-4:]}" in zh
        assert "bound to" in en and "appeal" in en and "non-counter" in en
        assert number not in zh + en
    with loaded.unit_of_work() as uow:
        # One restriction notice SMS each (the screening notice's; the restriction's writer
        # sends none in the same transaction), to the phone the bank bound.
        told = uow.session.scalars(
            select(AccountRow.account_no)
            .join(SmsMessageRow, SmsMessageRow.party_id == AccountRow.party_id)
            .where(
                AccountRow.account_no.in_(chosen), SmsMessageRow.template == "restriction_notice"
            )
        ).all()
    assert sorted(told) == sorted(chosen)
    tracked = {item.account_no: item.actions for item in listed}
    assert [(t.action, t.outcome) for t in tracked[chosen[0]]] == [
        (ScreeningAction.RESTRICT, Outcome.DONE)
    ]
    assert tracked[spared] == ()


def test_a_restriction_lifted_on_the_holders_appeal_is_tracked_as_appealed(
    loaded: Platform, engine: DecisionService
) -> None:
    run = run_of(loaded, admin(MEMBER), ["shared_phone"])
    with loaded.unit_of_work() as uow:
        chosen = [item.account_no for item in items_of(uow, admin(MEMBER), run.id)[:2]]
    action_id = act(loaded, admin(MEMBER), run.id, "restrict", chosen)
    with loaded.unit_of_work() as uow:
        restriction, holder = uow.session.execute(
            select(AccountRestrictionRow.id, PartyRow.id_number_hash)
            .join(AccountRow, AccountRow.account_no == AccountRestrictionRow.account_no)
            .join(PartyRow, PartyRow.party_id == AccountRow.party_id)
            .where(AccountRestrictionRow.account_no == chosen[0])
        ).one()
        person = person_actor(holder)
        filed = file_appeal(uow, person, f"r{restriction}", "本人日常使用", loaded.keyring)
        decide_appeal(
            uow, admin(MEMBER), filed.id, AppealOutcome.LIFTED, "经核实解除", loaded.keyring
        )
    assert outcomes(loaded, admin(MEMBER), action_id) == {
        chosen[0]: (Outcome.APPEALED, f"lifted on the holder's appeal {filed.id}"),
        chosen[1]: (Outcome.DONE, ""),
    }
    payer = Payer(engine, loaded)
    assert NON_COUNTER not in fired(payer.pays(chosen[0], Channel.MOBILE))
    assert NON_COUNTER in fired(payer.pays(chosen[1], Channel.MOBILE))


def test_a_screening_sets_risk_tiers_the_engine_enforces(
    loaded: Platform, engine: DecisionService
) -> None:
    run = run_of(loaded, admin(MEMBER), ["shared_phone"])
    with loaded.unit_of_work() as uow:
        chosen = [item.account_no for item in items_of(uow, admin(MEMBER), run.id)][:2]
        with pytest.raises(PermissionDenied, match="member holding the account"):
            request_action(uow, OPERATOR, run.id, "tier_high", reason="x", accounts=chosen)
    action_id = act(loaded, admin(MEMBER), run.id, "tier_high", chosen)
    assert {o for o, _ in outcomes(loaded, admin(MEMBER), action_id).values()} == {Outcome.DONE}
    blocked = Payer(engine, loaded).pays(chosen[0], Channel.MOBILE)
    assert blocked.action is Action.BLOCK and NON_COUNTER in fired(blocked)
    with loaded.unit_of_work() as uow:
        (change,) = tier_history(uow, admin(MEMBER), chosen[0])
        tier = uow.session.get_one(AccountRow, chosen[0]).risk_tier
    assert (tier, change.source, change.reason) == ("high", TierSource.SCREENING, "存量账户排查")
    again = act(loaded, admin(MEMBER), run.id, "tier_high", chosen[:1])
    assert outcomes(loaded, admin(MEMBER), again)[chosen[0]] == (Outcome.DONE, "already high risk")


def _order(platform: Platform, kind: OrderKind, account_no: str) -> None:
    now = platform.clock.now()
    request = OrderRequest(
        kind, f"厦公(思)字〔2024〕{next(_documents):04d}号", "王警官", "A3502002024030001",
        "《反电信网络诈骗法》第三十二条", account_no=account_no,
        period_from=now - timedelta(days=30) if kind is OrderKind.QUERY else None,
        period_to=now if kind is OrderKind.QUERY else None, police_unit="PSB350200",
    )  # fmt: skip
    with platform.unit_of_work() as uow:
        issue_order(uow, OPERATOR, request)


def test_an_account_under_a_police_order_is_refused_and_tracked_as_refused(
    loaded: Platform,
) -> None:
    run = run_of(loaded, admin(MEMBER))
    with loaded.unit_of_work() as uow:
        numbers = [item.account_no for item in items_of(uow, admin(MEMBER), run.id)]
    stopped, queried, free = numbers[:3]
    _order(loaded, OrderKind.STOP_PAYMENT, stopped)
    _order(loaded, OrderKind.QUERY, queried)
    before = status_of(loaded, stopped)
    action_id = act(loaded, admin(MEMBER), run.id, "suspend_non_counter", [stopped, queried, free])
    found = outcomes(loaded, admin(MEMBER), action_id)
    for number in (stopped, queried):
        assert found[number][0] is Outcome.REFUSED and "police order" in found[number][1]
    assert found[free] == (Outcome.DONE, "")
    assert status_of(loaded, free) == AccountStatus.NON_COUNTER_SUSPENDED.value
    assert status_of(loaded, stopped) == before
    with loaded.unit_of_work() as uow:
        view = action_progress(uow, admin(MEMBER), action_id, outcome="refused")
        notices = uow.session.scalars(select(HolderNoticeRow.account_no)).all()
        (finished,) = uow.audit.tail(1)
    assert view.counts == {Outcome.PENDING: 0, Outcome.DONE: 1, Outcome.REFUSED: 2,
                           Outcome.FAILED: 0, Outcome.APPEALED: 0}  # fmt: skip
    assert {t.account_no for t in view.targets.items} == {stopped, queried}
    assert notices == [free]  # the holder of an account under an order is not told
    assert finished.action == "finish_screening_action" and finished.details["refused"] == 2


def test_closing_pays_out_first_and_a_members_system_reports_statuses(loaded: Platform) -> None:
    run = run_of(loaded, OPERATOR, ["dormant", "batch_opened"])
    with loaded.unit_of_work() as uow:
        numbers = [item.account_no for item in items_of(uow, OPERATOR, run.id)]
        balances = {n: uow.session.get_one(AccountRow, n).balance_fen for n in numbers}
        banks = {n: uow.session.get_one(AccountRow, n).institution_code for n in numbers}
    empty = next(n for n in numbers if balances[n] == 0)
    holding = next(n for n in numbers if balances[n] > 0)
    closing = act(loaded, OPERATOR, run.id, "close", [empty, holding])
    found = outcomes(loaded, OPERATOR, closing)
    assert found[empty] == (Outcome.DONE, "")
    assert found[holding][0] is Outcome.REFUSED and "paid out to the holder first" in found[
        holding][1]  # fmt: skip
    assert status_of(loaded, empty) == AccountStatus.CLOSED.value
    again = act(loaded, OPERATOR, run.id, "notify", [empty])
    assert outcomes(loaded, OPERATOR, again)[empty] == (Outcome.REFUSED, "the account is closed")
    # A member's system has no right to restrict, but reports the statuses it sets.
    member = banks[holding]
    own = run_of(loaded, key(member), ["dormant"])
    with loaded.unit_of_work() as uow:
        with pytest.raises(PermissionDenied, match=r"^not allowed: it needs the restrict_accounts"):
            request_action(uow, key(member), own.id, "restrict", reason="x", checks=["dormant"])
        mine = [item.account_no for item in items_of(uow, key(member), own.id)]
    suspending = act(loaded, key(member), own.id, "suspend_non_counter", mine)
    assert {o for o, _ in outcomes(loaded, key(member), suspending).values()} == {Outcome.DONE}
    assert {status_of(loaded, n) for n in mine} == {AccountStatus.NON_COUNTER_SUSPENDED.value}
    suspended_again = act(loaded, key(member), own.id, "suspend_non_counter", mine[:1])
    assert outcomes(loaded, key(member), suspended_again)[mine[0]] == (
        Outcome.DONE,
        "already non_counter_suspended",
    )


def test_a_member_never_acts_on_another_members_accounts(
    loaded: Platform, bank_of: dict[str, str]
) -> None:
    region = run_of(loaded, HUB)
    with loaded.unit_of_work() as uow:
        theirs = next(i.account_no for i in items_of(uow, OPERATOR, region.id)
                      if bank_of[i.account_no] == OTHER)  # fmt: skip
        mine = next(i.account_no for i in items_of(uow, OPERATOR, region.id)
                    if bank_of[i.account_no] == MEMBER)  # fmt: skip
        with pytest.raises(InvalidInput) as caught:
            request_action(uow, admin(MEMBER), region.id, "notify", reason="x", accounts=[theirs])
        assert caught.value.field == "accounts[0]"
        with pytest.raises(PermissionDenied, match="screen_accounts"):
            request_action(uow, HUB, region.id, "notify", reason="x", accounts=[mine])
        with pytest.raises(PermissionDenied, match="restrict_accounts"):
            request_action(uow, analyst(MEMBER), region.id, "suspend_non_counter", reason="x",
                           accounts=[mine])  # fmt: skip
    action_id = act(loaded, admin(OTHER), region.id, "notify", [theirs])
    with loaded.unit_of_work() as uow:
        with pytest.raises(NotFound):
            action_progress(uow, admin(MEMBER), action_id)
        with pytest.raises(NotFound):
            carry_out_action(uow, admin(MEMBER), action_id, loaded.settings.policy)
        seen = action_progress(uow, HUB, action_id)
    assert "*" in seen.targets.items[0].account_no  # the hub reads it masked
    notified = act(loaded, analyst(MEMBER), region.id, "notify", [mine])
    assert outcomes(loaded, analyst(MEMBER), notified) == {mine: (Outcome.DONE, "")}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": "freeze"}, "action"),
        ({"reason": "   "}, "reason"),
        ({"accounts": None, "checks": None}, "accounts"),
        ({"accounts": []}, "accounts"),
        ({"accounts": None, "checks": ["sleepy"]}, "checks"),
        ({"accounts": None, "checks": ["punished"]}, "accounts"),
        ({"twice": True}, "accounts[1]"),
        ({"action": "tier_high", "reason": "x" * 201}, "reason"),
    ],
)
def test_bad_action_input_is_refused_naming_the_field(
    loaded: Platform, changes: dict[str, object], field: str
) -> None:
    run = run_of(loaded, admin(MEMBER))
    with loaded.unit_of_work() as uow:
        first = items_of(uow, admin(MEMBER), run.id)[0].account_no
        arguments: dict[str, object] = {"action": "notify", "reason": "核查", "accounts": [first],
                                        "checks": None}  # fmt: skip
        given = dict(changes)  # the parameters are shared by every run of the test
        if given.pop("twice", False):
            arguments["accounts"] = [first, first]
        arguments.update(given)
        with pytest.raises(InvalidInput) as caught:
            request_action(uow, admin(MEMBER), run.id, **arguments)  # type: ignore[arg-type]
        assert caught.value.field == field
        with pytest.raises(InvalidInput) as caught:
            action_progress(uow, admin(MEMBER), 1, outcome="lost")
    assert caught.value.field == "outcome"


def test_the_figures_count_accounts_screened_found_and_cleaned_per_member(
    loaded: Platform,
) -> None:
    started = loaded.clock.now()
    region = run_of(loaded, HUB)
    own = run_of(loaded, admin(MEMBER))
    with loaded.unit_of_work() as uow:
        mine = [item.account_no for item in items_of(uow, admin(MEMBER), own.id)]
    act(loaded, admin(MEMBER), own.id, "notify", mine[:2])
    act(loaded, admin(MEMBER), own.id, "suspend_non_counter", mine[1:3])
    with loaded.unit_of_work() as uow:
        (figures,) = screening_figures(uow, admin(MEMBER), since=started)
        everyone = screening_figures(uow, HUB)
        later = screening_figures(uow, HUB, since=started + timedelta(days=1))
        with pytest.raises(InvalidInput) as caught:
            screening_figures(uow, HUB, since=started, until=started)
    assert caught.value.field == "until"
    assert (figures.member, figures.runs) == (MEMBER, 2)
    assert figures.screened == own.screened == region.by_member[MEMBER].screened
    assert figures.found == len(mine) == own.items
    assert figures.by_check == {check: n for check, n in own.found.items() if n}
    assert (figures.notified, figures.cleaned, figures.closed) == (2, 2, 0)
    assert len(everyone) == len(region.by_member) and later == []
    assert sum(f.found for f in everyone) == region.items
    assert Check.SHARED_PHONE in figures.by_check


def test_two_carriers_at_once_act_on_each_account_once(loaded: Platform) -> None:
    """The console's button pressed while the background carrier runs: every account is
    claimed by one of them, one notice each."""
    from concurrent.futures import ThreadPoolExecutor

    run = run_of(loaded, admin(MEMBER), ["shared_phone"])
    with loaded.unit_of_work() as uow:
        chosen = [item.account_no for item in items_of(uow, admin(MEMBER), run.id)[:12]]
        view = request_action(uow, admin(MEMBER), run.id, "notify", reason="存量账户排查",
                              accounts=chosen)  # fmt: skip

    def carry(_: int) -> None:
        with loaded.unit_of_work() as uow:
            carry_out_action(uow, admin(MEMBER), view.id, loaded.settings.policy)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(carry, range(2)))
    with loaded.unit_of_work() as uow:
        noticed = uow.session.scalars(
            select(HolderNoticeRow.account_no).where(HolderNoticeRow.account_no.in_(chosen))
        ).all()
    assert sorted(noticed) == sorted(chosen)
    assert {outcome for outcome, _ in outcomes(loaded, admin(MEMBER), view.id).values()} == {
        Outcome.DONE
    }
