"""A tiny simulated region through `load_region` and a re-check of every binding: the
registry goes in as keyed hashes, each person's declared phone is bound at their banks, and
the local registry finds the problems the simulator planted (ground truth it never reads)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
from sqlalchemy import select

from fundwall.bootstrap import Platform
from fundwall.crypto import Keyring
from fundwall.phones.checks import recheck_bound_phones
from fundwall.phones.investigations import phone_overview
from fundwall.phones.local import LocalRegistry
from fundwall.sim.load import load_region
from fundwall.store.phone_tables import PhoneBindingRow, PhoneCheckRow, PhoneRegistrationRow
from phones.conftest import HUB

EXPECTED = {"none": "match", "recycled": "recycled", "mismatch": "mismatch"}


def test_the_local_registry_finds_the_planted_phone_problems(
    tiny: Path, platform: Platform, keyring: Keyring
) -> None:
    first = load_region(tiny, platform.database, keyring, transactions=False)
    again = load_region(tiny, platform.database, keyring, transactions=False)
    registry_rows = pl.read_parquet(tiny / "phone_registry.parquet")
    assert first.inserted["phone_registry"] == registry_rows.height
    assert again.inserted["phone_registry"] == 0 and again.inserted["phone_bindings"] == 0
    registry = LocalRegistry(platform.database, keyring, platform.clock)
    with platform.unit_of_work() as uow:
        stored = uow.session.scalars(select(PhoneRegistrationRow)).all()
        raw = set(registry_rows["phone"]) | set(registry_rows["id_number"])
        assert not any({r.phone_hash, r.id_number_hash} & raw for r in stored)
        counts = recheck_bound_phones(uow, platform.operator, registry, keyring)
    assert sum(counts.values()) == first.inserted["phone_bindings"]
    labels = pl.read_parquet(tiny / "party_labels.parquet")
    issue = dict(zip(labels["party_id"], labels["phone_issue"], strict=True))
    with platform.unit_of_work() as uow:
        found = uow.session.execute(
            select(PhoneBindingRow.party_id, PhoneCheckRow.result).join(
                PhoneCheckRow, PhoneCheckRow.binding_id == PhoneBindingRow.id
            )
        ).all()
        overview = phone_overview(uow, HUB)
    wrong = Counter(
        (issue[party], result)
        for party, result in found
        if issue[party] in EXPECTED and EXPECTED[issue[party]] != result
    )
    assert not wrong
    shared = {result for party, result in found if issue[party] == "shared"}
    assert shared <= {"match", "mismatch"} and "mismatch" in shared
    assert overview.shared_phones > 0 and overview.recycled_still_bound > 0
