"""Ground truth: the role of every transaction, the mule history of every account, the
planted role of every party, every scam and every victim's report, every 跑分 network, and
the accounts account-base screening should find."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.config import PolicySettings
from fundwall.domain.screening import Check
from fundwall.region import write_chunks, write_table
from fundwall.sim.accounts import CLASS_I, NO_TIME, Accounts
from fundwall.sim.fraud import Fraud
from fundwall.sim.ledger import Settled
from fundwall.sim.mules import SOURCES
from fundwall.sim.paofen import NETWORK_SOURCES, Networks
from fundwall.sim.params import Behaviour
from fundwall.sim.registry import PHONE_ISSUES, SHARED, Registry
from fundwall.sim.txbuf import CASH_OUT, COLLECTION, DEPOSIT, FORWARDING, ROLES
from fundwall.sim.writer import Names, fixed_ids, strings_at, timestamps

I64 = npt.NDArray[np.int64]
PARTY_ROLES = (
    "ordinary",
    "victim",
    "card_seller",
    "dealer",
    "batch_holder",
    "dormant_seller",
    "shell_owner",
    "cashout_merchant",
    "gambler",
    "paofen_renter",
    "paofen_collector",
)
_SOURCE_ROLE = {"sold": 2, "dealer": 3, "batch": 4, "dormant": 5, "shell": 6, "cashout_merchant": 7}
_MULE_SOURCES = pa.array(SOURCES + NETWORK_SOURCES)


def write_labels(
    out: Path,
    n: Names,
    accounts: Accounts,
    fraud: Fraud,
    networks: Networks,
    settled: Settled,
    registry: Registry,
    behaviour: Behaviour,
    persons: int,
) -> dict[str, int]:
    counts = {}
    c = settled.columns
    network, kind = networks.account_network(accounts.count)
    first_in = _first_network_inflow(c, accounts.count)
    total = len(c["ts"])
    scam_ids = fixed_ids("S", 1, len(fraud.scams), 6)
    chunk = 1_000_000
    counts["tx_labels"] = write_chunks(
        out,
        "tx_labels",
        (
            {
                "tx_id": fixed_ids("T", lo + 1, min(chunk, total - lo), 11),
                "role": strings_at(pa.array(ROLES), c["role"][lo : lo + chunk]),
                "scam_id": strings_at(scam_ids, c["scam"][lo : lo + chunk]),
            }
            for lo in range(0, total, chunk)
        ),
    )
    counts["account_labels"] = write_table(
        out, "account_labels", _accounts(n, accounts, fraud, networks, network, kind, first_in)
    )
    counts["party_labels"] = write_table(
        out, "party_labels", _parties(n, accounts, fraud, networks, registry, persons)
    )
    counts["networks"] = write_table(out, "networks", _networks(networks, network, c))
    cashed = np.zeros(len(fraud.scams), dtype=np.int64)
    out_rows = c["role"] == CASH_OUT
    np.add.at(cashed, c["scam"][out_rows], c["amount"][out_rows])
    counts["scams"] = write_table(out, "scams", _scams(n, accounts, fraud, behaviour, cashed))
    counts["victim_reports"] = write_table(
        out, "victim_reports", _reports(n, accounts, fraud, behaviour)
    )
    counts["screening_labels"] = write_table(
        out, "screening_labels", _screening(n, accounts, c, registry)
    )
    return counts


def _screening(
    n: Names, accounts: Accounts, c: dict[str, Any], registry: Registry
) -> dict[str, Any]:
    """The planted accounts each screening check should find at the end of the period, from
    what was drawn (no draw of its own): long-dormant accounts no one used in the period,
    accounts opened in a batch, every account of a person given more Class I accounts than
    the default policy allows in the region (card dealers, and the customers drawn to hold
    accounts at many banks: 一人多户 is a review, not a verdict of fraud), every account of a
    person whose declared phone others declare too."""
    used = np.zeros(accounts.count, dtype=bool)
    used[c["payer"][c["payer"] >= 0]] = True
    used[c["payee"][c["kind"] == DEPOSIT]] = True
    dealers = np.unique(accounts.party[accounts.dealer])
    class_i = np.bincount(accounts.party[accounts.cls == CLASS_I])
    over = np.flatnonzero(class_i > PolicySettings().max_class_i_accounts_in_region)
    many = np.flatnonzero(np.isin(accounts.party, over))
    of_dealer = np.isin(accounts.party[many], dealers)
    sharing = np.flatnonzero(registry.issue == SHARED)
    planted = [
        (Check.DORMANT, "dormant", np.sort(accounts.dormant[~used[accounts.dormant]])),
        (Check.BATCH_OPENED, "batch", np.sort(accounts.batch)),
        (Check.MANY_ACCOUNTS, "dealer", many[of_dealer]),
        (Check.MANY_ACCOUNTS, "many_accounts", many[~of_dealer]),
        (Check.SHARED_PHONE, "shared_phone", np.flatnonzero(np.isin(accounts.party, sharing))),
    ]
    rows = np.concatenate([found for _, _, found in planted]).astype(np.int64)
    return {
        "account_no": strings_at(n.account, rows),
        "check": [check.value for check, _, found in planted for _ in range(len(found))],
        "planted": [source for _, source, found in planted for _ in range(len(found))],
    }


def _first_network_inflow(c: dict[str, Any], count: int) -> I64:
    """Per account, the time of the first 跑分 money it received (NO_TIME: none)."""
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    rows = np.isin(c["role"], (COLLECTION, FORWARDING))
    np.minimum.at(first, c["payee"][rows].astype(np.int64), c["ts"][rows])
    first[first == np.iinfo(np.int64).max] = NO_TIME
    return first


def _accounts(
    n: Names,
    accounts: Accounts,
    fraud: Fraud,
    networks: Networks,
    network: I64,
    kind: I64,
    first_in: I64,
) -> dict[str, Any]:
    s = fraud.gangs.state
    count = accounts.count
    since = np.full(count, NO_TIME, dtype=np.int64)
    level = np.full(count, -1, dtype=np.int64)
    sold_at = np.full(count, NO_TIME, dtype=np.int64)
    source = np.full(count, -1, dtype=np.int64)
    gang = np.full(count, -1, dtype=np.int64)
    for a, t in s.since.items():
        since[a] = t
        level[a] = s.level[a]
    for a, t in s.sold_at.items():
        sold_at[a] = t
    for a, src in s.source.items():
        source[a] = src
        gang[a] = s.gang[a]
    for a in s.since:
        if source[a] < 0:
            source[a] = SOURCES.index("cashout_merchant")
    # 跑分 money: collection accounts are level 1, collectors 2, and the exchange that
    # turns it into goods (a cash-out merchant outside every network) one past them.
    paid = first_in != NO_TIME
    since[paid] = first_in[paid]
    level[paid] = np.where(kind[paid] >= 0, 1 + kind[paid], 3)
    source[paid] = np.where(
        kind[paid] >= 0, len(SOURCES) + kind[paid], SOURCES.index("cashout_merchant")
    )
    for net in networks.networks:
        for a, rented in net.rented_at.items():
            sold_at[a] = rented
    mule = since != NO_TIME
    return {
        "account_no": n.account,
        "is_mule": mule,
        "mule_since": timestamps(since),
        "mule_level": pa.array(level, mask=level < 0, type=pa.int8()),
        "sold": sold_at != NO_TIME,
        "sold_at": timestamps(sold_at),
        "mule_source": strings_at(_MULE_SOURCES, source),
        "gang_id": strings_at(fixed_ids("G", 1, max(fraud.gangs.count, 1), 3), gang),
        "network_id": strings_at(_network_ids(networks), network),
    }


def _network_ids(networks: Networks) -> pa.StringArray:
    return fixed_ids("N", 1, max(len(networks.networks), 1), 3)


def _networks(networks: Networks, network: I64, c: dict[str, Any]) -> dict[str, Any]:
    """One row per network: who runs it, when it first took a stake, its accounts, what it
    collected and what its collectors paid on to the exchange."""
    count = len(networks.networks)
    payer = c["payer"].astype(np.int64)
    payee = c["payee"].astype(np.int64)
    into = np.append(network, -1)[payee]
    out_of = np.append(network, -1)[payer]
    stake = (c["role"] == COLLECTION) & (into >= 0)
    exchanged = (c["role"] == FORWARDING) & (out_of >= 0) & (into < 0)
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, into[stake], c["ts"][stake])
    first[first == np.iinfo(np.int64).max] = NO_TIME
    payers = [np.unique(payer[stake & (into == k)]).size for k in range(count)]
    return {
        "network_id": _network_ids(networks)[:count],
        "operator": [net.operator for net in networks.networks],
        "first_payment_at": timestamps(first),
        "collection_accounts": [len(net.collection) for net in networks.networks],
        "collectors": [len(net.collectors) for net in networks.networks],
        "payers": payers,
        "payments": np.bincount(into[stake], minlength=count),
        "collected_fen": _sums(into[stake], c["amount"][stake], count),
        "exchanged_fen": _sums(out_of[exchanged], c["amount"][exchanged], count),
    }


def _sums(group: I64, amount: I64, count: int) -> I64:
    """Exact per-group sums of fen (no float weights)."""
    total = np.zeros(count, dtype=np.int64)
    np.add.at(total, group, amount)
    return total


def _parties(
    n: Names,
    accounts: Accounts,
    fraud: Fraud,
    networks: Networks,
    registry: Registry,
    persons: int,
) -> dict[str, Any]:
    parties = len(n.party)
    role = np.zeros(parties, dtype=np.int64)
    s = fraud.gangs.state
    for a in sorted(s.since):
        src = SOURCES[s.source.get(a, SOURCES.index("cashout_merchant"))]
        role[int(accounts.party[a])] = _SOURCE_ROLE[src]
    for scam in fraud.scams:
        role[scam.victim] = 1
    role[networks.gamblers] = PARTY_ROLES.index("gambler")
    for net in networks.networks:
        role[accounts.party[net.collection]] = PARTY_ROLES.index("paofen_renter")
        role[accounts.party[net.collectors]] = PARTY_ROLES.index("paofen_collector")
    issue = np.zeros(parties, dtype=np.int64)
    issue[:persons] = registry.issue
    return {
        "party_id": n.party,
        "role": strings_at(pa.array(PARTY_ROLES), role),
        "phone_issue": strings_at(pa.array(PHONE_ISSUES), issue),
    }


def _scams(
    n: Names, accounts: Accounts, fraud: Fraud, behaviour: Behaviour, cashed: I64
) -> dict[str, Any]:
    sc = fraud.scams
    return {
        "scam_id": fixed_ids("S", 1, len(sc), 6),
        "scam_type": [behaviour.scam_types[x.scam_type] for x in sc],
        "victim_party_id": strings_at(n.party, np.array([x.victim for x in sc], dtype=np.int64)),
        "victim_account": strings_at(n.account, np.array([x.account for x in sc], dtype=np.int64)),
        "gang_id": strings_at(
            fixed_ids("G", 1, max(fraud.gangs.count, 1), 3),
            np.array([x.gang for x in sc], dtype=np.int64),
        ),
        "first_paid_at": timestamps(np.array([x.payments[0][0] for x in sc], dtype=np.int64)),
        "last_paid_at": timestamps(np.array([x.payments[-1][0] for x in sc], dtype=np.int64)),
        "payments": [len(x.payments) for x in sc],
        "amount_fen": [sum(p[1] for p in x.payments) for x in sc],
        "levels": [x.levels for x in sc],
        "cashed_out_fen": cashed,
        "report_id": fixed_ids("R", 1, len(sc), 6),
    }


def _reports(n: Names, accounts: Accounts, fraud: Fraud, behaviour: Behaviour) -> dict[str, Any]:
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "report",
            "line",
            "scam",
            "reported_at",
            "police_unit",
            "scam_type",
            "victim",
            "account",
            "payee",
            "paid_at",
            "amount",
        )
    }
    for s, scam in enumerate(fraud.scams):
        for line, ((_, _, first_level), (paid_at, amount)) in enumerate(
            zip(scam.payments, scam.known, strict=True), start=1
        ):
            rows["report"].append(s)
            rows["line"].append(line)
            rows["scam"].append(s)
            rows["reported_at"].append(scam.reported_at)
            rows["police_unit"].append(scam.police_unit)
            rows["scam_type"].append(behaviour.scam_types[scam.scam_type])
            rows["victim"].append(scam.victim)
            rows["account"].append(scam.account)
            rows["payee"].append(first_level)
            rows["paid_at"].append(paid_at)
            rows["amount"].append(amount)
    report = np.array(rows["report"], dtype=np.int64)
    held = np.array(rows["account"], dtype=np.int64)
    payee = np.array(rows["payee"], dtype=np.int64)
    count = max(len(fraud.scams), 1)
    return {
        "report_id": strings_at(fixed_ids("R", 1, count, 6), report),
        "line": rows["line"],
        "scam_id": strings_at(fixed_ids("S", 1, count, 6), report),
        "reported_at": timestamps(np.array(rows["reported_at"], dtype=np.int64)),
        "police_unit": rows["police_unit"],
        "scam_type": rows["scam_type"],
        "victim_party_id": strings_at(n.party, np.array(rows["victim"], dtype=np.int64)),
        "victim_account": strings_at(n.account, held),
        "victim_bank": strings_at(n.bank, accounts.bank[held]),
        "payee_account": strings_at(n.account, payee),
        "payee_bank": strings_at(n.bank, accounts.bank[payee]),
        "paid_at": timestamps(np.array(rows["paid_at"], dtype=np.int64)),
        "amount_fen": np.array(rows["amount"], dtype=np.int64),
    }
