"""The bulk-match index: shared hashes decoded by arrays as the one parser reads them, and
the index kept current by revision (recent segment, masked old copies, merges) answering as
the store does, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from fundwall.crypto import parse_shared_hash
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls import Evidence, ListKind, RiskCategory
from fundwall.sharing.files import TableFile
from fundwall.sharing.index import RiskIndex, shared_keys
from fundwall.sharing.keys import rotate_sharing_key
from fundwall.sharing.matching import match_identifiers
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries, retract_entry
from fundwall.store import UnitOfWork
from sharing.hub import BANK_A, BANK_B, OPERATOR

HEX = "0123456789abcdef" * 4


def test_shared_keys_agree_with_the_parser() -> None:
    keys = [
        "v1:" + HEX, "v12:" + HEX, "v999999:" + HEX, "v0:" + HEX, "v1:" + HEX.upper(),
        "v1:" + HEX[:-1], "v1:" + HEX + "0", "w1:" + HEX, "v1;" + HEX, "v1:" + HEX[:-1] + "g",
        "v01:" + HEX, "", "v1234567:" + HEX,
    ]  # fmt: skip
    decoded = shared_keys(pa.array(keys))
    for i, key in enumerate(keys):
        try:
            version, digits = parse_shared_hash(key)
        except InvalidInput:
            assert not decoded.valid[i], key
            continue
        assert decoded.valid[i] and decoded.version[i] == version, key
        words = [int(decoded.hi[i]), *(int(word) for word in decoded.rest[i])]
        assert words == [int(digits[16 * w : 16 * (w + 1)], 16) for w in range(4)], key


def test_the_index_follows_the_store_through_changes_and_merges(
    institutions: Callable[[], UnitOfWork], tmp_path: Path
) -> None:
    with institutions() as uow:
        rotate_sharing_key(uow, OPERATOR, tmp_path / "keys")
    index = RiskIndex(merge_at_least=2)
    keys = [f"v1:{n:064x}" for n in range(8)]
    asked = TableFile(pa.table({"kind": ["id_hash"] * 8, "key": keys}), "parquet")

    def hits() -> list[int]:
        with institutions() as uow:
            found = match_identifiers(uow, BANK_B, index, asked).hits
        return sorted(found["row"].to_pylist())

    def publish(n: int) -> int:
        entry = NewEntry(ListKind.ID_HASH, keys[n], RiskCategory.MULE, Evidence.MEMBER_VERIFIED)
        with institutions() as uow:
            return publish_entries(uow, BANK_A, [entry]).ids[0]

    first = publish(0)
    assert hits() == [0]  # built from the store
    second = publish(1)
    assert hits() == [0, 1]  # the recent segment
    with institutions() as uow:
        retract_entry(uow, BANK_A, first, "wrong")
    assert hits() == [1]  # the base's copy masked
    for n in (2, 3, 4):
        publish(n)
    assert hits() == [1, 2, 3, 4]  # merged into the base on the way
    with institutions() as uow:
        retract_entry(uow, BANK_A, second, "wrong")
    assert hits() == [2, 3, 4]
    assert len(index) == 3
    with pytest.raises(InvalidInput, match="version 2, which the hub does not know"):
        bad = pa.table({"kind": ["phone_hash"], "key": ["v2:" + HEX]})
        with institutions() as uow:
            match_identifiers(uow, BANK_B, index, TableFile(bad, "parquet"))
