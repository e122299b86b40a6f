"""The telecom registry adapter (运营商实名核验接口): what Fundwall asks a telecom real-name
registry about a phone, and the four answers.

A registry is anything with `name` and `verify` (`TelecomRegistry`): the local registry held
in the store (`fundwall.phones.local`), a telecom operator's verification API over HTTP
(`fundwall.phones.http`), or any other system an adapter is written for. Configuration
(`phones.registry`) selects one (`fundwall.phones.adapters`). The answers:

- `match`: the number is registered to this person now;
- `recycled`: the number was this person's once and is no more (they gave it up; the carrier
  may have given it to someone else since), with when they gave it up if the registry says;
- `mismatch`: the number is registered to someone else, and was never this person's;
- `not_found`: the registry has no current holder of the number and it was never this
  person's (not in service, or unknown to the registry).

Each answer carries the registry's own answer time and whether it compared the name (the
local registry holds no names; an operator's API compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fundwall.domain.errors import FundwallError
from fundwall.domain.identity import MobilePhone, ResidentId


class PhoneResult(StrEnum):
    """What a telecom registry says of a phone and a person."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"
    RECYCLED = "recycled"


class CheckTrigger(StrEnum):
    """Why a binding was checked."""

    OPEN_ACCOUNT = "open_account"
    BIND_PHONE = "bind_phone"
    RECHECK = "recheck"


@dataclass(frozen=True, slots=True)
class RegistryAnswer:
    """A registry's answer: the result, when the person gave the number up (`recycled`
    only, None when the registry does not say), whether the name was compared, and the
    registry's own time of answering."""

    result: PhoneResult
    answered_at: datetime
    released_at: datetime | None = None
    name_checked: bool = False


class TelecomRegistry(Protocol):
    """A telecom real-name registry Fundwall can ask.

    `verify` is called with the raw phone, ID number and name of one of the asking member's
    own customers, inside the use case that checks the binding (so rights and the audit
    record are the use case's, not the adapter's). It answers or raises
    `RegistryUnavailable` (no answer could be had: timeout, network, the registry's own
    failure, an answer that is not one) or `RegistryRefused` (the registry refused the
    question as put); it must never answer a guess. `bound_at` is when the member bound the
    number to the person (None: now), for registries that answer "was it reassigned since".
    """

    @property
    def name(self) -> str:
        """Which registry answers, as recorded with each check (`local`, `http:<host>`)."""
        ...

    def verify(
        self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
    ) -> RegistryAnswer: ...


@dataclass(eq=False)
class RegistryUnavailable(FundwallError):
    """The telecom registry gave no answer; nothing was recorded, ask again later."""

    registry: str
    reason: str

    kind = "registry-unavailable"

    def message(self) -> str:
        return f"the telecom registry {self.registry} did not answer: {self.reason}"


@dataclass(eq=False)
class RegistryRefused(FundwallError):
    """The telecom registry refused the question (its own 4xx answer)."""

    registry: str
    reason: str

    kind = "registry-refused"

    def message(self) -> str:
        return f"the telecom registry {self.registry} refused the check: {self.reason}"


@dataclass(frozen=True, slots=True)
class Registration:
    """One registration of a number: to whom (a key, e.g. the ID number's keyed hash), from
    when, until when (None: still theirs)."""

    holder: str
    registered_at: datetime
    deregistered_at: datetime | None


def judge(
    registrations: Sequence[Registration], holder: str
) -> tuple[PhoneResult, datetime | None]:
    """The result for `holder` from a number's registration history, and (recycled only)
    when the holder last gave it up. The rules are the module's: now theirs → match; theirs
    once → recycled; someone else's now → mismatch; nobody's → not_found."""
    theirs = [r for r in registrations if r.holder == holder]
    if any(r.deregistered_at is None for r in theirs):
        return PhoneResult.MATCH, None
    if theirs:
        return PhoneResult.RECYCLED, max(r.deregistered_at for r in theirs if r.deregistered_at)
    if any(r.deregistered_at is None for r in registrations):
        return PhoneResult.MISMATCH, None
    return PhoneResult.NOT_FOUND, None
