"""Account facts as of a moment: age, class, batch openings, the holder's accounts and phone.

The facts come from the engine's account directory (`AccountDirectory`), the one reading of
accounts and parties that the transaction features use too: class codes (0 corporate, 1–3 for
Class I–III), opening and last-activity times, the holder's accounts and banks opened by a
moment, parties sharing the holder's phone.

Batch openings (批量开户): two accounts are siblings when they were opened within
`BATCH_US` of each other on the same opening device or by the same agent (代理见证) for
different holders; one holder opening a Class II and a Class III account on their own phone is
not a batch. An account whose opening channel, device and agent are all unrecorded has an
unknown (NaN) sibling count; one opened at a counter has 0.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
import pyarrow as pa

from fundwall.engine.features.catalog import NEVER, US_PER_DAY, US_PER_HOUR
from fundwall.engine.features.directory import AccountDirectory
from fundwall.models.account_history import I64, History, micros, present

BATCH_US: Final = 6 * US_PER_HOUR
"""Openings this close on one device or by one agent form a batch: a morning or an afternoon
of an agent's visit, longer than the hours a batch takes, shorter than a day that would tie
unrelated openings at a busy branch tablet."""
BATCH_COLUMNS: Final = ("opening_channel", "opening_device_id", "opening_agent")
LATER: Final = np.iinfo(np.int64).max
"""First activity of an account that never transacted."""

_NO_PARTIES: Final = pa.table(
    {
        "party_id": pa.array([], pa.string()),
        "phone": pa.array([], pa.string()),
        "birth_date": pa.array([], pa.date32()),
    }
)


def directory_of(accounts: pa.Table | None, parties: pa.Table | None) -> AccountDirectory:
    """The account directory of these tables (without a parties table, holders are known
    by id only; without an accounts table, no account is known)."""
    if accounts is None:
        return AccountDirectory.empty()
    return AccountDirectory.from_tables(accounts, _NO_PARTIES if parties is None else parties)


def _batch_siblings(history: History, accounts: pa.Table, directory: AccountDirectory) -> I64:
    """Per history row: accounts of other holders opened in a batch with it; -1 unknown."""
    n = len(history)
    siblings = np.full(n, -1, np.int64)
    if any(name not in accounts.column_names for name in BATCH_COLUMNS):
        return siblings
    row = history.rows_of(accounts["account_no"])
    opened = micros(accounts["opened_at"], "opened_at")
    recorded = np.zeros(accounts.num_rows, np.bool_)
    for name in BATCH_COLUMNS:
        recorded |= present(accounts[name])
    inside = row >= 0
    siblings[row[inside & recorded]] = 0
    frame = pl.DataFrame(
        {
            "row": row,
            "opened": opened,
            "party": directory.party_of,
            "device": pl.from_arrow(accounts["opening_device_id"].cast(pa.string())),
            "agent": pl.from_arrow(accounts["opening_agent"].cast(pa.string())),
        }
    ).filter(pl.col("row") >= 0)
    pairs = []
    for key in ("device", "agent"):
        keyed = frame.filter(pl.col(key).is_not_null()).select("row", "opened", "party", key)
        pairs.append(
            keyed.join(keyed, on=key, suffix="_other")
            .filter(
                (pl.col("party") != pl.col("party_other"))
                & ((pl.col("opened") - pl.col("opened_other")).abs() <= BATCH_US)
            )
            .select("row", "row_other")
        )
    counts = pl.concat(pairs).unique().group_by("row").len()
    siblings[counts["row"].to_numpy()] = counts["len"].to_numpy()
    return siblings


def fact_features(
    history: History, accounts: pa.Table | None, directory: AccountDirectory
) -> dict[str, np.ndarray]:
    """Every account-fact feature per history row (NaN where the directory does not know)."""
    n = len(history)
    row = directory.rows_of(history.accounts)
    known = row >= 0
    values = {name: np.full(n, np.nan) for name in FACT_FEATURES}
    opened = directory.opened_us[row[known]]
    dated = np.zeros(n, np.bool_)
    dated[known] = opened != NEVER  # an unknown opening leaves the age unknown
    values["age_days"][dated] = (history.moment - directory.opened_us[row[dated]]) / US_PER_DAY
    values["account_class"][known] = directory.account_class[row[known]]
    party = np.full(n, -1, np.int64)
    party[known] = directory.party_of[row[known]]
    for i in np.flatnonzero(party >= 0).tolist():
        accounts_held, banks = directory.holdings(int(party[i]), history.moment - 1)
        values["holder_accounts"][i] = accounts_held
        values["holder_banks"][i] = banks
        sharing = directory.holder(int(party[i]))[1]
        if sharing > 0:
            values["phone_parties"][i] = sharing - 1
    first = np.full(n, LATER, np.int64)
    for side in (history.payer, history.payee):
        has = side >= 0
        np.minimum.at(first, side[has], history.ts[has])
    started = np.full(n, NEVER, np.int64)
    started[known] = np.maximum(opened, directory.last_active_us[row[known]])
    usable = known & (first < LATER) & (started != NEVER)
    values["idle_days_before_first"][usable] = (first[usable] - started[usable]) / US_PER_DAY
    if accounts is not None:
        siblings = _batch_siblings(history, accounts, directory).astype(np.float64)
        values["batch_siblings"] = np.where(siblings >= 0, siblings, np.nan)
    return values


FACT_FEATURES: Final = (
    "age_days",
    "account_class",
    "batch_siblings",
    "holder_accounts",
    "holder_banks",
    "phone_parties",
    "idle_days_before_first",
)
