"""Rule packs as the console shows them: versions, use in decisions, shadow against live.

`PackLibrary` knows the packs this deployment can name, each by its version
(`2025.1:90eab11b827f`): the default pack, the YAML files of a folder (`<data_dir>/packs`
unless told otherwise), and the engine's registry of packs (`fundwall.engine.registry`), which
says which version is live and which runs in shadow. How often each version decided is read
from the decisions themselves, so the pages tell what actually happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import aggregate_scope
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine import registry
from fundwall.engine.rules import PackDiff, RulePack, default_pack, diff_packs, load_pack
from fundwall.store.tables import DecisionRow, TransactionRow


@dataclass(frozen=True, slots=True)
class PackFile:
    """A pack of the library and where it came from (None: shipped with Fundwall)."""

    pack: RulePack
    path: Path | None


@lru_cache(maxsize=64)
def _read_pack(path: Path, modified_ns: int, size: int) -> PackFile | InvalidInput:
    """A pack file, compiled once per version of the file (its time and size are the key):
    compiling takes longer than a page."""
    try:
        return PackFile(load_pack(path), path)
    except InvalidInput as error:
        return error


class PackLibrary:
    """The default pack and the packs in `folder`, re-read when a file changes."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _read(self, path: Path) -> PackFile | InvalidInput:
        stat = path.stat()
        return _read_pack(path, stat.st_mtime_ns, stat.st_size)

    def scan(self) -> tuple[list[PackFile], list[InvalidInput]]:
        """Every readable pack (the default first, then files by name) and the problems of
        the files that are not, so the page can say what is wrong with them."""
        packs = [PackFile(default_pack(), None)]
        problems: list[InvalidInput] = []
        if self.folder is not None and self.folder.is_dir():
            for path in sorted(self.folder.glob("*.yaml")) + sorted(self.folder.glob("*.yml")):
                found = self._read(path)
                if isinstance(found, InvalidInput):
                    problems.append(found)
                elif all(known.pack.version != found.pack.version for known in packs):
                    packs.append(found)
        return packs, problems

    def packs(self) -> list[PackFile]:
        return self.scan()[0]

    def find(self, version: str, session: Session) -> RulePack | None:
        """The pack of `version`: a file of the library, else a registered version."""
        found = next((f.pack for f in self.packs() if f.pack.version == version), None)
        if found is not None:
            return found
        try:
            return registry.get_pack(session, version)
        except NotFound:
            return None

    def get(self, version: str, session: Session) -> RulePack:
        found = self.find(version, session)
        if found is None:
            raise NotFound("rule pack version", version)
        return found

    def diff(self, before: str, after: str, session: Session) -> PackDiff:
        return diff_packs(self.get(before, session), self.get(after, session))


@dataclass(frozen=True, slots=True)
class PackUse:
    """How often a version decided, live and in shadow, and when it last did."""

    version: str
    live: int
    shadow: int
    last_decided_at: datetime | None


def pack_use(session: Session, actor: Actor) -> dict[str, PackUse]:
    """Decisions per pack version, counted in the actor's aggregate scope."""
    actor.require(Permission.VIEW_RULE_PACKS)
    scope = aggregate_scope(actor)
    query = (
        select(
            DecisionRow.pack_version,
            func.count().filter(DecisionRow.shadow.is_(False)),
            func.count().filter(DecisionRow.shadow.is_(True)),
            func.max(DecisionRow.decided_at),
        )
        .select_from(DecisionRow)
        .group_by(DecisionRow.pack_version)
    )
    if scope is not None:
        query = query.join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id).where(scope)
    return {
        version: PackUse(version, live, shadow, last)
        for version, live, shadow, last in session.execute(query).all()
    }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Shadow version against the live decisions on the same transactions.

    `matrix[(live_action, shadow_action)]` counts transactions; `amounts` sums their money.
    """

    shadow_version: str
    transactions: int
    matrix: dict[tuple[Action, Action], int]
    amounts: dict[tuple[Action, Action], int]

    def agreeing(self) -> int:
        return sum(count for (live, shadow), count in self.matrix.items() if live is shadow)

    def column(self, shadow: Action) -> int:
        return sum(count for (_, action), count in self.matrix.items() if action is shadow)

    def row(self, live: Action) -> int:
        return sum(count for (action, _), count in self.matrix.items() if action is live)

    def blocked_fen(self, side: str) -> int:
        index = 0 if side == "live" else 1
        return sum(amount for pair, amount in self.amounts.items() if pair[index] is Action.BLOCK)


def _compared(scope: Any, shadow_version: str) -> tuple[Any, Any]:
    live = aliased(DecisionRow)
    shadow = aliased(DecisionRow)
    query = (
        select()
        .select_from(shadow)
        .join(live, (live.tx_id == shadow.tx_id) & live.shadow.is_(False))
        .join(TransactionRow, TransactionRow.tx_id == shadow.tx_id)
        .where(shadow.shadow.is_(True), shadow.pack_version == shadow_version)
    )
    if scope is not None:
        query = query.where(scope)
    return query, (live, shadow)


def compare_shadow(session: Session, actor: Actor, shadow_version: str) -> Comparison:
    """How `shadow_version` decided against the live decisions, in the actor's scope."""
    actor.require(Permission.VIEW_RULE_PACKS)
    query, (live, shadow) = _compared(aggregate_scope(actor), shadow_version)
    rows = session.execute(
        query.add_columns(
            live.action, shadow.action, func.count(), func.sum(TransactionRow.amount_fen)
        ).group_by(live.action, shadow.action)
    ).all()
    matrix = {(Action(a), Action(b)): int(n) for a, b, n, _ in rows}
    amounts = {(Action(a), Action(b)): int(total or 0) for a, b, _, total in rows}
    return Comparison(shadow_version, sum(matrix.values()), matrix, amounts)


@dataclass(frozen=True, slots=True)
class Disagreement:
    tx_id: str
    ts: datetime
    amount_fen: int
    live: Action
    shadow: Action


def disagreements(
    session: Session, actor: Actor, shadow_version: str, limit: int = 50
) -> Sequence[Disagreement]:
    """The member's latest transactions where shadow and live decided differently (none for
    actors without customer data: they see the counts only)."""
    actor.require(Permission.VIEW_RULE_PACKS)
    if actor.customer_member is None:
        return []
    query, (live, shadow) = _compared(
        TransactionRow.payer_bank == actor.customer_member, shadow_version
    )
    rows = session.execute(
        query.add_columns(
            TransactionRow.tx_id,
            TransactionRow.ts,
            TransactionRow.amount_fen,
            live.action,
            shadow.action,
        )
        .where(live.action != shadow.action)
        .order_by(TransactionRow.ts.desc())
        .limit(limit)
    ).all()
    return [Disagreement(t, ts, amount, Action(a), Action(b)) for t, ts, amount, a, b in rows]
