"""IBM AMLSim (either of its output layouts, `amlsim_files`) → region folder.

Mapping choices (docs/data-layout.md, "Imported folders"):

- Each account is `AML` + its AMLSim id, a number on 8 digits (`AML00000042`), at one bank
  `AML`, held by party `A` + its customer id (`CUSTOMER_ID`) or, without one, its own id;
  Class I, opening balance `init_balance`. AMLSim has no people: each party gets a generated
  identity (common.synthetic_parties). `opened_at` is `open_dt` when the source gives an
  opening after the first day of the transactions, else null (unknown): AMLSim accounts
  exist from the start of the simulation, which says nothing of their age.
- Day d (a step, or a date counted from the first transaction's) starts at the period start
  + d days, and the transfers of one day are spread evenly over its 24 hours in file order.
- Amounts (printed as floats) are rounded half up to the fen; zero or negative is a bad row.
  `TX_TYPE` is kept as the transfer's purpose.
- A transfer is laundering when the source says so (`IS_SAR` of the transaction; in the graph
  sample, a labelled payer at its `fraudStep`): `layering` if the payee is labelled too,
  `cash_out` if the money leaves the labelled accounts; every other transfer is `normal`.
  AMLSim has no victims, so no transfer is a `victim_payment` and there are no victim
  reports.
- A "scam" is one laundering pattern: the transfers of one AMLSim alert (`ALERT_ID`), else a
  connected group of laundering transfers.
- Account labels: `is_mule` is the account's label (`isFraud`, `IS_SAR`); `mule_since` is the
  start of `fraudStep`, or the first laundering transfer touching the account; levels and
  sales are unknown (null).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from fundwall.sim.importers.amlsim_files import Source, read_amlsim
from fundwall.sim.importers.common import (
    ImportResult,
    ensure_free,
    single_institution,
    synthetic_parties,
    write_folder,
)
from fundwall.sim.params import START, US_PER_DAY
from fundwall.sim.writer import timestamps

START_US = int(START.timestamp()) * 1_000_000
BANK = "AML"
NONE = np.iinfo(np.int64).min
SEED = 20_170_101  # fixes the generated identities of the parties


def import_amlsim(source: Path, out: Path, *, skip_bad: bool = False) -> ImportResult:
    """Read an AMLSim folder (either layout of `amlsim_files`); write the region folder
    unless bad rows were found and `skip_bad` is false, or no transfer could be used
    (`result.written` tells)."""
    ensure_free(out)
    result = ImportResult()
    data = read_amlsim(source, result.bad)
    result.rows = len(data.accounts) + len(data.transfers)
    if (result.bad and not skip_bad) or not data.transfers:
        return result
    result.counts = write_folder(
        out,
        _tables(data),
        source="amlsim",
        period_start=START.isoformat(),
        step="1 day",
        amounts="fen",
    )
    return result


def _tables(data: Source) -> dict[str, dict[str, Any]]:
    keys = sorted(data.accounts, key=_account_number)
    index = {k: i for i, k in enumerate(keys)}
    accounts = [data.accounts[k] for k in keys]
    account = [_account_number(k) for k in keys]
    labelled = np.array([a.laundering for a in accounts], dtype=bool)
    t = data.transfers
    line = np.array([x.line for x in t], dtype=np.int64)
    src = np.array([index[x.payer] for x in t], dtype=np.int64)
    dst = np.array([index[x.payee] for x in t], dtype=np.int64)
    amount = np.array([x.amount for x in t], dtype=np.int64)
    step = np.array([x.day for x in t], dtype=np.int64)
    laundering = np.array([x.laundering for x in t], dtype=bool)
    # Spread each step's transfers evenly over its day, in file order.
    by_step = np.lexsort((line, step))
    rank = np.empty(len(line), dtype=np.int64)
    per_step = np.bincount(step)
    first = np.concatenate([[0], np.cumsum(per_step)[:-1]])
    rank[by_step] = np.arange(len(line)) - first[step[by_step]]
    ts = START_US + step * US_PER_DAY + rank * (US_PER_DAY // np.maximum(per_step[step], 1))
    order = np.lexsort((line, ts))
    role = np.where(laundering, np.where(labelled[dst], "layering", "cash_out"), "normal")
    scam = _patterns(src, dst, laundering, [x.alert for x in t], order)
    tx_id = [f"{BANK}{int(x):09d}" for x in line[order]]
    first_seen: dict[int, int] = {}
    for k in order.tolist():
        if laundering[k]:
            for node in (int(src[k]), int(dst[k])):
                if labelled[node]:
                    first_seen.setdefault(node, int(ts[k]))
    since = [
        START_US + a.fraud_day * US_PER_DAY
        if a.laundering and a.fraud_day is not None
        else first_seen.get(i, NONE)
        for i, a in enumerate(accounts)
    ]
    opened = [NONE if a.opened_day is None else START_US + a.opened_day * US_PER_DAY
              for a in accounts]  # fmt: skip
    party = [f"A{a.party}" for a in accounts]
    parties = list(dict.fromkeys(party))
    laundering_party = {p for p, a in zip(party, accounts, strict=True) if a.laundering}
    scam_name = [None if s < 0 else f"AMLP{s + 1:05d}" for s in scam[order].tolist()]
    n, m = len(keys), len(order)
    return {
        "institutions": single_institution(BANK, "AMLSim sample bank", "AMLSim样本银行", "bank"),
        "parties": synthetic_parties(parties, [False] * len(parties), SEED),
        "accounts": {
            "account_no": account,
            "bank": [BANK] * n,
            "party_id": party,
            "account_class": ["I"] * n,
            "status": ["normal"] * n,
            "risk_tier": ["low"] * n,
            "opened_at": timestamps(np.array(opened, dtype=np.int64)),
            "opening_channel": [None] * n,
            "opening_device_id": [None] * n,
            "opening_agent": [None] * n,
            "bound_account": [None] * n,
            "opening_balance_fen": [a.balance for a in accounts],
            "last_active_at": timestamps(np.full(n, NONE)),
        },
        "transactions": {
            "tx_id": tx_id,
            "ts": timestamps(ts[order]),
            "kind": ["transfer"] * m,
            "payer_account": [account[int(s)] for s in src[order]],
            "payee_account": [account[int(d)] for d in dst[order]],
            "payer_bank": [BANK] * m,
            "payee_bank": [BANK] * m,
            "amount_fen": amount[order],
            "channel": ["online"] * m,
            "purpose": [t[int(k)].kind for k in order],
            **{c: pa.nulls(m, pa.string()) for c in ("device_id", "ip", "city")},
        },
        "tx_labels": {"tx_id": tx_id, "role": role[order].tolist(), "scam_id": scam_name},
        "account_labels": {
            "account_no": account,
            "is_mule": labelled.tolist(),
            "mule_since": timestamps(np.array(since, dtype=np.int64)),
            "mule_level": [None] * n,
            "sold": [None] * n,
            "sold_at": timestamps(np.full(n, NONE)),
            "mule_source": ["amlsim" if a.laundering else None for a in accounts],
            "gang_id": [None] * n,
        },
        "party_labels": {
            "party_id": parties,
            "role": ["laundering" if p in laundering_party else "ordinary" for p in parties],
            "phone_issue": [None] * len(parties),
        },
        "scams": _scams(scam[order], amount[order], ts[order], role[order]),
    }


def _account_number(key: str) -> str:
    """`AML` + a numeric id on 8 digits (`AML00000042`), or + any other id as it is."""
    return f"{BANK}{int(key):08d}" if key.isdigit() else f"{BANK}{key}"


def _patterns(src: Any, dst: Any, laundering: Any, alerts: list[int | None], order: Any) -> Any:
    """Number the laundering patterns in time order: a transfer's AMLSim alert when it has
    one, else the connected group of laundering transfers without one (union-find)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in np.flatnonzero(laundering).tolist():
        if alerts[k] is None:
            a, b = root(int(src[k])), root(int(dst[k]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    numbers: dict[tuple[str, int], int] = {}
    scam = np.full(len(src), -1, dtype=np.int64)
    for k in order.tolist():
        if laundering[k]:
            alert = alerts[k]
            group = ("alert", alert) if alert is not None else ("group", root(int(src[k])))
            scam[k] = numbers.setdefault(group, len(numbers))
    return scam


def _scams(scam: Any, amount: Any, ts: Any, role: Any) -> dict[str, Any]:
    count = int(scam.max(initial=-1)) + 1
    rows: list[list[int]] = [[0, 0, NONE, NONE, 0] for _ in range(count)]
    for s, a, t, r in zip(scam.tolist(), amount.tolist(), ts.tolist(), role.tolist(), strict=True):
        if s < 0:
            continue
        row = rows[s]
        row[0] += 1
        row[1] += a
        row[2] = t if row[2] == NONE else row[2]
        row[3] = t
        row[4] += a if r == "cash_out" else 0
    return {
        "scam_id": [f"AMLP{s + 1:05d}" for s in range(count)],
        "scam_type": ["laundering_pattern"] * count,
        "victim_party_id": [None] * count,
        "victim_account": [None] * count,
        "gang_id": [None] * count,
        "first_paid_at": timestamps(np.array([r[2] for r in rows], dtype=np.int64)),
        "last_paid_at": timestamps(np.array([r[3] for r in rows], dtype=np.int64)),
        "payments": [r[0] for r in rows],
        "amount_fen": [r[1] for r in rows],
        "levels": [None] * count,
        "cashed_out_fen": [r[4] for r in rows],
        "report_id": [None] * count,
    }
