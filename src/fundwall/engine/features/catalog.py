"""The feature catalogue: every feature declared once, read by both executors.

A window aggregate is a row of `AGGREGATES` (which entity, which event stream, which measures)
crossed with `WINDOWS`; the online state (`online.py`) and the columnar kernels (`kernels.py`)
both loop over these tables, so adding a window or a measure here adds it to both. A
single-value feature is a row of `SINGLES`: which fact (`Fact`) of the transaction or of the
entity in its role it reads, and the formula (`Formula`) that makes its value; both
executions fetch every fact once per transaction and loop over this table
(`online_singles.py`, `kernels.scalar_pass`). Login features
(`LOGIN_FEATURES`: account-trading signs, 断卡) read the login events of the paying and the
receiving account, and ratios (`RATIOS`) divide two features of the same vector, each made
after the vector. `feature_names()` is the one stable order of a feature vector and of the
bulk table's columns.

Window aggregates describe history strictly before the transaction: an earlier event is in
window W of a transaction at time t when `t - W <= event.ts` (the left edge is inclusive), and
events at the same timestamp count when they came earlier in file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import cache
from typing import Final

from fundwall.domain.devices import FaceCheck

US_PER_MIN: Final = 60_000_000
US_PER_HOUR: Final = 60 * US_PER_MIN
US_PER_DAY: Final = 24 * US_PER_HOUR
LOCAL_OFFSET_US: Final = 8 * US_PER_HOUR
"""Asia/Shanghai is UTC+8 all year (no daylight saving), so local time is a fixed shift."""

NIGHT_HOURS: Final = range(6)
"""Local hours counted as night (00:00–05:59)."""
NEVER: Final = -(2**63)
"""A time that never was (the smallest int64): an account never active, or unknown."""


class Kind(StrEnum):
    """What a value measures, so a reason can put it in words (¥1,234.56, 3 days, 85%)."""

    MONEY = "money"
    COUNT = "count"
    DAYS = "days"
    HOURS = "hours"
    """Whole hours since something happened; -1 when it never did."""
    YEARS = "years"
    RATIO = "ratio"
    FLAG = "flag"
    HOUR = "hour"
    CLASS = "class"


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    micros: int
    zh: str


WINDOWS: Final = (
    Window("10m", 10 * US_PER_MIN, "10分钟"),
    Window("1h", US_PER_HOUR, "1小时"),
    Window("24h", 24 * US_PER_HOUR, "24小时"),
    Window("7d", 7 * US_PER_DAY, "7天"),
    Window("30d", 30 * US_PER_DAY, "30天"),
)


class Role(IntEnum):
    """The parts of a transaction that name an entity."""

    PAYER = 0
    PAYEE = 1
    DEVICE = 2
    IP = 3
    PERSON = 4
    """The payer's party (持卡人), across all of its accounts."""


class Stream(IntEnum):
    """Event streams: each transaction adds at most one event to each stream."""

    ACCOUNT_OUT = 0
    ACCOUNT_IN = 1
    DEVICE = 2
    IP = 3
    PERSON_OUT = 4


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """Whose event a transaction adds to the stream, and which counterpart it carries."""

    stream: Stream
    owner: Role
    counterpart: Role


STREAMS: Final = (
    StreamSpec(Stream.ACCOUNT_OUT, owner=Role.PAYER, counterpart=Role.PAYEE),
    StreamSpec(Stream.ACCOUNT_IN, owner=Role.PAYEE, counterpart=Role.PAYER),
    StreamSpec(Stream.DEVICE, owner=Role.DEVICE, counterpart=Role.PAYER),
    StreamSpec(Stream.IP, owner=Role.IP, counterpart=Role.PAYER),
    StreamSpec(Stream.PERSON_OUT, owner=Role.PERSON, counterpart=Role.PAYEE),
)


class Measure(IntEnum):
    COUNT = 0
    SUM = 1
    MAX = 2
    DISTINCT = 3
    """Distinct non-null counterparts."""


MEASURE_KIND: Final = {
    Measure.COUNT: Kind.COUNT,
    Measure.SUM: Kind.MONEY,
    Measure.MAX: Kind.MONEY,
    Measure.DISTINCT: Kind.COUNT,
}


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Window aggregates of one stream, read for the entity in role `key` of a transaction."""

    prefix: str
    stream: Stream
    key: Role
    measures: tuple[Measure, ...]
    en: str
    zh: str
    distinct_en: str = ""
    distinct_zh: str = ""


AGGREGATES: Final = (
    Aggregate(
        "payer_out",
        Stream.ACCOUNT_OUT,
        Role.PAYER,
        (Measure.COUNT, Measure.SUM, Measure.MAX, Measure.DISTINCT),
        "transfers out of the paying account",
        "付款账户转出",
        "payees",
        "收款方",
    ),
    Aggregate(
        "payer_in",
        Stream.ACCOUNT_IN,
        Role.PAYER,
        (Measure.COUNT, Measure.SUM),
        "money into the paying account",
        "付款账户转入",
    ),
    Aggregate(
        "payee_in",
        Stream.ACCOUNT_IN,
        Role.PAYEE,
        (Measure.COUNT, Measure.SUM, Measure.DISTINCT),
        "money into the receiving account",
        "收款账户转入",
        "payers",
        "付款方",
    ),
    Aggregate(
        "payee_out",
        Stream.ACCOUNT_OUT,
        Role.PAYEE,
        (Measure.COUNT, Measure.SUM),
        "transfers out of the receiving account",
        "收款账户转出",
    ),
    Aggregate(
        "device",
        Stream.DEVICE,
        Role.DEVICE,
        (Measure.COUNT, Measure.DISTINCT),
        "transactions from the device",
        "该设备交易",
        "paying accounts",
        "付款账户",
    ),
    Aggregate(
        "ip",
        Stream.IP,
        Role.IP,
        (Measure.COUNT, Measure.DISTINCT),
        "transactions from the IP address",
        "该IP交易",
        "paying accounts",
        "付款账户",
    ),
    Aggregate(
        "person_out",
        Stream.PERSON_OUT,
        Role.PERSON,
        (Measure.COUNT, Measure.SUM),
        "transfers out of all accounts of the payer's party",
        "付款人名下全部账户转出",
    ),
)


@dataclass(frozen=True, slots=True)
class Feature:
    """One column of the catalogue.

    `role` is the entity the value describes: the paying or the receiving account, the
    device, the IP address or the payer's party; None for the transaction itself (its amount,
    time, channel). A reason shows a member the values about an account only when it holds
    that account (`fundwall.domain.decisions.Decision.seen_by`).
    """

    name: str
    kind: Kind
    en: str
    zh: str
    role: Role | None

    @property
    def is_float(self) -> bool:
        """Ratios are float64; every other feature is int64."""
        return self.kind is Kind.RATIO


class Fact(IntEnum):
    """What a single-value feature reads: a fact of the transaction, or of the entity in the
    feature's role (`FACTS_OF` says which entity has which facts).

    Each executor fetches every fact its own way, once per transaction: the online state from
    its per-account state and the directory (`online.py`), the columnar pass from the encoded
    columns and its state rows (`kernels.scalar_pass`). A new fact is added here, to
    `FACTS_OF` and to both fetches.
    """

    AMOUNT = 0
    TIME = 1
    """µs since the epoch (UTC)."""
    CROSS_BANK = 2
    ATM = 3
    NON_COUNTER = 4
    WITHDRAWAL = 5
    OPENED = 6
    """When the account was opened, µs; `NEVER` when the directory does not know it."""
    LAST_ACTIVE = 7
    """When the account last moved money, µs; `NEVER` when it never did."""
    BALANCE = 8
    """The balance before this transaction, counting every earlier one as settled."""
    CLASS = 9
    """0 corporate, 1–3 class I–III, -1 unknown."""
    NEW_PAYEE = 10
    """1 when the payer never paid this payee before."""
    NEW_DEVICE = 11
    """1 when the payer never used this device before."""
    NEW_CITY = 12
    """1 when the payer never transacted from this city before."""
    HOLDER_BIRTH = 13
    """The account holder's birth date as YYYYMMDD; -1 unknown (a firm, or no holder known)."""
    ACCOUNTS = 14
    """Accounts of the party opened by the time of the transaction."""
    BANKS = 15
    """Institutions holding those accounts."""
    PHONE_PARTIES = 16
    """Parties sharing the party's phone, -1 unknown."""
    DEVICE_PAYERS = 17
    """Distinct paying accounts seen on the device before."""


ACCOUNT_FACTS: Final = (Fact.OPENED, Fact.LAST_ACTIVE, Fact.BALANCE, Fact.CLASS)
FACTS_OF: Final[dict[Role | None, tuple[Fact, ...]]] = {
    None: (
        Fact.AMOUNT,
        Fact.TIME,
        Fact.CROSS_BANK,
        Fact.ATM,
        Fact.NON_COUNTER,
        Fact.WITHDRAWAL,
    ),
    Role.PAYER: (
        *ACCOUNT_FACTS,
        Fact.NEW_PAYEE,
        Fact.NEW_DEVICE,
        Fact.NEW_CITY,
        Fact.HOLDER_BIRTH,
    ),
    Role.PAYEE: ACCOUNT_FACTS,
    Role.PERSON: (Fact.ACCOUNTS, Fact.BANKS, Fact.PHONE_PARTIES),
    Role.DEVICE: (Fact.DEVICE_PAYERS,),
}
"""The facts each executor fetches for the transaction (None) and for the entity in each role,
when the transaction has that entity."""


class Formula(IntEnum):
    """How a single-value feature's value is made of its fact (`scalar.py` writes each one)."""

    VALUE = 0
    """The fact as it is."""
    NIGHT = 1
    """1 when the time (the fact) falls in `NIGHT_HOURS`, Beijing time."""
    HOUR = 2
    """The local hour of the time."""
    DAYS_SINCE = 3
    """Whole days from the fact (a time) to the transaction, never below 0; -1 for `NEVER`."""
    AGE = 4
    """Whole years from the fact (a birth date) to the transaction's local date; -1 unknown."""
    SHARE = 5
    """The amount over the fact (a balance), a float; 1 when the balance is 0 or less."""


FLOAT_FORMULAS: Final = frozenset({Formula.SHARE})
"""Formulas whose values are floats (the feature's kind is then `RATIO`)."""


@dataclass(frozen=True, slots=True)
class Single:
    """A single-value feature: which fact of the entity in its role (`feature.role`, None:
    the transaction) it reads, the formula that makes its value, and its value when the
    transaction has no such entity (a deposit has no payer, a withdrawal no payee)."""

    feature: Feature
    fact: Fact
    formula: Formula = Formula.VALUE
    absent: int = -1


SINGLES: Final = (
    Single(
        Feature("amount", Kind.MONEY, "Amount of the transaction", "交易金额", None), Fact.AMOUNT
    ),
    Single(
        Feature(
            "is_night", Kind.FLAG, "Initiated at night (00:00–05:59 Beijing time)", "夜间交易", None
        ),
        Fact.TIME,
        Formula.NIGHT,
    ),
    Single(
        Feature(
            "hour", Kind.HOUR, "Local hour of the transaction (Beijing time)", "交易时段", None
        ),
        Fact.TIME,
        Formula.HOUR,
    ),
    Single(
        Feature(
            "payer_age_days",
            Kind.DAYS,
            "Days since the paying account was opened",
            "付款账户开户天数",
            Role.PAYER,
        ),
        Fact.OPENED,
        Formula.DAYS_SINCE,
    ),
    Single(
        Feature(
            "payee_age_days",
            Kind.DAYS,
            "Days since the receiving account was opened",
            "收款账户开户天数",
            Role.PAYEE,
        ),
        Fact.OPENED,
        Formula.DAYS_SINCE,
    ),
    Single(
        Feature(
            "payer_idle_days",
            Kind.DAYS,
            "Days since the paying account last moved money (-1: never)",
            "付款账户距上次交易天数",
            Role.PAYER,
        ),
        Fact.LAST_ACTIVE,
        Formula.DAYS_SINCE,
    ),
    Single(
        Feature(
            "payee_idle_days",
            Kind.DAYS,
            "Days since the receiving account last moved money (-1: never)",
            "收款账户距上次交易天数",
            Role.PAYEE,
        ),
        Fact.LAST_ACTIVE,
        Formula.DAYS_SINCE,
    ),
    Single(
        Feature(
            "new_payee",
            Kind.FLAG,
            "First transfer from this payer to this payee",
            "首次向该收款方转账",
            Role.PAYER,
        ),
        Fact.NEW_PAYEE,
        absent=0,
    ),
    Single(
        Feature(
            "payer_balance",
            Kind.MONEY,
            "Balance of the paying account before the transfer",
            "付款账户交易前余额",
            Role.PAYER,
        ),
        Fact.BALANCE,
        absent=0,
    ),
    Single(
        Feature(
            "balance_share",
            Kind.RATIO,
            "Share of the payer's balance the transfer takes (1 when the balance is 0)",
            "转账金额占余额比例",
            Role.PAYER,
        ),
        Fact.BALANCE,
        Formula.SHARE,
        absent=0,
    ),
    Single(
        Feature(
            "cross_bank",
            Kind.FLAG,
            "Payer and payee are at different institutions",
            "跨行交易",
            None,
        ),
        Fact.CROSS_BANK,
    ),
    Single(Feature("is_atm", Kind.FLAG, "Made at an ATM", "ATM交易", None), Fact.ATM),
    Single(
        Feature("is_non_counter", Kind.FLAG, "Made outside a bank counter", "非柜面交易", None),
        Fact.NON_COUNTER,
    ),
    Single(Feature("is_withdrawal", Kind.FLAG, "Cash withdrawal", "取现", None), Fact.WITHDRAWAL),
    Single(
        Feature(
            "payer_class",
            Kind.CLASS,
            "Class of the paying account (0 corporate, 1–3; -1 unknown)",
            "付款账户类别",
            Role.PAYER,
        ),
        Fact.CLASS,
    ),
    Single(
        Feature(
            "payee_class",
            Kind.CLASS,
            "Class of the receiving account (0 corporate, 1–3; -1 unknown)",
            "收款账户类别",
            Role.PAYEE,
        ),
        Fact.CLASS,
    ),
    Single(
        Feature(
            "payer_holder_age",
            Kind.YEARS,
            "Age of the paying holder in years (-1: unknown or firm)",
            "付款人年龄",
            Role.PAYER,
        ),
        Fact.HOLDER_BIRTH,
        Formula.AGE,
    ),
    Single(
        Feature(
            "person_accounts",
            Kind.COUNT,
            "Accounts held by the payer's party",
            "付款人名下账户数",
            Role.PERSON,
        ),
        Fact.ACCOUNTS,
    ),
    Single(
        Feature(
            "person_banks",
            Kind.COUNT,
            "Institutions holding the payer's party's accounts",
            "付款人开户机构数",
            Role.PERSON,
        ),
        Fact.BANKS,
    ),
    Single(
        Feature(
            "phone_parties",
            Kind.COUNT,
            "Parties sharing the payer's phone",
            "共用手机号的客户数",
            Role.PERSON,
        ),
        Fact.PHONE_PARTIES,
    ),
    Single(
        Feature(
            "device_accounts",
            Kind.COUNT,
            "Distinct paying accounts ever seen on the device",
            "设备关联账户数",
            Role.DEVICE,
        ),
        Fact.DEVICE_PAYERS,
        absent=0,
    ),
    Single(
        Feature(
            "payer_new_device",
            Kind.FLAG,
            "The payer never used this device before",
            "付款账户首次使用该设备",
            Role.PAYER,
        ),
        Fact.NEW_DEVICE,
        absent=0,
    ),
    Single(
        Feature(
            "payer_new_city",
            Kind.FLAG,
            "The payer never transacted from this city before",
            "付款账户首次在该城市交易",
            Role.PAYER,
        ),
        Fact.NEW_CITY,
        absent=0,
    ),
)
"""The single-value features in catalogue order: one declaration each, read by both
executors (`online.py` and `bulk.py`/`kernels.scalar_pass`)."""


BAD_FACE_CHECKS: Final = frozenset({FaceCheck.FAILED.value, FaceCheck.MISMATCH.value})
"""Face checks that failed (no usable face) or saw another face than the holder's."""
FACE_CHECKS: Final = frozenset(check.value for check in FaceCheck)


class Signal(IntEnum):
    """Which logins of an account a login feature reads.

    A login is from a *new device* when the account had shown another device before it and
    never this one: not in an earlier login of the account, nor as the device of an earlier
    transaction the account paid (strictly earlier: events at the same µs do not make each
    other old). An account's first device is no change of hands, and a login without a device
    is from no new device.
    """

    RISKY = 0
    """From a new device, or with a failed or mismatched face check: how a sold account looks
    when it is taken over."""
    NEW_DEVICE = 1
    FACE_FAILED = 2
    """Face check failed or mismatched (`BAD_FACE_CHECKS`)."""


class LoginMeasure(IntEnum):
    """How a login feature makes its value of the account's logins with its signal, counting
    the logins at or before the transaction (a login at the same µs counts as before it)."""

    HOURS_SINCE = 0
    """Whole hours from the latest such login to the transaction; -1 when there is none."""
    COUNT = 1
    """Such logins in the window: `t - W <= login.ts <= t`."""


LOGIN_ABSENT: Final = {LoginMeasure.HOURS_SINCE: -1, LoginMeasure.COUNT: 0}
"""The value of a login feature for an account without such logins (or a transaction
without the account: a deposit has no payer, a withdrawal no payee)."""


@dataclass(frozen=True, slots=True)
class LoginFeature:
    """A feature of the logins of the account in its role (payer or payee)."""

    feature: Feature
    signal: Signal
    measure: LoginMeasure
    window: Window | None = None
    """The window of a COUNT."""


def _window(name: str) -> Window:
    return next(window for window in WINDOWS if window.name == name)


def _login_features(role: Role, en: str, zh: str) -> tuple[LoginFeature, ...]:
    side = "payer" if role is Role.PAYER else "payee"
    return (
        LoginFeature(
            Feature(
                f"{side}_takeover_hours",
                Kind.HOURS,
                f"Hours since the latest login to the {en} from a new device or with a failed "
                "face check (-1: none)",
                f"{zh}距上次新设备或人脸核验失败登录小时数",
                role,
            ),
            Signal.RISKY,
            LoginMeasure.HOURS_SINCE,
        ),
        LoginFeature(
            Feature(
                f"{side}_new_device_login_hours",
                Kind.HOURS,
                f"Hours since the latest login to the {en} from a device new to it (-1: none)",
                f"{zh}距上次新设备登录小时数",
                role,
            ),
            Signal.NEW_DEVICE,
            LoginMeasure.HOURS_SINCE,
        ),
        LoginFeature(
            Feature(
                f"{side}_face_fail_7d",
                Kind.COUNT,
                f"Logins to the {en} with a failed or mismatched face check in the last 7d",
                f"近7天{zh}人脸核验失败登录次数",
                role,
            ),
            Signal.FACE_FAILED,
            LoginMeasure.COUNT,
            _window("7d"),
        ),
    )


LOGIN_FEATURES: Final = _login_features(Role.PAYER, "paying account", "付款账户") + _login_features(
    Role.PAYEE, "receiving account", "收款账户"
)
"""The login features in catalogue order, the paying account's first (each role's rows stay
together: both executions read an account's logins once per transaction)."""
LOGIN_HORIZON_US: Final = max(
    (row.window.micros for row in LOGIN_FEATURES if row.window is not None), default=0
)
"""How far before the engine's clock a login can still change a feature: the longest login
window. Older logins are summed up (the latest of each signal), and the online state refuses a
login that arrives older than this (`OnlineFeatureState.observe_login`)."""


NO_HISTORY: Final = -1.0
"""A ratio's value when its denominator is 0: the account has no such history to compare with
(never inf or NaN)."""


@dataclass(frozen=True, slots=True)
class Ratio:
    """A float feature: one integer feature of the vector over another, made after the vector;
    `NO_HISTORY` when the denominator is 0."""

    feature: Feature
    numerator: str
    denominator: str


RATIOS: Final = (
    Ratio(
        Feature(
            "amount_to_payer_max_30d",
            Kind.RATIO,
            "The amount over the largest transfer out of the paying account in the last 30d "
            "(-1: none)",
            "转账金额与付款账户近30天最大单笔之比",
            Role.PAYER,
        ),
        "amount",
        "payer_out_max_30d",
    ),
    Ratio(
        Feature(
            "amount_to_payer_in_24h",
            Kind.RATIO,
            "The amount over the money into the paying account in the last 24h: passing on "
            "what just came in (-1: nothing came in)",
            "转账金额与付款账户近24小时转入金额之比",
            Role.PAYER,
        ),
        "amount",
        "payer_in_sum_24h",
    ),
    Ratio(
        Feature(
            "payer_out_count_1h_to_24h",
            Kind.RATIO,
            "Share of the paying account's transfers of the last 24h made in the last hour "
            "(-1: none)",
            "付款账户近1小时转出笔数占近24小时之比",
            Role.PAYER,
        ),
        "payer_out_count_1h",
        "payer_out_count_24h",
    ),
    Ratio(
        Feature(
            "payer_out_sum_24h_to_30d",
            Kind.RATIO,
            "Share of the paying account's outflow of the last 30d sent in the last 24h (-1: none)",
            "付款账户近24小时转出金额占近30天之比",
            Role.PAYER,
        ),
        "payer_out_sum_24h",
        "payer_out_sum_30d",
    ),
    Ratio(
        Feature(
            "payee_in_count_1h_to_24h",
            Kind.RATIO,
            "Share of the receiving account's inflows of the last 24h received in the last hour "
            "(-1: none)",
            "收款账户近1小时转入笔数占近24小时之比",
            Role.PAYEE,
        ),
        "payee_in_count_1h",
        "payee_in_count_24h",
    ),
    Ratio(
        Feature(
            "payee_out_to_in_24h",
            Kind.RATIO,
            "The receiving account's outflow over its inflow in the last 24h: how much of what "
            "it received it passed on (-1: nothing came in)",
            "收款账户近24小时转出与转入金额之比",
            Role.PAYEE,
        ),
        "payee_out_sum_24h",
        "payee_in_sum_24h",
    ),
)
"""The ratios in catalogue order, after every other feature."""

_MEASURE_EN: Final = {
    Measure.COUNT: "Number of {s} in the last {w}",
    Measure.SUM: "Total amount of {s} in the last {w}",
    Measure.MAX: "Largest of {s} in the last {w}",
    Measure.DISTINCT: "Distinct {d} of {s} in the last {w}",
}
_MEASURE_ZH: Final = {
    Measure.COUNT: "近{w}{s}笔数",
    Measure.SUM: "近{w}{s}金额",
    Measure.MAX: "近{w}{s}最大单笔",
    Measure.DISTINCT: "近{w}{s}{d}数",
}


def aggregate_feature(aggregate: Aggregate, measure: Measure, window: Window) -> Feature:
    """The feature `{prefix}_{measure}_{window}` with its descriptions."""
    name = f"{aggregate.prefix}_{measure.name.lower()}_{window.name}"
    en = _MEASURE_EN[measure].format(s=aggregate.en, w=window.name, d=aggregate.distinct_en)
    zh = _MEASURE_ZH[measure].format(s=aggregate.zh, w=window.zh, d=aggregate.distinct_zh)
    return Feature(name, MEASURE_KIND[measure], en, zh, aggregate.key)


@cache
def catalogue() -> tuple[Feature, ...]:
    """Every feature in the stable order: single values, then aggregates (measure by window),
    login features, ratios."""
    windowed = tuple(
        aggregate_feature(aggregate, measure, window)
        for aggregate in AGGREGATES
        for measure in aggregate.measures
        for window in WINDOWS
    )
    return (
        tuple(single.feature for single in SINGLES)
        + windowed
        + tuple(row.feature for row in LOGIN_FEATURES)
        + tuple(ratio.feature for ratio in RATIOS)
    )


@cache
def feature_names() -> tuple[str, ...]:
    """Feature names in the order of a feature vector and of the bulk table's columns."""
    return tuple(feature.name for feature in catalogue())


def column_names() -> list[str]:
    """Column names of the table `compute_bulk` returns (the feature names, in order)."""
    return list(feature_names())


@cache
def features_about(role: Role) -> frozenset[str]:
    """Names of the features that describe the entity in `role` of a transaction."""
    return frozenset(feature.name for feature in catalogue() if feature.role is role)


@cache
def feature_index() -> dict[str, int]:
    """Position of each feature in a feature vector."""
    return {name: i for i, name in enumerate(feature_names())}


def stream_measures(stream: Stream) -> frozenset[Measure]:
    """The measures some aggregate reads from `stream`, so each executor keeps only those."""
    return frozenset(m for a in AGGREGATES if a.stream is stream for m in a.measures)
