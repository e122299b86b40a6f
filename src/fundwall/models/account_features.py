"""Account-level features: every account's description as of a moment, for its mule score.

`account_features(inputs, until_us=…, seeds=…)` computes, in bulk from a region's tables, one
row per account that exists before the moment (it transacts before it, or the accounts table
has it opened before it): `account_no`, then one float64 column per `ACCOUNT_FEATURES` entry,
in that order. Only history strictly before `until_us` is read, so a model trained on features
at a past moment never sees that moment's future. `seeds` are accounts known to be fraudulent
before the moment (confirmed cases, the shared list; in training, the labels before the cut);
the graph spreads their risk to the accounts around them.

The families, each in its own module:

- flows (`account_flows`): counts and sums in and out, counterparties, pass-through, the
  share forwarded and drained within the hour, novelty of payers, the last 7 days against the
  account's own past;
- account trading, 断卡 (`account_logins`): logins from new devices and cities, away from
  the holder's usual city, failed face checks, how soon money followed;
- account facts (`account_facts`): age, class, batch openings, the holder's accounts, banks
  and shared phone;
- the transfer graph (`graph`): two-hop reach, centrality, reciprocity, short cycles, shared-
  attribute communities and risk from the seeds.

Unknown stays unknown: a value the inputs cannot give (no opening date, no logins in the
region, no inflow to take a share of) is NaN, never 0.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.engine.features.catalog import Kind
from fundwall.models.account_facts import FACT_FEATURES, directory_of, fact_features
from fundwall.models.account_flows import AGGREGATE_FEATURES, SEQUENCE_FEATURES, flow_features
from fundwall.models.account_history import I64, History, codes, micros
from fundwall.models.account_logins import LOGIN_FEATURES, login_features
from fundwall.models.graph import BEHAVIOUR, COUNTERPARTY_FEATURES, GRAPH_FEATURES, graph_features
from fundwall.region import read_table

C, M, R, D, F = Kind.COUNT, Kind.MONEY, Kind.RATIO, Kind.DAYS, Kind.FLAG


@dataclass(frozen=True)
class AccountFeature:
    """One account feature, with the words a decision's reasons put before its value."""

    name: str
    kind: Kind
    en: str
    zh: str


_BASE: Final = tuple(
    AccountFeature(name, kind, en, zh)
    for name, kind, en, zh in (
        # flows
        ("in_count", C, "Inflows", "转入笔数"),
        ("out_count", C, "Outflows", "转出笔数"),
        ("in_amount", M, "Money received", "转入金额"),
        ("out_amount", M, "Money sent", "转出金额"),
        ("payers", C, "Distinct payers", "付款方数"),
        ("payees", C, "Distinct payees", "收款方数"),
        ("out_in_ratio", R, "Money sent over money received", "转出转入比"),
        ("forwarded_share", R, "Share of the inflow sent on", "转入资金转出比例"),
        ("drained_1h_share", R, "Share of the inflow sent on within an hour", "1小时内转出比例"),
        (
            "pass_through_minutes_median",
            C,
            "Median minutes from an inflow to the next outflow",
            "转入到转出分钟数(中位)",
        ),
        (
            "pass_through_minutes_min",
            C,
            "Fewest minutes from an inflow to the next outflow",
            "转入到转出最短分钟数",
        ),
        ("round_in_share", R, "Share of inflows in whole hundreds", "整百转入占比"),
        ("round_out_share", R, "Share of outflows in whole hundreds", "整百转出占比"),
        ("night_share", R, "Share of transactions at night", "夜间交易占比"),
        ("cash_out_share", R, "Share of the outflow withdrawn as cash", "取现占转出比例"),
        ("active_days", C, "Days with a transaction", "交易天数"),
        ("busiest_day_events", C, "Transactions on the busiest day", "单日最多交易笔数"),
        (
            "busiest_day_share",
            R,
            "Share of all transactions made on the busiest day",
            "最忙一天交易占比",
        ),
        ("events_per_active_day", C, "Transactions per active day", "活跃日均交易笔数"),
        ("burstiness", R, "Burstiness of the transaction times", "交易时间突发性"),
        ("amount_cv", R, "Spread of the amounts (coefficient of variation)", "金额离散系数"),
        (
            "min_vs_median_amount",
            R,
            "Smallest amount over the median amount",
            "最小金额/金额中位数",
        ),
        (
            "small_amount_share",
            R,
            "Share of amounts below a tenth of the account's median",
            "低于自身中位金额十分之一的交易占比",
        ),
        ("max_in_vs_median", R, "Largest inflow over the median inflow", "最大转入/转入中位数"),
        ("balance_vs_peak", R, "Balance now over its peak", "当前余额/峰值余额"),
        (
            "new_payer_share",
            R,
            "Share of inflows from payers never seen before",
            "陌生付款方转入占比",
        ),
        ("new_payers_7d", C, "New payers in the last 7 days", "近7天新付款方数"),
        ("in_count_7d", C, "Inflows in the last 7 days", "近7天转入笔数"),
        ("payers_7d", C, "Payers in the last 7 days", "近7天付款方数"),
        ("payees_7d", C, "Payees in the last 7 days", "近7天收款方数"),
        (
            "in_amount_7d_share",
            R,
            "Share of all inflow received in the last 7 days",
            "近7天转入金额占比",
        ),
        (
            "recent_rate_vs_before",
            R,
            "Transactions a day in the last 7 days over the rate before",
            "近7天日均交易/此前日均",
        ),
        ("in_count_1d", C, "Inflows in the last 24 hours", "近24小时转入笔数"),
        ("payers_1d", C, "Payers in the last 24 hours", "近24小时付款方数"),
        (
            "new_payers_1d",
            C,
            "Payers new to the account in the last 24 hours",
            "近24小时新付款方数",
        ),
        ("payees_1d", C, "Payees in the last 24 hours", "近24小时收款方数"),
        (
            "hours_1d",
            C,
            "Hours of the day with a transaction in the last 24 hours",
            "近24小时有交易的小时数",
        ),
        (
            "out_in_ratio_1d",
            R,
            "Money sent over money received in the last 24 hours",
            "近24小时转出转入比",
        ),
        (
            "day_rate_vs_before",
            R,
            "Transactions in the last 24 hours over the daily rate before",
            "近24小时交易笔数/此前日均",
        ),
        # account trading (断卡)
        ("logins", C, "Mobile-banking logins", "手机银行登录次数"),
        ("new_device_logins", C, "Logins from a device new to the account", "新设备登录次数"),
        ("new_city_logins", C, "Logins from a city new to the account", "新城市登录次数"),
        ("failed_face_checks", C, "Failed or mismatched face checks", "人脸核验失败/不符次数"),
        ("away_logins", C, "Logins outside the holder's usual city", "异地登录次数"),
        (
            "risky_login_to_inflow_hours",
            C,
            "Hours from the latest risky login to the first inflow after it",
            "可疑登录后首笔转入间隔小时数",
        ),
        (
            "hours_since_risky_login",
            C,
            "Hours since the latest risky login",
            "距最近可疑登录小时数",
        ),
        (
            "login_device_holders",
            C,
            "Other holders seen on the account's login devices",
            "登录设备关联的其他客户数",
        ),
        # account facts
        ("age_days", D, "Days since the account was opened", "开户天数"),
        ("account_class", Kind.CLASS, "Class of the account", "账户类别"),
        ("batch_siblings", C, "Accounts of others opened with it in a batch", "同批开户账户数"),
        ("holder_accounts", C, "Accounts of the holder", "持卡人名下账户数"),
        ("holder_banks", C, "Institutions holding the holder's accounts", "持卡人开户机构数"),
        ("phone_parties", C, "Other parties sharing the holder's phone", "共用手机号的其他客户数"),
        (
            "idle_days_before_first",
            D,
            "Idle days before its first transaction",
            "首笔交易前休眠天数",
        ),
        # transfer graph
        ("fan_in_2hop", C, "Accounts paying into it within two hops", "两跳内转入账户数"),
        ("fan_out_2hop", C, "Accounts it pays within two hops", "两跳内转出账户数"),
        ("in_degree_centrality", R, "In-degree centrality", "入度中心性"),
        ("out_degree_centrality", R, "Out-degree centrality", "出度中心性"),
        ("reciprocity", R, "Share of counterparties paid both ways", "双向往来对手占比"),
        ("on_cycle", F, "Lies on a cycle of at most 6 accounts", "处于6个账户以内的资金闭环"),
        ("cycles", C, "Cycles of 3 to 6 accounts through it", "3至6个账户资金闭环数"),
        ("scc_size", C, "Accounts in its strongly connected component", "强连通分量账户数"),
        (
            "community_size",
            C,
            "Accounts sharing devices, phones or counterparties",
            "关联账户群规模",
        ),
        ("community_holders", C, "Holders in that community", "关联账户群客户数"),
        (
            "seed_rank_downstream",
            C,
            "Money reaching it from known fraud accounts (times the average)",
            "来自涉诈账户的资金关联度",
        ),
        (
            "seed_rank_upstream",
            C,
            "Money it sends towards known fraud accounts (times the average)",
            "流向涉诈账户的资金关联度",
        ),
        ("seed_share_1hop", R, "Share of counterparties known as fraudulent", "涉诈交易对手占比"),
        (
            "seed_share_2hop",
            R,
            "Share of accounts within two hops known as fraudulent",
            "两跳内涉诈账户占比",
        ),
    )
)
ACCOUNT_FEATURES: Final = _BASE + tuple(
    AccountFeature(
        f"counterparty_{base.name}_{stat}",
        base.kind,
        f"{base.en}: {label_en} over its counterparties",
        f"交易对手{base.zh}{label_zh}",
    )
    for base in _BASE
    if base.name in BEHAVIOUR
    for stat, label_en, label_zh in (("mean", "mean", "均值"), ("max", "largest", "最大值"))
)
"""Every account feature, once, in the order of the feature table's columns."""


def account_feature_names() -> tuple[str, ...]:
    return tuple(feature.name for feature in ACCOUNT_FEATURES)


def feature_matrix(
    features: pa.Table, names: Sequence[str] | None = None
) -> npt.NDArray[np.float64]:
    """Columns `names` (default: every account feature, in order) of an `account_features`
    table as a float64 matrix, one row per account: what a model is fitted on and scores."""
    chosen = account_feature_names() if names is None else names
    return np.column_stack([features[name].to_numpy() for name in chosen]).astype(np.float64)


FAMILY_FEATURES: Final = frozenset(
    (
        *AGGREGATE_FEATURES,
        *SEQUENCE_FEATURES,
        *LOGIN_FEATURES,
        *FACT_FEATURES,
        *GRAPH_FEATURES,
        *COUNTERPARTY_FEATURES,
    )
)


@dataclass(frozen=True)
class AccountInputs:
    """The tables the account features read (the region files of docs/data-layout.md)."""

    transactions: pa.Table
    accounts: pa.Table | None = None
    parties: pa.Table | None = None
    logins: pa.Table | None = None

    @classmethod
    def from_region(cls, folder: Path) -> AccountInputs:
        """Read a region folder; the optional files may be absent, and a logins file without
        a row (imported folders have none) counts as no logins."""

        def optional(name: str) -> pa.Table | None:
            if not (folder / f"{name}.parquet").is_file():
                return None
            table = read_table(folder, name)
            return table if table.num_rows else None

        return cls(
            transactions=read_table(folder, "transactions"),
            accounts=optional("accounts"),
            parties=optional("parties"),
            logins=optional("logins"),
        )


def account_features(
    inputs: AccountInputs, *, until_us: int | None = None, seeds: Collection[str] = ()
) -> pa.Table:
    """One row per account existing before `until_us` (µs since the epoch, exclusive; None:
    just after the last transaction or login), sorted by account number: `account_no`,
    then the features."""
    directory = directory_of(inputs.accounts, inputs.parties)
    until = _end_of(inputs) if until_us is None else until_us
    history = History.before(inputs.transactions, inputs.accounts, until)
    row = directory.rows_of(history.accounts)
    known = row >= 0
    opening = np.full(len(history), -1, np.int64)
    opening[known] = directory.opening_balance[row[known]]
    holder = np.full(len(history), -1, np.int64)
    holder[known] = directory.party_of[row[known]]
    seed = np.zeros(len(history), np.bool_)
    seed_rows = history.rows_of(pa.array(sorted(seeds), pa.string()))
    seed[seed_rows[seed_rows >= 0]] = True
    members, attributes = _shared_attributes(history, inputs, holder)
    flows = flow_features(history, opening)
    values = {
        **flows,
        **login_features(history, inputs.logins, holder),
        **fact_features(history, inputs.accounts, directory),
        **graph_features(history, seed, members, attributes, holder, flows),
    }
    columns: dict[str, pa.Array] = {"account_no": history.accounts}
    for name in account_feature_names():
        columns[name] = pa.array(np.asarray(values[name], np.float64), pa.float64())
    return pa.table(columns)


def _end_of(inputs: AccountInputs) -> int:
    """Just after the last transaction or login: the moment of "the whole history"."""
    last = [micros(inputs.transactions["ts"], "ts").max(initial=0)]
    if inputs.logins is not None:
        last.append(micros(inputs.logins["ts"], "ts").max(initial=0))
    return int(max(last)) + 1


def _shared_attributes(history: History, inputs: AccountInputs, holder: I64) -> tuple[I64, I64]:
    """(account row, attribute code) pairs of the attributes that tie accounts together: the
    holder, the holder's phone, the opening device, login devices and payment devices."""
    pairs: list[tuple[I64, pa.Array]] = []
    rows = np.arange(len(history), dtype=np.int64)
    held = holder >= 0
    pairs.append((rows[held], _tagged("holder", pa.array(holder[held].astype(str)))))
    if inputs.accounts is not None:
        accounts = inputs.accounts
        row = history.rows_of(accounts["account_no"])
        if "opening_device_id" in accounts.column_names:
            pairs.append((row, _tagged("device", accounts["opening_device_id"])))
        if inputs.parties is not None:
            phone = pc.index_in(
                accounts["party_id"], value_set=inputs.parties["party_id"].combine_chunks()
            )
            phones = inputs.parties["phone"].combine_chunks().take(phone)
            pairs.append((row, _tagged("phone", phones)))
    if inputs.logins is not None:
        logins = inputs.logins
        kept = logins.filter(pa.array(history.is_before(micros(logins["ts"], "ts"))))
        pairs.append((history.rows_of(kept["account_no"]), _tagged("device", kept["device_id"])))
    paid = history.device >= 0
    pairs.append(
        (
            history.payer[paid],
            _tagged("device", history.devices.take(pa.array(history.device[paid]))),
        )
    )
    members = np.concatenate([member for member, _ in pairs])
    names = pa.chunked_array([name for _, name in pairs], pa.string()).combine_chunks()
    attribute = codes(names)
    usable = (members >= 0) & (attribute >= 0)
    return members[usable], attribute[usable]


def _tagged(tag: str, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Attribute values prefixed with their kind, so a phone never equals a device id."""
    joined = pc.binary_join_element_wise(tag, values.cast(pa.string()), ":")
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined
