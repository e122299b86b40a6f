"""Single-value features by hand, online and bulk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from feature_streams import T0, Run, directory_of, tx

from fundwall.engine.features import AccountDirectory, TxEvent

NOBODY = AccountDirectory.empty()
DAY = 86_400.0


def at(moment: datetime, payer: str | None, payee: str | None, amount: int = 1) -> TxEvent:
    return tx((moment - T0).total_seconds(), payer, payee, amount)


@pytest.fixture
def region() -> AccountDirectory:
    """T0 is 2024-03-04 09:00 Beijing time."""
    return directory_of(
        [
            ("A1", "301", "P", "I", T0 - timedelta(days=400), 10_000),
            ("A2", "302", "P", "II", T0 + timedelta(days=2), 0),
            ("A3", "303", "P", "III", T0 + timedelta(days=2), 0),
            ("B1", "301", "Q", "corporate", T0 - timedelta(days=3, hours=1), 500),
            ("C1", "301", "R", "I", T0 - timedelta(days=1), 0),
        ],
        [
            ("P", "phone-1", date(1964, 3, 5)),
            ("Q", None, None),
            ("R", "phone-1", date(2000, 2, 29)),
        ],
    )


def test_amount_hour_and_night_in_beijing_time(features: Run) -> None:
    moments = [
        datetime(2024, 3, 4, 15, 59, 59, tzinfo=UTC),  # 23:59 local
        datetime(2024, 3, 4, 16, 0, tzinfo=UTC),  # 00:00 local
        datetime(2024, 3, 4, 21, 59, 59, tzinfo=UTC),  # 05:59 local
        datetime(2024, 3, 4, 22, 0, tzinfo=UTC),  # 06:00 local
    ]
    rows = features([at(m, "A", "B", 12_345) for m in moments], NOBODY)
    assert [r["hour"] for r in rows] == [23, 0, 5, 6]
    assert [r["is_night"] for r in rows] == [0, 1, 1, 0]
    assert {r["amount"] for r in rows} == {12_345}


def test_account_age_in_whole_days_and_unknown_accounts(
    features: Run, region: AccountDirectory
) -> None:
    rows = features([tx(0, "B1", "A1", 1), tx(0, "B1", "EXT", 1), tx(DAY, "A2", "A1", 1)], region)
    assert rows[0]["payer_age_days"] == 3
    assert rows[0]["payee_age_days"] == 400
    assert rows[1]["payee_age_days"] == -1
    # Opened after the transaction (bad data) reads as brand new, not negative.
    assert rows[2]["payer_age_days"] == 0


def test_idle_days_count_from_the_last_move_in_or_out(features: Run) -> None:
    events = [tx(0, "A", "B", 1), tx(2.5 * DAY, "C", "A", 1), tx(9 * DAY, "A", "B", 1)]
    rows = features(events, NOBODY)
    assert (rows[0]["payer_idle_days"], rows[0]["payee_idle_days"]) == (-1, -1)
    assert (rows[1]["payer_idle_days"], rows[1]["payee_idle_days"]) == (-1, 2)
    assert (rows[2]["payer_idle_days"], rows[2]["payee_idle_days"]) == (6, 9)


def test_new_payee_new_device_and_new_city(features: Run) -> None:
    events = [
        tx(0, "A", "B", 1, device="D1", city="Xiamen"),
        tx(1, "A", "B", 1, device="D2", city="Xiamen"),
        tx(2, "A", "C", 1, device="D1", city="Kunming"),
        tx(3, "A", None, 1),
        tx(4, "B", "A", 1, device="D1", city="Kunming"),
    ]
    rows = features(events, NOBODY)
    assert [r["new_payee"] for r in rows] == [1, 0, 1, 0, 1]
    assert [r["payer_new_device"] for r in rows] == [1, 1, 0, 0, 1]
    assert [r["payer_new_city"] for r in rows] == [1, 0, 1, 0, 1]
    assert [r["device_accounts"] for r in rows] == [0, 0, 1, 0, 1]


def test_balance_follows_every_flow_from_the_opening_balance(
    features: Run, region: AccountDirectory
) -> None:
    events = [
        tx(0, "A1", "B1", 2_500),
        tx(1, None, "A1", 500),
        tx(2, "A1", None, 8_000),
        tx(3, "A1", "B1", 1),
        tx(4, "EXT", "A1", 10),
        tx(5, "EXT", "A1", 10),
    ]
    rows = features(events, region)
    assert [r["payer_balance"] for r in rows] == [10_000, 0, 8_000, 0, 0, -10]
    assert rows[0]["balance_share"] == 0.25
    assert rows[2]["balance_share"] == 1.0
    assert rows[3]["balance_share"] == 1.0  # nothing left: the transfer takes it all
    assert rows[1]["balance_share"] == 0.0  # a deposit has no paying balance


def test_flags_of_banks_channels_and_kinds(features: Run) -> None:
    events = [
        tx(0, "A", "B", 1, payer_bank="301", payee_bank="302", channel="atm"),
        tx(1, "A", "B", 1, payer_bank="301", payee_bank="301", channel="counter"),
        tx(2, "A", None, 1, channel="atm"),
        tx(3, "A", "B", 1, channel="mobile"),
    ]
    rows = features(events, NOBODY)
    assert [r["cross_bank"] for r in rows] == [1, 0, 0, 0]
    assert [r["is_atm"] for r in rows] == [1, 0, 1, 0]
    assert [r["is_non_counter"] for r in rows] == [1, 0, 1, 1]
    assert [r["is_withdrawal"] for r in rows] == [0, 0, 1, 0]


def test_classes_and_holder(features: Run, region: AccountDirectory) -> None:
    events = [tx(0, "A1", "B1", 1), tx(0, "B1", "C1", 1), tx(0, "EXT", "A3", 1)]
    rows = features(events, region)
    assert (rows[0]["payer_class"], rows[0]["payee_class"]) == (1, 0)
    assert (rows[1]["payer_class"], rows[1]["payee_class"]) == (0, 1)
    assert (rows[2]["payer_class"], rows[2]["payee_class"]) == (-1, 3)
    assert rows[1]["payer_holder_age"] == -1  # a firm has no birth date
    assert rows[2]["payer_holder_age"] == -1  # an unknown account has no holder


def test_holder_age_turns_on_the_birthday_in_beijing(
    features: Run, region: AccountDirectory
) -> None:
    # P was born 1964-03-05: on 2024-03-05 00:00 Beijing (2024-03-04 16:00 UTC) turns 60.
    events = [
        at(datetime(2024, 3, 4, 15, 59, tzinfo=UTC), "A1", "B1"),
        at(datetime(2024, 3, 4, 16, 0, tzinfo=UTC), "A1", "B1"),
        # R was born on 2000-02-29: 24 on 2024-02-29... and on 2025-03-01, 25.
        at(datetime(2025, 2, 28, 12, 0, tzinfo=UTC), "C1", "B1"),
        at(datetime(2025, 2, 28, 16, 0, tzinfo=UTC), "C1", "B1"),
    ]
    rows = features(events, region)
    assert [r["payer_holder_age"] for r in rows] == [59, 60, 24, 25]


def test_holdings_count_only_accounts_opened_by_then(
    features: Run, region: AccountDirectory
) -> None:
    events = [tx(0, "A1", "B1", 1), tx(2 * DAY, "A1", "B1", 1), tx(2 * DAY, "C1", "B1", 1)]
    rows = features(events, region)
    assert (rows[0]["person_accounts"], rows[0]["person_banks"]) == (1, 1)
    assert (rows[1]["person_accounts"], rows[1]["person_banks"]) == (3, 3)
    assert [r["phone_parties"] for r in rows] == [2, 2, 2]


def test_unknown_payer_reads_unknown_everywhere(features: Run, region: AccountDirectory) -> None:
    row = features([tx(0, "EXT", "A1", 1)], region)[0]
    unknown = ("payer_age_days", "payer_class", "payer_holder_age", "person_accounts")
    assert [row[name] for name in unknown] == [-1, -1, -1, -1]
    assert (row["person_banks"], row["phone_parties"]) == (-1, -1)
    assert row["payer_balance"] == 0


def test_a_dormant_account_counts_idle_days_from_its_last_activity_before_the_history(
    features: Run,
) -> None:
    opened = T0 - timedelta(days=900)
    directory = directory_of(
        [("A", "301", "P", "I", opened, 100), ("B", "301", "P", "I", opened, 0)],
        [("P", None, None)],
        last_active={"A": T0 - timedelta(days=400, hours=1)},
    )
    rows = features([tx(0, "A", "B", 1), tx(DAY, "B", "A", 1)], directory)
    assert (rows[0]["payer_idle_days"], rows[0]["payee_idle_days"]) == (400, -1)
    assert (rows[1]["payer_idle_days"], rows[1]["payee_idle_days"]) == (1, 1)
