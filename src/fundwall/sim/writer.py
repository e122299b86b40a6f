"""Turn the simulated region into the Parquet files of a region folder.

Identifiers are made here, from positions: party P00000001…, firm F0000001…, device
DV000000001…, transaction T00000000001… in time order, so the same draw always gives the same
strings. Account numbers are UnionPay-style 19-digit card numbers with a Luhn check digit
(personal accounts) or 17-digit settlement account numbers (corporate accounts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.identity import luhn_check_digit
from fundwall.region import ROW_GROUP, write_chunks, write_table
from fundwall.sim.accounts import CLASS_NAMES, CORPORATE, NO_TIME, OPENING_CHANNELS, Accounts
from fundwall.sim.devices import PLATFORMS, Devices
from fundwall.sim.firms import Firms
from fundwall.sim.ledger import Settled
from fundwall.sim.logins import Logins
from fundwall.sim.people import People
from fundwall.sim.region import CITIES, DISTRICTS, Institution, ip_addresses
from fundwall.sim.registry import Registry
from fundwall.sim.txbuf import CHANNELS, KINDS, PURPOSES

I64 = npt.NDArray[np.int64]
_SERIAL_STEP = 982_451_653  # prime, so index * step mod 10^12 never repeats a serial


def fixed_ids(prefix: str, start: int, count: int, width: int) -> pa.StringArray:
    """`prefix` followed by zero-padded numbers start … start+count-1, built without Python
    strings (ten million ids in well under a second)."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    row = len(head) + width
    data = np.empty((count, row), dtype=np.uint8)
    data[:, : len(head)] = head
    numbers = np.arange(start, start + count, dtype=np.int64)
    for k in range(row - 1, len(head) - 1, -1):
        data[:, k] = 48 + numbers % 10
        numbers //= 10
    offsets = np.arange(0, (count + 1) * row, row, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


def strings_at(strings: pa.Array, index: npt.NDArray[Any]) -> pa.Array:
    """strings[index], null where index is negative."""
    idx = np.asarray(index, dtype=np.int64)
    return strings.take(pa.array(idx, mask=idx < 0))


def timestamps(values: npt.NDArray[Any]) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    return pa.array(v, type=pa.int64(), mask=v == NO_TIME).cast(pa.timestamp("us", tz="UTC"))


@dataclass(slots=True)
class Names:
    """The strings every file refers to, indexed like the simulator's arrays."""

    party: pa.StringArray
    account: pa.StringArray
    bank: pa.StringArray
    device: pa.StringArray
    device_ip: pa.StringArray


def account_numbers(accounts: Accounts, institutions: list[Institution]) -> list[str]:
    """One number per account; the BIN names the institution (as on a real card)."""
    bins = [i.bin or "" for i in institutions]
    out = []
    serial = (np.arange(accounts.count, dtype=np.int64) * _SERIAL_STEP + 1_000_003) % 10**12
    for bank, cls, s in zip(
        accounts.bank.tolist(), accounts.cls.tolist(), serial.tolist(), strict=True
    ):
        if cls == CORPORATE:
            out.append(f"{bins[bank]}{s % 10**11:011d}")
        else:
            payload = f"{bins[bank]}{s:012d}"
            out.append(payload + luhn_check_digit(payload))
    return out


def names(
    rng: np.random.Generator,
    people: People,
    firms: Firms,
    accounts: Accounts,
    devices: Devices,
    institutions: list[Institution],
) -> Names:
    parties = pa.concat_arrays(
        [
            fixed_ids("P", 1, people.count, 8),
            fixed_ids("F", 1, firms.count, 7),
        ]
    )
    return Names(
        party=parties,
        account=pa.array(account_numbers(accounts, institutions), type=pa.string()),
        bank=pa.array([i.code for i in institutions], type=pa.string()),
        device=fixed_ids("DV", 1, devices.count, 9),
        device_ip=pa.array(ip_addresses(rng, devices.city), type=pa.string()),
    )


def write_region(
    out: Path,
    n: Names,
    institutions: list[Institution],
    people: People,
    firms: Firms,
    accounts: Accounts,
    status: I64,
    devices: Devices,
    registry: Registry,
    logins: Logins,
    settled: Settled,
) -> dict[str, int]:
    """Write the data files (labels are written by `labels.write_labels`)."""
    counts = {}
    counts["institutions"] = write_table(
        out,
        "institutions",
        {
            name: [getattr(i, name) for i in institutions]
            for name in ("code", "name_zh", "name_en", "kind", "region_code", "bin")
        },
    )
    districts = np.array([d[0] for d in DISTRICTS])
    counts["parties"] = write_table(
        out,
        "parties",
        {
            "party_id": n.party,
            "kind": ["person"] * people.count + ["firm"] * firms.count,
            "name": people.name + firms.name,
            "id_number": people.id_number + firms.credit_code,
            "phone": people.phone + [people.phone[int(o)] for o in firms.owner],
            "birth_date": people.birth + [None] * firms.count,
            "sex": np.where(people.male, "male", "female").tolist() + [None] * firms.count,
            "region_code": people.region_code + firms.region_code,
            "home_district": districts[people.district].tolist() + [None] * firms.count,
            "owner_party_id": pa.concat_arrays(
                [
                    pa.nulls(people.count, pa.string()),
                    strings_at(n.party, firms.owner),
                ]
            ),
        },
    )
    counts["accounts"] = write_table(out, "accounts", _accounts(n, accounts, status))
    city_names = pa.array(CITIES, type=pa.string())
    counts["devices"] = write_table(
        out,
        "devices",
        {
            "device_id": n.device,
            "kind": _device_kinds(devices),
            "os": strings_at(pa.array(PLATFORMS), devices.platform),
            "model": devices.model,
            "first_seen_at": timestamps(devices.first_seen),
            "ip": n.device_ip,
            "city": strings_at(city_names, devices.city),
        },
    )
    counts["phone_registry"] = write_table(
        out,
        "phone_registry",
        {
            "phone": registry.phone,
            "id_number": registry.id_number,
            "registered_at": timestamps(np.array(registry.registered_at, dtype=np.int64)),
            "deregistered_at": timestamps(
                np.array(
                    [NO_TIME if d is None else d for d in registry.deregistered_at], dtype=np.int64
                )
            ),
        },
    )
    counts["logins"] = write_table(
        out,
        "logins",
        {
            "login_id": fixed_ids("L", 1, len(logins.ts), 10),
            "ts": timestamps(logins.ts),
            "account_no": strings_at(n.account, logins.account),
            "bank": strings_at(n.bank, accounts.bank[logins.account]),
            "device_id": strings_at(n.device, logins.device),
            "ip": strings_at(n.device_ip, logins.device),
            "city": strings_at(city_names, logins.city),
            "channel": ["mobile"] * len(logins.ts),
            "face_check": strings_at(
                pa.array(("passed", "failed", "mismatch", "not_done")), logins.face_check
            ),
            "success": logins.success,
        },
    )
    counts["transactions"] = write_chunks(out, "transactions", _tx_chunks(n, accounts, settled))
    return counts


def _device_kinds(devices: Devices) -> list[str]:
    """Phones are `mobile`; the agents' opening devices are `tablet` (domain DeviceKind)."""
    kinds = ["mobile"] * devices.count
    for d in devices.batch.tolist():
        kinds[d] = "tablet"
    return kinds


def _accounts(n: Names, a: Accounts, status: I64) -> dict[str, Any]:
    return {
        "account_no": n.account,
        "bank": strings_at(n.bank, a.bank),
        "party_id": strings_at(n.party, a.party),
        "account_class": strings_at(pa.array(CLASS_NAMES), a.cls),
        "status": strings_at(pa.array(("normal", "dormant")), status),
        "risk_tier": ["low"] * a.count,
        "opened_at": timestamps(a.opened_at),
        "opening_channel": strings_at(pa.array(OPENING_CHANNELS), a.channel),
        "opening_device_id": strings_at(n.device, a.device),
        "opening_agent": strings_at(
            fixed_ids("AG", 1, int(a.agent.max(initial=0)) + 1, 4), a.agent
        ),
        "bound_account": strings_at(n.account, a.bound),
        "opening_balance_fen": a.balance,
        "last_active_at": timestamps(a.last_active),
    }


def _tx_chunks(n: Names, a: Accounts, s: Settled) -> Iterator[dict[str, Any]]:
    c = s.columns
    kinds = pa.array(KINDS)
    channels = pa.array(CHANNELS)
    purposes = pa.array(PURPOSES)
    cities = pa.array(CITIES)
    bank_of = np.append(a.bank, -1)
    total = len(c["ts"])
    for lo in range(0, total, ROW_GROUP):
        hi = min(lo + ROW_GROUP, total)
        payer = c["payer"][lo:hi]
        payee = c["payee"][lo:hi]
        device = c["device"][lo:hi]
        yield {
            "tx_id": fixed_ids("T", lo + 1, hi - lo, 11),
            "ts": timestamps(c["ts"][lo:hi]),
            "kind": strings_at(kinds, c["kind"][lo:hi]),
            "payer_account": strings_at(n.account, payer),
            "payee_account": strings_at(n.account, payee),
            "payer_bank": strings_at(n.bank, bank_of[payer]),
            "payee_bank": strings_at(n.bank, bank_of[payee]),
            "amount_fen": c["amount"][lo:hi],
            "channel": strings_at(channels, c["channel"][lo:hi]),
            "device_id": strings_at(n.device, device),
            "ip": strings_at(n.device_ip, device),
            "city": strings_at(cities, c["city"][lo:hi]),
            "purpose": strings_at(purposes, c["purpose"][lo:hi]),
        }
