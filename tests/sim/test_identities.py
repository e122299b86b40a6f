"""Every ID number, credit code, phone and account number the simulator writes validates
with the domain parsers."""

from __future__ import annotations

from pathlib import Path

from fundwall.domain.identity import AccountNumber, CreditCode, MobilePhone, ResidentId
from fundwall.region import read_table


def test_parties_carry_valid_ids_and_phones(tiny: Path) -> None:
    parties = read_table(tiny, "parties").to_pylist()
    assert parties
    for p in parties:
        if p["kind"] == "person":
            rid = ResidentId.parse(p["id_number"])
            assert rid.birth_date == p["birth_date"]
            assert rid.sex.value == p["sex"]
        else:
            CreditCode.parse(p["id_number"])
        MobilePhone.parse(p["phone"])


def test_most_residents_hold_xiamen_ids(tiny: Path) -> None:
    persons = [p for p in read_table(tiny, "parties").to_pylist() if p["kind"] == "person"]
    home = sum(p["id_number"].startswith("3502") for p in persons)
    assert 0.6 < home / len(persons) < 0.95


def test_registry_ids_and_phones_are_valid(tiny: Path) -> None:
    for row in read_table(tiny, "phone_registry").to_pylist():
        ResidentId.parse(row["id_number"])
        MobilePhone.parse(row["phone"])


def test_account_numbers_are_valid_and_unique(tiny: Path) -> None:
    accounts = read_table(tiny, "accounts").to_pylist()
    numbers = [a["account_no"] for a in accounts]
    assert len(set(numbers)) == len(numbers)
    for a in accounts:
        parsed = AccountNumber.parse(a["account_no"], card=a["account_class"] != "corporate")
        assert parsed.number == a["account_no"]


def test_ages_have_a_realistic_spread(tiny: Path) -> None:
    from datetime import date

    births = [p["birth_date"] for p in read_table(tiny, "parties").to_pylist() if p["birth_date"]]
    ages = [(date(2024, 3, 4) - b).days // 365 for b in births]
    assert min(ages) >= 16
    assert max(ages) >= 75
    assert 0.15 < sum(a >= 60 for a in ages) / len(ages) < 0.4


def test_one_class_i_account_per_person_per_bank(tiny: Path) -> None:
    import polars as pl

    accounts = pl.from_arrow(read_table(tiny, "accounts"))
    assert isinstance(accounts, pl.DataFrame)
    per_bank = accounts.filter(pl.col("account_class") == "I").group_by("party_id", "bank").len()
    assert per_bank["len"].max() == 1
    bound = accounts.filter(pl.col("account_class").is_in(["II", "III"]))
    assert bound["bound_account"].null_count() == 0
    owners = dict(zip(accounts["account_no"], accounts["party_id"], strict=True))
    assert all(
        owners[b] == p for b, p in zip(bound["bound_account"], bound["party_id"], strict=True)
    )
