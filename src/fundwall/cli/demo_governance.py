"""The demo's account governance (账户管理), on the simulated region's own data.

The hub screens the whole region as of the end of its period (存量账户排查); the first bank
works its part of the work list: it suspends the non-counter business of its new accounts
never used and of accounts whose phone several people share (carried out at once, each
account tracked to done or refused) and asks for its
long-dormant accounts to be marked dormant (left pending, as a night job would find it: the
console shows the action in progress). Then the first bank tries simplified opening (简易开户)
for two people of the region: one whose phone is their own, one giving someone else's.
Running the demo again screens and acts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fundwall.accounts.onboarding import Applicant, Application, decide_onboarding
from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.domain.errors import InvalidInput
from fundwall.domain.screening import Check, ScreeningAction
from fundwall.region import read_table
from fundwall.screening.actions import carry_out_action, request_action
from fundwall.screening.base import period_end
from fundwall.screening.model import RunView
from fundwall.screening.runs import list_runs, screen_region
from fundwall.sharing.keys import accepted_sharing_keys

Say = Callable[[str], None]


def govern(folder: Path, platform: Platform, member: str, say: Say) -> None:
    """Step 11 of the demo; `member` is the first demo bank."""
    say("11. account governance (账户管理):")
    bank = Actor(ActorKind.API_KEY, "demo", Role.MEMBER_SYSTEM, member)
    run, earlier = _region_run(folder, platform)
    found = ", ".join(f"{check.value} {count:,}" for check, count in run.found.items())
    told = "screened in an earlier run" if earlier else "screened"
    say(
        f"   the hub {told} the region's {run.screened:,} open accounts as of "
        f"{run.as_of.date().isoformat()} (存量账户排查): {found}"
    )
    if earlier:
        return
    policy = platform.settings.policy
    mine = run.by_member.get(member)
    say(f"   bank {member} works its {mine.items if mine else 0:,} accounts of the list:")
    try:
        with platform.unit_of_work() as uow:
            suspend = request_action(
                uow, bank, run.id, ScreeningAction.SUSPEND_NON_COUNTER.value,
                reason="new account never used in six months, or a phone several people share "
                "(新开户6个月未使用/一号多人): identity to be verified at a counter",
                checks=[Check.NEW_IDLE.value, Check.SHARED_PHONE.value],
            )  # fmt: skip
            done = carry_out_action(uow, bank, suspend.id, policy)
        outcomes = ", ".join(f"{n:,} {outcome.value}" for outcome, n in done.counts.items() if n)
        say(
            f"     non-counter business suspended where a new account was never used or a "
            f"phone is shared ({outcomes}), each holder told why and where to appeal"
        )
    except InvalidInput:  # the work list holds none of those accounts of the bank
        say("     no new account of it is idle, no phone of its customers shared")
    try:
        with platform.unit_of_work() as uow:
            dormant = request_action(
                uow, bank, run.id, ScreeningAction.MARK_DORMANT.value,
                reason="no transaction for a year, balance under the ceiling (久悬)",
                checks=[Check.DORMANT.value],
            )  # fmt: skip
        pending = sum(dormant.counts.values())
        say(f"     {pending:,} long-dormant accounts to be marked dormant: requested, pending")
    except InvalidInput:  # none of the bank's accounts is long dormant
        say("     none of its accounts is long dormant")
    _onboarding(folder, platform, bank, say)


def _region_run(folder: Path, platform: Platform) -> tuple[RunView, bool]:
    """The hub's run over the region as of its period's end: made now, or by an earlier
    demo run."""
    as_of = period_end(folder)
    with platform.unit_of_work() as uow:
        for run in list_runs(uow, platform.operator).items:
            if run.member is None and run.as_of == as_of:
                return run, True
        return screen_region(uow, platform.operator, platform.settings.policy, as_of=as_of), False


def _onboarding(folder: Path, platform: Platform, bank: Actor, say: Say) -> None:
    """Simplified opening for a person of the region with their own phone, and for one
    giving another person's phone."""
    labels = read_table(folder, "party_labels").select(["party_id", "phone_issue"]).to_pylist()
    clean = {row["party_id"] for row in labels if row["phone_issue"] == "none"}
    people = [
        row
        for row in read_table(folder, "parties").to_pylist()
        if row["kind"] == "person" and row["phone"] and row["party_id"] in clean
    ]
    own, other = people[0], people[1]
    applications = (
        ("with their own phone", Application(
            Applicant.FLEXIBLE_WORKER, own["id_number"], own["name"], own["phone"])),
        ("giving another person's phone", Application(
            Applicant.FLEXIBLE_WORKER, other["id_number"], other["name"], own["phone"])),
    )  # fmt: skip
    with platform.unit_of_work() as uow:
        keys = accepted_sharing_keys(uow, bank, platform.settings.keys_dir)
    for who, application in applications:
        with platform.unit_of_work() as uow:
            decision = decide_onboarding(
                uow, bank, application, platform.keyring, platform.telecom_registry,
                platform.settings.policy, keys,
            )  # fmt: skip
        strictest = [f for f in decision.findings if f.outcome is decision.outcome]
        why = strictest[-1].en if strictest else ""
        opened = f"a class {decision.account_class.value} account" if decision.account_class else ""
        say(
            f"   simplified opening (简易开户) for a worker {who}: {decision.outcome.value}"
            + (f", {opened}" if opened else "")
            + (f" ({why})" if why else "")
        )
