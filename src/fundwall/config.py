"""Deployment settings: environment variables and an optional TOML file.

Sources, strongest first: keyword arguments to `load_settings`, environment variables
(`FUNDWALL_DATA_DIR`, `FUNDWALL_DATABASE_URL`, nested with a double underscore as in
`FUNDWALL_POLICY__STOP_PAYMENT_HOURS`), the TOML file (path in `FUNDWALL_CONFIG`, else
`./fundwall.toml` when it exists), then the defaults below.

`api` holds what the HTTP API accepts from members (the time window of a transaction).
`security` holds the figures of sign-in, sessions and the HTTP front (trusted proxies, TLS,
form size) that the console installs for the whole app.

`policy` holds every figure of the rules that a bank or region may set differently
(REGULATIONS.md): limits in fen, durations in the unit the rule is written in. Rules written
in months or years keep calendar months (`*_months`), because a freeze "for 6 months" ends on
the same date six months later, which no fixed number of days matches.

A bad value anywhere becomes one `InvalidInput` line naming the setting, never a pydantic dump.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    NonNegativeInt,
    PositiveInt,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from fundwall.domain.errors import InvalidInput

CONFIG_ENV = "FUNDWALL_CONFIG"
DEFAULT_CONFIG_FILE = Path("fundwall.toml")
ENV_PREFIX = "FUNDWALL_"

YUAN = 100  # fen per yuan
BANK_CODE_FORM = "1 to 64 letters, digits, '.', '_', ':' or '-'"
_BANK_CODE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class DormancyOverride(BaseModel):
    """One bank's own dormancy policy (REGULATIONS.md leaves it to each bank): the figures
    given replace the region's `dormant_*` defaults for that bank's accounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    personal_months: PositiveInt | None = None
    personal_max_balance_fen: NonNegativeInt | None = None
    company_months: PositiveInt | None = None


class PolicySettings(BaseModel):
    """Figures of the rules, with the defaults of REGULATIONS.md. Money in fen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Personal account classes (个人银行账户分类).
    max_class_i_accounts_per_bank: PositiveInt = 1
    max_class_ii_accounts_per_bank: PositiveInt = 5
    max_class_iii_accounts_per_bank: PositiveInt = 5
    max_class_iii_payment_accounts_per_institution: PositiveInt = 1
    class_ii_inflow_daily_limit_fen: PositiveInt = 10_000 * YUAN
    class_ii_inflow_yearly_limit_fen: PositiveInt = 200_000 * YUAN
    class_ii_outflow_daily_limit_fen: PositiveInt = 10_000 * YUAN
    class_ii_outflow_yearly_limit_fen: PositiveInt = 200_000 * YUAN
    class_iii_outflow_daily_limit_fen: PositiveInt = 2_000 * YUAN
    class_iii_outflow_yearly_limit_fen: PositiveInt = 50_000 * YUAN
    class_iii_balance_cap_fen: PositiveInt = 2_000 * YUAN

    # Risk tiers (风险等级): a medium-risk account pays out at most this a day outside a
    # counter; a high-risk one pays only at a counter, after identity is checked again.
    medium_tier_outflow_daily_cap_fen: PositiveInt = 5_000 * YUAN
    # The tier an account's mule score (the accounts champion's action for it) leads to: its
    # intercepting action (delay) puts the account in the medium tier, its blocking one in the
    # high tier; None leaves that tier to people. The model never lowers a tier it did not set.
    model_medium_tier_action: Literal["alert", "delay", "block"] | None = "delay"
    model_high_tier_action: Literal["alert", "delay", "block"] | None = "block"

    # Simplified account opening (简易开户): who is referred to a counter or opened restricted.
    onboarding_min_age: PositiveInt = 16
    onboarding_restricted_accounts: PositiveInt = 5
    """Open accounts across the region from which a new one opens restricted."""

    # Non-counter transfers (非柜面转账).
    atm_transfer_delay_hours: PositiveInt = 24
    strong_credential_daily_threshold_fen: PositiveInt = 50_000 * YUAN
    large_amount_confirmation_personal_daily_fen: PositiveInt = 300_000 * YUAN
    large_amount_confirmation_company_daily_fen: PositiveInt = 1_000_000 * YUAN
    new_account_idle_suspension_months: PositiveInt = 6
    police_listed_reverification_days: PositiveInt = 3
    max_ids_per_phone: PositiveInt = 1

    # Dormant accounts (久悬/不动户).
    dormant_personal_months: PositiveInt = 12
    dormant_personal_max_balance_fen: PositiveInt = 10 * YUAN
    dormant_company_months: PositiveInt = 12
    dormant_by_bank: dict[str, DormancyOverride] = Field(default_factory=dict)
    """Per bank code, its own dormancy figures (`[policy.dormant_by_bank.302]`)."""

    # Account-base screening (存量账户排查).
    max_class_i_accounts_in_region: PositiveInt = 5
    """A person with Class I accounts at more than this many banks of the region is screened
    (one Class I per bank, so the count of its Class I accounts)."""
    batch_opening_window_hours: int = Field(default=24, ge=1, le=30 * 24)
    batch_opening_min_holders: int = Field(default=3, ge=2)
    """Accounts of at least this many people opened through one device, IP, phone or agent
    within the window are a batch."""

    # Emergency stop-payment (紧急止付) and freeze (冻结).
    stop_payment_hours: PositiveInt = 48
    stop_payment_max_renewals: PositiveInt = 2
    stop_payment_police_entry_minutes: PositiveInt = 30
    freeze_months: PositiveInt = 6
    freeze_major_case_months: PositiveInt = 12

    # Return of frozen money (资金返还).
    fund_return_objection_days: PositiveInt = 30
    fund_return_execution_working_days: PositiveInt = 3

    # Appeals (异议申诉).
    appeal_accept_working_days: PositiveInt = 2
    appeal_decide_working_days: PositiveInt = 10

    # Punishment list (联合惩戒).
    punishment_convicted_months: PositiveInt = 36
    punishment_card_dealer_months: PositiveInt = 24
    punishment_total_cap_months: PositiveInt = 60
    card_dealer_min_cards: PositiveInt = 3
    card_dealer_min_times: PositiveInt = 3
    card_dealer_min_counterparties: PositiveInt = 3

    @field_validator("dormant_by_bank")
    @classmethod
    def _bank_codes(cls, value: dict[str, DormancyOverride]) -> dict[str, DormancyOverride]:
        for code in value:
            if not _BANK_CODE.fullmatch(code):
                raise ValueError(f"a bank code is {BANK_CODE_FORM}, got {code!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Pairs (smaller, larger) that only make sense in this order.
        ordered = [
            ("class_ii_inflow_daily_limit_fen", "class_ii_inflow_yearly_limit_fen"),
            ("class_ii_outflow_daily_limit_fen", "class_ii_outflow_yearly_limit_fen"),
            ("class_iii_outflow_daily_limit_fen", "class_iii_outflow_yearly_limit_fen"),
            (
                "strong_credential_daily_threshold_fen",
                "large_amount_confirmation_personal_daily_fen",
            ),
            ("freeze_months", "freeze_major_case_months"),
            ("punishment_convicted_months", "punishment_total_cap_months"),
            ("punishment_card_dealer_months", "punishment_total_cap_months"),
            ("appeal_accept_working_days", "appeal_decide_working_days"),
        ]
        for small, large in ordered:
            if getattr(self, small) > getattr(self, large):
                raise ValueError(
                    f"{small} ({getattr(self, small)}) must not exceed {large} "
                    f"({getattr(self, large)})"
                )
        return self


MINUTE = 60  # seconds
HOUR = 60 * MINUTE
DAY = 24 * HOUR


class ApiSettings(BaseModel):
    """What the HTTP API admits: a transaction's `ts` lies within [now − max_late_seconds,
    now + max_ahead_seconds] of the API's clock, else it is refused (422, field `ts`).

    A member's clock runs a little ahead or behind the hub's (NTP keeps them within
    seconds, a misconfigured host within minutes), hence 5 minutes ahead; a member that was
    cut off, or sends a late batch file, submits transactions accepted hours ago, hence
    24 hours late. Anything further off is a wrong clock or a lie, and a time far ahead
    would otherwise move the engine's clock for every member. `check_time = false` turns the
    window off for an in-memory replay of a past region (`fundwall serve --region`, the
    benchmark); never on a service that decides live traffic. Bounds: at most an hour ahead
    (no member's clock is further off when it works) and a week late (the longest public
    holiday), beyond which the window no longer tells a late file from a forged time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    check_time: bool = True
    max_ahead_seconds: int = Field(default=5 * MINUTE, ge=0, le=HOUR)
    max_late_seconds: int = Field(default=DAY, ge=0, le=7 * DAY)


EvidenceMediaType = Literal["application/pdf", "image/png", "image/jpeg", "text/csv"]
"""The kinds of evidence file the cases workflow can check by their content."""
MIB = 1024 * 1024


class CaseSettings(BaseModel):
    """The banks' case work: the deadline of a new case by its kind (SLA, in hours) and what
    an evidence file may be.

    A case's deadline is its opening time plus the hours of its kind. A scam case (a victim's
    report) gets 24 hours: the money is still moving, and the police's emergency stop-payment
    lasts 48 hours, so the bank's findings must come well within it. An account case gets
    72 hours (three days to look at one account and its holder), a person's 120 hours (all
    their accounts, at this bank and the counterparties'), a network's 168 hours (a week to
    map a 跑分 network's mules and collectors). Each lies between one hour and 30 days: a
    deadline beyond a month is no deadline. Evidence files (statements, screenshots, chat
    exports) are at most `evidence_max_bytes`, 10 MiB by default (a scanned statement of a
    few dozen pages), never above 50 MiB (the console holds an upload in memory); their types
    are among PDF, PNG, JPEG and CSV, each checked by its content, not its name.

    An account whose case was closed is not raised again by the mule scores for
    `score_hold_days` (30 by default: a month's statements; 0 raises it at the next refresh)
    unless a transaction of it dated after the closing comes in: the analyst judged what was
    there, and only something new, or a month gone by, is worth a new look.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sla_hours: int = Field(default=72, ge=1, le=30 * 24)
    person_sla_hours: int = Field(default=120, ge=1, le=30 * 24)
    scam_sla_hours: int = Field(default=24, ge=1, le=30 * 24)
    network_sla_hours: int = Field(default=168, ge=1, le=30 * 24)
    score_hold_days: int = Field(default=30, ge=0, le=365)
    evidence_max_bytes: int = Field(default=10 * MIB, ge=1024, le=50 * MIB)
    evidence_media_types: tuple[EvidenceMediaType, ...] = Field(
        default=("application/pdf", "image/png", "image/jpeg", "text/csv"), min_length=1
    )

    def sla_hours(self, kind: str) -> int:
        """The hours a case of `kind` (a `fundwall.cases.CaseKind` value) has until its
        deadline."""
        hours: int = getattr(self, f"{kind}_sla_hours")
        return hours


AppealMediaType = Literal["application/pdf", "image/png", "image/jpeg"]
"""The kinds of file a person may send with an appeal (checked by their content)."""


class AppealSettings(BaseModel):
    """Appeals (异议申诉, docs/public.md): what a person may send with one.

    The deadlines are policy (`policy.appeal_decide_working_days`). A reason is at most
    `reason_max_chars` (1,000: a page of Chinese, more than any appeal form's box), an answer
    or an opinion at most `answer_max_chars` (1,000, the same page). At most
    `evidence_max_files` files (5: an ID card's two sides, a pay slip, a contract, a
    statement), each at most `evidence_max_bytes` (5 MiB: a phone's photo or a scanned page,
    half a case's limit because anyone may send them), PDF, PNG or JPEG, each checked by its
    content; a spreadsheet is no appeal's proof a person photographs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason_max_chars: int = Field(default=1_000, ge=50, le=10_000)
    answer_max_chars: int = Field(default=1_000, ge=50, le=10_000)
    evidence_max_files: int = Field(default=5, ge=0, le=20)
    evidence_max_bytes: int = Field(default=5 * MIB, ge=1024, le=20 * MIB)
    evidence_media_types: tuple[AppealMediaType, ...] = Field(
        default=("application/pdf", "image/png", "image/jpeg"), min_length=1
    )


class PortalSettings(BaseModel):
    """The public portal (docs/public.md): where people reach it, and how it verifies them.

    `public_url`: the address restriction notices and appeal answers give (the portal's
    pages under it). A one-time code has `code_digits` digits (6: one guess in a million),
    lives `code_minutes` (5: long enough for an SMS to arrive and be typed, short enough
    that a code read over a shoulder soon expires) and takes `code_attempts` wrong entries
    (5) before it is spent: together at most 5 guesses in a million per code. A phone gets at
    most `outreach.phone_per_hour` codes an hour. One address asks for at most
    `codes_per_address_per_hour` codes (10: a family sharing a connection, not a script
    walking ID numbers) and enters at most `entries_per_address_per_hour` codes (30). A
    verified session lasts `session_minutes` (15) from sign-in, never renewed: a person
    appeals or closes an account in one sitting. `answer_floor_ms` (400): every sign-in
    answer waits at least this long, so a known ID and an unknown one take the same time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    public_url: str = "http://127.0.0.1:8000/portal"
    code_digits: int = Field(default=6, ge=6, le=8)
    code_minutes: int = Field(default=5, ge=1, le=30)
    code_attempts: int = Field(default=5, ge=1, le=10)
    codes_per_address_per_hour: int = Field(default=10, ge=1, le=1000)
    entries_per_address_per_hour: int = Field(default=30, ge=1, le=1000)
    session_minutes: int = Field(default=15, ge=5, le=120)
    answer_floor_ms: int = Field(default=400, ge=0, le=5000)


class OrderSettings(BaseModel):
    """How the police orders' timers are kept (the legal periods themselves are `policy`).

    `expiry_interval_seconds`: how often `fundwall serve` marks the orders whose time ran out
    as expired. The engine stops enforcing a restriction at its end by itself (the row carries
    it), so the sweep only writes the order's status, history and audit record: a minute late
    at most by default, at least 5 s (a tighter loop only loads the database), at most an hour
    (an officer's list must not show an order in force an hour after it ended).
    `expiring_within_hours`: how far ahead the officer's warning list looks (24 h, a working
    day to renew; at most 30 days). `query_max_days`: the longest period an account query may
    ask for. The law sets no figure; a year (366 days) covers a fraud case's money trail and
    keeps one answer bounded, a longer trail is asked for in several queries.
    `query_max_transactions`: at most this many transactions in one query's answer (the
    answer says when more exist), so an answer stays a document, not a dump.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    expiry_interval_seconds: int = Field(default=MINUTE, ge=5, le=HOUR)
    expiring_within_hours: int = Field(default=24, ge=1, le=30 * 24)
    query_max_days: int = Field(default=366, ge=1, le=5 * 366)
    query_max_transactions: int = Field(default=1_000, ge=1, le=10_000)


class ScreeningSettings(BaseModel):
    """When `fundwall serve` screens the whole region by itself (存量账户排查 on a schedule).

    `region_every_days`: a whole-region run (every check, as the hub's operator) is due when
    the newest one is this many days old, or there is none; 0 turns the schedule off. Monthly
    by default: the campaigns the seed reports were monthly and quarterly, and a run over a
    city's accounts takes seconds (docs/accounts.md). `check_seconds`: how often the server
    looks whether one is due (one indexed read).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    region_every_days: int = Field(default=30, ge=0, le=366)
    check_seconds: int = Field(default=HOUR, ge=60, le=24 * HOUR)


class ReportSettings(BaseModel):
    """The official statistics (`fundwall.reports`, docs/reports.md).

    `trend_months`: a quarter's or a year's trend draws this many months, ending with the
    period's last month (a year of history, the comparison officials make). `max_range_months`:
    the longest custom range, in calendar months touched: five years keep a trend at most 60
    bars wide and every figure a bounded number of queries.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    trend_months: int = Field(default=12, ge=1, le=36)
    max_range_months: int = Field(default=60, ge=1, le=120)


class ModelSettings(BaseModel):
    """How the learned models' results are kept current.

    `score_check_seconds`: how often `fundwall serve` looks whether the mule scores
    (`fundwall.models.scores`) are due: a few counts, milliseconds. They are refreshed when
    transactions, logins, accounts, the known fraud accounts or the accounts champion changed
    since the last refresh. A refresh reads the whole history and scores every account
    (seconds to tens of seconds on a city's accounts, docs/models.md), so while data keeps
    arriving the scores trail it by at most a check and a refresh; at least 10 seconds, at
    most an hour.

    `score_refresh_seconds`: the longest the scores go without a refresh when nothing arrives
    (features as of now age with time: the last 7 days' window moves on): hourly by default,
    at least 5 minutes, at most a day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    score_check_seconds: int = Field(default=MINUTE, ge=10, le=HOUR)
    score_refresh_seconds: int = Field(default=HOUR, ge=5 * MINUTE, le=24 * HOUR)


class ReplicaSettings(BaseModel):
    """Several `fundwall serve` processes deciding over one PostgreSQL log (docs/scale.md).

    `redis_url`: the Redis (or Redis Cluster entry point) holding the engine's shared state:
    unset, the process holds the whole state itself (one machine, the default); set, every
    process over the same database and namespace is a replica of one engine.
    `namespace`: the prefix of every key (several deployments can share one Redis).
    `lease_ms`: how long a decision may hold its entities before another replica may take
    them over (a replica that stopped mid-decision); well above a commit's worst time, at
    least 1 s. `wait_seconds`: how long a call waits for entities another decision holds
    before it answers 503. `redis_cluster`: `redis_url` names a node of a Redis Cluster (the
    client reads the cluster's slots from it when the process starts, and follows them).
    `gather_ms`: how long a call's lease waits for the leases of the replica's other calls
    under way to go to Redis in the same round trip (a call alone never waits; 0: none waits).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    redis_url: str | None = None
    namespace: str = Field(default="fundwall", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    lease_ms: int = Field(default=10_000, ge=1_000, le=600_000)
    wait_seconds: float = Field(default=5.0, gt=0, le=60)
    redis_cluster: bool = False
    gather_ms: float = Field(default=3.0, ge=0, le=50)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url is a redis://, rediss:// or unix:// URL")
        return value


class SecuritySettings(BaseModel):
    """Sign-in, console sessions and the HTTP front. Durations in the unit of their name.

    A wrong password does not lock a user: after `user_free_failures` in a row, the next
    sign-in of that user waits `user_first_wait_seconds`, twice as long after each further
    failure, never more than `user_longest_wait_seconds`, so a stranger who knows a name can
    delay its owner by minutes, not lock them out. Failures from one source address, whatever
    the names, wait the same way after `address_free_failures`; an address's count is
    forgotten `address_memory_minutes` after its last failure.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_idle_minutes: PositiveInt = 30
    session_lifetime_hours: PositiveInt = 12
    session_touch_seconds: PositiveInt = 60
    """How stale a session's last-seen time may get before a request writes it again."""

    user_free_failures: PositiveInt = 5
    user_first_wait_seconds: PositiveInt = 1
    user_longest_wait_seconds: PositiveInt = 300
    address_free_failures: PositiveInt = 20
    address_first_wait_seconds: PositiveInt = 1
    address_longest_wait_seconds: PositiveInt = 900
    address_memory_minutes: PositiveInt = 60
    addresses_remembered: PositiveInt = 100_000
    """Addresses whose failures are counted at once; beyond, the longest quiet is forgotten."""

    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    """Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed."""
    tls: bool = False
    """Served over TLS (e.g. by a proxy in front): HSTS and Secure cookies on every answer."""
    hsts_seconds: PositiveInt = 365 * 24 * 3600
    form_max_bytes: PositiveInt = 64 * 1024
    """Largest console form body; a larger one is refused (413) before it is read."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Pairs (smaller, larger) of the same unit that only make sense in this order.
        ordered = [
            ("user_first_wait_seconds", "user_longest_wait_seconds", 1),
            ("address_first_wait_seconds", "address_longest_wait_seconds", 1),
            ("address_longest_wait_seconds", "address_memory_minutes", 60),
            ("session_idle_minutes", "session_lifetime_hours", 60),
        ]
        for small, large, scale in ordered:
            if getattr(self, small) > getattr(self, large) * scale:
                raise ValueError(
                    f"{small} ({getattr(self, small)}) must not exceed {large} "
                    f"({getattr(self, large)})"
                )
        return self


_HEX = frozenset(string.hexdigits)


def _check_hex_key(value: SecretStr | None, name: str, sizes: range) -> None:
    if value is None:
        return
    text = value.get_secret_value()
    if not text or set(text) - _HEX or len(text) % 2 or len(text) // 2 not in sizes:
        raise ValueError(
            f"{name} must be {sizes.start}–{sizes.stop - 1} bytes written as hex digits"
            if len(sizes) > 1
            else f"{name} must be {sizes.start} bytes written as {2 * sizes.start} hex digits"
        )


class KeySettings(BaseModel):
    """Where the field-encryption, keyed-hash and audit keys come from.

    Either both field keys are given here (hex), or neither and they live as files in `dir`
    (default `<data_dir>/keys`), created on first run. The audit chain's key is separate:
    `audit_key` (hex) here, else the file `audit.key` in `dir`, created on the first audit
    record. It keys the audit chain and signs its checkpoints, and nothing else.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path | None = None
    sm4_key: SecretStr | None = None
    hmac_key: SecretStr | None = None
    retired_sm4_keys: tuple[SecretStr, ...] = ()
    audit_key: SecretStr | None = None

    @model_validator(mode="after")
    def _keys_well_formed(self) -> Self:
        if (self.sm4_key is None) != (self.hmac_key is None):
            raise ValueError("give both sm4_key and hmac_key, or neither to use key files")
        _check_hex_key(self.sm4_key, "sm4_key", range(16, 17))
        _check_hex_key(self.hmac_key, "hmac_key", range(16, 65))
        for retired in self.retired_sm4_keys:
            _check_hex_key(retired, "retired_sm4_keys entry", range(16, 17))
        return self

    @field_validator("audit_key")
    @classmethod
    def _audit_key_well_formed(cls, value: SecretStr | None) -> SecretStr | None:
        _check_hex_key(value, "audit_key", range(16, 65))
        return value


class AuditSettings(BaseModel):
    """The signed checkpoints of the audit chain's head (docs/design.md, "Audit chain").

    `checkpoints` is the append-only file they go to (default
    `<data_dir>/audit-checkpoints.jsonl`); keep it where the database's writers cannot
    rewrite it. `checkpoint_every`: a checkpoint is written after each commit whose audit
    records cross a multiple of this many records; 1 (the default) checkpoints every commit
    that audits anything, at the cost of one fsync'ed line per such commit (measured, and
    why it is the default: docs/design.md, "Audit chain").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoints: Path | None = None
    checkpoint_every: PositiveInt = 1


_explicit_config_file: ContextVar[Path | None] = ContextVar("fundwall_config_file", default=None)


def _config_file() -> Path | None:
    """The TOML file to read: explicit, else $FUNDWALL_CONFIG, else ./fundwall.toml if any."""
    explicit = _explicit_config_file.get()
    if explicit is not None:
        if not explicit.is_file():
            raise InvalidInput(f"config file not found: {explicit}", field="config_file")
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise InvalidInput(f"config file not found: {path}", field=CONFIG_ENV)
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"not valid TOML: {error}", record=str(path)) from None
    except OSError as error:
        raise InvalidInput(f"cannot read config file: {error.strerror}", record=str(path)) from None


class PhoneSettings(BaseModel):
    """Phone real-name verification (手机实名验证, docs/phones.md).

    `registry` selects the telecom registry adapter: `local` (the registry held in the
    store, loaded from a region's `phone_registry`) or `http` (a telecom operator's
    verification API at `http_url`, with the bearer token `http_token`). An HTTP call waits
    at most `http_timeout_seconds` and is tried again `http_retries` times after a timeout, a
    network failure or a 5xx answer (waiting 0.2 s, then twice as long each time), so a check
    takes at most about (retries + 1) × timeout before it is refused as unavailable.
    `recycled_days`: how far back a number given up still counts as recently recycled in the
    investigation of recycled numbers still bound (a carrier holds a cancelled number about
    90 days before reissuing it; a year covers the reissue and the first months of the new
    holder).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    registry: Literal["local", "http"] = "local"
    http_url: str | None = None
    http_token: SecretStr | None = None
    http_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    http_retries: int = Field(default=2, ge=0, le=5)
    recycled_days: int = Field(default=365, ge=1, le=10 * 366)

    @model_validator(mode="after")
    def _http_needs_a_url(self) -> Self:
        if self.registry == "http":
            url = self.http_url or ""
            if not url.startswith(("https://", "http://")):
                raise ValueError("registry = http needs http_url, an http:// or https:// URL")
        return self


class OutreachSettings(BaseModel):
    """The SMS outbox, dissuasion calls and campaigns (预警劝阻, 反诈宣传; docs/outreach.md).

    `gateway` selects where messages go: `local` (delivered inside Fundwall, read back by
    `fundwall.outreach.delivered_to`: the demo's and the tests' handset) or `http` (an SMS
    provider's API at `http_url` with the bearer token `http_token`). An HTTP call waits at
    most `http_timeout_seconds` and is tried again `http_retries` times after a timeout, a
    network failure or a 5xx (waiting 0.2 s, then twice as long each time); a message the
    provider did not take is tried again by later rounds, `max_attempts` rounds in all
    (waiting a minute, then twice as long each round), then failed. With
    `http_receipts_url` (the provider's pull-status API) the dispatcher asks what became of
    the messages the provider took, a minute after sending, then at longer intervals for
    two days; without it they stay `sent`.

    `dispatch_seconds`: how often `fundwall serve` sends what is queued (a second: a one-time
    code or a warning must arrive while the person is still at the screen);
    `dispatch_batch`: at most this many messages a round.

    Rate limits: one phone gets at most `phone_per_hour` messages queued in a rolling hour.
    Beyond it a one-time code is refused when asked for (nobody can flood a phone with
    codes) and a campaign message is not sent (`limited`, counted); restriction notices,
    appeal answers and dissuasion warnings always go. A member's messages go out at most
    `member_per_minute` a rolling minute, the rest waiting for the next rounds, so one
    member's campaign never holds up another member's warnings.

    `max_segments`: the longest message, in SMS segments (70 Chinese characters in one
    segment, 67 a segment when split; the signature counts). Four segments hold the
    restriction notice with a reason of about 150 characters and the portal's address; a
    longer text is refused naming the variable that made it long. `signature`: the
    sender's signature (短信签名) that carriers require before every message.

    `call_within_minutes`: a warned payer is called within this many minutes of the
    warning (the dissuasion task's deadline): a scam victim transfers again within the
    hour, so a call after it comes too late. `task_lookback_hours`: `fundwall serve` makes
    tasks of the warn decisions of the last day only; an older warning is no longer one
    a call can act on. `segment_days` and `new_account_days`: the
    campaigns' segments (people who paid a new payee in the last 7 days, holders of accounts
    opened in the last 31 days); `elderly_age`: customers over this age (60).
    `event_max_age_days`: an event is recorded at most this long after it was held (three
    years, the longest period an annual report looks back over); never before it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway: Literal["local", "http"] = "local"
    http_url: str | None = None
    http_token: SecretStr | None = None
    http_receipts_url: str | None = None
    http_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    http_retries: int = Field(default=2, ge=0, le=5)
    max_attempts: int = Field(default=5, ge=1, le=20)
    dispatch_seconds: float = Field(default=1.0, ge=0.2, le=MINUTE)
    dispatch_batch: int = Field(default=500, ge=1, le=10_000)
    phone_per_hour: int = Field(default=5, ge=1, le=100)
    member_per_minute: int = Field(default=600, ge=1, le=100_000)
    max_segments: int = Field(default=4, ge=1, le=10)
    signature: str = Field(default="金融反诈", min_length=2, max_length=12)
    call_within_minutes: int = Field(default=15, ge=1, le=24 * 60)
    task_lookback_hours: int = Field(default=24, ge=1, le=7 * 24)
    segment_days: int = Field(default=7, ge=1, le=366)
    new_account_days: int = Field(default=31, ge=1, le=366)
    elderly_age: int = Field(default=60, ge=18, le=120)
    event_max_age_days: int = Field(default=3 * 366, ge=1, le=10 * 366)

    @model_validator(mode="after")
    def _http_needs_a_url(self) -> Self:
        if self.gateway == "http":
            url = self.http_url or ""
            if not url.startswith(("https://", "http://")):
                raise ValueError("gateway = http needs http_url, an http:// or https:// URL")
        receipts = self.http_receipts_url
        if receipts is not None and not receipts.startswith(("https://", "http://")):
            raise ValueError("http_receipts_url must be an http:// or https:// URL")
        return self


class Settings(BaseSettings):
    """Everything a deployment configures. Build with `load_settings` or `get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("var")
    database_url: str = ""
    keys: KeySettings = KeySettings()
    api: ApiSettings = ApiSettings()
    audit: AuditSettings = AuditSettings()
    policy: PolicySettings = PolicySettings()
    security: SecuritySettings = SecuritySettings()
    cases: CaseSettings = CaseSettings()
    orders: OrderSettings = OrderSettings()
    models: ModelSettings = ModelSettings()
    screening: ScreeningSettings = ScreeningSettings()
    reports: ReportSettings = ReportSettings()
    phones: PhoneSettings = PhoneSettings()
    appeals: AppealSettings = AppealSettings()
    portal: PortalSettings = PortalSettings()
    outreach: OutreachSettings = OutreachSettings()
    replicas: ReplicaSettings = ReplicaSettings()

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # Fixed at load time so that a later change of working directory moves nothing.
        return value.expanduser().absolute()

    @field_validator("database_url")
    @classmethod
    def _default_database(cls, value: str, info: ValidationInfo) -> str:
        if value:
            return value
        data_dir = info.data.get("data_dir")
        if data_dir is None:  # data_dir itself failed validation and is reported already
            return value
        return f"sqlite:///{data_dir / 'fundwall.db'}"

    @property
    def keys_dir(self) -> Path:
        """Directory of the key files: `keys.dir`, else `<data_dir>/keys`."""
        if self.keys.dir is None:
            return self.data_dir / "keys"
        return self.keys.dir.expanduser().absolute()

    @property
    def audit_checkpoints(self) -> Path:
        """The audit chain's checkpoint file: `audit.checkpoints`, else in `data_dir`."""
        if self.audit.checkpoints is None:
            return self.data_dir / "audit-checkpoints.jsonl"
        return self.audit.checkpoints.expanduser().absolute()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file()
        toml = InitSettingsSource(settings_cls, _read_toml(path) if path else {})
        return (init_settings, env_settings, toml)


def _first_error(error: ValidationError, config_file: Path | None) -> InvalidInput:
    """Turn a pydantic report into one line that names the setting and where to set it."""
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    reason = first["msg"].removeprefix("Value error, ")
    secret = "keys" in location[:1]
    # A value_error comes from a check across several fields: its message names them.
    leaf = bool(location) and first["type"] not in ("model_type", "value_error")
    if leaf and not secret:
        reason += f" (got {first['input']!r})"
    if leaf:
        where = f"{ENV_PREFIX}{'__'.join(location).upper()}"
        if config_file is not None:
            table = ".".join(location[:-1])
            key = f"[{table}] {location[-1]}" if table else location[-1]
            where += f" or {key} in {config_file}"
        reason += f"; set by {where}"
    more = error.error_count() - 1
    if more:
        reason += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InvalidInput(reason, field=".".join(location) or "settings")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings now, not cached: for tests and tools that build them explicitly.

    `config_file` replaces $FUNDWALL_CONFIG and ./fundwall.toml; `overrides` (e.g.
    `data_dir=tmp_path`, `policy={"stop_payment_hours": 24}`) beat every other source.
    Raises InvalidInput naming the first bad setting.
    """
    token = _explicit_config_file.set(config_file)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise _first_error(error, config_file or _config_file()) from None
    finally:
        _explicit_config_file.reset(token)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once. `get_settings.cache_clear()` re-reads them."""
    return load_settings()
