"""Account-base screening (存量账户排查): the checks a screening run makes, the actions taken
on its work list, and how each action ends for an account.

The checks' names are the words the simulator's ground truth uses too
(`screening_labels.parquet`), so they live here, below both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from fundwall.domain.errors import InvalidInput


class Check(StrEnum):
    """What a screening run looks for in the account base."""

    DORMANT = "dormant"
    """久悬账户: long without a customer's transaction, and (personal) a small balance."""
    NEW_IDLE = "new_idle"
    """新开户未使用: never used in the months after opening (non-counter use is suspended)."""
    MANY_ACCOUNTS = "many_accounts"
    """一人多户: a person over a per-bank class limit, or over the region's threshold."""
    BATCH_OPENED = "batch_opened"
    """批量开户: several people's accounts opened through one device, IP, phone or agent
    within a short time."""
    PUNISHED = "punished"
    """惩戒对象: the holder is on the joint punishment list."""
    SHARED_PHONE = "shared_phone"
    """一号多人: the phone bound to the holder is bound to other people too."""


PLANTED_CHECKS: Final = frozenset(
    {Check.DORMANT, Check.MANY_ACCOUNTS, Check.BATCH_OPENED, Check.SHARED_PHONE}
)
"""The checks whose accounts the simulator plants and labels (`screening_labels.parquet`);
it plants no new-account idling and no punishment list."""

CHECK_WORDS: Final[Mapping[Check, tuple[str, str]]] = MappingProxyType(
    {
        Check.DORMANT: ("长期不动户", "long-dormant account"),
        Check.NEW_IDLE: ("新开户六个月未使用", "new account unused for six months"),
        Check.MANY_ACCOUNTS: ("一人多户", "one person, many accounts"),
        Check.BATCH_OPENED: ("批量开户", "opened in a batch"),
        Check.PUNISHED: ("联合惩戒对象", "holder under joint punishment"),
        Check.SHARED_PHONE: ("一号多人", "one phone, several people"),
    }
)


class ScreeningAction(StrEnum):
    """What may be done, in one step, to chosen accounts of a work list."""

    NOTIFY = "notify"
    """Tell the holder why the account was found and where to appeal (no change)."""
    RESTRICT = "restrict"
    """A non-counter suspension from now until lifted (a bank's own measure)."""
    SUSPEND_NON_COUNTER = "suspend_non_counter"
    """The standing status 非柜面暂停: counter business only, until identity is verified."""
    MARK_DORMANT = "mark_dormant"
    """The standing status 久悬: money may come in, nothing goes out until reactivated."""
    CLOSE = "close"
    """销户: no business at all; only an empty account is closed."""
    TIER_MEDIUM = "tier_medium"
    """The risk tier medium (风险等级中), with its daily cap on payments outside a counter."""
    TIER_HIGH = "tier_high"
    """The risk tier high, with non-counter business suspended until identity is verified."""

    @property
    def cleans(self) -> bool:
        """Changes what the account may do (counted as cleaned when done)."""
        return self is not ScreeningAction.NOTIFY


ACTION_WORDS: Final[Mapping[ScreeningAction, tuple[str, str]]] = MappingProxyType(
    {
        ScreeningAction.NOTIFY: ("通知持卡人", "notify the holder"),
        ScreeningAction.RESTRICT: ("限制非柜面业务", "restrict non-counter business"),
        ScreeningAction.SUSPEND_NON_COUNTER: ("暂停非柜面业务", "suspend non-counter business"),
        ScreeningAction.MARK_DORMANT: ("转久悬户", "mark dormant"),
        ScreeningAction.CLOSE: ("销户", "close"),
        ScreeningAction.TIER_MEDIUM: ("风险等级调为中", "set the risk tier to medium"),
        ScreeningAction.TIER_HIGH: ("风险等级调为高", "set the risk tier to high"),
    }
)


class Outcome(StrEnum):
    """Where an action stands for one account."""

    PENDING = "pending"
    DONE = "done"
    REFUSED = "refused"
    """Not done on purpose: a police order in force, a closed account, money still in it."""
    FAILED = "failed"
    """Could not be done: the account use case raised, with its reason."""
    APPEALED = "appealed"
    """Done, then lifted on the holder's appeal (异议申诉): the bank undid the measure."""


def parse_checks(values: Iterable[str] | None, field: str = "checks") -> tuple[Check, ...]:
    """The checks named (each once, in the declared order); every check when None. An unknown
    or empty list is InvalidInput naming `field`."""
    if values is None:
        return tuple(Check)
    names = [str(value).strip() for value in values]
    known = {check.value for check in Check}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(
            f"unknown check {unknown[0]!r}; the checks are {', '.join(known_names())}", field
        )
    if not names:
        raise InvalidInput(f"name at least one check: {', '.join(known_names())}", field)
    return tuple(check for check in Check if check.value in names)


def known_names() -> list[str]:
    return [check.value for check in Check]
