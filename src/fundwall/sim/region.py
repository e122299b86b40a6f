"""The fixed scenery of the region: its institutions, districts, cities and network blocks.

Every name here is fictional. The region is Xiamen (厦门, code 3502xx): its districts give the
home region codes of resident ID numbers and the police units victims report to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from fundwall.sim.params import Scale

HOME_CITY: Final = "Xiamen"

DISTRICTS: Final = (
    ("350203", "Siming", 0.30),
    ("350206", "Huli", 0.25),
    ("350211", "Jimei", 0.14),
    ("350205", "Haicang", 0.12),
    ("350212", "Tong'an", 0.11),
    ("350213", "Xiang'an", 0.08),
)
"""Home districts: (region code, name, share of residents)."""

ELSEWHERE: Final = (
    ("350102", "Fuzhou"),
    ("350502", "Quanzhou"),
    ("350602", "Zhangzhou"),
    ("350802", "Longyan"),
    ("360102", "Nanchang"),
    ("440106", "Guangzhou"),
    ("440304", "Shenzhen"),
    ("310104", "Shanghai"),
    ("110105", "Beijing"),
    ("330106", "Hangzhou"),
    ("430102", "Changsha"),
    ("510104", "Chengdu"),
    ("410105", "Zhengzhou"),
    ("420106", "Wuhan"),
    ("450102", "Nanning"),
    ("530102", "Kunming"),
)
"""Region codes of residents whose ID numbers were issued elsewhere, with the issuing city."""

CITIES: Final = (
    HOME_CITY,
    "Quanzhou",
    "Zhangzhou",
    "Fuzhou",
    "Shenzhen",
    "Guangzhou",
    "Shanghai",
    "Beijing",
    "Hangzhou",
    "Chengdu",
    "Nanning",
    "Kunming",
    "Haikou",
    "Guiyang",
    "Fangchenggang",
)
"""Cities that appear on devices, logins and transactions; the index is the city code used
inside the simulator."""

CITY_INDEX: Final = {name: i for i, name in enumerate(CITIES)}

_IP_BLOCKS: Final = (
    (117, 28),
    (27, 154),
    (36, 250),
    (110, 90),
    (113, 88),
    (183, 6),
    (101, 80),
    (123, 112),
    (115, 192),
    (125, 70),
    (171, 104),
    (182, 240),
    (124, 225),
    (58, 16),
    (222, 84),
)
"""One /16 network block per city (same order as CITIES), so an address places its city."""

BANK_NAMES: Final = (
    "Egret Commercial Bank",
    "Gulangyu City Bank",
    "Harbor Rural Commercial Bank",
    "Jade Coast Bank",
    "Phoenix Tree Bank",
    "Tidewater Bank",
    "Banyan Savings Bank",
    "Silver Strait Bank",
    "Camphor Farmers Bank",
    "Lighthouse Bank",
    "Red Brick Bank",
    "Sea Breeze Bank",
    "Mountain Tea Bank",
    "Orchid Bank",
    "Long Bridge Bank",
    "Granite Bank",
    "Lychee Valley Bank",
    "Pearl River Trust Bank",
    "North Star Bank",
    "Kapok Bank",
    "Oolong Bank",
    "Dragon Boat Bank",
    "White Sail Bank",
    "Peony Bank",
    "Azure Bay Bank",
    "Cedar Bank",
    "Golden Sand Bank",
    "Heron Village Bank",
    "Sunrise Bank",
    "Coral Bank",
)

PAYMENT_INSTITUTION_NAMES: Final = ("Swiftpay", "Lychee Pay", "Cloudwallet")

HUB_CODE: Final = "HUB3502"
HUB_NAME: Final = "Xiamen Regional Anti-Fraud Hub"
CITY_POLICE_CODE: Final = "PSB350200"


@dataclass(frozen=True, slots=True)
class Institution:
    """One row of institutions.parquet."""

    code: str
    name: str
    kind: str
    city: str
    region_code: str
    bin: str | None


def institutions(scale: Scale) -> list[Institution]:
    """Banks, payment institutions, the hub and the police units of the region.

    Banks get three-digit codes (like the bank part of a CNAPS code) and a six-digit card BIN
    starting with 62 (UnionPay); payment institutions a licence-like code and BIN as well, so
    every account number has the same shape.
    """
    rows = [
        Institution(f"{301 + i}", BANK_NAMES[i], "bank", HOME_CITY, "350200", f"62{21 + i:02d}35")
        for i in range(scale.banks)
    ]
    rows += [
        Institution(
            f"Z{2001 + i}",
            PAYMENT_INSTITUTION_NAMES[i],
            "payment_institution",
            HOME_CITY,
            "350200",
            f"68{11 + i:02d}35",
        )
        for i in range(scale.payment_institutions)
    ]
    rows.append(Institution(HUB_CODE, HUB_NAME, "hub", HOME_CITY, "350200", None))
    rows.append(
        Institution(
            CITY_POLICE_CODE, "Xiamen Anti-Fraud Centre", "police_unit", HOME_CITY, "350200", None
        )
    )
    rows += [
        Institution(f"PSB{code}", f"{name} District Police", "police_unit", HOME_CITY, code, None)
        for code, name, _ in DISTRICTS
    ]
    return rows


def police_unit(region_code: str) -> str:
    """The police unit a resident of this district reports to (the city centre otherwise)."""
    for code, _, _ in DISTRICTS:
        if code == region_code:
            return f"PSB{code}"
    return CITY_POLICE_CODE


def ip_addresses(rng: np.random.Generator, city: np.ndarray) -> list[str]:
    """One address per entry of `city` (city indexes), inside that city's block."""
    blocks = np.array(_IP_BLOCKS, dtype=np.int64)
    host = rng.integers(1, 254, size=(len(city), 2))
    first = blocks[city, 0]
    second = blocks[city, 1]
    return [
        f"{a}.{b}.{c}.{d}"
        for a, b, c, d in zip(
            first.tolist(),
            second.tolist(),
            host[:, 0].tolist(),
            host[:, 1].tolist(),
            strict=True,
        )
    ]
