"""PaySim (one CSV of mobile-money transactions) → region folder.

Mapping choices (docs/data-layout.md, "Imported folders"):

- `step` is one hour: step s starts at START + (s - 1) hours, and the rows of one step are
  spread evenly over that hour in file order. The published log starts at step 1; PaySim's
  simulator (version 2) writes its first hour as step 0, the hour before, and the period
  then starts there. `tx_id` is `PS` + the line number.
- Every name (`C…` customers, `M…` merchants) is an account at one payment institution `PAYSIM`
  held by its own party; customers are Class I persons, merchants corporate firms. The
  opening balance is the old balance of the account's first row (0 for merchants, which
  PaySim does not track). Balances may be negative: PaySim's simulator lets a customer
  overdraw down to a limit. PaySim does not say when an account was opened: `opened_at` is
  null (unknown), never the start of the log, which would make every account days old.
  PaySim has no people: each party gets a generated identity (common.synthetic_parties).
- The header is matched by name, case-insensitively (`isfraud`, `Step`), in any order, and
  the simulator's own spellings read alike (`action` for `type`, `oldBalanceOrig`); the
  four balance columns and `isFlaggedFraud` may be missing (files shared without the
  balances). Without `oldbalanceOrg`/`oldbalanceDest` every opening balance is 0: the
  engine's balances are then what the log's own flows add up to. Flags may be written 0/1,
  0.0/1.0 or true/false.
- Types: TRANSFER → `transfer` (mobile); PAYMENT → `transfer` to the merchant (mobile,
  purpose `payment`); CASH_IN → `deposit` into nameOrig (counter); CASH_OUT → `withdrawal`
  from nameOrig (counter); DEBIT → `withdrawal` from nameOrig to a bank account (online). For
  cash and debit rows nameDest (the agent or bank account) is kept in `purpose`, since the
  layout has no payee for cash.
- Amounts are rounded half up to the fen; an amount of zero is a bad row (the layout needs
  amount > 0).
- A row PaySim's simulator marks `isUnauthorizedOverdraft` was refused (the customer lacked
  the funds): it moved no money, so it is no accepted transaction and is left out, counted in
  `ImportResult.refused`. Kept, it would settle in replay and the engine's balances would
  drift from PaySim's own.
- Labels: a fraudulent TRANSFER is a `victim_payment` (the taken-over account is emptied into
  nameDest); a fraudulent CASH_OUT is a `cash_out`, joined to the scam of the latest earlier
  fraudulent TRANSFER of the same step and amount, or a scam of its own. `isFlaggedFraud` is
  PaySim's own rule's output, not ground truth, and is not carried.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from fundwall.domain.errors import InvalidInput
from fundwall.sim.importers.common import (
    BadRow,
    Column,
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
from fundwall.sim.params import START, US_PER_H
from fundwall.sim.writer import timestamps

START_US = int(START.timestamp()) * 1_000_000
COLUMNS = (
    Column("step"),
    Column("type", ("action",)),
    Column("amount"),
    Column("nameOrig"),
    Column("oldbalanceOrg", ("oldbalanceOrig",), required=False),
    Column("newbalanceOrig", ("newbalanceOrg",), required=False),
    Column("nameDest"),
    Column("oldbalanceDest", required=False),
    Column("newbalanceDest", required=False),
    Column("isFraud"),
    Column("isFlaggedFraud", required=False),
    Column("isUnauthorizedOverdraft", required=False),
)
"""The published header, in its order; other orders, cases and the optional columns' absence
are accepted."""
MAX_STEP = 10 * 366 * 24
"""Ten years of hourly steps (PaySim's published log has 743): keeps every time in range."""
BANK = "PAYSIM"
NONE = np.iinfo(np.int64).min
SEED = 20_160_101  # fixes the generated identities of the parties
# type → (kind, channel, payer is nameOrig, payee is nameDest, purpose)
TYPES = {
    "TRANSFER": ("transfer", "mobile", True, True, None),
    "PAYMENT": ("transfer", "mobile", True, True, "payment"),
    "CASH_IN": ("deposit", "counter", False, False, "cash in at agent {dest}"),
    "CASH_OUT": ("withdrawal", "counter", True, False, "cash out at agent {dest}"),
    "DEBIT": ("withdrawal", "online", True, False, "debit to bank account {dest}"),
}


def _name(text: str, what: str) -> str:
    name = text.strip()
    if not name or len(name) > 40 or not name.isascii() or not name.isalnum():
        raise InvalidInput(f"{what} must be a short name of letters and digits", what)
    return name


def _type(text: str) -> str:
    """The type as PaySim writes it; other cases and `-` for `_` (CASH-OUT) are accepted."""
    kind = text.strip().upper().replace("-", "_")
    if kind not in TYPES:
        raise InvalidInput(
            f"type must be one of {', '.join(TYPES)}, got {text.strip()[:20]!r}", "type"
        )
    return kind


def _balance(row: dict[str, str], column: str) -> int:
    """A balance column's value in fen (an overdrawn account's is negative); 0 when the file
    has no such column."""
    return fen(row[column], column, positive=False, signed=True) if column in row else 0


def _read(path: Path, result: ImportResult) -> list[tuple[Any, ...]]:
    """The rows to import; bad rows go to `result.bad`, refused ones are counted there."""
    rows = []
    bad = result.bad
    for line, row in csv_rows(path, COLUMNS, bad):
        try:
            record = (
                line,
                whole(row["step"], "step", minimum=0, maximum=MAX_STEP),
                _type(row["type"]),
                fen(row["amount"], "amount", positive=True),
                _name(row["nameOrig"], "nameOrig"),
                _balance(row, "oldbalanceOrg"),
                _name(row["nameDest"], "nameDest"),
                _balance(row, "oldbalanceDest"),
                flag(row["isFraud"], "isFraud"),
            )
            for optional in ("newbalanceOrig", "newbalanceDest"):
                _balance(row, optional)
            if "isFlaggedFraud" in row:
                flag(row["isFlaggedFraud"], "isFlaggedFraud")
            refused = "isUnauthorizedOverdraft" in row and flag(
                row["isUnauthorizedOverdraft"], "isUnauthorizedOverdraft"
            )
        except InvalidInput as error:
            bad.append(BadRow(path.name, line, error.message()))
            continue
        if refused:
            result.refused += 1
            continue
        rows.append(record)
    return rows


def import_paysim(source: Path, out: Path, *, skip_bad: bool = False) -> ImportResult:
    """Read a PaySim CSV; write the region folder unless bad rows were found and `skip_bad`
    is false, or no row could be used (`result.written` tells)."""
    ensure_free(out)
    result = ImportResult()
    rows = _read(source, result)
    result.rows = len(rows)
    if (result.bad and not skip_bad) or not rows:
        return result
    first_hour = min(1, min(r[1] for r in rows)) - 1  # -1 when the file has a step 0
    result.counts = write_folder(
        out,
        _tables(rows),
        source="paysim",
        period_start=(START + timedelta(hours=first_hour)).isoformat(),
        step="1 hour",
        amounts="fen",
    )
    return result


def _tables(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    step = np.array([r[1] for r in rows], dtype=np.int64)
    count = np.bincount(step, minlength=1) if len(rows) else np.zeros(1, dtype=np.int64)
    seen = np.zeros_like(count)
    ts = np.empty(len(rows), dtype=np.int64)
    for k, s in enumerate(step.tolist()):
        ts[k] = START_US + (s - 1) * US_PER_H + seen[s] * (US_PER_H // count[s])
        seen[s] += 1
    order = np.lexsort((np.array([r[0] for r in rows], dtype=np.int64), ts)).tolist()
    opening: dict[str, int] = {}
    for r in rows:
        opening.setdefault(r[4], r[5])
        opening.setdefault(r[6], 0 if r[6].startswith("M") else r[7])
    names = sorted(opening)
    tx: dict[str, list[Any]] = {
        c: []
        for c in (
            "tx_id",
            "ts",
            "kind",
            "payer_account",
            "payee_account",
            "payer_bank",
            "payee_bank",
            "amount_fen",
            "channel",
            "purpose",
            "role",
            "scam_id",
        )
    }
    scams: list[dict[str, Any]] = []
    open_transfers: dict[tuple[int, int], list[int]] = {}
    mule_since: dict[str, int] = {}
    for k in order:
        line, s, kind, amount, orig, _, dest, _, fraud = rows[k]
        what, channel, payer, payee, purpose = TYPES[kind]
        role, scam = "normal", None
        if fraud:
            role, scam = _fraud_role(
                kind, s, amount, orig, dest, int(ts[k]), scams, open_transfers, mule_since
            )
        tx["tx_id"].append(f"PS{line:09d}")
        tx["ts"].append(int(ts[k]))
        tx["kind"].append(what)
        tx["payer_account"].append(orig if payer else None)
        tx["payee_account"].append(dest if payee else orig if what == "deposit" else None)
        tx["payer_bank"].append(BANK if payer else None)
        tx["payee_bank"].append(BANK if payee or what == "deposit" else None)
        tx["amount_fen"].append(amount)
        tx["channel"].append(channel)
        tx["purpose"].append(purpose.format(dest=dest) if purpose else None)
        tx["role"].append(role)
        tx["scam_id"].append(scam)
    return _folder(names, opening, tx, scams, mule_since)


def _fraud_role(
    kind: str,
    step: int,
    amount: int,
    orig: str,
    dest: str,
    ts: int,
    scams: list[dict[str, Any]],
    open_transfers: dict[tuple[int, int], list[int]],
    mule_since: dict[str, int],
) -> tuple[str, str]:
    """Role and scam of a fraudulent row (see the module's mapping notes)."""
    if kind == "CASH_OUT":
        waiting = open_transfers.get((step, amount))
        if waiting:
            number = waiting.pop()
        else:
            number = len(scams)
            scams.append(
                {"victim": None, "amount": 0, "first": ts, "last": ts, "payments": 0, "cashed": 0}
            )
        scams[number]["cashed"] += amount
        mule_since.setdefault(orig, ts)
        return "cash_out", f"PSS{number + 1:06d}"
    number = len(scams)
    scams.append(
        {"victim": orig, "amount": amount, "first": ts, "last": ts, "payments": 1, "cashed": 0}
    )
    open_transfers.setdefault((step, amount), []).append(number)
    mule_since.setdefault(dest, ts)
    return "victim_payment", f"PSS{number + 1:06d}"


def _folder(
    names: list[str],
    opening: dict[str, int],
    tx: dict[str, list[Any]],
    scams: list[dict[str, Any]],
    mule_since: dict[str, int],
) -> dict[str, dict[str, Any]]:
    n = len(names)
    firm = [name.startswith("M") for name in names]
    victims = [sc["victim"] for sc in scams]
    role = {v: "victim" for v in victims if v}
    role |= {m: "mule" for m in mule_since}
    return {
        "institutions": single_institution(
            BANK, "PaySim mobile money", "PaySim移动支付", "payment_institution"
        ),
        "parties": synthetic_parties([f"PS{x}" for x in names], firm, SEED),
        "accounts": {
            "account_no": names,
            "bank": [BANK] * n,
            "party_id": [f"PS{x}" for x in names],
            "account_class": ["corporate" if f else "I" for f in firm],
            "status": ["normal"] * n,
            "risk_tier": ["low"] * n,
            "opened_at": timestamps(np.full(n, NONE)),
            **{
                c: [None] * n
                for c in ("opening_channel", "opening_device_id", "opening_agent", "bound_account")
            },
            "opening_balance_fen": [opening[x] for x in names],
            "last_active_at": timestamps(np.full(n, NONE)),
        },
        "transactions": {
            **{
                c: tx[c]
                for c in (
                    "tx_id",
                    "kind",
                    "payer_account",
                    "payee_account",
                    "payer_bank",
                    "payee_bank",
                    "amount_fen",
                    "channel",
                    "purpose",
                )
            },
            "ts": timestamps(np.array(tx["ts"], dtype=np.int64)),
            **{c: [None] * len(tx["tx_id"]) for c in ("device_id", "ip", "city")},
        },
        "tx_labels": {"tx_id": tx["tx_id"], "role": tx["role"], "scam_id": tx["scam_id"]},
        "account_labels": {
            "account_no": names,
            "is_mule": [x in mule_since for x in names],
            "mule_since": timestamps(
                np.array([mule_since.get(x, NONE) for x in names], dtype=np.int64)
            ),
            "mule_level": [1 if x in mule_since else None for x in names],
            "sold": [None] * n,
            "sold_at": timestamps(np.full(n, NONE)),
            "mule_source": ["paysim" if x in mule_since else None for x in names],
            "gang_id": [None] * n,
        },
        "party_labels": {
            "party_id": [f"PS{x}" for x in names],
            "role": [role.get(x, "ordinary") for x in names],
            "phone_issue": [None] * n,
        },
        "scams": {
            "scam_id": [f"PSS{k + 1:06d}" for k in range(len(scams))],
            "scam_type": ["account_takeover"] * len(scams),
            "victim_party_id": [f"PS{v}" if v else None for v in victims],
            "victim_account": victims,
            "gang_id": [None] * len(scams),
            "first_paid_at": timestamps(np.array([sc["first"] for sc in scams], dtype=np.int64)),
            "last_paid_at": timestamps(np.array([sc["last"] for sc in scams], dtype=np.int64)),
            "payments": [sc["payments"] for sc in scams],
            "amount_fen": [sc["amount"] for sc in scams],
            "levels": [1] * len(scams),
            "cashed_out_fen": [sc["cashed"] for sc in scams],
            "report_id": [None] * len(scams),
        },
    }
