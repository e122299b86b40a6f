"""Firms of the region: shops, employers, utilities, developers and the shells gangs buy.

Each firm has a unified social credit code (统一社会信用代码) whose check character comes from
the domain, an owner among the persons, and a kind that decides its role in ordinary life.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fundwall.domain.identity import credit_code_check_char, organisation_code_check_char
from fundwall.sim.params import Scale
from fundwall.sim.region import DISTRICTS

I64 = npt.NDArray[np.int64]

MERCHANT, EMPLOYER, UTILITY, DEVELOPER, PENSION_FUND, CASHOUT, SHELL = range(7)

_UTILITIES = (
    "厦门水务集团有限公司",
    "厦门电力服务有限公司",
    "厦门燃气有限公司",
    "鹭岛通信服务有限公司",
)
_WORDS = "鹭岛海沧湖里思明集美同安翔安鼓浪筼筜五缘东渡嘉庚银城环岛白鹭凤凰南普陀曾厝垵"
_TRADES = ("贸易", "餐饮", "科技", "商贸", "便利店", "服装", "水果店", "建材", "物流", "咨询")
_CASHOUT_TRADES = ("黄金珠宝", "数码电子", "游戏点卡", "虚拟商品")


@dataclass(slots=True)
class Firms:
    """The firms of the region, one entry per firm in every array."""

    kind: I64
    name: list[str]
    credit_code: list[str]
    region_code: list[str]
    owner: I64
    size: npt.NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.name)


def organization_code(serial: int) -> str:
    """A nine-character organisation code (GB 11714): eight digits and their check."""
    body = f"{serial:08d}"
    return body + organisation_code_check_char(body)


def credit_code(kind_digit: str, region: str, serial: int) -> str:
    """`9` (registered with market regulation), the firm type, region, org code, check."""
    first17 = f"9{kind_digit}{region}{organization_code(serial)}"
    return first17 + credit_code_check_char(first17)


def make_firms(
    rng: np.random.Generator, scale: Scale, persons: int, adults: I64, gangs: int
) -> Firms:
    """Utilities and the pension fund first, then merchants, employers, developers, the
    cash-out merchants the gangs use and the shell firms sold with their accounts."""
    fixed = [UTILITY] * len(_UTILITIES) + [PENSION_FUND]
    cashouts = [CASHOUT] * (gangs + 2)
    shells = [SHELL] * scale.shells
    developers = [DEVELOPER] * max(2, scale.firms // 200)
    free = scale.firms - len(fixed) - len(cashouts) - len(shells) - len(developers)
    ordinary = np.where(rng.random(free) < 0.72, MERCHANT, EMPLOYER).tolist()
    kinds = np.array(fixed + developers + ordinary + cashouts + shells, dtype=np.int64)
    n = len(kinds)
    shares = np.array([d[2] for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size=n, p=shares / shares.sum())
    serial = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    word = rng.integers(0, len(_WORDS) - 1, size=n)
    trade = rng.integers(0, len(_TRADES), size=n)
    names: list[str] = []
    codes: list[str] = []
    for i in range(n):
        kind = int(kinds[i])
        region = DISTRICTS[int(district[i])][0]
        w = _WORDS[int(word[i]) : int(word[i]) + 2]
        if kind in (UTILITY, PENSION_FUND):
            names.append(_UTILITIES[i] if kind == UTILITY else "厦门社会保险基金代发账户")
        elif kind == CASHOUT:
            names.append(f"厦门{w}{_CASHOUT_TRADES[i % len(_CASHOUT_TRADES)]}商行")
        elif kind == DEVELOPER:
            names.append(f"厦门{w}置业有限公司")
        else:
            names.append(f"厦门{w}{_TRADES[int(trade[i])]}有限公司")
        individual = kind == MERCHANT and trade[i] % 3 == 0
        codes.append(credit_code("2" if individual else "1", region, int(serial[i])))
    owner = adults[rng.integers(0, len(adults), size=n)]
    # Firm sizes are Pareto: a few large employers and merchants take most staff and sales.
    size = rng.pareto(1.3, size=n) + 1.0
    return Firms(
        kind=kinds,
        name=names,
        credit_code=codes,
        region_code=[DISTRICTS[int(d)][0] for d in district],
        owner=owner.astype(np.int64),
        size=size,
    )


def assign_employers(rng: np.random.Generator, occupation: I64, firms: Firms) -> I64:
    """The firm each employed person works for (-1 for others), weighted by firm size;
    dedicated employers (offices, factories) hire six times as many as shops."""
    hiring = np.flatnonzero(np.isin(firms.kind, (EMPLOYER, MERCHANT, DEVELOPER)))
    weight = firms.size[hiring] * np.where(firms.kind[hiring] == EMPLOYER, 6.0, 1.0)
    pick = rng.choice(hiring, size=len(occupation), p=weight / weight.sum())
    return np.where(occupation == 1, pick, -1).astype(np.int64)
