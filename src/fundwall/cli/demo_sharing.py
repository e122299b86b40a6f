"""The demo's sharing hub and phone checks (风险信息共享, 手机实名验证), on the region's own data.

Bank `first` publishes the mule accounts it holds and their holders' ID hashes (hashed on its
side with the regional sharing key). Every bound phone is checked against the telecom
registry, and the banks publish what the investigations found: numbers their customers gave
up (二次号) and phones bound to many people (a card dealer's sign). Bank `second` hashes its
customers' IDs and phones the same way and bulk-matches them. Then the engine acts on the
list: a payment to a listed mule account is blocked, and one from an account bound to a
recycled number raises an alert. Running the demo again publishes nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, SharingKeys
from fundwall.domain.errors import Conflict
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.service import DecisionService
from fundwall.monitoring.transactions import TxFilter, search_transactions
from fundwall.phones.checks import recheck_bound_phones
from fundwall.phones.investigations import MAX_DAYS, recycled_still_bound, shared_phones
from fundwall.phones.listing import Finding, publish_finding
from fundwall.region import read_table
from fundwall.sharing.files import TableFile
from fundwall.sharing.index import RiskIndex
from fundwall.sharing.keys import accepted_sharing_keys, rotate_sharing_key
from fundwall.sharing.matching import match_identifiers
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries, query_identifier

DEALER_MIN_PEOPLE: Final = 4
"""A phone bound to this many people or more is published as a card dealer's sign."""
FINDINGS_PER_KIND: Final = 20
"""At most this many findings of each kind listed, in this run or an earlier one (the demo
shows the way, not a sweep)."""

Say = Callable[[str], None]


def _bank(member: str) -> Actor:
    return Actor(ActorKind.API_KEY, "demo", Role.MEMBER_SYSTEM, member)


def share(
    service: DecisionService,
    folder: Path,
    platform: Platform,
    members: tuple[str, str],
    say: Say,
) -> None:
    """Step 10 of the demo; `members` are the first and second demo banks."""
    first, second = members
    say("10. sharing hub (风险信息共享) and phone checks (手机实名验证):")
    keys = _keys(platform)
    mule_accounts = _publish_mules(folder, platform, keys, first, say)
    _publish_dealers(folder, platform, keys, say)
    recycled = _phone_findings(folder, platform, keys, (first, second), say)
    _match(folder, platform, keys, second, say)
    _decisions(service, folder, platform, mule_accounts, recycled, say)


def _keys(platform: Platform) -> SharingKeys:
    """The accepted sharing keys; the first version made when there is none yet."""
    keys_dir = platform.settings.keys_dir
    with platform.unit_of_work() as uow:
        keys = accepted_sharing_keys(uow, platform.operator, keys_dir)
        if keys.current is None:
            rotate_sharing_key(uow, platform.operator, keys_dir)
            keys = accepted_sharing_keys(uow, platform.operator, keys_dir)
    return keys


def _ids(folder: Path) -> dict[str, str | None]:
    parties = read_table(folder, "parties").select(["party_id", "id_number"])
    return dict(zip(parties["party_id"].to_pylist(), parties["id_number"].to_pylist(), strict=True))


def _publish_mules(
    folder: Path, platform: Platform, keys: SharingKeys, first: str, say: Say
) -> list[dict[str, str]]:
    """Bank `first` publishes the mule accounts it holds and their holders' ID hashes;
    returns those accounts."""
    labels = read_table(folder, "account_labels").select(["account_no", "is_mule"])
    accounts = read_table(folder, "accounts").select(["account_no", "bank", "party_id"])
    ids = _ids(folder)
    mule = set(labels.filter(pc.fill_null(labels["is_mule"], False))["account_no"].to_pylist())
    held = [
        row for row in accounts.to_pylist() if row["bank"] == first and row["account_no"] in mule
    ]
    holders = sorted({number for row in held if (number := ids.get(row["party_id"]))})
    entries = [
        NewEntry(ListKind.ACCOUNT, row["account_no"], RiskCategory.MULE, Evidence.MEMBER_VERIFIED,
                 bank=first)
        for row in held
    ] + [
        NewEntry(ListKind.ID_HASH, keys.hash(ID_HASH_KIND, number), RiskCategory.MULE,
                 Evidence.MEMBER_VERIFIED)
        for number in holders
    ]  # fmt: skip
    publisher = _bank(first)
    with platform.unit_of_work() as uow:
        earlier = bool(held) and any(
            entry.own
            for entry in query_identifier(
                uow, publisher, ListKind.ACCOUNT, held[0]["account_no"], bank=first
            )
        )
        if entries and not earlier:
            publish_entries(uow, publisher, entries)
    told = "published" if not earlier else "had published in an earlier run"
    say(
        f"   bank {first} {told} {len(entries):,} entries: {len(held):,} mule accounts and "
        f"their {len(holders):,} holders' ID hashes (key v{keys.current})"
    )
    return held


def _publish_dealers(folder: Path, platform: Platform, keys: SharingKeys, say: Say) -> None:
    """The region's card dealers (卡商: people who open accounts at many banks to sell them)
    listed by their ID hash, each by the bank of the lowest code among those holding their
    accounts (they know their customer); a dealer listed in an earlier run is not again."""
    roles = read_table(folder, "party_labels").select(["party_id", "role"])
    dealers = set(roles.filter(pc.equal(roles["role"], "dealer"))["party_id"].to_pylist())
    accounts = read_table(folder, "accounts").select(["bank", "party_id"]).to_pylist()
    ids = _ids(folder)
    bank_of: dict[str, str] = {}
    for row in sorted(accounts, key=lambda row: row["bank"]):
        if row["party_id"] in dealers and (number := ids.get(row["party_id"])):
            bank_of.setdefault(number, row["bank"])
    published = earlier = 0
    for number, bank in sorted(bank_of.items(), key=lambda item: (item[1], item[0])):
        shared = keys.hash(ID_HASH_KIND, number)
        with platform.unit_of_work() as uow:
            listed = query_identifier(uow, _bank(bank), ListKind.ID_HASH, shared)
            if any(e.own and e.category is RiskCategory.CARD_DEALER for e in listed):
                earlier += 1
                continue
            dealer = NewEntry(ListKind.ID_HASH, shared, RiskCategory.CARD_DEALER,
                              Evidence.MEMBER_VERIFIED)  # fmt: skip
            publish_entries(uow, _bank(bank), [dealer])
            published += 1
    say(
        f"   the banks published {published:,} card dealers (卡商) by their ID hash, the "
        f"region's people with accounts at many banks"
        + (f"; {earlier:,} were on the list already" if earlier else "")
    )


def _match(folder: Path, platform: Platform, keys: SharingKeys, second: str, say: Say) -> None:
    """Bank `second` hashes its customers' ID numbers and phones and bulk-matches them."""
    accounts = read_table(folder, "accounts").select(["bank", "party_id"])
    parties = read_table(folder, "parties").select(["party_id", "id_number", "phone"])
    own = {row["party_id"] for row in accounts.to_pylist() if row["bank"] == second}
    customers = [row for row in parties.to_pylist() if row["party_id"] in own]
    probes = [(ListKind.ID_HASH, keys.hash(ID_HASH_KIND, c["id_number"])) for c in customers
              if c["id_number"]] + [
        (ListKind.PHONE_HASH, keys.hash(PHONE_HASH_KIND, c["phone"])) for c in customers
        if c["phone"]
    ]  # fmt: skip
    file = TableFile(
        pa.table({"kind": [k.value for k, _ in probes], "key": [key for _, key in probes]}),
        "parquet",
    )
    with platform.unit_of_work() as uow:
        result = match_identifiers(uow, _bank(second), RiskIndex(), file)
    others = pc.invert(result.hits["own"])
    hits = result.hits.filter(others)
    rows = hits["row"].to_pylist()
    by_category = Counter(dict(zip(rows, hits["category"].to_pylist(), strict=True)).values())
    found = ", ".join(f"{n:,} {category}" for category, n in sorted(by_category.items()))
    say(
        f"   bank {second} bulk-matched its {len(customers):,} customers' ID and phone hashes: "
        f"{len(set(rows)):,} are on other banks' entries" + (f" ({found})" if found else "")
    )


def _phone_findings(
    folder: Path, platform: Platform, keys: SharingKeys, members: Sequence[str], say: Say
) -> list[str]:
    """Check every bound phone, then each bank publishes its recycled numbers and its phones
    bound to many people; returns the accounts bound to a published recycled number."""
    registry = platform.telecom_registry
    with platform.unit_of_work() as uow:
        counts = recheck_bound_phones(uow, platform.operator, registry, platform.keyring)
    found = ", ".join(f"{count:,} {result}" for result, count in counts.items())
    say(f"   checked {sum(counts.values()):,} bound phones ({registry.name} registry): {found}")
    region_members = sorted(set(read_table(folder, "accounts")["bank"].to_pylist()))
    ordered = [*members, *(m for m in region_members if m not in members)]
    published = {Finding.RECYCLED_PHONE: 0, Finding.SHARED_PHONE: 0}
    # what the cap counts: published now or in an earlier run (else each run lists 20 more)
    listed = dict.fromkeys(published, 0)
    earlier = 0
    recycled_accounts: list[str] = []
    for member in ordered:
        bank = _bank(member)
        with platform.unit_of_work() as uow:
            # The simulated region lies in the past: every number given up in it counts.
            recycled = recycled_still_bound(uow, bank, platform.keyring, days=MAX_DAYS)
            dealers = shared_phones(uow, bank, platform.keyring, min_people=DEALER_MIN_PEOPLE)
        rows = [(Finding.RECYCLED_PHONE, r.binding_id) for r in recycled] + [
            (Finding.SHARED_PHONE, d.binding_ids[0]) for d in dealers
        ]
        recycled_accounts += [a for r in recycled for a in r.customer.accounts]
        for finding, binding_id in rows:
            if listed[finding] >= FINDINGS_PER_KIND:
                continue
            with platform.unit_of_work() as uow:
                try:
                    publish_finding(uow, bank, finding, binding_id, platform.keyring, keys)
                    published[finding] += 1
                except Conflict:  # published in an earlier run, or by this bank already
                    earlier += 1
            listed[finding] += 1
    say(
        f"   the banks published {published[Finding.RECYCLED_PHONE]:,} recycled numbers (二次号) "
        f"still bound to their customers and {published[Finding.SHARED_PHONE]:,} phones bound "
        f"to {DEALER_MIN_PEOPLE}+ people (card dealers' sign, 卡商)"
        + (f"; {earlier:,} were on the list already" if earlier else "")
    )
    return recycled_accounts


def _decisions(
    service: DecisionService,
    folder: Path,
    platform: Platform,
    mule_accounts: Sequence[dict[str, str]],
    recycled_accounts: Sequence[str],
    say: Say,
) -> None:
    """A payment to a listed mule account, and one from an account bound to a recycled
    number, through the engine as any member's would go. They are made now (the entries are
    in force from their publication, after the simulated region's time), or when an earlier
    run made them."""
    accounts = read_table(folder, "accounts").select(["account_no", "bank"]).to_pylist()
    listed = {row["account_no"] for row in mule_accounts} | set(recycled_accounts)
    ordinary = [row for row in accounts if row["account_no"] not in listed]
    bank_of = {row["account_no"]: row["bank"] for row in accounts}
    cases = []
    if mule_accounts and ordinary:
        mule = mule_accounts[0]
        payer = next((r for r in ordinary if r["bank"] != mule["bank"]), ordinary[0])
        cases.append(("to a listed mule account", payer, mule))
    if recycled_accounts and ordinary:
        account = recycled_accounts[0]
        payer = {"account_no": account, "bank": bank_of[account]}
        cases.append(("from an account bound to a recycled number", payer, ordinary[-1]))
    for n, (what, payer, payee) in enumerate(cases, start=1):
        tx_id = f"DEMO-SHARED-LIST-{n}"
        with platform.unit_of_work() as uow:
            newest = search_transactions(uow, _bank(payer["bank"]), TxFilter(payer["account_no"]))
        earlier = next((item.ts for item in newest.items if item.tx_id == tx_id), None)
        transfer = Transaction(
            tx_id=tx_id,
            ts=earlier or platform.clock.now(),
            kind=TransactionKind.TRANSFER,
            payer_account=payer["account_no"],
            payer_bank=payer["bank"],
            payee_account=payee["account_no"],
            payee_bank=payee["bank"],
            amount=Money.parse("500"),
            channel=Channel.MOBILE,
        )
        decision = service.decide(transfer, member=payer["bank"])
        why = decision.reasons[0].text_en if decision.reasons else "no reason"
        say(f"   ¥500 {what}: {decision.action.value} ({why})")
