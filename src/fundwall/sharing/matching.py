"""Bulk matching (批量比对): a member's file of identifiers against the shared risk list.

The file names each identifier by `kind` and `key` (a shared hash `vN:<hex>` for a
resident ID, credit code or phone; an account with its `bank` where known); the answer is a
table of hits, one row per (identifier, entry in force), with the entry's category,
evidence level and validity, and whether the entry is the member's own. Who reported an
entry is shown to the hub alone. The whole file is checked first, column by column: a bad row
refuses it, naming the row and field, and nothing is matched.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import SHARED_HASH_FORM
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls.changes import DEVICE, DEVICE_FORM, REFERENCE, REFERENCE_FORM
from fundwall.engine.controls.model import ListKind
from fundwall.engine.features.inputs import micros
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
from fundwall.sharing.files import TableFile
from fundwall.sharing.index import (
    CATEGORIES,
    EVIDENCE,
    KINDS,
    NO_END,
    Probes,
    RiskIndex,
    raw_words,
    shared_keys,
)
from fundwall.sharing.model import MATCH_MAX_ROWS
from fundwall.sharing.queries import check_versions, key_versions, sees_all
from fundwall.store.uow import UnitOfWork

_REFERENCE: Final = f"^{REFERENCE.pattern}$"
_DEVICE: Final = f"^{DEVICE.pattern}$"
_DIGIT_RUN: Final = r"[0-9]{11}"
_REF_FORM: Final = f"{REFERENCE_FORM}, and no run of 11 digits (never an ID or phone number)"
TIME: Final = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class MatchResult:
    identifiers: int
    hits: pa.Table


class _Problems:
    """Located problems of a file, kept in row order, at most MAX_ERRORS."""

    def __init__(self, file: TableFile) -> None:
        self.file = file
        self.found: list[tuple[int, InvalidInput]] = []

    def add(self, rows: np.ndarray, field: str, reason: str) -> None:
        for row in rows[:MAX_ERRORS]:
            self.found.append((int(row), InvalidInput(reason, field, self.file.locate(int(row)))))

    def raise_any(self) -> None:
        if self.found:
            self.found.sort(key=lambda found: found[0])
            errors = [error for _, error in self.found[:MAX_ERRORS]]
            raise InvalidRecords.of(errors, more=len(self.found) > MAX_ERRORS)


def _text(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    return pc.cast(table.column(name), pa.string()).combine_chunks()


def probes_of(index: RiskIndex, file: TableFile, versions: dict[int, datetime | None]) -> Probes:
    """The file's identifiers checked and digested (see the module docstring)."""
    table = file.table
    n = table.num_rows
    if n > MATCH_MAX_ROWS:
        raise InvalidInput(f"{n:,} identifiers; match at most {MATCH_MAX_ROWS:,} at once", "file")
    kinds, keys, banks = _text(table, "kind"), _text(table, "key"), _text(table, "bank")
    problems = _Problems(file)
    known = pc.fill_null(pc.is_in(kinds, value_set=pa.array([k.value for k in KINDS])), False)
    unknown = np.flatnonzero(~known.to_numpy(zero_copy_only=False))
    problems.add(unknown, "kind", f"one of {', '.join(KINDS)}")
    problems.add(np.flatnonzero(keys.is_null().to_numpy(zero_copy_only=False)), "key", "required")
    refs = _text(table, "ref")
    ok = pc.fill_null(pc.match_substring_regex(refs, _REFERENCE), True)
    ok = pc.and_(ok, pc.invert(pc.fill_null(pc.match_substring_regex(refs, _DIGIT_RUN), False)))
    problems.add(np.flatnonzero(~ok.to_numpy(zero_copy_only=False)), "ref", _REF_FORM)
    problems.raise_any()
    parts: list[Probes] = []
    has_bank = banks.is_valid().to_numpy(zero_copy_only=False)
    for code, kind in enumerate(KINDS):
        of_kind = pc.fill_null(pc.equal(kinds, kind.value), False)
        rows = np.flatnonzero(of_kind.to_numpy(zero_copy_only=False))
        if not len(rows):
            continue
        chosen = keys if len(rows) == n else keys.take(pa.array(rows))
        if kind is not ListKind.ACCOUNT:
            problems.add(rows[has_bank[rows]], "bank", "only an account names a bank")
        if kind.hash_kind is not None:
            decoded = shared_keys(chosen)
            problems.add(rows[~decoded.valid], "key", SHARED_HASH_FORM)
            problems.raise_any()
            version = decoded.version
            for used in np.unique(version):
                try:
                    check_versions(versions, (int(used),), "key")
                except InvalidInput as error:
                    problems.add(rows[version == used], "key", error.reason)
            problems.raise_any()
            hi, rest = decoded.hi, decoded.rest
        else:
            pattern = {ListKind.DEVICE: _DEVICE, ListKind.IP: None}.get(kind, _REFERENCE)
            values = chosen.to_pylist()
            if pattern is None:
                values, bad = _addresses(values)
                problems.add(rows[bad], "key", "not an IPv4 or IPv6 address")
            else:
                ok = pc.match_substring_regex(chosen, pattern).to_numpy(zero_copy_only=False)
                reason = DEVICE_FORM if kind is ListKind.DEVICE else REFERENCE_FORM
                problems.add(rows[~ok], "key", reason)
            problems.raise_any()
            version = np.zeros(len(rows), dtype=np.int32)
            hi, rest = raw_words(kind, values)
        bank = np.full(len(rows), -1, dtype=np.int32)
        if kind is ListKind.ACCOUNT:
            given = banks.take(pa.array(rows)).to_pylist()
            bank = np.fromiter((index.bank_code(b) for b in given), np.int32, len(rows))
        kind_codes = np.full(len(rows), code, np.uint8)
        parts.append(Probes(rows.astype(np.int64), hi, rest, kind_codes, version, bank))
    problems.raise_any()
    if not parts:
        raise InvalidInput("no identifiers to match", "file")
    return Probes(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Probes)))


def _names(names: Sequence[StrEnum], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array([name.value for name in names], pa.string()), pa.array(codes))


def _addresses(values: list[str]) -> tuple[list[str], np.ndarray]:
    canonical: list[str] = []
    bad = np.zeros(len(values), dtype=np.bool_)
    for i, value in enumerate(values):
        try:
            canonical.append(str(ipaddress.ip_address(value.strip())))
        except ValueError:
            canonical.append("")
            bad[i] = True
    return canonical, bad


@use_case(Permission.QUERY_RISK_LIST)
def match_identifiers(
    uow: UnitOfWork, actor: Actor, index: RiskIndex, file: TableFile
) -> MatchResult:
    """Match a file of identifiers against the entries in force now (see the module
    docstring); the match is audited (how many identifiers and hits, not which)."""
    now = uow.clock.now()
    index.refresh(uow.session, now)
    probes = probes_of(index, file, key_versions(uow.session))
    found = index.match(probes, micros(now, "now"))
    hits = found.columns
    keys = _text(file.table, "key").take(pa.array(found.row))
    banks = {code: bank for bank, code in index.banks.items()}
    members = {code: member for member, code in index.members.items()}
    mine = index.members.get(actor.member, -3) if actor.member is not None else -3
    columns: dict[str, pa.Array] = {
        "row": pa.array(found.row, pa.int64()),
        "kind": _names(KINDS, hits.kind),
        "key": keys,
        "bank": pa.array([banks.get(int(b)) for b in hits.bank], pa.string()),
        "entry": pa.array(hits.entry, pa.int64()),
        "category": _names(CATEGORIES, hits.category),
        "evidence": _names(EVIDENCE, hits.evidence),
        "valid_from": pa.array(hits.start, pa.int64()).cast(TIME),
        "valid_until": pa.array(hits.end, pa.int64(), mask=hits.end == NO_END).cast(TIME),
        "own": pa.array(hits.member == mine, pa.bool_()),
    }
    if "ref" in file.table.column_names:
        columns = {"ref": _text(file.table, "ref").take(pa.array(found.row)), **columns}
    if sees_all(actor):
        columns["reporting_member"] = pa.array([members[int(m)] for m in hits.member], pa.string())
    result = pa.table(columns)
    kinds = Counter(KINDS[k].value for k in np.unique(probes.kind))
    uow.audit.record(
        actor,
        "match_risk",
        "risk_list",
        {"identifiers": file.table.num_rows, "hits": result.num_rows, "kinds": sorted(kinds)},
    )
    uow.commit()
    return MatchResult(file.table.num_rows, result)
