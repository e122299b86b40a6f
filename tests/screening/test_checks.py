"""The checks as columns: each finds exactly what the simulator planted in the tiny region,
and each rule's edges hold on small hand-made account bases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from fundwall.config import DormancyOverride, PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.errors import InvalidInput
from fundwall.domain.screening import PLANTED_CHECKS, Check, ScreeningAction, parse_checks
from fundwall.screening.base import BASE_SCHEMA, AccountBase, base_from_region
from fundwall.screening.checks import CHECKS, Finding, screen
from fundwall.screening.evaluation import evaluate_region
from fundwall.screening.reasons import finding_details, notice, reason

AS_OF = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
POLICY = PolicySettings()


def account(n: int, **given: Any) -> dict[str, Any]:
    """An account of a person, held a long time and used yesterday, unless `given` says."""
    row: dict[str, Any] = {
        "account_no": f"A{n:03d}",
        "member": "301",
        "party_id": f"P{n}",
        "holder": f"H{n}",
        "person": True,
        "account_class": "I",
        "closed": False,
        "opened_at": AS_OF - timedelta(days=1_000),
        "active_at": AS_OF - timedelta(days=1),
        "balance_fen": 100_00,
        "device": None,
        "ip": None,
        "phone": None,
        "agent": None,
        "punished_until": None,
    }
    row.update(given)
    return row


def base_of(*rows: dict[str, Any]) -> AccountBase:
    return AccountBase.of_table(pa.Table.from_pylist(list(rows), schema=BASE_SCHEMA), AS_OF)


def found(check: Check, *rows: dict[str, Any], policy: PolicySettings = POLICY) -> set[str]:
    base = base_of(*rows)
    finding = CHECKS[check](base, policy)
    return set(base.account_no.take(finding.rows).to_pylist())


@pytest.fixture(scope="module")
def tiny_base(tiny: Path) -> AccountBase:
    return base_from_region(tiny, Keyring.load(tiny.parent / "screening-keys"))


@pytest.mark.parametrize("check", sorted(PLANTED_CHECKS))
def test_each_check_finds_exactly_the_accounts_the_simulator_planted(
    tiny_base: AccountBase, planted: Callable[[str], set[str]], check: Check
) -> None:
    finding = screen(tiny_base, POLICY, [check])[check]
    assert set(tiny_base.account_no.take(finding.rows).to_pylist()) == planted(check.value)
    assert planted(check.value), "the tiny region plants some"


def test_the_evaluation_scores_every_planted_check_perfect_on_the_tiny_region(tiny: Path) -> None:
    result = evaluate_region(tiny, POLICY)
    assert result.accounts == 909 and result.as_of == datetime(2024, 3, 17, 16, tzinfo=UTC)
    for score in result.scores:
        if score.check in PLANTED_CHECKS:
            assert (score.precision, score.recall) == (1.0, 1.0), score
            assert score.found == score.planted == score.hits > 0
        else:
            assert score.planted is None and score.precision is None, score


def test_dormancy_needs_the_idle_months_and_a_small_balance() -> None:
    idle = AS_OF - timedelta(days=400)
    rows = [
        account(1, active_at=idle, balance_fen=10_00),
        account(2, active_at=idle, balance_fen=10_01),
        account(3, active_at=AS_OF - timedelta(days=330), balance_fen=0),
        account(4, active_at=None, opened_at=AS_OF - timedelta(days=800), balance_fen=0),
        account(5, active_at=idle, account_class="corporate", balance_fen=10**9, person=False),
        account(6, active_at=idle, balance_fen=0, closed=True),
        account(7, active_at=None, opened_at=None, balance_fen=0),
    ]
    assert found(Check.DORMANT, *rows) == {"A001", "A004", "A005"}


def test_each_bank_may_have_its_own_dormancy_policy() -> None:
    idle = AS_OF - timedelta(days=400)
    rows = [account(1, active_at=idle, balance_fen=50_00), account(2, active_at=idle,
            balance_fen=50_00, member="302")]  # fmt: skip
    assert found(Check.DORMANT, *rows) == set()
    own = {"302": DormancyOverride(personal_max_balance_fen=100_00)}
    assert found(Check.DORMANT, *rows, policy=POLICY.model_copy(
        update={"dormant_by_bank": own})) == {"A002"}  # fmt: skip
    longer = {"301": DormancyOverride(personal_months=36, personal_max_balance_fen=100_00)}
    assert found(Check.DORMANT, *rows, policy=POLICY.model_copy(
        update={"dormant_by_bank": longer})) == set()  # fmt: skip


def test_a_new_account_unused_for_six_months_is_found() -> None:
    rows = [
        account(1, opened_at=AS_OF - timedelta(days=190), active_at=None),
        account(2, opened_at=AS_OF - timedelta(days=170), active_at=None),
        account(3, opened_at=AS_OF - timedelta(days=190), active_at=AS_OF - timedelta(days=5)),
    ]
    assert found(Check.NEW_IDLE, *rows) == {"A001"}


def test_one_person_over_the_regions_threshold_or_a_banks_class_limit() -> None:
    banks = [f"30{n}" for n in range(1, 8)]
    crowded = [account(n, member=bank, holder="H1", party_id="P1")
               for n, bank in enumerate(banks[:6])]  # fmt: skip
    crowded.append(account(6, member="301", holder="H1", party_id="P1", account_class="II"))
    fine = [account(10 + n, member=bank, holder="H2", party_id="P2")
            for n, bank in enumerate(banks[:5])]  # fmt: skip
    e_accounts = [account(20 + n, member="303", holder="H3", party_id="P3", account_class="II")
                  for n in range(6)]  # fmt: skip
    firm = [account(30 + n, member=bank, holder="F1", person=False, account_class="corporate")
            for n, bank in enumerate(banks)]  # fmt: skip
    rows = crowded + fine + e_accounts + firm + [account(40, member="303", holder="H3")]
    assert found(Check.MANY_ACCOUNTS, *rows) == {
        *(f"A{n:03d}" for n in range(7)),
        *(f"A{20 + n:03d}" for n in range(6)),
    }


def test_a_batch_is_several_peoples_openings_through_one_tie_within_the_window() -> None:
    t = AS_OF - timedelta(days=30)
    hour = timedelta(hours=1)
    rows = [
        # Three people through one tablet within two hours: a batch.
        *(account(n, opened_at=t + n * hour, device="TAB1") for n in range(3)),
        # Two people through another: not enough.
        *(account(10 + n, opened_at=t + n * hour, device="TAB2") for n in range(2)),
        # Three people a day and a half apart: not within the window.
        *(account(20 + n, opened_at=t + n * 36 * hour, agent="AG7") for n in range(3)),
        # One person opening three accounts through a phone counts once.
        *(account(30 + n, opened_at=t + n * hour, device="PH1", holder="H30") for n in range(3)),
        # Three people bound to one phone, exactly a window apart at the ends.
        *(account(40 + n, opened_at=t + n * 12 * hour, phone="PHONE9") for n in range(3)),
        # Someone through the first tablet a week later is not part of its batch.
        account(50, opened_at=t + 7 * 24 * hour, device="TAB1"),
    ]
    assert found(Check.BATCH_OPENED, *rows) == {"A000", "A001", "A002", "A040", "A041", "A042"}
    base = base_of(*rows)
    finding = CHECKS[Check.BATCH_OPENED](base, POLICY)
    details = finding_details(Check.BATCH_OPENED, finding)
    assert details[0] == {"links": ["device"], "people": 3, "window_hours": 24}
    assert [d["links"] for d in details[3:]] == [["phone"]] * 3


def test_punished_holders_and_shared_phones() -> None:
    later, earlier = AS_OF + timedelta(days=30), AS_OF - timedelta(days=1)
    rows = [
        account(1, punished_until=later),
        account(2, punished_until=earlier),
        account(3, phone="PH1"),
        account(4, phone="PH1", member="302"),
        account(5, phone="PH2", holder="H5"),
        account(6, phone="PH2", holder="H5", member="302"),
        account(7, phone="PH3"),
        account(8, phone="PH3", closed=True),
    ]
    assert found(Check.PUNISHED, *rows) == {"A001"}
    assert found(Check.SHARED_PHONE, *rows) == {"A003", "A004", "A007"}


def test_every_reason_says_why_in_both_languages(tiny_base: AccountBase) -> None:
    for check, finding in screen(tiny_base, POLICY, list(Check)).items():
        for details in finding_details(check, finding)[:3]:
            zh, en = reason(check, details)
            assert zh and en and zh != en, (check, details)
    figures = {"idle_days": 400, "never_used": False, "balance_fen": 320, "company": False,
               "months": 12, "ceiling_fen": 1000}  # fmt: skip
    dormant = reason(Check.DORMANT, figures)
    assert dormant == (
        "12个月以上未发生主动交易（最近一次在400天前），余额¥3.20不超过¥10.00",
        "no transaction by the holder for over 12 months (the last 400 days ago) and a balance "
        "of ¥3.20, not above ¥10.00",
    )
    zh, en = notice(ScreeningAction.RESTRICT, ("白鹭银行", "Egret Bank"), "6222021234567890128",
                    [dormant])  # fmt: skip
    assert "尾号0128" in zh and "申诉" in zh and "白鹭银行" in zh and dormant[0] in zh
    assert "ending 0128" in en and "appeal" in en and "Egret Bank" in en and dormant[1] in en
    assert "6222021234567890128" not in zh + en


def test_an_unknown_check_or_a_bad_base_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_checks(["dormant", "sleepy"])
    assert caught.value.field == "checks" and "sleepy" in caught.value.reason
    with pytest.raises(InvalidInput) as caught:
        parse_checks([])
    assert caught.value.field == "checks"
    with pytest.raises(InvalidInput) as caught:
        AccountBase.of_table(pa.table({"account_no": ["A1"]}), AS_OF)
    assert caught.value.field == "table"
    empty = base_of()
    assert all(
        isinstance(f, Finding) and len(f) == 0 for f in screen(empty, POLICY, list(Check)).values()
    )
