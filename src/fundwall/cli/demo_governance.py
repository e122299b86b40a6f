"""The demo's account governance (账户管理), on the simulated region's own data.

The hub screens the whole region as of the end of its period (存量账户排查); the first bank
works its part of the work list, each action carried out at once and each account tracked to
done or refused: it suspends the non-counter business of its new accounts never used and of
accounts whose phone several people share, closes its accounts over what one person may hold
or opened in a batch that are empty (one holding money is refused), tells the holders of the
accounts still over the limit to choose which to keep, and asks for its long-dormant accounts
to be marked dormant, or else a medium tier for those over the limit (left pending, as a night
job would find it: the console shows the action in progress). Then the first bank decides
simplified opening (简易开户), opening the accounts it accepts: for a worker whose phone is
their own, one giving someone else's, and a new micro-firm of a region person by its
representative's phone (a firm of the region has its one basic account already). Running the
demo again screens and acts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, NamedTuple

from fundwall.accounts.onboarding import Applicant, Application, decide_onboarding
from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.domain.accounts import AccountClass
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import AccountNumber, mask_account
from fundwall.domain.identity.account_number import luhn_check_digit
from fundwall.domain.identity.credit_code import (
    credit_code_check_char,
    organisation_code_check_char,
)
from fundwall.domain.screening import Check, ScreeningAction
from fundwall.domain.screening import Outcome as ScreeningOutcome
from fundwall.region import read_table
from fundwall.screening.actions import carry_out_action, request_action
from fundwall.screening.base import period_end
from fundwall.screening.model import RunView
from fundwall.screening.runs import list_runs, screen_region, work_list
from fundwall.sharing.keys import accepted_sharing_keys

Say = Callable[[str], None]
SHOWN_ITEMS: Final = 3
"""The work list's first accounts the demo prints with their reasons."""


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
    mine = run.by_member.get(member)
    say(f"   bank {member} works its {mine.items if mine else 0:,} accounts of the list:")
    with platform.unit_of_work() as uow:
        first = work_list(uow, bank, run.id, size=SHOWN_ITEMS).items
    for item in first:
        reasons = "; ".join(f.reason_en for f in item.findings)
        say(f"     - {mask_account(item.account_no)}: {reasons}")
    for work in _WORK:
        say("     " + _act(platform, bank, run.id, work))
    _leave_pending(platform, bank, run.id, say)
    say(f"     the whole work list on the console: /screening/runs/{run.id}")
    _onboarding(folder, platform, bank, say)


_PENDING: Final = (
    (
        ScreeningAction.MARK_DORMANT,
        Check.DORMANT,
        "no transaction for a year, balance under the ceiling (久悬)",
        "long-dormant accounts to be marked dormant",
    ),
    (
        ScreeningAction.TIER_MEDIUM,
        Check.MANY_ACCOUNTS,
        "more accounts than one person may hold (一人多户): a daily cap until they choose",
        "accounts over what one person may hold to be put in the medium risk tier",
    ),
)
"""The actions the demo requests and leaves pending, the first whose check found accounts
of the bank: an action in progress, for the console to follow and carry out."""


NEW_FIRM_BODY: Final = "MADEMW01"
"""The organisation code body of the demo's new micro-firm (valid characters, no I O S V Z)."""


def new_firm_code(code: str) -> str:
    """A valid credit code for a new firm registered where the firm of `code` is: the same
    authority, entity type and region, the demo's organisation code."""
    first16 = code[:8] + NEW_FIRM_BODY
    first17 = first16 + organisation_code_check_char(NEW_FIRM_BODY)
    return first17 + credit_code_check_char(first17)


def _leave_pending(platform: Platform, bank: Actor, run_id: int, say: Say) -> None:
    for action, check, reason, what in _PENDING:
        try:
            with platform.unit_of_work() as uow:
                left = request_action(
                    uow, bank, run_id, action.value, reason=reason, checks=[check.value]
                )
        except InvalidInput:  # none of the bank's accounts was found by the check
            continue
        say(
            f"     {sum(left.counts.values()):,} {what}: requested, pending (its progress "
            f"on the console: /screening/actions/{left.id})"
        )
        return
    say("     no account of it left for an action to wait on")


class _Work(NamedTuple):
    """An action the bank takes on its part of the work list at once: on the accounts which
    `checks` found, with the `reason` the holders are told; what the demo says when done
    (`{outcomes}`: each outcome's count; `{done}`, `{left}`: done and not) and when the list
    holds none of those accounts."""

    action: ScreeningAction
    checks: tuple[Check, ...]
    reason: str
    told: str
    none: str


_WORK: Final = (
    _Work(
        ScreeningAction.SUSPEND_NON_COUNTER,
        (Check.NEW_IDLE, Check.SHARED_PHONE),
        "新开户6个月未使用，或绑定的手机号被多人共用，需本人到柜面核实身份",
        "non-counter business suspended where a new account was never used or a phone is "
        "shared ({outcomes}), each holder told why and where to appeal",
        "no new account of it is idle, no phone of its customers shared",
    ),
    _Work(
        ScreeningAction.CLOSE,
        (Check.MANY_ACCOUNTS, Check.BATCH_OPENED),
        "一人多户或批量开户的账户，且无余额，予以销户",
        "{done:,} accounts over what one person may hold or opened in a batch closed, being "
        "empty (销户); {left:,} left open: money or a police order still on them",
        "none of its accounts is over what one person may hold or opened in a batch",
    ),
    _Work(
        ScreeningAction.NOTIFY,
        (Check.MANY_ACCOUNTS,),
        "开户数超过规定（一人多户），请到柜面选择保留的账户",
        "the holders of {done:,} accounts still over what one person may hold told to choose "
        "which to keep (一人多户)",
        "none of its customers holds more accounts than allowed",
    ),
)


def _act(platform: Platform, bank: Actor, run_id: int, work: _Work) -> str:
    """Request the work's action on the bank's accounts it takes and carry it out at once."""
    try:
        with platform.unit_of_work() as uow:
            requested = request_action(
                uow, bank, run_id, work.action.value, reason=work.reason,
                checks=[check.value for check in work.checks],
            )  # fmt: skip
            done = carry_out_action(uow, bank, requested.id, platform.settings.policy)
    except InvalidInput:  # the work list holds none of those accounts of the bank
        return work.none
    counts = done.counts
    outcomes = ", ".join(f"{n:,} {outcome.value}" for outcome, n in counts.items() if n)
    finished = counts[ScreeningOutcome.DONE]
    return work.told.format(outcomes=outcomes, done=finished, left=sum(counts.values()) - finished)


def _region_run(folder: Path, platform: Platform) -> tuple[RunView, bool]:
    """The hub's run over the region as of its period's end: made now, or by an earlier
    demo run."""
    as_of = period_end(folder)
    with platform.unit_of_work() as uow:
        for run in list_runs(uow, platform.operator).items:
            if run.member is None and run.as_of == as_of:
                return run, True
        return screen_region(uow, platform.operator, platform.settings.policy, as_of=as_of), False


REPORTED_SERIAL: Final = 990000000001
"""The serial (after the bank's BIN) of the class II account the bank reports (step 7)."""
ONBOARDING_SERIALS: Final = (990000000002, 990000000003, 990000000004)
"""The serials of the accounts simplified opening may open."""


def demo_card(folder: Path, member: str, serial: int) -> AccountNumber:
    """A card number of `member` for the demo: the bank's BIN (from the region), the
    12-digit serial and the Luhn check digit."""
    institutions = read_table(folder, "institutions").to_pylist()
    issuer = next(row["bin"] for row in institutions if row["code"] == member)
    number = f"{issuer}{serial:012d}"
    return AccountNumber.parse(number + luhn_check_digit(number), card=True)


def _onboarding(folder: Path, platform: Platform, bank: Actor, say: Say) -> None:
    """Simplified opening for a person of the region with their own phone, and for one
    giving another person's phone."""
    labels = read_table(folder, "party_labels").select(["party_id", "phone_issue"]).to_pylist()
    clean = {row["party_id"] for row in labels if row["phone_issue"] == "none"}
    parties = read_table(folder, "parties").to_pylist()
    people = [
        row
        for row in parties
        if row["kind"] == "person" and row["phone"] and row["party_id"] in clean
    ]
    own, other = people[0], people[1]
    by_id = {row["party_id"]: row for row in people}
    firm = next(
        (row for row in parties if row["kind"] == "firm" and row["owner_party_id"] in by_id), None
    )
    member = bank.member
    assert member is not None  # the bank's system acts for its member
    # The bank's app gives each application the number to open; a referred one opens none.
    numbers = [demo_card(folder, member, serial).number for serial in ONBOARDING_SERIALS]
    applications = [
        ("a worker with their own phone", Application(
            Applicant.FLEXIBLE_WORKER, own["id_number"], own["name"], own["phone"],
            account_no=numbers[0])),
        ("a worker giving another person's phone", Application(
            Applicant.FLEXIBLE_WORKER, other["id_number"], other["name"], own["phone"],
            account_no=numbers[1])),
    ]  # fmt: skip
    if firm is not None:
        # A firm of the region has its basic account already (one only): the owner registers
        # a new one, in the same district, and applies for its basic account.
        owner = by_id[firm["owner_party_id"]]
        code, name = new_firm_code(firm["id_number"]), firm["name"] + "二号店"
        applications.append(("a new micro-firm, its representative's phone", Application(
            Applicant.MICRO_FIRM, code, name, owner["phone"],
            representative_id=owner["id_number"], account_no=numbers[2])))  # fmt: skip
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
        klass = decision.account_class
        opened = ""
        if klass is not None and decision.account_no is not None:
            kind = "basic" if klass is AccountClass.CORPORATE else f"class {klass.value}"
            opened = f"{kind} account {mask_account(decision.account_no)} opened"
        say(
            f"   simplified opening (简易开户) for {who}: {decision.outcome.value}"
            + (f", {opened}" if opened else "")
            + (f" ({why})" if why else "")
        )
