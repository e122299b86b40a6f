"""Appeals on SQLite and PostgreSQL: a person sees the measures on their own accounts in plain
words and appeals a bank's measure (never a police order) with files; the bank that decided
reviews it against a working-day deadline, may ask the police for an opinion, and lifts it
(the running engine passes the next payment at once) or maintains it with an answer. Nobody
reads another's appeals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auth import world
from fundwall.accounts.controls import restrict, set_account_status
from fundwall.accounts.tiers import set_risk_tier
from fundwall.appeals.filing import (
    EvidenceFile,
    close_my_account,
    file_appeal,
    my_accounts,
    my_appeal,
    my_appeals,
    my_measures,
)
from fundwall.appeals.model import AppealStatus, Outcome
from fundwall.appeals.review import (
    appeal_detail,
    appeal_evidence_file,
    appeal_queue,
    appeals_by_member,
    ask_opinion,
    decide_appeal,
    give_opinion,
    opinion_request,
    opinion_requests,
    overdue_appeals,
)
from fundwall.clock import FixedClock
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.controls.model import RestrictionKind
from fundwall.engine.service import DecisionService
from fundwall.outreach.gateway import LocalGateway
from fundwall.outreach.outbox import delivered_to, dispatch_outbox
from fundwall.store.tables import AccountRow

from .conftest import (
    ADMIN_A,
    ANALYST_A,
    ANALYST_B,
    HUB,
    OPERATOR,
    OTHER_POLICE,
    POLICE,
    Uow,
    person_of,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PAY_SLIP = EvidenceFile("工资条.png", "image/png", PNG)
POLICY = PolicySettings()


def _suspend(uow_factory: Uow, account: str = "A1") -> int:
    with uow_factory() as uow:
        return restrict(uow, ADMIN_A, account, RestrictionKind.NON_COUNTER_SUSPENSION,
                        reason="一号多人：绑定手机号同时绑定了7人")  # fmt: skip


def _pay(clock: FixedClock, n: int) -> Transaction:
    clock.advance(timedelta(minutes=1))
    return Transaction(
        tx_id=f"AP{n}", ts=clock.now(), kind=TransactionKind.TRANSFER, payer_account="A1",
        payee_account="B1", payer_bank=world.BANK_A, payee_bank=world.BANK_B,
        amount=Money.of_fen(100_00), channel=Channel.MOBILE,
    )  # fmt: skip


def test_a_person_reads_their_own_measures_in_plain_words_and_police_orders_go_to_the_police(
    stocked: Uow, keyring: Keyring, clock: FixedClock
) -> None:
    _suspend(stocked)
    with stocked() as uow:
        restrict(uow, OPERATOR, "A1", RestrictionKind.STOP_PAYMENT, reason="紧急止付 ZF-7",
                 ends_at=clock.now() + timedelta(hours=48), order_reference="ZF-7")  # fmt: skip
        set_account_status(uow, ADMIN_A, "A2", AccountStatus.NON_COUNTER_SUSPENDED, "久未核实")
        mine = my_measures(uow, person_of(keyring, 1))
        theirs = my_measures(uow, person_of(keyring, 2))
        nobody = my_measures(uow, person_of(keyring, 3))
    suspension, stop = mine
    assert suspension.appealable and suspension.account == "*1" and suspension.bank == "B001"
    assert "非柜面业务暂停" in suspension.what.zh and "银行B001" in suspension.where.zh
    assert "身份证件" in suspension.bring.zh and suspension.why.startswith("一号多人")
    assert not stop.appealable and stop.why == "" and "公安机关" in stop.where.zh
    assert "bank cannot lift" in stop.where.en
    assert [(m.key, m.why) for m in theirs] == [("sA2", "久未核实")]
    assert nobody == []


def test_an_appeal_is_filed_with_files_and_read_by_its_person_and_its_bank_only(
    stocked: Uow, keyring: Keyring
) -> None:
    restriction = _suspend(stocked)
    ann = person_of(keyring, 1)
    with stocked() as uow:
        filed = file_appeal(uow, ann, f"r{restriction}", " 这是我的工资卡，用于日常消费。 ",
                            keyring, contact="13912345678", files=[PAY_SLIP])  # fmt: skip
        record = uow.audit.tail(1)[0]
    # Saturday 1 June 2024: ten working days skip the weekends and the Dragon Boat holiday
    # (10 June), the last one Monday 17 June, so the deadline is its midnight in Beijing.
    assert filed.deadline == datetime(2024, 6, 17, 16, 0, tzinfo=UTC)
    assert filed.status is AppealStatus.OPEN and filed.reason == "这是我的工资卡，用于日常消费。"
    assert filed.contact == "139****5678" and [e.filename for e in filed.evidence] == ["工资条.png"]
    assert record.action == "file_appeal" and record.actor == ann.audit_id
    assert world.person(1).id_number not in record.actor and "139" not in str(record.details)
    with stocked() as uow:
        assert [a.id for a in my_appeals(uow, ann, keyring)] == [filed.id]
        assert my_appeals(uow, person_of(keyring, 2), keyring) == []
        with pytest.raises(NotFound):
            my_appeal(uow, person_of(keyring, 2), filed.id, keyring)
        assert [a.id for a in appeal_queue(uow, ANALYST_A, keyring)] == [filed.id]
        assert appeal_queue(uow, ANALYST_B, keyring) == []
        with pytest.raises(NotFound):
            appeal_detail(uow, ANALYST_B, filed.id, keyring)
        with pytest.raises(NotFound):
            appeal_evidence_file(uow, ANALYST_B, filed.id, filed.evidence[0].id, keyring)
        item, content = appeal_evidence_file(uow, ANALYST_A, filed.id, filed.evidence[0].id,
                                             keyring)  # fmt: skip
        assert content == PNG and item.sm3 == filed.evidence[0].sm3
        assert uow.audit.tail(1)[0].action == "appeal_evidence_read"
        with pytest.raises(PermissionDenied):
            appeal_queue(uow, POLICE, keyring)
        with pytest.raises(PermissionDenied):
            file_appeal(uow, ANALYST_A, f"r{restriction}", "冒充", keyring)


def test_bad_appeals_are_refused_naming_why_and_nothing_is_written(
    stocked: Uow, keyring: Keyring, clock: FixedClock
) -> None:
    restriction = _suspend(stocked)
    _suspend(stocked, "A2")
    ann = person_of(keyring, 1)
    with stocked() as uow:
        stop = restrict(uow, OPERATOR, "A1", RestrictionKind.FREEZE, reason="冻结 DJ-1",
                        ends_at=clock.now() + timedelta(days=180))  # fmt: skip
        other_persons = next(m.key for m in my_measures(uow, person_of(keyring, 2)))
        key = f"r{restriction}"
        cases: list[tuple[dict[str, object], type[Exception], str]] = [
            ({"measure_key": f"r{stop}"}, Conflict, "police order"),
            ({"measure_key": other_persons}, NotFound, "measure"),
            ({"measure_key": "r999999"}, NotFound, "measure"),
            ({"measure_key": "sB1"}, NotFound, "measure"),
            ({"reason": "   "}, InvalidInput, "reason"),
            ({"reason": "x" * 1001}, InvalidInput, "1000"),
            ({"reason": "bell\x07"}, InvalidInput, "printable"),
            ({"contact": "12345"}, InvalidInput, "contact"),
            ({"files": [PAY_SLIP] * 6}, InvalidInput, "at most 5 files"),
            ({"files": [EvidenceFile("a.png", "image/png", b"MZ\x90\x00")]}, InvalidInput,
             "content is not image/png"),
            ({"files": [EvidenceFile("a.exe", "application/x-msdownload", b"MZ")]},
             InvalidInput, "refused"),
            ({"files": [EvidenceFile("big.png", "image/png", PNG + b"\x00" * 5 * 1024 * 1024)]},
             InvalidInput, "over the limit"),
        ]  # fmt: skip
        for change, error, said in cases:
            arguments: dict[str, object] = {"measure_key": key, "reason": "我的工资卡"} | change
            with pytest.raises(error, match=said):
                file_appeal(uow, ann, keyring=keyring, **arguments)  # type: ignore[arg-type]
            assert my_appeals(uow, ann, keyring) == []
        file_appeal(uow, ann, key, "我的工资卡", keyring)
        with pytest.raises(Conflict, match="still open"):
            file_appeal(uow, ann, key, "再次申诉", keyring)


def test_lifting_on_appeal_lets_the_running_engine_pass_the_next_payment(
    stocked: Uow, keyring: Keyring, service: DecisionService, clock: FixedClock
) -> None:
    restriction = _suspend(stocked)
    assert service.decide(_pay(clock, 1), member=world.BANK_A).action is Action.BLOCK
    with stocked() as uow:
        filed = file_appeal(uow, person_of(keyring, 1), f"r{restriction}", "工资卡", keyring)
        with pytest.raises(InvalidInput, match="outcome"):
            decide_appeal(uow, ANALYST_A, filed.id, "forgiven", "?", keyring)  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            decide_appeal(uow, ANALYST_B, filed.id, Outcome.LIFTED, "not ours", keyring)
        decided = decide_appeal(uow, ANALYST_A, filed.id, Outcome.LIFTED,
                                "经核实为本人工资卡，已解除限制。", keyring)  # fmt: skip
        actions = [record.action for record in uow.audit.tail(2)]
    assert actions == ["decide_appeal", "lift_restriction"]
    assert decided.outcome is Outcome.LIFTED and decided.status is AppealStatus.DECIDED
    decision = service.decide(_pay(clock, 2), member=world.BANK_A)
    assert not [r for r in decision.reasons if r.rule_id.startswith("HC")]
    with stocked() as uow:
        (seen,) = my_appeals(uow, person_of(keyring, 1), keyring)
        assert (
            seen.answer == "经核实为本人工资卡，已解除限制。"
            and my_measures(uow, person_of(keyring, 1)) == []
        )
        with pytest.raises(Conflict, match="decided already"):
            decide_appeal(uow, ANALYST_A, filed.id, Outcome.MAINTAINED, "again", keyring)


def test_a_tier_and_a_status_are_lifted_through_their_own_writers(
    stocked: Uow, keyring: Keyring, service: DecisionService, clock: FixedClock
) -> None:
    with stocked() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.HIGH, POLICY, reason="一号多人")
        set_account_status(uow, ADMIN_A, "A2", AccountStatus.NON_COUNTER_SUSPENDED, "久未核实")
        (tier,) = my_measures(uow, person_of(keyring, 1))
        on_tier = file_appeal(uow, person_of(keyring, 1), tier.key, "本人使用", keyring)
        on_status = file_appeal(uow, person_of(keyring, 2), "sA2", "本人使用", keyring)
        decide_appeal(uow, ANALYST_A, on_tier.id, Outcome.LIFTED, "已核实", keyring, policy=POLICY)
        decide_appeal(uow, ANALYST_A, on_status.id, Outcome.LIFTED, "已核实", keyring)
        a1, a2 = uow.session.get(AccountRow, "A1"), uow.session.get(AccountRow, "A2")
        assert a1 is not None and a1.risk_tier == "low"
        assert a2 is not None and a2.status == "normal"
    decision = service.decide(_pay(clock, 3), member=world.BANK_A)
    assert not [r for r in decision.reasons if r.rule_id.startswith("HC")]


def test_the_police_opinion_is_asked_answered_and_read_by_the_bank_not_the_person(
    stocked: Uow, keyring: Keyring
) -> None:
    restriction = _suspend(stocked)
    ann = person_of(keyring, 1)
    with stocked() as uow:
        filed = file_appeal(uow, ann, f"r{restriction}", "工资卡", keyring, contact="13912345678")
        with pytest.raises(InvalidInput, match="police unit"):
            ask_opinion(uow, ANALYST_A, filed.id, "B002", "此账户是否涉案？")
        with pytest.raises(NotFound):
            ask_opinion(uow, ANALYST_B, filed.id, "PSB1", "此账户是否涉案？")
        with pytest.raises(NotFound):
            give_opinion(uow, POLICE, filed.id, "not asked yet")
        ask_opinion(uow, ANALYST_A, filed.id, "PSB1", "此账户是否涉案？")
        with pytest.raises(Conflict, match="awaits"):
            ask_opinion(uow, ANALYST_A, filed.id, "PSB1", "again")
        assert opinion_requests(uow, OTHER_POLICE, keyring) == []
        with pytest.raises(NotFound):
            opinion_request(uow, OTHER_POLICE, filed.id, keyring)
        (asked,) = opinion_requests(uow, POLICE, keyring)
        assert asked.question == "此账户是否涉案？" and asked.contact is None
        give_opinion(uow, POLICE, filed.id, "未发现涉案线索，同意解除。")
        with pytest.raises(Conflict, match="awaits no opinion"):
            give_opinion(uow, POLICE, filed.id, "twice")
        seen_by_bank = appeal_detail(uow, ANALYST_A, filed.id, keyring)
        seen_by_person = my_appeal(uow, ann, filed.id, keyring)
        decide_appeal(uow, ANALYST_A, filed.id, Outcome.LIFTED, "经核实为本人正常使用。", keyring)
        dispatch_outbox(uow, LocalGateway())
        received = [sms.text for sms in delivered_to(uow, "13912345678")]
    assert len(received) == 2 and "已受理" in received[0] and "2024-06-17" in received[0]
    assert "理由：经核实为本人正常使用。详情" in received[1]  # one full stop, not 。。
    assert seen_by_bank.opinion == "未发现涉案线索，同意解除。"
    assert seen_by_bank.status is AppealStatus.OPEN
    assert seen_by_person.opinion is None and seen_by_person.question is None


def test_a_maintained_appeal_keeps_the_measure_and_a_new_appeal_may_follow(
    stocked: Uow, keyring: Keyring, service: DecisionService, clock: FixedClock
) -> None:
    restriction = _suspend(stocked)
    ann = person_of(keyring, 1)
    with stocked() as uow:
        filed = file_appeal(uow, ann, f"r{restriction}", "工资卡", keyring)
        answer = "该账户近期频繁接收陌生人转账，请携带身份证到柜面核实。"
        decide_appeal(uow, ANALYST_A, filed.id, Outcome.MAINTAINED, answer, keyring)
        (measure,) = my_measures(uow, ann)
        assert measure.open_appeal is None
        dispatch_outbox(uow, LocalGateway())
        # No contact phone given and none bound by the bank: the portal alone tells.
        assert delivered_to(uow, world.person(1).phone) == []
        again = file_appeal(uow, ann, f"r{restriction}", "补充材料", keyring, files=[PAY_SLIP])
        assert again.id != filed.id
    assert service.decide(_pay(clock, 4), member=world.BANK_A).action is Action.BLOCK


def test_overdue_appeals_reach_the_hub_and_the_figures(
    stocked: Uow, keyring: Keyring, clock: FixedClock
) -> None:
    first, second = _suspend(stocked), _suspend(stocked, "A2")
    since = clock.now()
    with stocked() as uow:
        late = file_appeal(uow, person_of(keyring, 1), f"r{first}", "工资卡", keyring)
        quick = file_appeal(uow, person_of(keyring, 2), f"r{second}", "工资卡", keyring)
        clock.advance(timedelta(hours=5))
        decide_appeal(uow, ANALYST_A, quick.id, Outcome.LIFTED, "已核实", keyring)
        assert overdue_appeals(uow, HUB, keyring) == []
        clock.advance(timedelta(days=20))
        (overdue,) = overdue_appeals(uow, HUB, keyring)
        queue = appeal_queue(uow, ANALYST_A, keyring)
        (figures,) = appeals_by_member(uow, HUB, since, clock.now())
        with pytest.raises(PermissionDenied):
            overdue_appeals(uow, ANALYST_A, keyring)
        with pytest.raises(InvalidInput, match="until"):
            appeals_by_member(uow, HUB, clock.now(), since)
    assert overdue.id == late.id and overdue.reason == "" and overdue.contact is None
    assert [(a.id, a.overdue) for a in queue] == [(late.id, True)]
    assert (figures.member, figures.filed, figures.lifted, figures.open, figures.overdue) == (
        "B001", 2, 1, 1, 1,
    )  # fmt: skip
    assert figures.answered_median_hours == 5.0


def test_a_person_closes_their_own_account_only(stocked: Uow, keyring: Keyring) -> None:
    ann = person_of(keyring, 1)
    with stocked() as uow:
        assert [(a.masked, a.bank) for a in my_accounts(uow, ann)] == [("*1", "B001")]
        with pytest.raises(NotFound):
            close_my_account(uow, ann, "B1", move_to="6222020200112233445")
        with pytest.raises(Conflict, match="must be moved out"):
            close_my_account(uow, ann, "A1")
        with pytest.raises(Conflict, match="as asked"):
            close_my_account(uow, ann, "A1", move_to="6222020200112233445")
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0  # moved out through the bank
        uow.commit()
        closed = close_my_account(uow, ann, "A1", move_to="6222020200112233445")
        record = uow.audit.tail(1)[0]
    assert closed.account.status is AccountStatus.CLOSED
    assert "public_portal" in record.details["reason"] and record.actor == ann.audit_id


def test_a_person_is_sent_to_a_counter_never_told_of_the_banks_case(
    stocked: Uow, keyring: Keyring
) -> None:
    """An open case on the account blocks its closure; the person reads "go to a counter",
    never that the bank is looking into the account (that would warn a suspect)."""
    ann = person_of(keyring, 1)
    with stocked() as uow:
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0
        world.add_open_case(uow, world.BANK_A, "A1", "mule?")
        with pytest.raises(Conflict) as refused:
            close_my_account(uow, ann, "A1")
        record = uow.audit.tail(1)[0]
        assert row.status == "normal"
    assert "branch of your bank" in str(refused.value) and "case" not in str(refused.value)
    zh = getattr(refused.value, "reason_zh", "")
    assert "柜台" in zh and "案件" not in zh
    # The bank's own record names its case.
    assert (
        record.action == "closure_refused" and "about it is open" in record.details["blockers"][-1]
    )


def test_an_appealed_daily_cap_states_its_amount_to_the_person_and_the_bank(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        cap = restrict(uow, ADMIN_A, "A1", RestrictionKind.OUTFLOW_CAP, reason="交易对手涉险",
                       amount_fen=5_000_00)  # fmt: skip
        filed = file_appeal(uow, person_of(keyring, 1), f"r{cap}", "工资卡", keyring)
        seen_by_bank = appeal_detail(uow, ANALYST_A, filed.id, keyring)
    for view in (filed, seen_by_bank):
        assert "每日转出不超过¥5,000.00" in view.measure_words.zh
        assert "at most ¥5,000.00 a day" in view.measure_words.en
