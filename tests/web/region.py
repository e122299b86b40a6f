"""A tiny simulated region in a SQLite store, decided by the default pack, with demo users.

Built once per test session (a few seconds): the simulator writes the region, `load_region`
stores it, the engine's bulk features and the default rule pack decide every transaction
(live), a trial pack with a lower block threshold decides them again in shadow, and the demo
users plus a member admin and an API key per demo bank are created; each demo bank gets a
recycled number still bound and a customer with two phones, and every bound phone is checked
(phone_records.py). Tests copy the
database file so that each can write to its own.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import Engine, insert, select

from fundwall import bootstrap
from fundwall.auth import Passwords, Role
from fundwall.clock import FixedClock
from fundwall.config import load_settings
from fundwall.domain.decisions import Action, Decision
from fundwall.engine.backtest import Region as BacktestRegion
from fundwall.engine.backtest import evaluate
from fundwall.engine.backtest.storage import save_backtest
from fundwall.engine.features.bulk import compute_bulk
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.rules import BulkEvaluation, RulePack, default_pack, parse_pack
from fundwall.members import add_user, create_api_key, create_demo_users
from fundwall.region import read_table
from fundwall.sim.load import load_region
from fundwall.sim.run import simulate
from fundwall.store.mapping import decision_row
from fundwall.store.migrate import upgrade
from fundwall.store.tables import DecisionRow, TransactionRow

from .clue_records import add_clues
from .phone_records import PlantedPhones, plant_phones

SEED = 1
PASSWORD = "fundwall-demo"
ADMIN = "admin1"
NOW = datetime(2024, 3, 18, 2, 0, tzinfo=UTC)
"""The clock of the console in tests: the morning after the simulated fortnight."""


@dataclass(frozen=True)
class Region:
    """What tests need to know about the built region."""

    folder: Path
    data_dir: Path
    """Holds the two packs' stored backtests (`backtests/`)."""
    database: Path
    keys: Path
    first_bank: str
    second_bank: str
    police_unit: str
    """The demo officer's police unit."""
    second_police_unit: str
    """Another police unit of the region (no user of its own)."""
    first_account: str
    """An account of the first bank with a blocked or delayed payment."""
    second_account: str
    """An account of the second bank."""
    blocked_tx: str
    """A transaction of the first bank's customer that the live pack blocked."""
    second_tx: str
    """A transaction paid by a customer of the second bank (and not received by the first)."""
    first_key: str
    second_key: str
    police_key: str
    """An API key of the demo officer's unit (`police_system`)."""
    shadow_version: str
    phones: Mapping[str, PlantedPhones]
    """Each demo bank's planted phone findings (phone_records.py)."""

    def copy_to(self, folder: Path) -> str:
        """A private copy of the database in `folder`; its SQLite URL."""
        target = folder / "fundwall.db"
        shutil.copyfile(self.database, target)
        return f"sqlite:///{target}"


def trial_pack_text() -> str:
    """The default pack with the block threshold lowered from 100 to 80: the shadow pack."""
    text = files("fundwall.engine.rules").joinpath("packs/default.yaml").read_text("utf-8")
    assert "    block: 100\n" in text and 'version: "2025.1"' in text
    return text.replace("    block: 100\n", "    block: 80\n").replace(
        'version: "2025.1"', 'version: "2025.1-trial"'
    )


def trial_pack() -> RulePack:
    return parse_pack(trial_pack_text().encode("utf-8"), "trial.yaml")


def _features(folder: Path) -> tuple[pa.Table, pa.Table]:
    parties = read_table(folder, "parties")
    parties = parties.append_column("phone_key", parties["phone"])
    directory = AccountDirectory.from_tables(read_table(folder, "accounts"), parties)
    transactions = read_table(folder, "transactions")
    return transactions, compute_bulk(transactions, directory)


def _decide(database: Engine, folder: Path, data_dir: Path) -> Counter[tuple[str, str]]:
    """Decide every transaction live (default pack) and in shadow (trial pack), keep each
    pack's backtest on the region under `data_dir`; returns the count of live actions per
    paying bank."""
    transactions, features = _features(folder)
    live, shadow = default_pack(), trial_pack()
    rows: list[dict[str, object]] = []
    actions: Counter[tuple[str, str]] = Counter()
    for pack, is_shadow in ((live, False), (shadow, True)):
        columns = {name: features[name].to_numpy() for name in pack.feature_names}
        bulk = pack.evaluate_bulk(columns)
        _keep_backtest(folder, data_dir, transactions, pack, bulk)
        for index in range(len(transactions)):
            tx_id = transactions["tx_id"][index].as_py()
            ts = transactions["ts"][index].as_py()
            if bulk.action(index) is Action.PASS:
                decision = Decision(tx_id, Action.PASS, int(bulk.scores[index]), (), pack.version)
            else:
                values = {name: columns[name][index] for name in pack.feature_names}
                result = pack.evaluate(values)
                decision = Decision(
                    tx_id, result.action, result.score, result.reasons(), pack.version
                )
            decision = Decision(
                decision.tx_id,
                decision.action,
                decision.score,
                decision.reasons,
                decision.pack_version,
                latency_us=40,
                shadow=is_shadow,
            )
            row = decision_row(decision, decided_at=ts)
            rows.append({c.name: getattr(row, c.name) for c in DecisionRow.__table__.columns})
            if not is_shadow and transactions["payer_bank"][index].is_valid:
                actions[(transactions["payer_bank"][index].as_py(), decision.action.value)] += 1
    for row in rows:
        row.pop("id")
    with database.begin() as connection:
        connection.execute(insert(DecisionRow), rows)
    return actions


def _keep_backtest(
    folder: Path, data_dir: Path, transactions: pa.Table, pack: RulePack, bulk: BulkEvaluation
) -> None:
    decisions = pa.table(
        {
            "tx_id": transactions["tx_id"],
            "action": [bulk.action(i).value for i in range(len(transactions))],
            "score": bulk.scores,
            "pack_version": [pack.version] * len(transactions),
            "model_version": pa.nulls(len(transactions), pa.string()),
        }
    )
    result = evaluate(
        decisions,
        transactions,
        read_table(folder, "tx_labels"),
        read_table(folder, "account_labels"),
        BacktestRegion(folder.name, "sim"),
    )
    save_backtest(result, data_dir, FixedClock(NOW))


_SESSION_REGIONS: dict[Path, Region] = {}
"""The region of each test session (by its base temporary directory), once built."""


def session_region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    """The test session's region, built on first use: the console tests and the API fuzz
    share it, as they only copy its database and read its keys."""
    session = tmp_path_factory.getbasetemp()
    if session not in _SESSION_REGIONS:
        _SESSION_REGIONS[session] = build_region(tmp_path_factory.mktemp("console_region"))
    return _SESSION_REGIONS[session]


def build_region(root: Path) -> Region:
    folder = root / "region"
    simulate("tiny", SEED, folder)
    db_file = root / "template.db"
    url = f"sqlite:///{db_file}"
    upgrade(url)
    settings = load_settings(config_file=None, data_dir=root, database_url=url)
    with bootstrap.opened(
        settings, clock=FixedClock(NOW), operator="test", passwords=Passwords.fast_for_tests()
    ) as platform:
        load_region(folder, platform.database, platform.keyring)
        actions = _decide(platform.database, folder, root)
        alerting = Counter(
            {bank: n for (bank, action), n in actions.items() if action in ("block", "delay")}
        )
        first_bank, second_bank = (bank for bank, _ in alerting.most_common(2))
        tx = read_table(folder, "transactions")
        facts = _pick(platform.database, tx, first_bank, second_bank)
        operator, passwords = platform.operator, platform.passwords
        with platform.unit_of_work() as uow:
            police_unit, second_police_unit = sorted(
                row["code"]
                for row in read_table(folder, "institutions").to_pylist()
                if row["kind"] == "police_unit"
            )[:2]
            create_demo_users(uow, operator, first_bank, second_bank, police_unit, passwords)
            add_user(uow, operator, ADMIN, Role.MEMBER_ADMIN, first_bank, PASSWORD, passwords)
            _, first_key = create_api_key(uow, operator, first_bank)
            _, second_key = create_api_key(uow, operator, second_bank)
            _, police_key = create_api_key(uow, operator, police_unit)
        add_clues(
            platform,
            {
                first_bank: (facts["first_account"], "analyst1"),
                second_bank: (facts["second_account"], "analyst2"),
            },
            police_unit,
        )
        phones = plant_phones(platform, [first_bank, second_bank], NOW)
    return Region(
        folder=folder,
        data_dir=root,
        database=db_file,
        keys=settings.keys_dir,
        first_bank=first_bank,
        second_bank=second_bank,
        police_unit=police_unit,
        second_police_unit=second_police_unit,
        first_key=first_key,
        second_key=second_key,
        police_key=police_key,
        shadow_version=trial_pack().version,
        phones=phones,
        **facts,
    )


def _pick(database: Engine, tx: pa.Table, first: str, second: str) -> dict[str, str]:
    with database.connect() as connection:
        blocked = connection.execute(
            select(TransactionRow.tx_id, TransactionRow.payer_account)
            .join(DecisionRow, DecisionRow.tx_id == TransactionRow.tx_id)
            .where(
                DecisionRow.action == "block",
                DecisionRow.shadow.is_(False),
                TransactionRow.payer_bank == first,
            )
            .order_by(TransactionRow.ts)
        ).first()
    assert blocked is not None, f"no blocked payment at {first}"
    theirs = tx.filter(
        pc.and_(pc.equal(tx["payer_bank"], second), pc.not_equal(tx["payee_bank"], first))
    )
    return {
        "blocked_tx": blocked[0],
        "first_account": blocked[1],
        "second_tx": theirs["tx_id"][0].as_py(),
        "second_account": theirs["payer_account"][0].as_py(),
    }
