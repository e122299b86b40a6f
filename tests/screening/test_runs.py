"""Screening runs over the store (SQLite and PostgreSQL) holding the tiny region: a
whole-region run finds what was planted, a member's run and reads stay within the member,
bad input names its field, and the punishment list reaches the check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from fundwall.accounts.punishments import punish
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.crypto import ID_HASH_KIND
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.screening import PLANTED_CHECKS, Check
from fundwall.region import read_table
from fundwall.screening.model import ItemView
from fundwall.screening.runs import (
    list_runs,
    read_run,
    screen_accounts,
    screen_region,
    work_list,
)
from fundwall.store import UnitOfWork

from .conftest import AUDITOR, HUB, OPERATOR, POLICE, admin, analyst, key


def whole_list(uow: UnitOfWork, actor: object, run_id: int) -> list[ItemView]:
    items: list[ItemView] = []
    page = 1
    while True:
        found = work_list(uow, actor, run_id, page=page, size=200)  # type: ignore[arg-type]
        items += found.items
        if not found.more:
            return items
        page += 1


def by_check(items: list[ItemView]) -> dict[Check, set[str]]:
    found: dict[Check, set[str]] = {check: set() for check in Check}
    for item in items:
        for finding in item.findings:
            found[finding.check].add(item.account_no)
    return found


def test_a_whole_region_run_finds_exactly_what_was_planted(
    loaded: Platform, planted: Callable[[str], set[str]]
) -> None:
    policy = loaded.settings.policy
    with loaded.unit_of_work() as uow:
        run = screen_region(uow, HUB, policy)
        (record,) = uow.audit.tail(1)
    assert (record.actor, record.action, record.subject) == (
        "user:hub",
        "screen_accounts",
        "screening:region",
    )
    assert record.details["screened"] == run.screened == 909
    assert run.member is None and run.checks == tuple(Check)
    with loaded.unit_of_work() as uow:
        found = by_check(whole_list(uow, OPERATOR, run.id))
        shown = whole_list(uow, HUB, run.id)
    for check in PLANTED_CHECKS:
        assert found[check] == planted(check.value), check
        assert run.found[check] == len(planted(check.value))
    assert found[Check.NEW_IDLE] == found[Check.PUNISHED] == set()
    # The hub reads the region's work list without customers' account numbers.
    assert all("*" in item.account_no for item in shown)
    assert sum(counts.items for counts in run.by_member.values()) == run.items == len(shown)


def test_a_members_run_and_reads_stay_within_the_member(
    loaded: Platform, planted: Callable[[str], set[str]], bank_of: dict[str, str]
) -> None:
    policy = loaded.settings.policy
    member, other = "302", "303"
    with loaded.unit_of_work() as uow:
        own = screen_accounts(uow, admin(member), policy)
        region = screen_region(uow, OPERATOR, policy)
    assert own.member == member and set(own.by_member) == {member}
    with loaded.unit_of_work() as uow:
        items = whole_list(uow, analyst(member), own.id)
        part = whole_list(uow, key(member), region.id)
        seen = read_run(uow, key(member), region.id)
        runs = list_runs(uow, admin(member)).items
        with pytest.raises(NotFound):
            read_run(uow, admin(other), own.id)
        with pytest.raises(NotFound):
            work_list(uow, key(other), own.id)
        others_part = whole_list(uow, admin(other), region.id)
    assert {bank_of[item.account_no] for item in items} == {member}
    found = by_check(items)
    for check in PLANTED_CHECKS:
        mine = {number for number in planted(check.value) if bank_of[number] == member}
        assert found[check] == mine, check
    # The member's part of the hub's run is the same list as its own run's.
    assert {item.account_no for item in part} == {item.account_no for item in items}
    assert seen.items == len(part) and set(seen.by_member) <= {member}
    assert seen.screened == own.screened == region.by_member[member].screened
    assert [run.id for run in runs] == [region.id, own.id]
    assert not {item.account_no for item in others_part} & {item.account_no for item in part}


def test_a_member_never_screens_another_members_accounts(loaded: Platform) -> None:
    policy = loaded.settings.policy
    with loaded.unit_of_work() as uow:
        with pytest.raises(PermissionDenied, match="own accounts only"):
            screen_accounts(uow, admin("302"), policy, member="303")
        with pytest.raises(PermissionDenied, match="screen_region"):
            screen_region(uow, admin("302"), policy)
        for_member = Actor(ActorKind.SYSTEM, "cli", Role.OPERATOR, "302")
        with pytest.raises(PermissionDenied, match="hub's"):
            screen_region(uow, for_member, policy)
        for outsider in (HUB, POLICE, AUDITOR):
            with pytest.raises(PermissionDenied, match="screen_accounts"):
                screen_accounts(uow, outsider, policy, member="302")
        for outsider in (POLICE, AUDITOR):
            with pytest.raises(PermissionDenied, match="view_screening"):
                list_runs(uow, outsider)
        assert uow.audit.tail(1)[0].action == "load_region"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow, p: screen_accounts(uow, admin("302"), p, checks=["dormant", "idle"]),
         "checks"),
        (lambda uow, p: screen_accounts(uow, admin("302"), p, checks=[]), "checks"),
        (lambda uow, p: screen_accounts(uow, OPERATOR, p, member="999"), "member"),
        (lambda uow, p: screen_accounts(uow, OPERATOR, p, member="PSB350200"), "member"),
        (lambda uow, p: screen_accounts(uow, OPERATOR, p), "member"),
        (lambda uow, p: work_list(uow, OPERATOR, screen_region(uow, OPERATOR, p).id,
                                  check="idle"), "check"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field(
    loaded: Platform, call: Callable[..., object], field: str
) -> None:
    with loaded.unit_of_work() as uow, pytest.raises(InvalidInput) as caught:
        call(uow, loaded.settings.policy)
    assert caught.value.field == field


def test_a_holder_on_the_punishment_list_is_found_at_each_bank(
    loaded: Platform, tiny: Path, planted: Callable[[str], set[str]], bank_of: dict[str, str]
) -> None:
    dealer = sorted(planted("many_accounts"))[0]
    accounts = read_table(tiny, "accounts", ["account_no", "party_id"]).to_pylist()
    party = next(row["party_id"] for row in accounts if row["account_no"] == dealer)
    parties = read_table(tiny, "parties", ["party_id", "id_number"]).to_pylist()
    id_number = next(row["id_number"] for row in parties if row["party_id"] == party)
    now = loaded.clock.now()
    with loaded.unit_of_work() as uow:
        punish(
            uow,
            OPERATOR,
            loaded.keyring.keyed_hash(ID_HASH_KIND, id_number),
            "卡商",
            listed_from=now - timedelta(days=1),
            listed_until=now + timedelta(days=730),
        )
        run = screen_region(uow, HUB, loaded.settings.policy, checks=["punished"])
        found = by_check(whole_list(uow, OPERATOR, run.id))[Check.PUNISHED]
    held = {row["account_no"] for row in accounts if row["party_id"] == party}
    assert found == held and len({bank_of[number] for number in held}) >= 6
    assert run.checks == (Check.PUNISHED,) and run.found == {Check.PUNISHED: len(held)}


def test_the_schedule_screens_the_region_when_its_newest_run_is_old_enough(
    loaded: Platform,
) -> None:
    from fundwall.cli.serve import ScreeningSchedule
    from fundwall.clock import FixedClock
    from fundwall.screening.runs import screen_region_if_due

    clock = loaded.clock
    assert isinstance(clock, FixedClock)
    month = timedelta(days=30)
    schedule = ScreeningSchedule(loaded, 3600, 30)
    first = schedule.sweep()  # none yet: due
    assert first is not None and first.member is None and first.items > 0
    assert schedule.sweep() is None  # just ran
    with loaded.unit_of_work() as uow, pytest.raises(PermissionDenied):
        screen_region_if_due(uow, analyst("302"), loaded.settings.policy, month)
    clock.advance(month)
    again = schedule.sweep()
    assert again is not None and again.id > first.id
