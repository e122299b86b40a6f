"""`fundwall demo`: the main job on the embedded default, from nothing to a working console.

The demo simulates a region once, loads its institutions, people and accounts at their opening
balances, creates the documented demo users, backtests the live rule pack on the region in
bulk (kept for the console), and serves the API and the console while the
region's transfers go through the decision engine in time order, as live traffic would: the
console's overview fills up as they are decided. Its last step prints the region's official
statistics and writes them to Excel and PDF under `<data_dir>/demo/reports/`. Every step is
idempotent, so running the demo again reuses what the last run left in the data directory and
decides only what is left.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from fundwall.cli.serve import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    OrderExpiry,
    OutboxDispatch,
    docs_url,
    run_server,
)
from fundwall.cli.sim import load, sim
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.transactions import Transaction
from fundwall.engine.models.kinds import Target
from fundwall.sim.params import SIZES

if TYPE_CHECKING:
    from fundwall.bootstrap import Platform
    from fundwall.cli.demo_collaboration import DemoCast
    from fundwall.config import Settings
    from fundwall.engine.service import DecisionService

console = Console(highlight=False, soft_wrap=True)

# The simulator moves a region into place only when complete, so its manifest marks one.
MANIFEST = "manifest.json"
FEED_BATCH = 2_000
"""Transfers per engine call while the demo feeds the region: one commit each."""
DEMO_OPERATOR: Final = "demo"
"""How the audit log names the demo's own changes (`system:demo`)."""


def region_folder(data_dir: Path, size: str, seed: int) -> Path:
    """Where the demo keeps the simulated region of this size and seed."""
    return data_dir / "demo" / f"region-{size}-seed{seed}"


def portal_address(host: str, port: int) -> str:
    """The portal's address on this machine when the demo serves at `host`:`port` (a
    wildcard address is reached at 127.0.0.1)."""
    reached = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in reached:
        reached = f"[{reached}]"
    return f"http://{reached}:{port}/portal"


def demo_settings(host: str, port: int) -> Settings:
    """The process's settings, with the portal's address the one this demo serves at unless
    the configuration names one: the restriction notices and answers the demo sends then
    lead to its own portal."""
    from fundwall.config import get_settings

    settings = get_settings()
    served_at = portal_address(host, port)
    if "public_url" in settings.portal.model_fields_set or served_at == settings.portal.public_url:
        return settings
    os.environ["FUNDWALL_PORTAL__PUBLIC_URL"] = served_at
    get_settings.cache_clear()
    return get_settings()


def demo(
    size: Annotated[str, typer.Option(help=f"Region size, one of {', '.join(SIZES)}.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the simulated region.")] = 7,
    host: Annotated[str, typer.Option(help="Address the console listens on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port of the console.", min=1, max=65535)] = (
        DEFAULT_PORT
    ),
    serve: Annotated[
        bool, typer.Option(help="Serve the console; --no-serve decides the region and stops.")
    ] = True,
) -> None:
    """Run the demo: a simulated region decided live, with the console on port 8000.

    Simulates a region, loads it, creates the demo users, backtests the live pack and serves
    the console while the region's transfers are decided."""
    from fundwall import bootstrap
    from fundwall.store import migrate

    settings = demo_settings(host, port)
    console.print(f"[bold]Fundwall demo[/] — data in {settings.data_dir}")
    console.print(f"1. database: {migrate.upgrade(settings.database_url).summary()}")

    folder = region_folder(settings.data_dir, size, seed)
    if (folder / MANIFEST).is_file():
        console.print(f"2. region: reusing {folder}")
    else:
        console.print(f"2. region: simulating {size} (seed {seed}) into {folder}")
        sim(out=folder, size=size, seed=seed)

    console.print("3. store: institutions, people and accounts at their opening balances")
    load(folder, transactions=False)

    with bootstrap.opened(settings, operator=DEMO_OPERATOR) as platform:
        first, second, police_unit = _demo_members(folder)
        notice, cast = _demo_users(platform, first, second, police_unit)
        console.print(f"4. users: {notice}")
        service = platform.decision_service()
        expiry = OrderExpiry(platform, platform.settings.orders.expiry_interval_seconds)
        outbox = OutboxDispatch(
            platform, platform.settings.outreach.dispatch_seconds, raise_tasks=False
        )
        try:
            _backtest(service, folder, platform)
            _champion(folder, platform, Target.TRANSACTIONS)
            if not serve:
                _feed(service, folder, platform, cast)
                return
            app = platform.app(service, api_keys_required=False, demo_notice=notice)
            console.print(
                f"6. console: http://{host}:{port}/ (API docs: {docs_url(host, port)}); "
                "the region's transfers are decided in the background — Ctrl-C stops"
            )
            threading.Thread(
                target=_feed_then_send,
                args=(service, folder, platform, cast, outbox),
                name="feed",
                daemon=True,
            ).start()
            expiry.start()  # the orders issued "yesterday" end while the demo runs
            run_server(app, host, port)
        finally:
            expiry.stop()
            outbox.stop()
            service.close()


def _feed_then_send(
    service: DecisionService,
    folder: Path,
    platform: Platform,
    cast: DemoCast,
    outbox: OutboxDispatch,
) -> None:
    """The demo's steps, then the SMS outbox sent every round while the console is served:
    the codes a visitor asks for at the portal reach the local handset (`fundwall sms
    received PHONE`), as do the notices the console's users cause. Started after the steps,
    which send their own messages and read the handset in order."""
    _feed(service, folder, platform, cast)
    outbox.start()


def _demo_members(folder: Path) -> tuple[str, str, str]:
    """The region's two banks of the lowest codes (the demo analysts' members) and the police
    unit most victims reported to (the demo officer's)."""
    from fundwall.region import read_table

    institutions = read_table(folder, "institutions").to_pylist()
    banks = sorted(row["code"] for row in institutions if row["kind"] == InstitutionKind.BANK)
    if len(banks) < 2:
        raise typer.BadParameter("the region has fewer than two banks for the demo users")
    units = sorted(
        row["code"] for row in institutions if row["kind"] == InstitutionKind.POLICE_UNIT
    )
    if not units:
        raise typer.BadParameter("the region has no police unit for the demo officer")
    reported = Counter(read_table(folder, "victim_reports")["police_unit"].to_pylist())
    return banks[0], banks[1], max(units, key=lambda unit: (reported[unit], unit))


def _demo_users(
    platform: Platform, first: str, second: str, police_unit: str
) -> tuple[str, DemoCast]:
    """Create the demo users; returns the notice naming them and the cast of the story."""
    from fundwall.cli.demo_collaboration import DemoCast
    from fundwall.members import create_demo_users, demo_notice

    with platform.unit_of_work() as uow:
        users = create_demo_users(
            uow, platform.operator, first, second, police_unit, platform.passwords
        )
    named = {user.username: user for user in users}
    cast = DemoCast(named["analyst1"], named["analyst2"], named["police"])
    return demo_notice(first, second, police_unit), cast


def _backtest(service: DecisionService, folder: Path, platform: Platform) -> None:
    """Replay the region in bulk with the live pack, score it against the region's labels and
    keep the result for the console's rule-pack pages."""
    from fundwall.engine.backtest.run import backtest_region
    from fundwall.engine.backtest.storage import save_backtest

    result = backtest_region(folder, service.live_pack)
    save_backtest(result, platform.settings.data_dir, platform.clock)
    body = result.to_dict()
    fraud = body["intercepted"]["fraud"]
    console.print(
        f"5. backtest of {service.live_pack.version} (bulk replay against the labels): "
        f"intercepts {fraud['recall']:.1%} of fraud transfers at {fraud['precision']:.1%} "
        f"precision; victim money held in the chain {body['victim_money']['chain_share']:.1%}"
    )


def _champion(folder: Path, platform: Platform, target: Target) -> None:
    """Train a model of `target` on the region's labels (once: the folder is kept), register
    it and make it the champion: the transactions model scores every transfer decided from
    then on, the accounts model every account's mule score."""
    from fundwall.engine.model_registry import ModelState
    from fundwall.engine.models.artifact import read_model, write_model
    from fundwall.models.registry import register_model, set_state

    kept = folder.parent / f"model-{target.value}-{folder.name}"
    if (kept / "card.json").is_file():
        model = read_model(kept)
    else:
        from fundwall.models.training import train_region

        console.print(f"   training the {target.value} model on the region's labels …")
        model = train_region(folder, target)
        write_model(kept, model)
    with platform.unit_of_work() as uow:
        record = register_model(uow, platform.operator, model)
        if record.state is not ModelState.CHAMPION:
            set_state(
                uow,
                platform.operator,
                model.version,
                ModelState.CHAMPION,
                "the demo's model, trained on the simulated region",
            )
    holdout = model.card.metrics.get("holdout", {})
    console.print(
        f"   model {model.version} is the champion: trained before {model.card.until}, "
        f"held-out PR-AUC {holdout.get('pr_auc') or 0:.3f}"
        + (
            "; its score and main factors join each flagged decision's reasons"
            if target is Target.TRANSACTIONS
            else ""
        )
    )


def _feed(service: DecisionService, folder: Path, platform: Platform, cast: DemoCast) -> None:
    """Send the region's transfers not yet logged through the engine, in time order; then a
    member reports an account it opened and pays from it, the banks and the police work
    together on what was decided, and a restricted holder appeals through the portal."""
    from fundwall.cli.demo_collaboration import tell
    from fundwall.region import read_table

    assert service.log is not None
    logged = service.log.tx_ids()
    table = read_table(folder, "transactions")
    total = table.num_rows
    done = 0
    counts = dict.fromkeys(("pass", "alert", "warn", "delay", "block"), 0)
    for batch in table.to_batches(max_chunksize=FEED_BATCH):
        txs = [Transaction.from_mapping(row) for row in batch.to_pylist()]
        fresh = [tx for tx in txs if tx.tx_id not in logged]
        if fresh:
            for decision in service.decide_batch(fresh):
                counts[decision.action.value] += 1
        done += len(txs)
        if done % (FEED_BATCH * 25) < FEED_BATCH or done == total:
            flagged = sum(n for action, n in counts.items() if action != "pass")
            console.print(f"   decided {done:,} of {total:,} transfers ({flagged:,} not passed)")
    console.print("   region decided: " + ", ".join(f"{a} {n:,}" for a, n in counts.items()))
    last = table["ts"][total - 1].as_py() if total else datetime.now(UTC)
    member = cast.first_analyst.member
    assert member is not None  # an analyst belongs to its bank
    _new_account(service, folder, platform, member, last + timedelta(minutes=1))
    tell(platform, folder, cast, console.print)
    _mule_scores(folder, platform)
    assert cast.second_analyst.member is not None
    from fundwall.cli.demo_sharing import share

    members = (member, cast.second_analyst.member)
    share(service, folder, platform, members, console.print)
    from fundwall.cli.demo_governance import govern

    govern(folder, platform, member, console.print)
    from fundwall.cli.demo_outreach import reach_out

    reach_out(platform, member, console.print)
    from fundwall.cli.demo_public import walk_appeals

    police_unit = cast.officer.member
    assert police_unit is not None  # the officer belongs to its unit
    walk_appeals(service, folder, platform, member, police_unit, console.print)
    from fundwall.cli.demo_reports import report_figures

    report_figures(folder, platform, console.print)


def _mule_scores(folder: Path, platform: Platform) -> None:
    """The hub scores every account with an accounts model trained on the region; the banks
    get a case for each group of flagged accounts (a network) in no case yet."""
    from fundwall.models.scores import refresh_account_scores

    console.print("9. mule scores (涉诈账户风险评分):")
    _champion(folder, platform, Target.ACCOUNTS)
    with platform.unit_of_work() as uow:
        run = refresh_account_scores(uow, platform.operator, platform.settings.policy)
    flagged = sum(count for action, count in run.actions.items() if action != "pass")
    console.print(
        f"   scored {run.accounts:,} accounts: {flagged:,} flagged, {run.explained:,} with "
        f"their main factors on the account page; {run.tiers_changed:,} put in the risk tier "
        f"their score leads to; {len(run.cases):,} case(s) opened at the banks holding them; "
        f"{run.networks:,} network(s) of accounts tied by money, one case per bank each, "
        f"holding {run.tied:,} relay or collector account(s) the score alone missed"
    )


DEMO_HOLDER_ID: Final = "11010519491231002X"
"""The sample resident ID number of the national standard (GB 11643), a holder for the demo."""


def _new_account(
    service: DecisionService, folder: Path, platform: Platform, member: str, when: datetime
) -> None:
    """The member reports a class II account it opened (the engine knows it at once) and its
    customer sends ¥12,000 from it: more than a class II account may pay out in a day."""
    from fundwall.accounts import AccountOpening, Holder, open_account
    from fundwall.auth import Actor, ActorKind, Role
    from fundwall.cli.demo_governance import REPORTED_SERIAL, demo_card
    from fundwall.domain.accounts import AccountClass, OpeningChannel
    from fundwall.domain.errors import Conflict
    from fundwall.domain.identity import ResidentId
    from fundwall.domain.money import Money
    from fundwall.domain.parties import PartyKind
    from fundwall.domain.transactions import Channel, TransactionKind
    from fundwall.region import read_table

    card = demo_card(folder, member, REPORTED_SERIAL)
    accounts = read_table(folder, "accounts").select(["account_no", "bank"]).to_pylist()
    payee = next(row for row in accounts if row["bank"] != member)
    actor = Actor(ActorKind.API_KEY, "demo", Role.MEMBER_SYSTEM, member)
    opening = AccountOpening(
        account_no=card,
        account_class=AccountClass.CLASS_II,
        opened_at=when - timedelta(days=1),
        opening_channel=OpeningChannel.MOBILE,
        holder=Holder(PartyKind.PERSON, ResidentId.parse(DEMO_HOLDER_ID), "示例"),
        balance_fen=Money.parse("20000").fen,
    )
    with platform.unit_of_work() as uow:
        try:
            open_account(uow, actor, opening, platform.keyring)
            told = "reported now"
        except Conflict:  # the demo ran before on this data directory
            told = "reported in an earlier run"
    transfer = Transaction(
        tx_id=f"DEMO-{member}-NEW-ACCOUNT",
        ts=when,
        kind=TransactionKind.TRANSFER,
        payer_account=card.number,
        payer_bank=member,
        payee_account=payee["account_no"],
        payee_bank=payee["bank"],
        amount=Money.parse("12000"),
        channel=Channel.MOBILE,
    )
    decision = service.decide(transfer, member=member)
    why = "; ".join(reason.text_en for reason in decision.reasons) or "no reason"
    console.print(
        f"7. accounts: bank {member} opened class II account {card} ({told}); ¥12,000 from "
        f"it the next day: {decision.action.value} ({why})"
    )
