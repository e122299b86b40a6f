"""Replay: the bulk path reproduces the online decisions of a region exactly; its sources,
its table, and the `fundwall replay` command."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from engine_fixtures import (
    book,
    counting_pack,
    quiet_pack,
    run_bulk,
    run_online,
    shadow_pack,
    table_of,
    tx,
)
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring, SharingKeys
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.domain.transactions import Transaction
from fundwall.engine.controls import (
    ControlBook,
    Evidence,
    Listing,
    ListKind,
    Restriction,
    RestrictionKind,
    RiskCategory,
    RiskEntry,
    is_control_id,
)
from fundwall.engine.controls.book import region_book
from fundwall.engine.controls.model import NEVER_US
from fundwall.engine.features import AccountDirectory
from fundwall.engine.features.inputs import logins_from_table
from fundwall.engine.replay import read_history, replay
from fundwall.engine.rules import RulePack, default_pack, parse_pack
from fundwall.engine.service import DecisionService
from fundwall.region import read_table

runner = CliRunner()


def region_controls(region: Path, keyring: Keyring) -> ControlBook:
    """The region's own statuses plus orders and list entries on accounts that move money:
    stops and freezes from the middle of the period, mules listed, a dealer punished, a
    holder listed by the shared hash of the ID number under an older of two key versions."""
    sharing = SharingKeys({1: b"\x01" * 32, 2: b"\x02" * 32})
    book = region_book(region, keyring, sharing)
    transactions = read_table(region, "transactions")
    ts = transactions["ts"].cast(pa.int64()).to_numpy()
    middle, late = int(ts[len(ts) // 2]), int(ts[3 * len(ts) // 4])
    mules = read_table(region, "account_labels").filter(pc.field("is_mule")).column("account_no")
    mule_list = mules.to_pylist()
    payers = pc.unique(transactions["payer_account"].drop_null()).to_pylist()
    for i, account in enumerate(mule_list[:3]):
        kind = RestrictionKind.STOP_PAYMENT if i % 2 else RestrictionKind.FREEZE
        book.put_restriction(Restriction(i, account, kind, None, middle, late))
    # Partial holds on accounts that pay in the window: ¥500 (usually leaves some free) and
    # more than anyone holds (leaves nothing).
    active = transactions.slice(len(ts) // 2, len(ts) // 4)["payer_account"].drop_null()
    for i, account in enumerate(pc.unique(active).to_pylist()[3:9], start=3):
        kind = RestrictionKind.STOP_PAYMENT if i % 2 else RestrictionKind.FREEZE
        amount = 500_00 if i % 3 else 1_000_000_000_00
        book.put_restriction(Restriction(i, account, kind, amount, middle, late))
    book.put_restriction(
        Restriction(99, payers[0], RestrictionKind.NON_COUNTER_SUSPENSION, None, middle, NEVER_US)
    )
    book.set_status(payers[1], AccountStatus.CLOSED)
    for i, account in enumerate(mule_list[6:12]):
        category = (RiskCategory.FRAUD_ACCOUNT, RiskCategory.MULE, RiskCategory.CARD_DEALER)[i % 3]
        book.put_entry(
            RiskEntry(i, ListKind.ACCOUNT, account, category, Evidence.POLICE_CONFIRMED, "301",
                      middle, NEVER_US)
        )  # fmt: skip
    id_hash = book.party_keys[payers[2]].id_hash
    assert id_hash is not None
    book.put_listing(Listing(1, id_hash, ts[0], NEVER_US))
    (kind, shared), *_ = book.party_keys[payers[3]].shared
    assert shared.startswith("v1:")
    book.put_entry(
        RiskEntry(50, kind, shared, RiskCategory.MULE, Evidence.MEMBER_VERIFIED, "301",
                  middle, NEVER_US)
    )  # fmt: skip
    return book


def trial_pack() -> RulePack:
    """The default pack with the block threshold at 80: a stricter pack under trial."""
    text = files("fundwall.engine.rules").joinpath("packs/default.yaml").read_bytes()
    assert b"    block: 100\n" in text and b'version: "2025.1"' in text
    changed = text.replace(b"    block: 100\n", b"    block: 80\n")
    return parse_pack(changed.replace(b'version: "2025.1"', b'version: "2025.1-trial"'), "trial")


def transactions_of(region: Path) -> list[Transaction]:
    return [Transaction.from_mapping(row) for row in read_table(region, "transactions").to_pylist()]


def test_replay_reproduces_the_online_decisions(region: Path, keyring: Keyring) -> None:
    book = region_controls(region, keyring)
    policy = PolicySettings()
    pack, trial = default_pack(), trial_pack()
    table = replay(region, pack, trial, policy=policy, book=book, batch_rows=1000)
    online = DecisionService.from_region(region, pack=pack, policy=policy, book=book)
    shadow = DecisionService.from_region(
        region, pack=pack, shadow=trial, policy=policy, book=region_controls(region, keyring)
    )
    rows = table.to_pylist()
    assert [row["tx_id"] for row in rows] == [t.tx_id for t in transactions_of(region)]
    controls_seen: set[str] = set()
    for row, sent in zip(rows, transactions_of(region), strict=True):
        decision = online.decide(sent)
        ids = [reason.rule_id for reason in decision.reasons]
        assert (row["action"], row["score"], row["pack_version"]) == (
            decision.action.value,
            decision.score,
            decision.pack_version,
        ), sent.tx_id
        assert row["controls"] == [i for i in ids if is_control_id(i)], sent.tx_id
        assert row["rules"] == [i for i in ids if not is_control_id(i)], sent.tx_id
        tried = shadow.core.decide(sent).shadow
        assert tried is not None
        assert (row["shadow_action"], row["shadow_score"], row["shadow_pack_version"]) == (
            tried.action.value,
            tried.score,
            tried.pack_version,
        )
        controls_seen.update(row["controls"])
    # The region exercises the controls, not only the rules.
    assert {"HC01", "HC02", "HC03", "HC04", "HC06", "HC08", "HC21", "HC22"} <= controls_seen
    assert set(pc.unique(table["action"].cast(pa.string())).to_pylist()) >= {"pass", "block"}


ACCOUNT_TRADING_PACK = """
pack:
  id: account-trading
  version: "1"
  description: {zh: "断卡规则包", en: "account trading pack"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: AT01
    name: {zh: "收款账户刚易主", en: "receiving account just changed hands"}
    typology: account_trading
    when: payee_takeover_hours >= 0 and payee_takeover_hours < 72
    score: 40
    reason:
      zh: "收款账户{payee_takeover_hours}前易主"
      en: "payee taken over {payee_takeover_hours} ago"
  - id: AT02
    name: {zh: "付款账户刚易主", en: "paying account just changed hands"}
    typology: account_trading
    when: payer_takeover_hours >= 0 and payer_takeover_hours < 72 and payer_face_fail_7d >= 1
    score: 60
    reason:
      zh: "付款账户{payer_takeover_hours}前易主"
      en: "payer taken over {payer_takeover_hours} ago"
  - id: AT03
    name: {zh: "转出刚转入的钱", en: "passing on what just came in"}
    typology: mule
    when: amount_to_payer_in_24h >= 0.8 and payee_out_to_in_24h >= 0
    score: 30
    reason:
      zh: "转出近24小时转入的{amount_to_payer_in_24h}"
      en: "{amount_to_payer_in_24h} of the day's inflow"
""".encode()
"""Rules on the login features and the ratios, to hold both executions to the same decisions."""


def test_replay_reproduces_the_online_decisions_with_the_regions_logins(region: Path) -> None:
    """Replay reads the region's logins.parquet; the online service takes the same logins,
    each before the first transaction at or after its time."""
    policy = PolicySettings()
    pack = parse_pack(ACCOUNT_TRADING_PACK, "account-trading.yaml")
    table = replay(region, pack, policy=policy, batch_rows=1000)
    online = DecisionService.from_region(region, pack=pack, policy=policy)
    logins = sorted(logins_from_table(read_table(region, "logins")), key=lambda each: each.ts)
    fired: set[str] = set()
    next_login = 0
    for row, sent in zip(table.to_pylist(), transactions_of(region), strict=True):
        arrived = next_login
        while next_login < len(logins) and logins[next_login].ts <= sent.ts:
            next_login += 1
        if next_login > arrived:
            online.observe_logins(logins[arrived:next_login])
        decision = online.decide(sent)
        assert (row["action"], row["score"]) == (decision.action.value, decision.score), sent.tx_id
        assert row["rules"] == [r.rule_id for r in decision.reasons if not is_control_id(r.rule_id)]
        fired.update(row["rules"])
    assert {"AT01", "AT03"} <= fired


def test_a_transactions_file_is_replayed_without_accounts(tmp_path: Path) -> None:
    events = [tx(1, "A1", "B1", 777_00), tx(2, "A1", "B1", 100), tx(3, None, "B1", 500_00)]
    path = tmp_path / "transactions.csv"
    pcsv.write_csv(table_of(events).drop_columns(["purpose"]), path)
    out = tmp_path / "decisions.parquet"
    table = replay(path, quiet_pack(), shadow_pack(), out=out)
    assert table.column_names == [
        "tx_id", "action", "score", "rules", "controls", "pack_version", "model_version",
        "model_score",
        "shadow_action", "shadow_score", "shadow_rules", "shadow_pack_version",
    ]  # fmt: skip
    assert table.select(["action", "rules", "shadow_action"]).to_pylist() == [
        {"action": "block", "rules": ["T777"], "shadow_action": "block"},
        {"action": "pass", "rules": [], "shadow_action": "pass"},
        {"action": "alert", "rules": ["T500"], "shadow_action": "block"},
    ]
    assert table["model_version"].null_count == 3
    assert pq.read_table(out).equals(table)


def test_late_stamps_are_decided_as_of_the_latest_time_in_both_paths(
    policy: PolicySettings,
) -> None:
    # Stamped 10, 5 and 6 minutes in: all three are decided as of minute 10, so the third
    # sees two transfers in its hour.
    events = [tx(10, "A1", "B1", 100), tx(5, "A1", "B1", 100), tx(6, "A1", "B1", 100)]
    expected = [Action.PASS, Action.PASS, Action.ALERT]
    assert [v.action for v in run_online(events, book(), policy, counting_pack())] == expected
    assert [v.action for v in run_bulk(events, book(), policy, counting_pack())] == expected


def test_an_unknown_source_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="region folder or transactions file"):
        replay(tmp_path / "absent")


def test_replay_command_prints_one_json_object(region: Path, tmp_path: Path) -> None:
    out = tmp_path / "decisions.parquet"
    result = runner.invoke(app, ["replay", str(region), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["transactions"] == pq.read_metadata(out).num_rows
    assert sum(summary["actions"].values()) == summary["transactions"]
    assert summary["pack_version"] == default_pack().version
    assert summary["tx_per_s"] > 0


def test_replay_command_shows_live_and_shadow_side_by_side(region: Path, tmp_path: Path) -> None:
    trial = tmp_path / "trial.yaml"
    text = files("fundwall.engine.rules").joinpath("packs/default.yaml").read_bytes()
    trial.write_bytes(text.replace(b"    block: 100\n", b"    block: 80\n"))
    result = runner.invoke(
        app, ["replay", str(region), "--shadow", str(trial), "--out", str(tmp_path / "d.pq")]
    )
    assert result.exit_code == 0, result.output
    assert "shadow" in result.stdout and "block" in result.stdout and "tx/s" in result.stdout


def test_a_failure_in_the_feature_pass_reaches_the_caller(policy: PolicySettings) -> None:
    with pytest.raises(InvalidInput, match="batch size must be positive"):
        replay(table_of([tx(1, "A1", "B1", 100)]), quiet_pack(), policy=policy, batch_rows=0)


def test_a_region_read_as_replay_reads_it_is_decided_as_read_plain(region: Path) -> None:
    """`read_history` leaves the purpose out, keeps the few-valued columns dictionary-encoded,
    as the file stores them, and reads the identifiers dictionary-encoded, the accounts of both
    sides over one dictionary: the decisions are those of the whole table read plain."""
    history = read_history(region)
    for name in ("city", "payer_account", "payee_account", "device_id", "ip"):
        assert pa.types.is_dictionary(history.schema.field(name).type), name
    accounts = [
        chunk.dictionary
        for side in ("payer_account", "payee_account")
        for chunk in history[side].chunks
    ]
    assert all(dictionary.equals(accounts[0]) for dictionary in accounts)
    assert "purpose" not in history.column_names
    directory = AccountDirectory.from_region(region)
    plain = replay(
        read_table(region, "transactions"),
        directory=directory,
        book=region_book(region),
        batch_rows=1000,
    )
    decided = replay(history, directory=directory, book=region_book(region), batch_rows=1000)
    assert decided.equals(plain)
