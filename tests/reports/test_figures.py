"""The official figures equal what was counted by hand on the seeded records (conftest.py),
for each scope, on SQLite and PostgreSQL; a scope is what its actor may read and nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auth import world
from fundwall.clues import ClueFilter, clue_inbox
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.police import OrderKind
from fundwall.police import OrderFilter, list_orders
from fundwall.reports import official_figures
from fundwall.reports.model import ScopeKind

from .conftest import (
    AUDITOR,
    BANK_A,
    BANK_B,
    HUB,
    OFFICER,
    OTHER_UNIT,
    RECOVERED,
    RETURNED,
    SUSPECTS,
    Seeded,
    Uow,
)


def test_the_regions_figures_of_june_are_the_records_counted_by_hand(
    stocked: Uow, seeded: Seeded
) -> None:
    with stocked() as uow:
        june = official_figures(uow, HUB, "2024-06")
    figures = june.by_key
    assert june.scope.kind is ScopeKind.REGION
    assert figures["clues"] == {
        "sent": 2, "accepted": 1, "police_cases": 1,
        "suspects_caught": SUSPECTS, "recovered_fen": RECOVERED,
    }  # fmt: skip
    assert figures["orders"] == {
        "stop_payments": 1, "stop_paid_fen": seeded.stop_held,
        "freezes": 1, "frozen_fen": seeded.freeze_held, "police_cases": 1,
    }  # fmt: skip
    assert (seeded.stop_held, seeded.freeze_held) == (1_000_000, 600_000)
    assert figures["returns"] == {"returned_fen": 0, "victims_paid": 0, "plans_approved": 0}
    assert figures["sharing"] == {"shared": 3, "retracted": 1}
    assert figures["onboarding"] == {
        "decisions": 2,
        "opened": 1,
        "opened_workers": 1,
        "opened_firms": 0,
    }
    assert figures["screening"]["screened"] == 2  # B001's two accounts
    assert figures["interceptions"] == dict.fromkeys(
        ("blocked", "blocked_fen", "delayed", "delayed_fen", "warned"), 0
    )
    # the trend of a month is its days; the clue's result came on the 20th
    assert [bucket.label for bucket in june.buckets][:2] == ["2024-06-01", "2024-06-02"]
    assert len(june.buckets) == 30
    (suspects,) = [
        value for section in june.sections for value in section.figures
        if (section.section.key, value.figure.key) == ("clues", "suspects_caught")
    ]  # fmt: skip
    assert suspects.trend[19] == SUSPECTS and sum(suspects.trend) == SUSPECTS


def test_interceptions_are_counted_in_the_month_the_engine_decided_them(
    stocked: Uow, seeded: Seeded
) -> None:
    with stocked() as uow:
        region = official_figures(uow, HUB, "2024-03").by_key["interceptions"]
        bank_a = official_figures(uow, BANK_A, "2024-03").by_key["interceptions"]
        bank_b = official_figures(uow, HUB, "2024-03", member=world.BANK_B).by_key["interceptions"]
    assert region == {
        "blocked": 1, "blocked_fen": 100_000, "delayed": 2, "delayed_fen": 900_000, "warned": 1
    }  # fmt: skip
    assert bank_a == {
        "blocked": 1, "blocked_fen": 100_000, "delayed": 0, "delayed_fen": 0, "warned": 0
    }  # fmt: skip
    assert bank_b == {
        "blocked": 0, "blocked_fen": 0, "delayed": 2, "delayed_fen": 900_000, "warned": 1
    }  # fmt: skip


def test_a_quarter_draws_twelve_months_and_the_return_lands_in_july(
    stocked: Uow, seeded: Seeded
) -> None:
    with stocked() as uow:
        third = official_figures(uow, OFFICER, "2024Q3")
    assert third.scope.kind is ScopeKind.POLICE
    assert [bucket.label for bucket in third.buckets] == [
        f"{year}-{month:02d}" for year, month in [(2023, m) for m in range(10, 13)]
        + [(2024, m) for m in range(1, 10)]
    ]  # fmt: skip
    returns = {value.figure.key: value for value in third.sections[2].figures}
    assert third.sections[2].section.key == "returns"
    assert returns["returned_fen"].value == RETURNED and returns["plans_approved"].value == 1
    assert returns["returned_fen"].trend[-3:] == (RETURNED, 0, 0)  # July, August, September
    assert returns["returned_fen"].trend[-4] == 0  # June: drawn up, not paid


def test_a_member_reads_its_own_part_and_no_other(stocked: Uow, seeded: Seeded) -> None:
    with stocked() as uow:
        mine = official_figures(uow, BANK_A, "2024").by_key
        other = official_figures(uow, BANK_B, "2024").by_key
        for asked in (world.BANK_B, "PSB1", "nobody"):
            with pytest.raises(NotFound):
                official_figures(uow, BANK_A, "2024", member=asked)
    assert mine["clues"]["sent"] == 1 and mine["clues"]["suspects_caught"] == SUSPECTS
    assert other["clues"] == {
        "sent": 1, "accepted": 0, "police_cases": 0, "suspects_caught": 0, "recovered_fen": 0
    }  # fmt: skip
    assert mine["orders"]["freezes"] == 1 and other["orders"]["freezes"] == 0  # B002 refused
    assert (mine["sharing"], other["sharing"]) == (
        {"shared": 2, "retracted": 1}, {"shared": 1, "retracted": 0},
    )  # fmt: skip
    assert mine["returns"]["returned_fen"] == RETURNED and other["returns"]["returned_fen"] == 0
    assert other["onboarding"]["decisions"] == 0 and other["screening"]["screened"] == 0


def test_the_police_read_what_they_were_party_to_and_no_banks_internal_figures(
    stocked: Uow, seeded: Seeded
) -> None:
    with stocked() as uow:
        unit = official_figures(uow, OFFICER, "2024")
        elsewhere = official_figures(uow, OTHER_UNIT, "2024").by_key
        with pytest.raises(NotFound):
            official_figures(uow, OFFICER, "2024", member=world.BANK_A)
    keys = [section.section.key for section in unit.sections]
    assert keys == ["clues", "orders", "returns"]  # no interceptions, sharing, screening …
    assert unit.by_key["clues"]["sent"] == 2 and unit.by_key["orders"]["stop_payments"] == 1
    assert all(value == 0 for section in elsewhere.values() for value in section.values())
    assert unit.members == () or [m.code for m in unit.members] == ["PSB1"]


def test_the_hub_reads_any_member_but_not_a_police_unit_or_a_made_up_code(
    stocked: Uow, seeded: Seeded
) -> None:
    with stocked() as uow:
        bank_b = official_figures(uow, HUB, "2024-06", member=f" {world.BANK_B} ")
        assert [member.code for member in bank_b.members] == [world.BANK_A, world.BANK_B]
        for asked in ("PSB1", "HUB1", "X" * 500, "' OR 1=1 --"):
            with pytest.raises(NotFound):
                official_figures(uow, HUB, "2024-06", member=asked)
        with pytest.raises(PermissionDenied):
            official_figures(uow, AUDITOR, "2024-06")
    assert bank_b.scope_label("en") == f"Bank {world.BANK_B} ({world.BANK_B})"
    assert bank_b.by_key["clues"]["sent"] == 1


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("2024-13", "a month from 01 to 12"),
        ("2024Q5", "a quarter (2024Q1)"),
        ("20244", "a year (2024)"),
        ("1999", "from 2000 to 2099"),
        ("2024-03-10..2024-03-01", "ends (2024-03-01) before it starts"),
        ("2019-01-01..2024-12-31", "at most 60 months"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field_and_why(
    stocked: Uow, period: str, says: str
) -> None:
    with stocked() as uow, pytest.raises(InvalidInput) as refused:
        official_figures(uow, HUB, period)
    assert refused.value.field == "period" and says in refused.value.reason


def test_links_lead_to_lists_the_actor_may_read(stocked: Uow, seeded: Seeded) -> None:
    with stocked() as uow:
        bank = official_figures(uow, BANK_A, "2024-03-01..2024-03-31")
        hub = official_figures(uow, HUB, "2024-03", member=world.BANK_A)
        police = official_figures(uow, OFFICER, "2024-03")
    links = {(s.section.key, v.figure.key): v.link for s in bank.sections for v in s.figures}
    assert links[("interceptions", "blocked")] == (
        "/transactions?action=block&from=2024-03-01&to=2024-03-31"
    )
    assert links[("clues", "sent")] == "/clues/outbox?sent_from=2024-03-01&sent_to=2024-03-31"
    hub_links = {(s.section.key, v.figure.key): v.link for s in hub.sections for v in s.figures}
    assert hub_links[("interceptions", "blocked")] is None  # no customer data for the hub
    assert hub_links[("sharing", "shared")] == f"/share?member={world.BANK_A}"
    assert police.sections[0].figures[0].link == (
        "/clues/inbox?sent_from=2024-03-01&sent_to=2024-03-31"
    )


def test_an_order_figures_link_lists_the_orders_it_counts(stocked: Uow, seeded: Seeded) -> None:
    with stocked() as uow:
        june = official_figures(uow, OFFICER, "2024-06")
        (link,) = [
            v.link for s in june.sections for v in s.figures
            if (s.section.key, v.figure.key) == ("orders", "freezes")
        ]  # fmt: skip
        in_june = list_orders(uow, OFFICER, OrderFilter(
            OrderKind.FREEZE, answered_from=june.period.start, answered_until=june.period.end,
        )).items  # fmt: skip
        in_july = list_orders(uow, OFFICER, OrderFilter(
            answered_from=june.period.end, answered_until=june.period.end + timedelta(days=31),
        )).items  # fmt: skip
    assert link == "/orders?kind=freeze&answered_from=2024-06-01&answered_to=2024-06-30"
    # the freeze B001 executed (counted) and the one B002 refused (listed with its status)
    assert sorted(o.status.value for o in in_june) == ["executed", "refused"]
    assert in_july == []


def test_a_clue_figures_link_lists_the_clues_it_counts(stocked: Uow, seeded: Seeded) -> None:
    with stocked() as uow:
        june = official_figures(uow, OFFICER, "2024-06")
        window = {"sent_from": june.period.start, "sent_until": june.period.end}
        in_june = clue_inbox(uow, OFFICER, ClueFilter(**window)).items
        in_may = clue_inbox(
            uow, OFFICER, ClueFilter(sent_from=june.period.start - timedelta(days=31),
                                     sent_until=june.period.start),
        ).items  # fmt: skip
    assert len(in_june) == june.value("clues", "sent") == 2 and in_may == []
