"""Clue transfer on SQLite and PostgreSQL: a bank sends a clue from a case, the police unit
answers it through its whole life, each side sees only its own clues, acceptance opens the
clue's accounts to the unit, and the hub counts."""

from __future__ import annotations

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.accounts.views import account_profile
from fundwall.clues import (
    ClueAnswer,
    ClueFilter,
    answer_clue,
    case_clues,
    clue_counts,
    clue_evidence,
    clue_inbox,
    clue_outbox,
    get_clue,
    send_clue,
    sent_clue,
)
from fundwall.crypto import Keyring
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.domain.police import ClueStatus

from .conftest import (
    EVIDENCE,
    HUB,
    OFFICER,
    OTHER_OFFICER,
    OTHER_UNIT,
    SUMMARY,
    UNIT,
    UNIT_KEY,
    Cases,
    Uow,
    add_case,
)

S = ClueStatus
CASE_NO = "A3502035100002024030001"


def _send(uow_factory: Uow, case_id: int, member_user: str = "ann", unit: str = UNIT) -> int:
    with uow_factory() as uow:
        sent = send_clue(uow, world.user_actor(uow, member_user), case_id, unit, SUMMARY)
    return sent.item.clue_id


def test_a_clue_goes_from_sent_through_received_and_accepted_to_a_result(
    stocked: Uow, cases: Cases
) -> None:
    with stocked() as uow:
        ann = world.user_actor(uow, "ann")
        sent = send_clue(uow, ann, cases.bank_a, UNIT, SUMMARY)
        clue_id = sent.item.clue_id
        assert sent.item.status is S.SENT and sent.item.member == world.BANK_A
        assert [a.account_no for a in sent.accounts] == ["A1", "B1"]
        assert [a.holder for a in sent.accounts] == [None, None]  # the bank's view: no holders
        assert [t.tx_id for t in sent.transactions] == ["T1", "T2"]
        assert [e.evidence_id for e in sent.evidence] == [cases.evidence]
        assert [i.clue_id for i in clue_inbox(uow, OFFICER, ClueFilter()).items] == [clue_id]
        received = answer_clue(uow, OFFICER, clue_id, ClueAnswer(S.RECEIVED))
        accepted = answer_clue(
            uow, UNIT_KEY, clue_id, ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO.lower())
        )
        result = answer_clue(
            uow, OFFICER, clue_id, ClueAnswer(S.RESULT, suspects_caught=3, recovered_fen=1_500_000)
        )
        outbox = clue_outbox(uow, ann, ClueFilter()).items
        seen_by_bank = sent_clue(uow, ann, clue_id)
        trail = [(r.action, r.details.get("status")) for r in uow.audit.tail(4)]
    assert (received.item.status, accepted.item.status) == (S.RECEIVED, S.ACCEPTED)
    assert accepted.item.police_case_no == CASE_NO
    assert (result.suspects_caught, result.recovered_fen) == (3, 1_500_000)
    assert [(c.clue_id, c.status, c.accounts) for c in outbox] == [(clue_id, S.RESULT, 2)]
    assert [(e.status, e.actor) for e in seen_by_bank.history] == [
        (S.SENT, "user:ann@B001"),
        (S.RECEIVED, "user:pat@PSB1"),
        (S.ACCEPTED, "apikey:kp1@PSB1"),
        (S.RESULT, "user:pat@PSB1"),
    ]
    assert seen_by_bank.history[2].detail == {"police_case_no": CASE_NO}
    assert trail == [
        ("clue_send", None),
        ("clue_answer", ["sent", "received"]),
        ("clue_answer", ["received", "accepted"]),
        ("clue_answer", ["accepted", "result"]),
    ]


def test_a_case_goes_to_a_unit_again_only_after_the_unit_rejected_it(
    stocked: Uow, cases: Cases
) -> None:
    first = _send(stocked, cases.bank_a)
    with stocked() as uow, pytest.raises(Conflict, match=f"as clue {first}"):
        send_clue(uow, world.user_actor(uow, "amy"), cases.bank_a, UNIT, SUMMARY)
    assert _send(stocked, cases.bank_a, unit=OTHER_UNIT) != first  # another unit: fine
    with stocked() as uow:
        rejected = answer_clue(
            uow, OFFICER, first, ClueAnswer(S.REJECTED, reason="no loss reported in our area")
        )
        assert rejected.reason == "no loss reported in our area"
    again = _send(stocked, cases.bank_a)
    with stocked() as uow:
        ann = world.user_actor(uow, "ann")
        from_case = [
            (c.clue_id, c.police_unit, c.status) for c in case_clues(uow, ann, cases.bank_a)
        ]
    assert from_case[0] == (first, UNIT, S.REJECTED) and from_case[2] == (again, UNIT, S.SENT)


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ((), ClueAnswer(S.RESULT, suspects_caught=1, recovered_fen=0)),
        ((), ClueAnswer(S.SENT)),
        ((ClueAnswer(S.RECEIVED),), ClueAnswer(S.RECEIVED)),
        ((ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO),), ClueAnswer(S.REJECTED, reason="no")),
        (
            (ClueAnswer(S.REJECTED, reason="not ours"),),
            ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO),
        ),
        (
            (
                ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO),
                ClueAnswer(S.RESULT, suspects_caught=0, recovered_fen=0),
            ),
            ClueAnswer(S.RESULT, suspects_caught=1, recovered_fen=0),
        ),
    ],
)
def test_an_answer_that_cannot_follow_the_status_is_a_conflict_naming_it(
    stocked: Uow, cases: Cases, path: tuple[ClueAnswer, ...], answer: ClueAnswer
) -> None:
    clue_id = _send(stocked, cases.bank_a)
    with stocked() as uow:
        for step in path:
            answer_clue(uow, OFFICER, clue_id, step)
        ann = world.user_actor(uow, "ann")
        before = sent_clue(uow, ann, clue_id)
        with pytest.raises(Conflict, match=f"is {before.item.status.value}"):
            answer_clue(uow, OFFICER, clue_id, answer)
        uow.rollback()
        assert sent_clue(uow, ann, clue_id).history == before.history


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        (ClueAnswer(S.ACCEPTED), "police_case_no"),
        (ClueAnswer(S.ACCEPTED, police_case_no="2024-117"), "police_case_no"),
        (ClueAnswer(S.REJECTED), "reason"),
        (ClueAnswer(S.REJECTED, reason="call 13812345678"), "reason"),
        (ClueAnswer(S.REJECTED, reason="x" * 501), "reason"),
        (ClueAnswer(S.RECEIVED, reason="why not"), "reason"),
        (ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO, suspects_caught=1), "suspects_caught"),
    ],
)
def test_an_answer_needs_its_own_fields_well_formed(
    stocked: Uow, cases: Cases, answer: ClueAnswer, field: str
) -> None:
    clue_id = _send(stocked, cases.bank_a)
    with stocked() as uow, pytest.raises(InvalidInput) as refused:
        answer_clue(uow, OFFICER, clue_id, answer)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("caught", "recovered", "field"),
    [(-1, 0, "suspects_caught"), (0, -5, "recovered_fen"), (None, 0, "suspects_caught")],
)
def test_a_result_counts_from_zero(
    stocked: Uow, cases: Cases, caught: int | None, recovered: int, field: str
) -> None:
    clue_id = _send(stocked, cases.bank_a)
    with stocked() as uow:
        answer_clue(uow, OFFICER, clue_id, ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO))
        with pytest.raises(InvalidInput) as refused:
            answer_clue(
                uow,
                OFFICER,
                clue_id,
                ClueAnswer(S.RESULT, suspects_caught=caught, recovered_fen=recovered),
            )
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"police_unit": "PSB9"}, "police_unit"),
        ({"police_unit": world.BANK_B}, "police_unit"),
        ({"summary": "short"}, "summary"),
        ({"summary": "the holder's phone is 13812345678, call him"}, "summary"),
        ({"accounts": []}, "accounts"),
        ({"accounts": ["A1", "B2"]}, "accounts[1]"),  # B001 never dealt with B2
        ({"tx_ids": ["T2", "T4"]}, "tx_ids[1]"),  # T4 is B002's alone
        ({"evidence_ids": [987654]}, "evidence_ids[0]"),
    ],
)
def test_a_clue_is_refused_naming_what_is_wrong_and_nothing_is_sent(
    stocked: Uow, cases: Cases, change: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"police_unit": UNIT, "summary": SUMMARY, **change}
    with stocked() as uow:
        ann = world.user_actor(uow, "ann")
        with pytest.raises(InvalidInput) as refused:
            send_clue(uow, ann, cases.bank_a, **arguments)  # type: ignore[arg-type]
        uow.rollback()
        assert clue_outbox(uow, ann, ClueFilter()).items == []
    assert refused.value.field == field


def test_a_clue_names_a_counterparty_the_bank_dealt_with_and_a_chosen_package(
    stocked: Uow, cases: Cases
) -> None:
    with stocked() as uow:
        bob = world.user_actor(uow, "bob")
        sent = send_clue(
            uow, bob, cases.bank_b, UNIT, SUMMARY, accounts=["B2", "X9"], tx_ids=["T5"]
        )
    assert [(a.account_no, a.institution) for a in sent.accounts] == [("B2", "B002"), ("X9", None)]
    assert [t.tx_id for t in sent.transactions] == ["T5"] and sent.evidence == ()


def test_only_the_members_own_open_cases_send_clues(stocked: Uow, cases: Cases) -> None:
    with stocked() as uow:
        merged = add_case(uow, world.BANK_A, ("A2",), (), merged_into=cases.bank_a)
        uow.commit()
        bob, ann = world.user_actor(uow, "bob"), world.user_actor(uow, "ann")
        with pytest.raises(NotFound, match=f"case not found: {cases.bank_a}"):
            send_clue(uow, bob, cases.bank_a, UNIT, SUMMARY)
        with pytest.raises(Conflict, match=f"merged into case {cases.bank_a}"):
            send_clue(uow, ann, merged, UNIT, SUMMARY)


def test_each_side_sees_only_its_own_clues(stocked: Uow, cases: Cases, keyring: Keyring) -> None:
    clue_a = _send(stocked, cases.bank_a)
    clue_b = _send(stocked, cases.bank_b, "bob", OTHER_UNIT)
    with stocked() as uow:
        ann, bob = world.user_actor(uow, "ann"), world.user_actor(uow, "bob")
        assert [c.clue_id for c in clue_outbox(uow, bob, ClueFilter()).items] == [clue_b]
        assert [c.clue_id for c in clue_inbox(uow, OFFICER, ClueFilter()).items] == [clue_a]
        assert clue_inbox(uow, OFFICER, ClueFilter(status=S.ACCEPTED)).items == []
        with pytest.raises(NotFound):
            sent_clue(uow, ann, clue_b)
        assert case_clues(uow, bob, cases.bank_a) == []
        for read in (
            lambda: get_clue(uow, OTHER_OFFICER, clue_a, keyring),
            lambda: answer_clue(uow, OTHER_OFFICER, clue_a, ClueAnswer(S.RECEIVED)),
            lambda: clue_evidence(uow, OTHER_OFFICER, clue_a, cases.evidence, keyring),
            lambda: get_clue(uow, OFFICER, clue_b, keyring),
        ):
            with pytest.raises(NotFound, match="clue not found"):
                read()


def test_the_police_read_the_holders_the_sender_holds_in_full_and_it_is_audited(
    stocked: Uow, cases: Cases, keyring: Keyring
) -> None:
    clue_id = _send(stocked, cases.bank_a)
    with stocked() as uow:
        seen = get_clue(uow, OFFICER, clue_id, keyring)
        record = uow.audit.tail(1)[0]
    holder = seen.accounts[0].holder
    owner = world.person(1)
    assert holder is not None
    assert (holder.name, holder.id_number, holder.phone) == (
        owner.name,
        owner.id_number,
        owner.phone,
    )
    assert seen.accounts[1].holder is None  # B1 is B002's customer: the police ask B002
    assert seen.answers == (S.RECEIVED, S.ACCEPTED, S.REJECTED)
    assert (record.action, record.actor, record.subject) == (
        "unmask_personal_data",
        "user:pat@PSB1",
        f"clue:{clue_id}",
    )
    assert record.details["parties"] == ["P1"]
    assert owner.id_number not in str(record.details)


def test_the_police_download_the_evidence_of_the_package_only(
    stocked: Uow, cases: Cases, keyring: Keyring
) -> None:
    with stocked() as uow:
        chosen = send_clue(
            uow, world.user_actor(uow, "ann"), cases.bank_a, UNIT, SUMMARY, evidence_ids=[]
        )
    full = _send(stocked, cases.bank_a, unit=OTHER_UNIT)
    with stocked() as uow:
        item, content = clue_evidence(uow, OTHER_OFFICER, full, cases.evidence, keyring)
        record = uow.audit.tail(1)[0]
        with pytest.raises(NotFound, match="evidence not found"):
            clue_evidence(uow, OFFICER, chosen.item.clue_id, cases.evidence, keyring)
    assert content == EVIDENCE and item.filename == "statement.pdf"
    assert (record.action, record.details["evidence"]) == ("clue_evidence_read", cases.evidence)


def test_accepting_a_clue_opens_its_accounts_to_the_unit(
    stocked: Uow, cases: Cases, keyring: Keyring
) -> None:
    clue_id = _send(stocked, cases.bank_a)
    with stocked() as uow:
        with pytest.raises(NotFound):
            account_profile(uow, OFFICER, "A1", keyring)
        answer_clue(uow, OFFICER, clue_id, ClueAnswer(S.RECEIVED))
        with pytest.raises(NotFound):
            account_profile(uow, OFFICER, "A1", keyring)
        answer_clue(uow, OFFICER, clue_id, ClueAnswer(S.ACCEPTED, police_case_no=CASE_NO))
        profile = account_profile(uow, OFFICER, "A1", keyring)
        flows = {tx.tx_id for tx in profile.flows.items}
        with pytest.raises(NotFound):
            account_profile(uow, OTHER_OFFICER, "A1", keyring)
        with pytest.raises(NotFound):
            account_profile(uow, OFFICER, "B2", keyring)  # no clue names it
    assert flows == {"T1", "T2"} and profile.alerts == ()


def test_the_hub_counts_clues_by_status_and_member(stocked: Uow, cases: Cases) -> None:
    clue_a = _send(stocked, cases.bank_a)
    _send(stocked, cases.bank_a, unit=OTHER_UNIT)
    _send(stocked, cases.bank_b, "bob")
    with stocked() as uow:
        answer_clue(uow, OFFICER, clue_a, ClueAnswer(S.REJECTED, reason="outside our area"))
        counts = clue_counts(uow, HUB)
    assert counts.by_status == {S.SENT: 2, S.RECEIVED: 0, S.ACCEPTED: 0, S.REJECTED: 1, S.RESULT: 0}
    assert counts.by_member[world.BANK_A][S.REJECTED] == 1
    assert counts.by_member[world.BANK_A][S.SENT] == 1
    assert counts.by_member[world.BANK_B][S.SENT] == 1
