"""Every number the simulator draws from, in one place.

`Scale` holds what changes with `--size` (how many people, days, banks, scams); `Behaviour`
holds how people and gangs act, the same at every size. docs/simulator.md gives the reason
for each value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

SIZES: Final = ("tiny", "small", "large")

START: Final = datetime(2024, 3, 3, 16, 0, tzinfo=UTC)
"""Monday 2024-03-04 00:00 in Asia/Shanghai: the first instant of every simulated period."""

US_PER_S: Final = 1_000_000
US_PER_MIN: Final = 60 * US_PER_S
US_PER_H: Final = 60 * US_PER_MIN
US_PER_DAY: Final = 24 * US_PER_H
LOCAL_OFFSET_US: Final = 8 * US_PER_H
"""Asia/Shanghai is UTC+8 all year (no daylight saving), so local hours are a fixed shift."""


@dataclass(frozen=True, slots=True)
class Scale:
    """What `--size` changes."""

    name: str
    persons: int
    firms: int
    banks: int
    payment_institutions: int
    days: int
    scams: int
    gangs: int
    card_sellers: int
    dealers: int
    batches: int
    dormant_pool: int
    shells: int
    networks: int
    """跑分 (score-running) networks of illegal payment operators."""
    gamblers: int
    """Residents who pay gambling stakes into the networks' collection accounts."""


SCALES: Final = {
    "tiny": Scale(
        name="tiny",
        persons=400,
        firms=40,
        banks=10,
        payment_institutions=2,
        days=14,
        scams=14,
        gangs=2,
        card_sellers=10,
        dealers=2,
        batches=2,
        dormant_pool=8,
        shells=3,
        networks=1,
        gamblers=60,
    ),
    "small": Scale(
        name="small",
        persons=20_000,
        firms=1_500,
        banks=20,
        payment_institutions=3,
        days=30,
        scams=260,
        gangs=8,
        card_sellers=160,
        dealers=12,
        batches=10,
        dormant_pool=120,
        shells=30,
        networks=4,
        gamblers=600,
    ),
    "large": Scale(
        name="large",
        persons=400_000,
        firms=29_000,
        banks=30,
        payment_institutions=3,
        days=30,
        scams=5_000,
        gangs=60,
        card_sellers=3_000,
        dealers=200,
        batches=150,
        dormant_pool=2_000,
        shells=500,
        networks=60,
        gamblers=12_000,
    ),
}


def _hours(*weights: float) -> tuple[float, ...]:
    total = sum(weights)
    return tuple(w / total for w in weights)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How people, firms and gangs act; identical at every size."""

    home_share: float = 0.82
    employed_share: float = 0.62
    renter_share: float = 0.34
    second_class1_share: float = 0.22
    class2_share: float = 0.30
    class3_share: float = 0.40
    many_accounts_share: float = 0.015
    dormant_share: float = 0.06
    device_change_share: float = 0.02
    shop_per_day: float = 0.6
    family_per_day: float = 0.09
    atm_per_day: float = 0.025
    deposit_per_day: float = 0.008
    bills_per_month: float = 2.0
    topups_per_month: float = 2.0
    firm_payments_per_weekday: float = 0.45
    large_legit_per_person: float = 0.004
    logins_per_week: float = 1.0
    secondary_use: float = 0.15
    shop_hours: tuple[float, ...] = _hours(
        1, 0.5, 0.3, 0.2, 0.2, 0.3, 1, 3, 5, 6, 7, 8, 10, 8, 7, 7, 7, 8, 10, 11, 10, 8, 5, 2
    )
    transfer_hours: tuple[float, ...] = _hours(
        0.6, 0.3, 0.2, 0.1, 0.1, 0.2, 0.6, 2, 5, 8, 9, 9, 8, 7, 8, 8, 8, 7, 7, 8, 8, 6, 4, 2
    )
    weekend_shop_factor: float = 1.3
    scam_types: tuple[str, ...] = (
        "fake_police",
        "investment",
        "romance",
        "fake_customer_service",
        "order_brushing",
        "loan_fee",
    )
    scam_type_weights: tuple[float, ...] = (0.18, 0.22, 0.12, 0.18, 0.18, 0.12)
    scam_median_yuan: tuple[float, ...] = (80_000, 120_000, 50_000, 15_000, 8_000, 5_000)
    scam_max_payments: tuple[int, ...] = (2, 6, 4, 2, 6, 4)
    elderly_weight: float = 6.0
    levels_weights: tuple[float, ...] = (0.25, 0.35, 0.25, 0.15)
    split_weights: tuple[float, ...] = (0.35, 0.45, 0.20)
    merge_probability: float = 0.25
    hold_median_min: float = 12.0
    hold_sigma: float = 1.1
    residual_max_share: float = 0.03
    rest_probability: float = 0.08
    atm_cashout_probability: float = 0.6
    atm_max_yuan: int = 20_000
    mule_max_scams: int = 4
    mule_max_days: float = 4.0
    sold_lead_min_h: float = 2.0
    sold_lead_max_h: float = 72.0
    report_median_h: float = 5.0
    report_sigma: float = 1.6
    report_quick_share: float = 0.18
    report_rounded_share: float = 0.3
    batch_size: tuple[int, int] = (5, 12)
    dealer_accounts: tuple[int, int] = (5, 9)
    mule_cities: tuple[str, ...] = field(
        default=("Nanning", "Kunming", "Haikou", "Guiyang", "Fangchenggang")
    )
    collection_accounts: tuple[int, int] = (10, 40)
    collectors: tuple[int, int] = (2, 5)
    network_start_share: float = 0.85
    first_wave_share: float = 0.4
    rental_median_days: float = 10.0
    rental_sigma: float = 0.6
    rental_min_days: float = 2.0
    renter_ages: tuple[int, int] = (18, 36)
    renter_weight: float = 3.0
    spare_class1_weight: float = 3.0
    corporate_collector_share: float = 0.5
    collector_ages: tuple[int, int] = (22, 46)
    gambler_ages: tuple[int, int] = (20, 56)
    gambler_male_weight: float = 3.0
    stakes_per_day: float = 0.33
    stakes_rate_shape: float = 1.5
    stake_median_yuan: float = 400.0
    stake_sigma: float = 1.0
    stake_range_yuan: tuple[int, int] = (50, 5_000)
    stake_tiers_yuan: tuple[int, ...] = (50, 100, 200, 300, 500, 1_000, 2_000, 3_000, 5_000)
    stake_tier_share: float = 0.6
    stake_offset_max_yuan: int = 9
    stake_hours: tuple[float, ...] = _hours(
        5, 4.5, 4, 3, 2.5, 2, 2, 2.5, 3, 3.5, 4, 4, 4, 4, 4, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7, 6
    )
    class2_daily_quota_yuan: int = 4_000
    forward_median_min: float = 10.0
    forward_sigma: float = 0.8
    commission: tuple[float, float] = (0.01, 0.05)
    primary_collector_share: float = 0.8
    sweep_threshold_yuan: tuple[int, int] = (20_000, 60_000)
    sweep_unit_yuan: int = 10_000
    sweep_median_min: float = 30.0
    own_use_per_day: float = 0.3
    own_use_median_yuan: float = 40.0
    own_use_max_yuan: int = 500


BEHAVIOUR: Final = Behaviour()
