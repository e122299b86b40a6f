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
_DISTRICTS_ZH: Final = ("思明", "湖里", "集美", "海沧", "同安", "翔安")

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
    ("Egret Commercial Bank", "白鹭商业银行"),
    ("Gulangyu City Bank", "鼓浪屿城市银行"),
    ("Harbor Rural Commercial Bank", "海港农村商业银行"),
    ("Jade Coast Bank", "玉海岸银行"),
    ("Phoenix Tree Bank", "凤凰木银行"),
    ("Tidewater Bank", "潮汐银行"),
    ("Banyan Savings Bank", "榕树储蓄银行"),
    ("Silver Strait Bank", "银海峡银行"),
    ("Camphor Farmers Bank", "香樟农民银行"),
    ("Lighthouse Bank", "灯塔银行"),
    ("Red Brick Bank", "红砖银行"),
    ("Sea Breeze Bank", "海风银行"),
    ("Mountain Tea Bank", "山茶银行"),
    ("Orchid Bank", "兰花银行"),
    ("Long Bridge Bank", "长桥银行"),
    ("Granite Bank", "花岗岩银行"),
    ("Lychee Valley Bank", "荔枝谷银行"),
    ("Pearl River Trust Bank", "珠江信托银行"),
    ("North Star Bank", "北极星银行"),
    ("Kapok Bank", "木棉银行"),
    ("Oolong Bank", "乌龙银行"),
    ("Dragon Boat Bank", "龙舟银行"),
    ("White Sail Bank", "白帆银行"),
    ("Peony Bank", "牡丹银行"),
    ("Azure Bay Bank", "蔚蓝湾银行"),
    ("Cedar Bank", "雪松银行"),
    ("Golden Sand Bank", "金沙银行"),
    ("Heron Village Bank", "鹭村银行"),
    ("Sunrise Bank", "旭日银行"),
    ("Coral Bank", "珊瑚银行"),
)
"""Fictional bank names (English, Chinese); a size uses the first `banks` of them."""

PAYMENT_INSTITUTION_NAMES: Final = (
    ("Swiftpay", "迅付"),
    ("Lychee Pay", "荔枝支付"),
    ("Cloudwallet", "云钱包"),
)

HUB_CODE: Final = "HUB3502"
CITY_POLICE_CODE: Final = "PSB350200"


@dataclass(frozen=True, slots=True)
class Institution:
    """One row of institutions.parquet."""

    code: str
    name_en: str
    name_zh: str
    kind: str
    region_code: str
    bin: str | None


def institutions(scale: Scale) -> list[Institution]:
    """Banks, payment institutions, the hub and the police units of the region.

    Banks get three-digit codes (like the bank part of a CNAPS code) and a six-digit card BIN
    starting with 62 (UnionPay); payment institutions a licence-like code and a BIN as well,
    so every account number has the same shape.
    """
    rows = [
        Institution(f"{301 + i}", *BANK_NAMES[i], "bank", "350200", f"62{21 + i:02d}35")
        for i in range(scale.banks)
    ]
    rows += [
        Institution(
            f"Z{2001 + i}",
            *PAYMENT_INSTITUTION_NAMES[i],
            "payment_institution",
            "350200",
            f"68{11 + i:02d}35",
        )
        for i in range(scale.payment_institutions)
    ]
    rows.append(
        Institution(
            HUB_CODE,
            "Xiamen Regional Anti-Fraud Hub",
            "厦门反诈资金监测中心",
            "hub",
            "350200",
            None,
        )
    )
    rows.append(
        Institution(
            CITY_POLICE_CODE,
            "Xiamen Anti-Fraud Centre",
            "厦门市公安局反诈中心",
            "police_unit",
            "350200",
            None,
        )
    )
    rows += [
        Institution(f"PSB{code}", f"{name} District Police", f"{zh}分局", "police_unit", code, None)
        for (code, name, _), zh in zip(DISTRICTS, _DISTRICTS_ZH, strict=True)
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
