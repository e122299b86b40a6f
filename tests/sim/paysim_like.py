"""A small file in PaySim's published layout, for tests.

This is a reproduction of PaySim's format and mechanics, not PaySim's data: it writes the
published header (step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,
oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud) and rows that follow the mechanics the
PaySim paper and the published log describe, from a seed, so a test can import a realistic
file in a second without shipping the 470 MB original.

Reproduced:

- a month of hourly steps (1..743), with few transactions at night (step 1 starts at 00:00);
- the five types in about the published shares: CASH_OUT 35%, PAYMENT 34%, CASH_IN 22%,
  TRANSFER 8%, DEBIT 0.7%, with amounts of about the published sizes (payments and debits of
  thousands, cash and transfers of a hundred thousand and more);
- customers `C…` and merchants `M…`: every payer appears once, as nearly every one does in
  the published log, while payees (other customers, cash agents, merchants) come back;
- consistent balances: `oldbalance*` is the account's balance before the row and
  `newbalance*` after it; merchants are not tracked (0 and 0, as in PaySim);
- fraud in about 0.13% of the rows, spread evenly over the month: a fraudster takes over a
  customer account and TRANSFERs its whole balance to another customer, then CASH_OUTs the
  same amount from that account in the same step; a fraudulent TRANSFER over 200,000 is
  flagged (`isFlaggedFraud`, PaySim's own rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HEADER = (
    "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
    "newbalanceDest,isFraud,isFlaggedFraud"
)
STEPS = 743
TYPES = ("CASH_OUT", "PAYMENT", "CASH_IN", "TRANSFER", "DEBIT")
SHARES = np.array([0.352, 0.338, 0.220, 0.084, 0.006])
MEDIAN_CENTS = {
    "CASH_OUT": 15_000_000,
    "PAYMENT": 1_000_000,
    "CASH_IN": 14_000_000,
    "TRANSFER": 48_000_000,
    "DEBIT": 350_000,
}
FRAUD_SHARE = 0.0013
FLAG_OVER_CENTS = 20_000_000
NIGHT = range(8)  # local hours 00:00–07:59 see a tenth of the day's traffic


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _Ledger:
    """Customer balances in cents, and the rows written so far."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.balance: dict[str, int] = {}
        self.lines: list[str] = []
        self.names = 0

    def new_customer(self, cents: int) -> str:
        self.names += 1
        name = f"C{1_000_000_000 + self.names * 7_919}"
        self.balance[name] = cents
        return name

    def lognormal(self, median: int, sigma: float = 1.0) -> int:
        return max(100, int(median * self.rng.lognormal(0.0, sigma)))

    def row(self, step: int, kind: str, amount: int, orig: str, dest: str, fraud: bool) -> None:
        old_orig = self.balance[orig]
        new_orig = old_orig + amount if kind == "CASH_IN" else old_orig - amount
        assert new_orig >= 0
        self.balance[orig] = new_orig
        if dest.startswith("M"):
            old_dest = new_dest = 0
        else:
            old_dest = self.balance[dest]
            new_dest = old_dest - amount if kind == "CASH_IN" else old_dest + amount
            assert new_dest >= 0
            self.balance[dest] = new_dest
        flagged = fraud and kind == "TRANSFER" and amount > FLAG_OVER_CENTS
        self.lines.append(
            f"{step},{kind},{_yuan(amount)},{orig},{_yuan(old_orig)},{_yuan(new_orig)},"
            f"{dest},{_yuan(old_dest)},{_yuan(new_dest)},{int(fraud)},{int(flagged)}"
        )


def paysim_like_rows(rows: int = 20_000, seed: int = 1) -> list[str]:
    """The data rows (without the header), about `rows` of them, in step order."""
    rng = np.random.default_rng(seed)
    ledger = _Ledger(rng)
    # Cash agents hold a large e-money float, so a cash-in never finds them short.
    agents = [
        ledger.new_customer(ledger.lognormal(100_000_000_000, 0.3)) for _ in range(rows // 50)
    ]
    banks = [ledger.new_customer(ledger.lognormal(500_000_000)) for _ in range(20)]
    payees = [ledger.new_customer(ledger.lognormal(5_000_000)) for _ in range(rows // 10)]
    merchants = [f"M{2_000_000_000 + k * 104_729}" for k in range(rows // 5)]
    pools = {
        "CASH_OUT": agents,
        "CASH_IN": agents,
        "PAYMENT": merchants,
        "TRANSFER": payees,
        "DEBIT": banks,
    }
    hour = (np.arange(STEPS) % 24).astype(np.int64)
    weight = np.where(np.isin(hour, NIGHT), 0.1, 1.0)
    steps = np.sort(rng.choice(np.arange(1, STEPS + 1), size=rows, p=weight / weight.sum()))
    frauds = rng.random(rows) < FRAUD_SHARE / 2  # each fraud writes two rows
    for step, fraud in zip(steps.tolist(), frauds.tolist(), strict=True):
        if fraud:
            victim = ledger.new_customer(ledger.lognormal(MEDIAN_CENTS["TRANSFER"]))
            mule = ledger.new_customer(0)
            whole = ledger.balance[victim]
            ledger.row(step, "TRANSFER", whole, victim, mule, fraud=True)
            agent = agents[int(rng.integers(len(agents)))]
            ledger.row(step, "CASH_OUT", whole, mule, agent, fraud=True)
            continue
        kind = TYPES[int(rng.choice(len(TYPES), p=SHARES))]
        amount = ledger.lognormal(MEDIAN_CENTS[kind])
        pool = pools[kind]
        dest = pool[int(rng.integers(len(pool)))]
        holding = 0 if kind == "CASH_IN" else amount
        orig = ledger.new_customer(holding + ledger.lognormal(max(amount, 100_00)))
        ledger.row(step, kind, amount, orig, dest, fraud=False)
    return ledger.lines


def write_paysim_like(path: Path, rows: int = 20_000, seed: int = 1) -> Path:
    """Write `paysim_like_rows` under PaySim's published header to `path`."""
    path.write_text("\n".join([HEADER, *paysim_like_rows(rows, seed)]) + "\n")
    return path
