"""The console's queries on SQLite and PostgreSQL: overview, alert work, searches, accounts,
shadow comparison and the audit log, over the small two-bank world of tests/auth/world.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Passwords, Role, SystemActor, add_user, get_user
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import mask_account
from fundwall.store import UnitOfWork
from fundwall.store.mapping import decision_row
from fundwall.store.tables import DecisionRow
from fundwall.web.data.accounts import account_profile, unmask_holder
from fundwall.web.data.alerts import (
    AlertChange,
    AlertFilter,
    AlertStatus,
    AssigneeFilter,
    Disposition,
    alert_counts,
    alert_queue,
    colleagues,
    work_alert,
)
from fundwall.web.data.audit import AuditFilter, audit_records
from fundwall.web.data.overview import OverviewCache, overview
from fundwall.web.data.packs import compare_shadow, disagreements, pack_use
from fundwall.web.data.params import Params
from fundwall.web.data.transactions import TxFilter, search_transactions

Uow = Callable[[], UnitOfWork]
FAST = Passwords.fast_for_tests()


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
    with uow_factory() as uow:
        for name, role in (("ann", Role.MEMBER_ANALYST), ("amy", Role.MEMBER_ADMIN)):
            add_user(uow, SystemActor("test"), name, role, world.BANK_A, "long enough pass", FAST)
        add_user(
            uow,
            SystemActor("test"),
            "bob",
            Role.MEMBER_ANALYST,
            world.BANK_B,
            "long enough pass",
            FAST,
        )
    return uow_factory


def _user(uow: UnitOfWork, name: str) -> Actor:
    return get_user(uow, name).actor()


HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)


def test_the_overview_counts_a_members_decisions_or_the_regions(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        mine = overview(uow.session, ann)
        region = overview(uow.session, HUB)
    assert {t.action: (t.count, t.amount_fen) for t in mine.totals} == {
        Action.PASS: (0, 0),
        Action.ALERT: (1, 200_000),
        Action.WARN: (0, 0),
        Action.DELAY: (0, 0),
        Action.BLOCK: (1, 100_000),
    }
    assert mine.hourly and mine.buckets == ("2024-03-05 09:00", "2024-03-05 13:00")
    assert mine.series[Action.BLOCK] == [1, 0] and mine.series[Action.ALERT] == [0, 1]
    assert dict(mine.top_rules) == {"R001": 1, "R046": 1, "R019": 1}
    assert mine.alerts_waiting == 2 and mine.members == ()
    assert region.decisions == 5 and region.alerts_waiting == 4
    assert [(m.code, m.decisions, m.alerts_waiting, m.blocked_fen) for m in region.members] == [
        (world.BANK_A, 2, 2, 100_000),
        (world.BANK_B, 3, 2, 0),
    ]
    assert region.latest_decision_at == datetime(2024, 3, 5, 17, 0, 1, tzinfo=UTC)


def test_alerts_are_taken_worked_and_closed_with_an_audit_trail(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        assert colleagues(uow.session, ann) == ["amy", "ann"]
        queue = alert_queue(uow.session, ann, AlertFilter())
        assert [a.tx_id for a in queue.items] == ["T2", "T1"]
        assert queue.items[1].top_rule == "R001"
        taken = work_alert(uow, ann, "T1", AlertChange("ann", AlertStatus.IN_PROGRESS))
        assert (taken.status, taken.assignee) == (AlertStatus.IN_PROGRESS, "ann")
        with pytest.raises(InvalidInput, match="needs a disposition"):
            work_alert(uow, ann, "T1", AlertChange("ann", AlertStatus.CLOSED))
        uow.rollback()
        closed = work_alert(
            uow,
            ann,
            "T1",
            AlertChange("ann", AlertStatus.CLOSED, Disposition.MULE_ACCOUNT, "holder sold it"),
        )
        assert (closed.status, closed.disposition, closed.note) == (
            AlertStatus.CLOSED,
            Disposition.MULE_ACCOUNT,
            "holder sold it",
        )
        counts = alert_counts(uow.session, ann)
        mine = alert_queue(uow.session, ann, AlertFilter(assignee=AssigneeFilter.ME))
        nobody = alert_queue(uow.session, ann, AlertFilter(assignee=AssigneeFilter.NOBODY))
        closed_only = alert_queue(uow.session, ann, AlertFilter(status=AlertStatus.CLOSED))
        blocks = alert_queue(uow.session, ann, AlertFilter(action=Action.BLOCK))
        trail = [(r.action, r.details["status"]) for r in uow.audit.tail(2)]
        waiting = overview(uow.session, ann).alerts_waiting
    assert counts == {AlertStatus.NEW: 1, AlertStatus.IN_PROGRESS: 0, AlertStatus.CLOSED: 1}
    assert [a.tx_id for a in mine.items] == ["T1"] and [a.tx_id for a in nobody.items] == ["T2"]
    assert [a.tx_id for a in closed_only.items] == ["T1"] == [a.tx_id for a in blocks.items]
    assert trail == [
        ("alert_update", ["new", "in_progress"]),
        ("alert_update", ["in_progress", "closed"]),
    ]
    assert waiting == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (AlertChange("bob", AlertStatus.IN_PROGRESS), InvalidInput),
        (AlertChange(None, AlertStatus.IN_PROGRESS, Disposition.FALSE_POSITIVE), InvalidInput),
        (AlertChange("ann", AlertStatus.NEW), Conflict),
        (AlertChange(None, AlertStatus.IN_PROGRESS, None, "x" * 1001), InvalidInput),
        (AlertChange(None, AlertStatus.IN_PROGRESS, None, "call 13812345678"), InvalidInput),
    ],
)
def test_an_alert_change_that_makes_no_sense_is_refused(
    stocked: Uow, change: AlertChange, error: type[Exception]
) -> None:
    with stocked() as uow, pytest.raises(error):
        work_alert(uow, _user(uow, "ann"), "T2", change)


def test_another_members_alert_and_a_passed_transaction_are_not_alerts(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        for tx_id in ("T3", "T4", "T5", "T999"):
            with pytest.raises(NotFound):
                work_alert(uow, ann, tx_id, AlertChange(None, AlertStatus.IN_PROGRESS))
        with pytest.raises(PermissionDenied):
            work_alert(uow, HUB, "T1", AlertChange(None, AlertStatus.IN_PROGRESS))


def test_the_form_of_an_alert_change_is_read_strictly() -> None:
    read = AlertChange.read(
        {"assignee": " ann ", "status": "closed", "disposition": "false_positive", "note": " ok "}
    )
    assert read == AlertChange("ann", AlertStatus.CLOSED, Disposition.FALSE_POSITIVE, "ok")
    with pytest.raises(InvalidInput, match="one of new, in_progress, closed"):
        AlertChange.read({"status": "done"})
    with pytest.raises(InvalidInput, match="choose a status"):
        AlertChange.read({})


def test_searches_filter_by_account_time_amount_and_action(stocked: Uow) -> None:
    def ids(**wanted: object) -> list[str]:
        page = search_transactions(uow.session, bob, TxFilter(**wanted))  # type: ignore[arg-type]
        return [item.tx_id for item in page.items]

    with stocked() as uow:
        bob = _user(uow, "bob")
        assert ids() == ["T5", "T4", "T3", "T2"]
        assert ids(account="B1") == ["T4", "T3", "T2"]
        assert ids(min_fen=300_000, max_fen=400_000) == ["T4", "T3"]
        assert ids(start=world.START + timedelta(hours=8)) == ["T5", "T4", "T3"]
        assert ids(end=world.START + timedelta(hours=8)) == ["T2"]
        assert ids(action=Action.DELAY) == ["T3"]
        # T2 was decided by bank A: bank B sees the transaction, not A's decision on it.
        assert ids(action=Action.PASS) == ["T5", "T2"]
        found = search_transactions(uow.session, bob, TxFilter(account="B1")).items
    assert {item.tx_id: item.action for item in found} == {
        "T4": Action.WARN,
        "T3": Action.DELAY,
        "T2": None,
    }


def test_an_account_profile_shows_flows_counterparties_and_alerts(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        profile = account_profile(uow.session, ann, keyring, "A1")
        with pytest.raises(NotFound):
            account_profile(uow.session, ann, keyring, "B1")
    assert profile.holder.name == "张*"
    assert "*" in profile.holder.id_number and "*" in (profile.holder.phone or "")
    assert [t.tx_id for t in profile.flows.items] == ["T2", "T1"]
    assert (profile.in_fen, profile.out_fen) == (0, 300_000)
    assert [(c.account_no, c.shown, c.own, c.out_fen) for c in profile.counterparties] == [
        ("B1", "*1", False, 200_000),
        ("A2", "A2", True, 100_000),
    ]
    assert [a.tx_id for a in profile.alerts] == ["T2", "T1"]


def test_unmasking_is_for_a_stated_purpose_and_audited_without_the_raw_values(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        with pytest.raises(InvalidInput, match="say why"):
            unmask_holder(uow, ann, keyring, "A1", " ")
        with pytest.raises(InvalidInput, match="phone number"):
            unmask_holder(uow, ann, keyring, "A1", "caller 13812345678")
        uow.rollback()
        holder = unmask_holder(uow, ann, keyring, "A1", "customer called about a block")
        (record,) = uow.audit.tail(1)
        with pytest.raises(PermissionDenied):
            unmask_holder(uow, HUB, keyring, "A1", "curious")
    assert holder.id_number == world.person(1).id_number
    assert holder.phone == world.person(1).phone
    assert (record.action, record.subject, record.details["party"]) == (
        "unmask_personal_data",
        f"account:{mask_account('A1')}",
        "P1",
    )
    assert holder.id_number not in str(record.details)


def test_shadow_against_live_counts_agreements_and_lists_differences(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        region = compare_shadow(uow.session, HUB, world.SHADOW_PACK)
        mine = compare_shadow(uow.session, ann, world.SHADOW_PACK)
        apart = disagreements(uow.session, ann, world.SHADOW_PACK)
        hidden = disagreements(uow.session, HUB, world.SHADOW_PACK)
        use = pack_use(uow.session, HUB)
        use_b = pack_use(uow.session, _user(uow, "bob"))
    assert region.matrix == {(Action.BLOCK, Action.BLOCK): 1, (Action.ALERT, Action.WARN): 1}
    assert region.agreeing() == 1 and region.blocked_fen("live") == region.blocked_fen("shadow")
    assert mine.transactions == 2
    assert [(d.tx_id, d.live, d.shadow) for d in apart] == [("T2", Action.ALERT, Action.WARN)]
    assert hidden == []
    assert (use[world.LIVE_PACK].live, use[world.SHADOW_PACK].shadow) == (5, 2)
    assert world.SHADOW_PACK not in use_b and use_b[world.LIVE_PACK].live == 3


def test_the_audit_log_filters_by_actor_prefix_action_and_subject(stocked: Uow) -> None:
    auditor = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 98)
    with stocked() as uow:
        everything = audit_records(uow.session, auditor, AuditFilter())
        users = audit_records(uow.session, auditor, AuditFilter(subject="user:a"))
        literal = audit_records(uow.session, auditor, AuditFilter(subject="user:_%"))
        by_action = audit_records(uow.session, auditor, AuditFilter(action="user_add"))
        with pytest.raises(PermissionDenied):
            audit_records(uow.session, _user(uow, "ann"), AuditFilter())
    assert [r.seq for r in everything.items] == [3, 2, 1]
    assert {r.subject for r in users.items} == {"user:ann", "user:amy"}
    assert literal.items == []
    assert len(by_action.items) == 3


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["from", "to", "min", "max", "page", "action", "account"]),
        st.text(max_size=40),
    )
)
def test_any_query_string_reads_as_filters_or_named_problems(raw: dict[str, str]) -> None:
    params = Params(raw)
    wanted = TxFilter.read(params)
    assert wanted.page >= 1
    assert all(problem.english() for problem in params.problems)
    named = {problem.param for problem in params.problems}
    assert named <= set(raw)


def test_the_overview_cache_folds_in_new_decisions_and_rebuilds_in_time(stocked: Uow) -> None:
    now = [0.0]
    cache = OverviewCache(rebuild_after=timedelta(minutes=5), timer=lambda: now[0])
    with stocked() as uow:
        ann = _user(uow, "ann")
        first = cache.overview(uow.session, ann)
        reason = Reason("R900", "测试", "test", {"amount": 100_000})
        later = world.START + timedelta(days=5)
        uow.session.add(
            decision_row(
                Decision("T1", Action.BLOCK, 120, (reason,), world.LIVE_PACK), decided_at=later
            )
        )
        uow.commit()
        folded = cache.overview(uow.session, ann)
        fresh = overview(uow.session, ann)
        uow.session.execute(delete(DecisionRow).where(DecisionRow.decided_at == later))
        uow.commit()
        kept = cache.overview(uow.session, ann)
        now[0] += 5 * 60
        rebuilt = cache.overview(uow.session, ann)
    assert first.total(Action.BLOCK).count == 1
    assert folded == fresh
    assert folded.total(Action.BLOCK).count == 2 and ("R900", 1) in folded.top_rules
    assert folded.latest_decision_at == later
    assert kept.total(Action.BLOCK).count == 2  # counted once, kept until the rebuild
    assert rebuilt == first
