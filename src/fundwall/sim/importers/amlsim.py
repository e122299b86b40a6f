"""IBM AMLSim (nodes.csv + transactions.csv) → region folder.

Mapping choices (docs/data-layout.md, "Imported folders"):

- Each node is an account `AML00000042` (node 42) at one bank `AML`, held by its own party
  `A42`; Class I, opened at the start of the period, opening balance `init_balance`. AMLSim
  has no people: each party gets a generated identity (common.synthetic_parties).
- `time` is a step of one day: step s starts at the period start + s days, and the transfers
  of one step are spread evenly over its 24 hours in file order.
- `value` (yuan, printed as a float) is rounded half up to the fen; zero or negative is a
  bad row.
- A transfer is laundering when its payer is labelled `isFraud=1` and it happens at the
  payer's `fraudStep`: `layering` if the payee is labelled too, `cash_out` if the money
  leaves the labelled accounts; every other transfer is `normal`. AMLSim has no victims, so
  no transfer is a `victim_payment` and there are no victim reports.
- A "scam" is one laundering pattern: a connected group of laundering transfers.
- Account labels: `is_mule` is `isFraud`; `mule_since` is the start of `fraudStep` (or of the
  first laundering transfer when the step is -1); levels and sales are unknown (null).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from fundwall.domain.errors import InvalidInput
from fundwall.sim.importers.common import (
    BadRow,
    ImportResult,
    csv_rows,
    ensure_free,
    fen,
    flag,
    single_institution,
    synthetic_parties,
    whole,
    write_folder,
)
from fundwall.sim.params import START, US_PER_DAY
from fundwall.sim.writer import timestamps

START_US = int(START.timestamp()) * 1_000_000
NODES = ("nodeid", "isFraud", "init_balance", "fraudStep")
TRANSFERS = ("sourceNodeId", "targetNodeId", "value", "time")
BANK = "AML"
NONE = np.iinfo(np.int64).min
SEED = 20_170_101  # fixes the generated identities of the parties


def _nodes(path: Path, bad: list[BadRow]) -> dict[int, tuple[bool, int, int]]:
    nodes: dict[int, tuple[bool, int, int]] = {}
    for line, row in csv_rows(path, NODES, bad):
        try:
            node = whole(row[0], "nodeid", minimum=0)
            if node in nodes:
                raise InvalidInput(f"node {node} appears twice", "nodeid")
            nodes[node] = (
                flag(row[1], "isFraud"),
                fen(row[2], "init_balance", positive=False),
                whole(row[3], "fraudStep", minimum=-1),
            )
        except InvalidInput as error:
            bad.append(BadRow(path.name, line, error.message()))
    return nodes


def _transfers(path: Path, nodes: dict[int, Any], bad: list[BadRow]) -> list[tuple[int, ...]]:
    rows: list[tuple[int, ...]] = []
    for line, row in csv_rows(path, TRANSFERS, bad):
        try:
            src = whole(row[0], "sourceNodeId", minimum=0)
            dst = whole(row[1], "targetNodeId", minimum=0)
            for node, what in ((src, "sourceNodeId"), (dst, "targetNodeId")):
                if node not in nodes:
                    raise InvalidInput(f"node {node} is not in nodes.csv", what)
            rows.append(
                (
                    line,
                    src,
                    dst,
                    fen(row[2], "value", positive=True),
                    whole(row[3], "time", minimum=0),
                )
            )
        except InvalidInput as error:
            bad.append(BadRow(path.name, line, error.message()))
    return rows


def import_amlsim(source: Path, out: Path, *, skip_bad: bool = False) -> ImportResult:
    """Read an AMLSim folder; write the region folder unless bad rows were found and
    `skip_bad` is false."""
    ensure_free(out)
    result = ImportResult()
    nodes = _nodes(source / "nodes.csv", result.bad)
    transfers = _transfers(source / "transactions.csv", nodes, result.bad)
    result.rows = len(nodes) + len(transfers)
    if result.bad and not skip_bad:
        return result
    result.counts = write_folder(
        out,
        _tables(nodes, transfers),
        source="amlsim",
        period_start=START.isoformat(),
        step="1 day",
        amounts="fen",
    )
    return result


def _tables(
    nodes: dict[int, tuple[bool, int, int]], transfers: list[tuple[int, ...]]
) -> dict[str, dict[str, Any]]:
    ids = sorted(nodes)
    fraud = {n for n in ids if nodes[n][0]}
    line, src, dst, amount, step = (
        (np.array(c, dtype=np.int64).reshape(-1) for c in zip(*transfers, strict=True))
        if transfers
        else (np.empty(0, dtype=np.int64) for _ in range(5))
    )
    # Spread each step's transfers evenly over its day, in file order.
    by_step = np.lexsort((line, step))
    rank = np.empty(len(line), dtype=np.int64)
    per_step = np.bincount(step, minlength=1) if len(step) else np.zeros(1, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(per_step)[:-1]])
    rank[by_step] = np.arange(len(line)) - first[step[by_step]]
    ts = START_US + step * US_PER_DAY + rank * (US_PER_DAY // np.maximum(per_step[step], 1))
    order = np.lexsort((line, ts))
    is_fraud = np.array([nodes[int(s)][0] for s in src], dtype=bool)
    at_step = np.array(
        [nodes[int(s)][2] == int(t) for s, t in zip(src, step, strict=True)], dtype=bool
    )
    laundering = is_fraud & at_step
    payee_fraud = np.array([nodes[int(d)][0] for d in dst], dtype=bool)
    role = np.where(laundering, np.where(payee_fraud, "layering", "cash_out"), "normal")
    scam = _patterns(src, dst, laundering, order)
    account = {n: f"{BANK}{n:08d}" for n in ids}
    tx_id = [f"{BANK}{int(x):09d}" for x in line[order]]
    first_seen: dict[int, int] = {}
    for k in order.tolist():
        if laundering[k]:
            for node in (int(src[k]), int(dst[k])):
                if node in fraud:
                    first_seen.setdefault(node, int(ts[k]))
    since = np.array(
        [
            (START_US + nodes[n][2] * US_PER_DAY)
            if nodes[n][2] >= 0 and n in fraud
            else first_seen.get(n, NONE)
            for n in ids
        ],
        dtype=np.int64,
    )
    scam_name = [None if s < 0 else f"AMLP{s + 1:05d}" for s in scam[order].tolist()]
    return {
        "institutions": single_institution(BANK, "AMLSim sample bank", "AMLSim样本银行", "bank"),
        "parties": synthetic_parties([f"A{n}" for n in ids], [False] * len(ids), SEED),
        "accounts": {
            "account_no": [account[n] for n in ids],
            "bank": [BANK] * len(ids),
            "party_id": [f"A{n}" for n in ids],
            "account_class": ["I"] * len(ids),
            "status": ["normal"] * len(ids),
            "risk_tier": ["low"] * len(ids),
            "opened_at": timestamps(np.full(len(ids), START_US)),
            "opening_channel": [None] * len(ids),
            "opening_device_id": [None] * len(ids),
            "opening_agent": [None] * len(ids),
            "bound_account": [None] * len(ids),
            "opening_balance_fen": [nodes[n][1] for n in ids],
            "last_active_at": timestamps(np.full(len(ids), NONE)),
        },
        "transactions": {
            "tx_id": tx_id,
            "ts": timestamps(ts[order]),
            "kind": ["transfer"] * len(order),
            "payer_account": [account[int(s)] for s in src[order]],
            "payee_account": [account[int(d)] for d in dst[order]],
            "payer_bank": [BANK] * len(order),
            "payee_bank": [BANK] * len(order),
            "amount_fen": amount[order],
            "channel": ["online"] * len(order),
            **{
                c: pa.nulls(len(order), pa.string()) for c in ("device_id", "ip", "city", "purpose")
            },
        },
        "tx_labels": {"tx_id": tx_id, "role": role[order].tolist(), "scam_id": scam_name},
        "account_labels": {
            "account_no": [account[n] for n in ids],
            "is_mule": [n in fraud for n in ids],
            "mule_since": timestamps(since),
            "mule_level": [None] * len(ids),
            "sold": [None] * len(ids),
            "sold_at": timestamps(np.full(len(ids), NONE)),
            "mule_source": ["amlsim" if n in fraud else None for n in ids],
            "gang_id": [None] * len(ids),
        },
        "party_labels": {
            "party_id": [f"A{n}" for n in ids],
            "role": ["laundering" if n in fraud else "ordinary" for n in ids],
            "phone_issue": [None] * len(ids),
        },
        "scams": _scams(scam[order], amount[order], ts[order], role[order]),
    }


def _patterns(src: Any, dst: Any, laundering: Any, order: Any) -> Any:
    """Number the connected groups of laundering transfers in time order (union-find)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in np.flatnonzero(laundering).tolist():
        a, b = root(int(src[k])), root(int(dst[k]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    numbers: dict[int, int] = {}
    scam = np.full(len(src), -1, dtype=np.int64)
    for k in order.tolist():
        if laundering[k]:
            scam[k] = numbers.setdefault(root(int(src[k])), len(numbers))
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
