"""Case work on SQLite and PostgreSQL, over the two-bank world of tests/auth/world.py: alerts
grouped into cases by account, person and network; opening, merging and splitting cases;
deadlines and overdue cases; notes, evidence, outcomes; tenancy and the audit trail.

Bank B001's alerts are T1 (A1 → A2) and T2 (A1 → B1, B1 at the other bank); B002's are T3
(B1 → A2) and T4 (B1 → B2). A1 is held by party P1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auth import world  # tests/auth/world.py
from fundwall.auth import Actor, ActorKind, Role
from fundwall.cases import (
    AssigneeFilter,
    CaseChange,
    CaseFilter,
    CaseKind,
    CaseStatus,
    Outcome,
    Priority,
    add_evidence,
    add_note,
    case_counts,
    case_queue,
    close_case,
    evidence_file,
    get_case,
    group_alerts,
    merge_cases,
    open_case,
    split_case,
    update_case,
)
from fundwall.clock import FixedClock
from fundwall.config import CaseSettings
from fundwall.crypto import Keyring, sm3_hex
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.store import UnitOfWork
from fundwall.store.police_tables import CaseEvidenceRow, CaseRow

Uow = Callable[[], UnitOfWork]

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
CSV = "账号,金额\nA1,1000.00\n".encode()


def _ann(uow: UnitOfWork) -> Actor:
    return world.user_actor(uow, "ann")


def _case_count(uow: UnitOfWork) -> int:
    return uow.session.scalar(select(func.count()).select_from(CaseRow)) or 0


@pytest.mark.parametrize(
    ("by", "subject", "accounts"),
    [
        (CaseKind.ACCOUNT, "A1", ("A1",)),
        (CaseKind.PERSON, "P1", ("A1",)),
        (CaseKind.NETWORK, "A1", ("A1", "A2")),
    ],
)
def test_alerts_group_into_one_case_of_the_members_own(
    stocked: Uow, by: CaseKind, subject: str, accounts: tuple[str, ...]
) -> None:
    with stocked() as uow:
        ann, bob = _ann(uow), world.user_actor(uow, "bob")
        opened = group_alerts(uow, ann, by)
        again = group_alerts(uow, ann, by)
        theirs = group_alerts(uow, bob, by)
        case = get_case(uow, ann, opened[0])
        with pytest.raises(NotFound):
            get_case(uow, bob, opened[0])
        with pytest.raises(NotFound):
            get_case(uow, ann, theirs[0])
    assert len(opened) == 1 and again == [] and len(theirs) == 1
    assert (case.case.kind, case.case.subject, case.accounts) == (by, subject, accounts)
    assert sorted(alert.tx_id for alert in case.alerts) == ["T1", "T2"]


def test_a_network_joins_the_accounts_linked_by_transfers_at_the_member(stocked: Uow) -> None:
    with stocked() as uow:
        bob = world.user_actor(uow, "bob")
        world.add_deposit(uow)
        (case_id,) = group_alerts(uow, bob, CaseKind.NETWORK)
        case = get_case(uow, bob, case_id)
    # T4 links B1 and B2; the deposit D1 into B1 joins them; A2 (T3's payee) is not B002's.
    assert case.accounts == ("B1", "B2")
    assert sorted(alert.tx_id for alert in case.alerts) == ["D1", "T3", "T4"]


def test_an_open_case_about_the_same_subject_gets_the_new_alerts(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _ann(uow)
        by_hand = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="卡农", tx_ids=["T1"])
        assert group_alerts(uow, ann, CaseKind.ACCOUNT) == []
        case = get_case(uow, ann, by_hand.case.id)
    assert sorted(alert.tx_id for alert in case.alerts) == ["T1", "T2"]
    assert case.accounts == ("A1",)


def test_a_members_system_reads_its_cases_and_works_none(stocked: Uow) -> None:
    key_a = Actor(ActorKind.API_KEY, "k", Role.MEMBER_SYSTEM, world.BANK_A)
    key_b = Actor(ActorKind.API_KEY, "k", Role.MEMBER_SYSTEM, world.BANK_B)
    with stocked() as uow:
        case_id = open_case(uow, _ann(uow), CaseKind.ACCOUNT, "A1", title="A1").case.id
        queue = case_queue(uow, key_a, CaseFilter(status=CaseStatus.OPEN))
        read = get_case(uow, key_a, case_id)
        with pytest.raises(NotFound):
            get_case(uow, key_b, case_id)
        with pytest.raises(PermissionDenied):
            add_note(uow, key_a, case_id, "a system does not work cases")
    assert [c.id for c in queue.items] == [case_id]
    assert read.accounts == ("A1",) and read.case.status is CaseStatus.OPEN


def test_cases_merge_and_split_with_everything_in_them(stocked: Uow, keyring: Keyring) -> None:
    with stocked() as uow:
        ann = _ann(uow)
        scam = open_case(
            uow,
            ann,
            CaseKind.SCAM,
            "刷单返利",
            title="刷单",
            tx_ids=["T1"],
            priority=Priority.URGENT,
        )
        account = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1", tx_ids=["T2"])
        add_note(uow, ann, scam.case.id, "victim called")
        add_evidence(uow, ann, scam.case.id, "chat.png", "image/png", PNG, keyring)
        merged = merge_cases(uow, ann, scam.case.id, into=account.case.id)
        gone = get_case(uow, ann, scam.case.id)
        with pytest.raises(Conflict):
            add_note(uow, ann, scam.case.id, "too late")
        uow.rollback()
        split = split_case(uow, ann, account.case.id, tx_ids=["T1"], title="刷单 again")
        left = get_case(uow, ann, account.case.id)
        with pytest.raises(InvalidInput, match="whole case"):
            split_case(uow, ann, split.case.id, tx_ids=["T1"], title="x")
        trail = [record.action for record in uow.audit.tail(2)]
    assert sorted(alert.tx_id for alert in merged.alerts) == ["T1", "T2"]
    assert merged.accounts == ("A1",) and merged.case.priority is Priority.URGENT
    assert merged.case.deadline == scam.case.deadline  # the scam's SLA is the shorter
    assert [note.body for note in merged.notes] == ["victim called"]
    assert [item.filename for item in merged.evidence] == ["chat.png"]
    assert (gone.case.status, gone.case.merged_into, gone.case.outcome) == (
        CaseStatus.CLOSED,
        account.case.id,
        None,
    )
    assert [alert.tx_id for alert in split.alerts] == ["T1"] and split.accounts == ()
    assert [alert.tx_id for alert in left.alerts] == ["T2"] and left.accounts == ("A1",)
    assert trail == ["case_merge", "case_split"]


def test_the_deadline_follows_the_kinds_sla_and_a_late_case_is_overdue(
    stocked: Uow, clock: FixedClock
) -> None:
    settings = CaseSettings(account_sla_hours=10)
    with stocked() as uow:
        ann = _ann(uow)
        opened_at = clock.now()
        case = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1", settings=settings)
        other = open_case(uow, ann, CaseKind.ACCOUNT, "A2", title="A2", settings=settings)
        clock.advance(timedelta(hours=10, seconds=1))
        close_case(uow, ann, other.case.id, Outcome.FALSE_POSITIVE, "salary")
        late = case_queue(uow, ann, CaseFilter(overdue=True))
        counts = case_counts(uow, ann)
        now = get_case(uow, ann, case.case.id)
    assert case.case.deadline == opened_at + timedelta(hours=10) and not case.case.overdue
    assert [item.id for item in late.items] == [case.case.id] and now.case.overdue
    assert counts == {"open": 1, "in_progress": 0, "closed": 1, "overdue": 1}


def test_a_case_is_assigned_to_a_colleague_who_works_cases_and_closed_with_an_outcome(
    stocked: Uow,
) -> None:
    with stocked() as uow:
        ann = _ann(uow)
        case_id = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1").case.id
        with pytest.raises(InvalidInput, match="bob"):
            update_case(uow, ann, case_id, CaseChange("bob", Priority.HIGH))
        uow.rollback()
        taken = update_case(uow, ann, case_id, CaseChange("amy", Priority.HIGH))
        amy = world.user_actor(uow, "amy")
        mine = case_queue(uow, amy, CaseFilter(assignee=AssigneeFilter.ME))
        nobody = case_queue(uow, amy, CaseFilter(assignee=AssigneeFilter.NOBODY))
        with pytest.raises(InvalidInput):
            close_case(uow, ann, case_id, Outcome.MULE, " ")
        uow.rollback()
        closed = close_case(uow, ann, case_id, Outcome.MULE, "sold the card")
        with pytest.raises(Conflict):
            close_case(uow, ann, case_id, Outcome.MULE, "again")
        uow.rollback()
        trail = [(r.action, r.subject) for r in uow.audit.tail(3)]
    assert (taken.case.status, taken.case.assignee, taken.case.priority) == (
        CaseStatus.IN_PROGRESS,
        "amy",
        Priority.HIGH,
    )
    assert [c.id for c in mine.items] == [case_id] and nobody.items == []
    assert (closed.case.outcome, closed.outcome_reason, closed.closed_by) == (
        Outcome.MULE,
        "sold the card",
        "user:ann@B001",
    )
    subject = f"case:{case_id}"
    assert trail == [("case_open", subject), ("case_update", subject), ("case_close", subject)]


def test_evidence_is_encrypted_at_rest_hashed_and_read_back_by_its_member_only(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        ann, bob = _ann(uow), world.user_actor(uow, "bob")
        case_id = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1").case.id
        item = add_evidence(
            uow, ann, case_id, "C:\\scans\\statement.pdf", "application/pdf", PDF, keyring
        )
        stored = uow.session.get(CaseEvidenceRow, item.id)
        assert stored is not None
        at_rest, stored_sm3 = stored.content_enc, stored.sm3
        listed, content = evidence_file(uow, ann, case_id, item.id, keyring)
        with pytest.raises(NotFound):
            evidence_file(uow, bob, case_id, item.id, keyring)
        with pytest.raises(NotFound):
            evidence_file(uow, ann, case_id, item.id + 1, keyring)
    assert b"%PDF" not in at_rest and b"Catalog" not in at_rest
    assert item.sm3 == sm3_hex(PDF) == stored_sm3 and item.size_bytes == len(PDF)
    assert (item.filename, item.added_by, listed) == ("statement.pdf", "user:ann@B001", item)
    assert content == PDF


@pytest.mark.parametrize(
    ("filename", "media_type", "content", "reason"),
    [
        ("big.csv", "text/csv", b"a,b\n" * 300, "over the limit"),
        ("anim.gif", "image/gif", b"GIF89a", "refused"),
        ("fake.pdf", "application/pdf", PNG, "not application/pdf"),
        ("bin.csv", "text/csv", b"a,b\n\x00\x01\x02", "not text/csv"),
        ("statement.png", "application/pdf", PDF, "ends in .pdf"),
        ("empty.pdf", "application/pdf", b"", "empty"),
    ],
)
def test_an_evidence_file_refused_leaves_nothing(
    stocked: Uow, keyring: Keyring, filename: str, media_type: str, content: bytes, reason: str
) -> None:
    settings = CaseSettings(evidence_max_bytes=1024)
    with stocked() as uow:
        ann = _ann(uow)
        case_id = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1").case.id
        add_evidence(uow, ann, case_id, "ok.csv", "text/csv", CSV, keyring, settings=settings)
        with pytest.raises(InvalidInput, match=reason):
            add_evidence(
                uow, ann, case_id, filename, media_type, content, keyring, settings=settings
            )
        uow.rollback()
        files = [item.filename for item in get_case(uow, ann, case_id).evidence]
        last = uow.audit.tail(1)[0].action
    assert files == ["ok.csv"] and last == "case_evidence"


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, ann: open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="x", tx_ids=["T3"]),
        lambda uow, ann: open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="x", accounts=["B2"]),
        lambda uow, ann: open_case(uow, ann, CaseKind.SCAM, "x", title="call 13812345678"),
        lambda uow, ann: open_case(uow, ann, CaseKind.SCAM, "x" * 65, title="x"),
        lambda uow, ann: add_note(uow, ann, 999, "note"),
        lambda uow, ann: group_alerts(uow, ann, CaseKind.SCAM),
    ],
    ids=["other members alert", "unrelated account", "phone", "long subject", "no case", "scam"],
)
def test_bad_input_changes_nothing(
    stocked: Uow, call: Callable[[UnitOfWork, Actor], object]
) -> None:
    with stocked() as uow:
        ann = _ann(uow)
        before = uow.audit.tail(1)[0].seq
        with pytest.raises((InvalidInput, NotFound)):
            call(uow, ann)
        uow.rollback()
        assert _case_count(uow) == 0 and uow.audit.tail(1)[0].seq == before


def test_an_alert_is_in_one_case_at_most(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _ann(uow)
        open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1", tx_ids=["T1"])
        with pytest.raises(Conflict, match="T1"):
            open_case(uow, ann, CaseKind.SCAM, "刷单返利", title="x", tx_ids=["T1"])


def test_the_queue_puts_what_to_take_next_first(stocked: Uow) -> None:
    """Open before closed, then the most urgent, the nearest deadline, the most alerts."""
    with stocked() as uow:
        ann = _ann(uow)
        few = open_case(uow, ann, CaseKind.ACCOUNT, "A2", title="few").case.id
        many = open_case(
            uow, ann, CaseKind.ACCOUNT, "A1", title="many", tx_ids=["T1", "T2"]
        ).case.id
        soon = open_case(uow, ann, CaseKind.SCAM, "刷单返利", title="soon").case.id
        urgent = open_case(
            uow, ann, CaseKind.ACCOUNT, "A1", title="urgent", priority=Priority.URGENT
        ).case.id
        done = open_case(uow, ann, CaseKind.SCAM, "冒充客服", title="done").case.id
        close_case(uow, ann, done, Outcome.INCONCLUSIVE, "no answer from the customer")
        queue = case_queue(uow, ann, CaseFilter())
    # The scam case's SLA (24 h) is shorter than an account case's (72 h); "few" and "many"
    # share a deadline and a priority, and "many" holds the alerts though opened later.
    assert [item.id for item in queue.items] == [urgent, soon, many, few, done]
