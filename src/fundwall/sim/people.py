"""People of the region: ages, ID numbers, names, phones, jobs, families and savings.

Arrays are indexed by person number (0 … n-1). ID numbers get their check character from the
domain (`resident_id_check_char`), so they pass `ResidentId.parse` by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from fundwall.domain.identity import resident_id_check_char
from fundwall.sim.params import START, Behaviour, Scale
from fundwall.sim.region import DISTRICTS, ELSEWHERE

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严洪庄"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国志红玉兰辉鹏飞玲婷雪梅琳晨宇浩然子涵欣怡"
    "思雨嘉豪博文俊杰佳颖梓萱一诺雅琪诗琪宏斌凯峰海燕春燕金凤振华丽华德明秋菊泽宇晓东少华东升"
)
_PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]

# Share of residents per age band (years, lower bound inclusive), shaped like a Chinese city's
# adult population: a bulge from 30 to 59 and a growing group over 60.
_AGE_BANDS = ((16, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 92))
_AGE_SHARES = (0.04, 0.16, 0.19, 0.17, 0.17, 0.14, 0.09, 0.04)

STUDENT, EMPLOYED, RETIRED, OTHER = 0, 1, 2, 3


@dataclass(slots=True)
class People:
    """The persons of the region, one entry per person in every array."""

    age: I64
    birth: list[date]
    male: BOOL
    region_code: list[str]
    district: I64
    id_number: list[str]
    name: list[str]
    phone: list[str]
    occupation: I64
    salary_fen: I64
    pension_fen: I64
    savings_fen: I64
    relative: I64
    renter: BOOL
    landlord: I64

    @property
    def count(self) -> int:
        return len(self.id_number)


def draw_ages(rng: np.random.Generator, n: int) -> I64:
    band = rng.choice(len(_AGE_BANDS), size=n, p=np.array(_AGE_SHARES) / sum(_AGE_SHARES))
    low = np.array([b[0] for b in _AGE_BANDS])[band]
    high = np.array([b[1] for b in _AGE_BANDS])[band]
    return rng.integers(low, high).astype(np.int64)


def birth_dates(rng: np.random.Generator, age: I64) -> list[date]:
    """A birth date for each age, so the person has that age on the first simulated day."""
    first_day = (START + timedelta(hours=8)).date()
    days_back = age * 365 + rng.integers(1, 364, size=len(age)) + age // 4
    return [first_day - timedelta(days=int(d)) for d in days_back]


def resident_ids(
    rng: np.random.Generator, region: list[str], birth: list[date], male: BOOL, taken: set[str]
) -> list[str]:
    """Unique 18-character ID numbers; the sequence digit's parity follows the sex."""
    seq = rng.integers(0, 500, size=len(region)) * 2 + male.astype(np.int64)
    out: list[str] = []
    for code, born, s in zip(region, birth, seq.tolist(), strict=True):
        first17 = f"{code}{born:%Y%m%d}{s:03d}"
        while first17 in taken:
            s = (s + 2) % 1000
            first17 = f"{code}{born:%Y%m%d}{s:03d}"
        taken.add(first17)
        out.append(first17 + resident_id_check_char(first17))
    return out


def phone_numbers(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """Unique mainland mobile numbers on prefixes the carriers assign."""
    prefix = rng.integers(0, len(_PHONE_PREFIXES), size=n)
    tail = rng.integers(0, 100_000_000, size=n)
    out: list[str] = []
    for p, t in zip(prefix.tolist(), tail.tolist(), strict=True):
        number = f"{_PHONE_PREFIXES[p]}{t:08d}"
        while number in taken:
            t = (t + 7919) % 100_000_000
            number = f"{_PHONE_PREFIXES[p]}{t:08d}"
        taken.add(number)
        out.append(number)
    return out


def chinese_names(rng: np.random.Generator, n: int) -> list[str]:
    """Surname plus one or two given characters."""
    sur = rng.integers(0, len(_SURNAMES), size=n)
    g1 = rng.integers(0, len(_GIVEN), size=n)
    g2 = rng.integers(0, len(_GIVEN), size=n)
    two = rng.random(n) < 0.7
    return [
        _SURNAMES[s] + _GIVEN[a] + (_GIVEN[b] if t else "")
        for s, a, b, t in zip(sur.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True)
    ]


def region_codes(rng: np.random.Generator, n: int, home_share: float) -> tuple[list[str], I64]:
    """Issuing region of each ID number, and the Xiamen district each person lives in."""
    shares = np.array([d[2] for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size=n, p=shares / shares.sum())
    home = rng.random(n) < home_share
    other = rng.integers(0, len(ELSEWHERE), size=n)
    codes = [
        DISTRICTS[d][0] if h else ELSEWHERE[o][0]
        for d, h, o in zip(district.tolist(), home.tolist(), other.tolist(), strict=True)
    ]
    return codes, district.astype(np.int64)


def make_people(
    rng: np.random.Generator,
    scale: Scale,
    behaviour: Behaviour,
    taken_ids: set[str],
    taken_phones: set[str],
) -> People:
    """Draw every person of the region."""
    n = scale.persons
    age = draw_ages(rng, n)
    birth = birth_dates(rng, age)
    male = rng.random(n) < 0.5
    codes, district = region_codes(rng, n, behaviour.home_share)
    ids = resident_ids(rng, codes, birth, male, taken_ids)
    occupation = np.full(n, OTHER, dtype=np.int64)
    occupation[age < 23] = STUDENT
    working = (age >= 23) & (age < 60)
    occupation[working & (rng.random(n) < behaviour.employed_share / 0.8)] = EMPLOYED
    occupation[age >= 60] = RETIRED
    salary = np.where(occupation == EMPLOYED, rng.lognormal(np.log(7_000), 0.5, n) * 100, 0).astype(
        np.int64
    )
    pension = np.where(occupation == RETIRED, rng.lognormal(np.log(3_500), 0.4, n) * 100, 0).astype(
        np.int64
    )
    # Savings grow with age and income; heavy-tailed so a few can afford a house deposit.
    median = np.where(age >= 60, 90_000, np.where(age < 23, 3_000, 25_000))
    savings = (rng.lognormal(0, 1.2, n) * median * 100).astype(np.int64)
    relative = (np.arange(n) + rng.integers(1, max(n - 1, 2), size=n)) % n
    renter = (rng.random(n) < behaviour.renter_share) & (age >= 20) & (age < 60)
    owners = np.flatnonzero((age >= 40) & ~renter)
    landlord = np.where(renter, owners[rng.integers(0, len(owners), size=n)], -1)
    return People(
        age=age,
        birth=birth,
        male=male,
        region_code=codes,
        district=district,
        id_number=ids,
        name=chinese_names(rng, n),
        phone=phone_numbers(rng, n, taken_phones),
        occupation=occupation,
        salary_fen=salary,
        pension_fen=pension,
        savings_fen=savings,
        relative=relative.astype(np.int64),
        renter=renter,
        landlord=landlord.astype(np.int64),
    )
