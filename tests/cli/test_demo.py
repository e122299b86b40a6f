"""`fundwall demo` on the tiny region: from nothing to a decided region with its demo users and
every figure of the official statistics filled, and a second run that reuses everything and
decides, records and counts nothing twice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fundwall import bootstrap
from fundwall.cli import app
from fundwall.region import read_table
from fundwall.reports import official_figures
from fundwall.store.auth_tables import UserRow
from fundwall.store.engine_tables import PaymentCancellationRow, RiskListEntryRow
from fundwall.store.outreach_tables import CampaignRow, DissuasionTaskRow
from fundwall.store.police_tables import ClueRow, PoliceOrderRow
from fundwall.store.tables import DecisionRow, TransactionRow

runner = CliRunner()


@pytest.fixture
def data_dir(own_settings: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def _count(column: object) -> int:
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count(column))) or 0)


def _period(stdout: str) -> str:
    """The period of the statistics step 14 printed."""
    found = re.search(r"/reports\?period=(\S+)", stdout)
    assert found is not None, stdout
    return found.group(1)


def _figures(period: str) -> dict[str, dict[str, int]]:
    """The statistics of `period`, as the hub reads them now."""
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        report = official_figures(uow, platform.operator, period)
    return {key: dict(values) for key, values in report.by_key.items()}


def test_demo_decides_the_whole_region_once_and_creates_the_demo_users(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fewer phone findings of each kind listed than the tiny region has, as in the small one:
    # the second run must count those listed the first time against the cap.
    monkeypatch.setattr("fundwall.cli.demo_sharing.FINDINGS_PER_KIND", 1)
    first = runner.invoke(app, ["demo", "--size", "tiny", "--seed", "2", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "password fundwall-demo" in first.stdout
    assert "region decided:" in first.stdout
    assert "14. official statistics" in first.stdout and "Transactions blocked" in first.stdout
    reports = data_dir / "demo" / "reports"
    assert (reports / "report.xlsx").stat().st_size > 0
    assert (reports / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "backtest of" in first.stdout
    assert list((data_dir / "backtests").glob("*.json"))

    assert "reported now); ¥12,000 from it the next day: block (class II" in first.stdout

    region = data_dir / "demo" / "region-tiny-seed2"
    # and the new account's, the payments to and from accounts on the shared list, and the
    # appealing holder's before and after the lifting
    transfers = read_table(region, "transactions").num_rows + 5
    assert _count(TransactionRow.tx_id) == transfers
    assert _count(DecisionRow.id) >= transfers  # live decisions, plus any shadow ones
    assert _count(UserRow.id) == 5

    # A model trained on the region is the champion: it scored every live decision, and the
    # flagged ones carry its score and main factors among their reasons.
    assert "is the champion" in first.stdout
    assert "9. mule scores" in first.stdout and "accounts: " in first.stdout
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        scored = uow.session.scalar(
            select(func.count(DecisionRow.id)).where(DecisionRow.model_version.is_not(None))
        )
        reasons = uow.session.scalars(
            select(DecisionRow.reasons).where(DecisionRow.action != "pass")
        ).all()
    assert scored is not None and scored >= transfers - 1  # the new account's transfer too
    assert any(r["rule_id"] == "MODEL" and "模型评分" in r["text_zh"] for rs in reasons for r in rs)

    # The banks grouped their alerts into cases, one went to the police, who accepted it;
    # the officer's unit stop-paid the accounts its victims paid, froze and queried one.
    assert "8. bank–police collaboration:" in first.stdout
    assert "which accepted it as police case A3502035100002024030001" in first.stdout
    assert "closed as a false positive" in first.stdout
    assert "stop-payments on the first-level accounts" in first.stdout
    assert "refused" not in first.stdout and "stopped:" not in first.stdout
    # One report traced through the region, its chain stopped in one batch, the account
    # holding most frozen and the return of its money published for objections.
    assert "traced (lifo)" in first.stdout and "one batch stopped" in first.stdout
    assert "back to the victim's account" in first.stdout
    # A month-old plan on another report's freeze had no objection: approved, paid back.
    assert re.search(
        r"a month ago report \S+ was traced, \S+ queried and frozen \(holding ¥[\d,.]+\) and "
        r"return plan "
        r"\d+ published; no objection: approved today, bank \w+ paid ¥[1-9][\d,.]* back to",
        first.stdout,
    ), first.stdout
    # The unit reports the clue's result: its accounts' holders caught, the case's money held.
    assert re.search(
        r"result of clue 1: [1-9]\d* suspects? caught .*, ¥[1-9][\d,.]* recovered", first.stdout
    )
    orders = _count(PoliceOrderRow.id)
    assert orders >= 3  # at least one stop-payment, the freeze and the query
    assert _count(ClueRow.id) == 1
    # The first bank shares its mule accounts and their holders' ID hashes with the hub; the
    # second matches its customers' ID hashes against them. The hub holds hashes, not IDs.
    assert "10. sharing hub" in first.stdout and " published " in first.stdout
    # The region's card dealers (people with accounts at many banks) listed by their ID hash.
    dealers = re.search(r"published (\d+) card dealers \(卡商\) by their ID hash", first.stdout)
    assert dealers is not None, first.stdout
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        listed = uow.session.scalar(
            select(func.count(RiskListEntryRow.id)).where(
                RiskListEntryRow.kind == "id_hash", RiskListEntryRow.category == "card_dealer"
            )
        )
    assert listed == int(dealers.group(1)) >= 1
    assert re.search(r"customers' ID and phone hashes: [1-9]\d* are on other banks'", first.stdout)
    # Every bound phone checked; the recycled numbers and the phones bound to many people
    # published; the engine blocks a payment to a listed mule account and alerts on one from
    # an account bound to a recycled number.
    assert re.search(r"published [1-9]\d* recycled numbers", first.stdout)
    assert "¥500 to a listed mule account: block (the receiving account is on the shared" in (
        first.stdout
    )
    assert "recycled number: alert (the payer (by ID number or phone) is on the" in first.stdout
    # The hub screens the region as of its end; the first bank acts on its part of the work
    # list (one action carried out, one left pending); simplified opening tried twice.
    assert "11. account governance" in first.stdout
    assert re.search(r"screened the region's [\d,]+ open accounts as of 2024-", first.stdout)
    assert re.search(r"suspended .*\([1-9][\d,]* done", first.stdout)
    assert re.search(r"\n {5}- \d{4,6}\*+\d{4}: [a-zA-Z]", first.stdout)  # an item, why
    assert re.search(r"pending \(its progress on the console: /screening/actions/\d+\)",
                     first.stdout)  # fmt: skip
    assert re.search(r"[1-9][\d,]* accounts over what one person may hold or opened in a batch "
                     r"closed, being empty \(销户\)", first.stdout)  # fmt: skip
    assert re.search(r"the holders of [1-9][\d,]* accounts still over what one", first.stdout)
    assert re.search(r"with their own phone: open, class I account \S+ opened", first.stdout)
    assert "another person's phone: refer (" in first.stdout
    assert re.search(
        r"new micro-firm, its representative's phone: open\S*, basic account", first.stdout
    )
    assert "12. outreach" in first.stdout
    assert re.search(
        r"[1-9]\d* payments warned on at bank \w+ became dissuasion tasks", first.stdout
    )
    assert re.search(r"task \d+ \(\S+\): dissuaded, the payment cancelled", first.stdout)
    assert re.search(r"task \d+ \(\S+\): not_reached", first.stdout)
    assert re.search(r"task \d+ \(\S+\): paid_anyway", first.stdout)
    assert re.search(r"campaign to customers over 60: [1-9][\d,]* customers, [1-9]", first.stdout)
    assert "3 publicity events: 506 attending, 20,040 reached" in first.stdout
    tasks, cancelled = _count(DissuasionTaskRow.id), _count(PaymentCancellationRow.id)
    assert cancelled == 1
    # A holder the first bank restricted is told by SMS, signs in at the portal with the code
    # the local handset got, and appeals; the police give an opinion; one appeal is lifted
    # (the payment then passes the running engine), the other maintained.
    assert "13. appeals and the public portal" in first.stdout
    step = first.stdout[first.stdout.index("13. appeals") :]
    assert re.search(r"got the notice by SMS: “【金融反诈】.*暂停非柜面业务.*/portal", step), step
    assert "with the code their handset got, and appealed" in first.stdout
    assert "the unit answered" in first.stdout
    assert re.search(
        r"lifted, its shared entry retracted: a ¥100 mobile payment was block before, "
        r"(pass|alert) after",
        step,
    ), step
    assert "maintained, with the bank's answer" in first.stdout
    # A third holder appealed a month ago and the bank never answered: open and overdue.
    assert re.search(r"#3: the holder of …\d{4} appealed .* overdue since", step), step

    # Every figure of the statistics counts something the demo did.
    period = _period(first.stdout)
    figures = _figures(period)
    zero = [f"{section}.{key}" for section, values in figures.items()
            for key, value in values.items() if not value]  # fmt: skip
    assert not zero, zero
    entries = _count(RiskListEntryRow.id)
    assert entries > 0
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        keys = uow.session.scalars(select(RiskListEntryRow.key)).all()
    region_ids = set(
        read_table(data_dir / "demo" / "region-tiny-seed2", "parties")["id_number"].to_pylist()
    )
    assert not region_ids & set(keys)  # no raw ID number
    assert any(key.startswith("v1:") for key in keys)  # the holders' IDs, as shared hashes

    again = runner.invoke(app, ["demo", "--size", "tiny", "--seed", "2", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert f"reusing {region}" in again.stdout
    assert "pass 0, alert 0, warn 0, delay 0, block 0" in again.stdout
    assert "reported in an earlier run); ¥12,000 from it the next day: block" in again.stdout
    assert "its orders were issued in an earlier run" in again.stdout
    assert "its trace was made in an earlier run" in again.stdout
    assert re.search(r"return plan \d+ was paid back in an earlier run", again.stdout)
    assert "the result of clue 1 was reported in an earlier run" in again.stdout
    assert (_count(PoliceOrderRow.id), _count(ClueRow.id)) == (orders, 1)
    assert "had published in an earlier run" in again.stdout
    assert "published 0 recycled numbers" in again.stdout and "on the list already" in again.stdout
    assert "published 0 card dealers" in again.stdout
    assert "¥500 to a listed mule account: block" in again.stdout
    assert "screened in an earlier run" in again.stdout
    assert "dissuasion tasks from an earlier run" in again.stdout
    assert (_count(DissuasionTaskRow.id), _count(PaymentCancellationRow.id)) == (tasks, 1)
    assert _count(CampaignRow.id) == 1
    assert "appealed in an earlier run" in again.stdout
    assert _count(RiskListEntryRow.id) == entries
    assert _count(TransactionRow.tx_id) == transfers
    # Nothing the statistics count was done twice.
    assert _figures(period) == figures
