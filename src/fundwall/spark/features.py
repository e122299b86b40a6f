"""The feature columns of a whole history on Apache Spark, by the engine's own compiled pass.

Every feature describes one entity of its transaction (`Feature.role`: the paying or the
receiving account, the device, the IP address, the payer's party) or the transaction itself,
and its value depends only on that entity's own history: its events in the streams it owns,
the balance and last activity of an account (moved by the transactions it pays and receives),
its first (owner, counterpart) pairs, its logins. So the entities are spread over buckets
(a hash of the account number, device id, IP or party), and each bucket gets every
transaction that names one of its entities. Inside a bucket, the transactions in their
original order are a history in which each of the bucket's entities misses nothing of its
own, and `iter_bulk` (the same kernels as on one machine) computes their features exactly;
the values it computes for the other entities of those transactions are cut short and
thrown away. A feature whose entity the transaction lacks (a deposit has no payer) has the
same value everywhere, and so have the transaction's own features: both are kept from the
transaction's home bucket (its payer's, else its payee's).

    session --read--> transactions.parquet, row = position in the file
            --mapInArrow--> + the payer's party (the directory is broadcast)
            --explode--> (bucket, transaction) for the bucket of each entity
            --groupBy(bucket).cogroup(logins by account bucket).applyInArrow-->
                 (row, role, the role's feature values) for the entities the bucket owns
            --write, a folder per chunk of rows--> Parquet, which the driver reads back chunk
                 by chunk, putting each row's five records together in row order

Each transaction travels to at most five buckets (payer, payee, device, IP, party), and its
features come back as five records, one per role, each written by exactly one bucket: the
assembly refuses a row whose records are missing or repeated.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import AccountDirectory, bulk_schema, catalogue, iter_bulk
from fundwall.engine.features.bulk import wanted_columns
from fundwall.engine.features.catalog import Role
from fundwall.engine.features.encode import Encoded, encode
from fundwall.engine.features.inputs import LOGIN_COLUMNS, TRANSACTION_COLUMNS

if TYPE_CHECKING:
    from pyspark.broadcast import Broadcast
    from pyspark.sql import Column, SparkSession

I64 = npt.NDArray[np.int64]

ROW: Final = "row"
"""The transaction's position in its file: the order the driver decides in."""
OWNER_ROLES: Final = tuple(Role)
"""The roles whose features a bucket computes for the entities it owns; the transaction's own
features travel with the payer's (`_role_of`)."""
_OWNERS: Final = {role: f"owner_{role.name.lower()}" for role in OWNER_ROLES}
_KEYS: Final = {
    Role.PAYER: ("account", "payer_account"),
    Role.PAYEE: ("account", "payee_account"),
    Role.DEVICE: ("device", "device_id"),
    Role.IP: ("ip", "ip"),
    Role.PERSON: ("party", "party"),
}
"""Per role: the kind of entity (its hash seed, so an account hashes alike as payer and as
payee) and the column naming it."""
_PARTY: Final = "party"
_BUCKET: Final = "bucket"
_CHUNK: Final = "chunk"
BUCKETS_SETTING: Final = "spark.fundwall.buckets"
"""The Spark setting that names how many buckets the entities are spread over."""
CHUNK_ROWS: Final = 1 << 18
"""Rows whose records the driver reads back at once (about 250 MB of features)."""
_RECORDS: Final = pa.schema(
    [(ROW, pa.int64()), ("role", pa.int8()), ("values", pa.list_(pa.int64()))]
)


def _role_of(feature_role: Role | None) -> Role:
    return Role.PAYER if feature_role is None else feature_role


@cache
def role_columns() -> dict[Role, npt.NDArray[np.intp]]:
    """Per role, the catalogue positions of the features its owner's bucket computes."""
    roles = [_role_of(feature.role) for feature in catalogue()]
    return {
        role: np.array([k for k, r in enumerate(roles) if r is role], dtype=np.intp)
        for role in OWNER_ROLES
    }


@cache
def _float_columns() -> npt.NDArray[np.bool_]:
    return np.array([feature.is_float for feature in catalogue()], dtype=np.bool_)


def _as_int64(column: pa.Array) -> I64:
    """A feature column as int64 words: floats travel as their bits, so they come back equal."""
    values = column.to_numpy(zero_copy_only=False)
    if values.dtype == np.float64:
        return np.asarray(values).view(np.int64)
    return np.asarray(values, dtype=np.int64)


def _with_party(directory: Broadcast[AccountDirectory]) -> Any:
    """A mapInArrow step adding the code of the payer's party in the directory (null when the
    directory does not know the payer or its holder)."""

    def add(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        known = directory.value
        for batch in batches:
            payer = batch.column(batch.schema.get_field_index("payer_account"))
            rows = known.rows_of(payer.cast(pa.string()))
            party = np.full(len(rows), -1, dtype=np.int64)
            party[rows >= 0] = known.party_of[rows[rows >= 0]]
            yield batch.append_column(_PARTY, pa.array(party, mask=party < 0))

    return add


def _bucket_features(directory: Broadcast[AccountDirectory], with_logins: bool) -> Any:
    """The applyInArrow step of one bucket: its transactions (and its accounts' logins) in,
    the feature records of the entities it owns out. (PySpark passes the group's key to a
    function by the number of its parameters, so each form has its own.)"""

    def with_logins_of(
        key: tuple[pa.Scalar, ...], transactions: pa.Table, logins: pa.Table
    ) -> pa.Table:
        return _owned_features(directory.value, key[0].as_py(), transactions, logins)

    def without_logins(key: tuple[pa.Scalar, ...], transactions: pa.Table) -> pa.Table:
        return _owned_features(directory.value, key[0].as_py(), transactions, None)

    return with_logins_of if with_logins else without_logins


def _owned_features(
    known: AccountDirectory, bucket: int, transactions: pa.Table, logins: pa.Table | None
) -> pa.Table:
    """The feature records (row, role, values) of the entities `bucket` owns in
    `transactions` (its whole share of the history, any order)."""
    if transactions.num_rows == 0:
        return _RECORDS.empty_table()
    history = transactions.take(pc.sort_indices(transactions[ROW]))
    login_table = None
    if logins is not None and logins.num_rows:
        login_table = logins.drop_columns([_BUCKET])
    encoded: Encoded = encode(history, known)
    rows = history[ROW].to_numpy()
    owned = {
        role: np.asarray(history[_OWNERS[role]].to_numpy(zero_copy_only=False)) == bucket
        for role in OWNER_ROLES
    }
    columns = role_columns()
    parts: dict[Role, list[I64]] = {role: [] for role in OWNER_ROLES}
    start = 0
    for batch in iter_bulk(history, known, logins=login_table, encoded=encoded, workers=1):
        stop = start + batch.num_rows
        matrix = np.column_stack([_as_int64(column) for column in batch.columns])
        for role in OWNER_ROLES:
            parts[role].append(matrix[np.ix_(owned[role][start:stop], columns[role])])
        start = stop
    tables = []
    for role in OWNER_ROLES:
        values = np.concatenate(parts[role])
        offsets = np.arange(len(values) + 1, dtype=np.int32) * len(columns[role])
        tables.append(
            pa.table(
                [
                    pa.array(rows[owned[role]], pa.int64()),
                    pa.array(np.full(len(values), int(role), np.int8)),
                    pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.ravel())),
                ],
                schema=_RECORDS,
            )
        )
    return pa.concat_tables(tables)


def _assemble(records: pa.Table, first: int, count: int) -> pa.Table:
    """Rows first … first + count - 1 as full feature rows, in order, from their records
    (every role's, in any order); RuntimeError when a row's record is missing or repeated."""
    row = records[ROW].to_numpy()
    role = records["role"].to_numpy()
    out = np.empty((len(catalogue()), count), dtype=np.int64)
    for owner, columns in role_columns().items():
        mine = np.flatnonzero(role == int(owner))
        at = row[mine] - first
        if len(mine) != count or np.any(np.bincount(at, minlength=count) != 1):
            raise RuntimeError(
                f"rows {first}–{first + count - 1}: the {owner.name.lower()} features of some "
                "row are missing or repeated"
            )
        values = records["values"].take(pa.array(mine)).combine_chunks()
        out[np.ix_(columns, at)] = values.flatten().to_numpy().reshape(len(mine), -1).T
    schema = bulk_schema()
    floats = _float_columns()
    return pa.table(
        [
            pa.array(out[k].view(np.float64) if floats[k] else out[k], schema.field(k).type)
            for k in range(len(floats))
        ],
        schema=schema,
    )


def _bucket_of(kind: str, column: Column, buckets: int) -> Column:
    from pyspark.sql import functions as fn

    hashed = fn.pmod(fn.xxhash64(fn.lit(kind), column), fn.lit(buckets))
    return fn.when(column.isNotNull(), hashed)


def _transactions_path(source: Path | str | pa.Table) -> Path:
    if isinstance(source, pa.Table):
        raise InvalidInput(
            "the Spark engine reads its transactions from Parquet: give a region folder or "
            "a .parquet file",
            "engine",
        )
    path = Path(source)
    file = path / "transactions.parquet" if path.is_dir() else path
    if file.suffix != ".parquet" or not file.is_file():
        raise InvalidInput(
            f"the Spark engine reads Parquet: {path} is neither a region folder nor a "
            ".parquet file of transactions",
            "engine",
        )
    return file


def _check_time_order(file: Path) -> None:
    """Spark's buckets see each history in file order: a file whose time goes back (which one
    machine restamps as of the one before) is refused, naming the transaction."""
    columns = pq.read_table(file, columns=["tx_id", "ts"])
    ts = columns["ts"].cast(pa.int64()).to_numpy()
    backwards = np.flatnonzero(np.diff(ts) < 0)
    if len(backwards):
        tx = columns["tx_id"][int(backwards[0]) + 1].as_py()
        raise InvalidInput(
            "the Spark engine needs transactions in time order: this one is earlier than the "
            "one before it (sort the file by ts, or replay it on one machine)",
            "ts",
            record=str(tx),
        )


def _logins_path(source: Path | str | pa.Table) -> Path | None:
    if isinstance(source, pa.Table):
        return None
    path = Path(source) / "logins.parquet"
    return path if path.is_file() else None


@dataclass
class SparkFeatures:
    """`BulkFeatures` on a SparkSession (`fundwall.engine.replay`): the feature columns of a
    region folder or a Parquet file of transactions, computed bucket by bucket on the
    session's executors and read back here in file order. `buckets` (default: the session's
    `spark.fundwall.buckets`, else four per core) is how many groups of entities the history
    is cut into; `work` is where the columns are written (a temporary folder by default; on a
    cluster, a folder the driver and the executors share). With `reuse`, a source's columns
    are computed once and read again by the next call for it, until `close`: for a caller
    that replays one region several times with its own directory and logins (a backtest of
    two packs); the features do not depend on the pack."""

    session: SparkSession
    buckets: int | None = None
    work: Path | None = None
    reuse: bool = False
    _kept: dict[tuple[Path, Path | None], Path] = field(
        default_factory=dict, init=False, repr=False
    )

    def __call__(
        self,
        source: Path | str | pa.Table,
        table: pa.Table,
        directory: AccountDirectory,
        logins: pa.Table | None,
        *,
        batch_rows: int,
        encoded: Encoded | None,
        wanted: Collection[str] | None,
    ) -> Iterator[pa.RecordBatch]:
        file = _transactions_path(source)
        _check_time_order(file)
        if encoded is None:
            # Every row is checked here, so a bad one is named before any executor starts.
            encode(table, directory)
        logins_file = _logins_path(source)
        if logins is not None and logins_file is None:
            raise InvalidInput(
                "the Spark engine reads the logins of a region folder (logins.parquet)", "logins"
            )
        read_logins = logins_file if logins is not None else None
        key = (file.resolve(), read_logins)
        folder = self._kept.get(key)
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="fundwall-spark-", dir=self.work))
            try:
                self.write(file, directory, read_logins, folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            if self.reuse:
                self._kept[key] = folder
        # Every feature is computed (and kept for reuse); the batches hand on those wanted.
        names = None if wanted is None else list(wanted_columns(wanted))
        try:
            for batch in _read_back(folder / "records", table.num_rows, batch_rows):
                yield batch if names is None else batch.select(names)
        finally:
            if not self.reuse:
                shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Remove the columns kept for reuse."""
        for folder in self._kept.values():
            shutil.rmtree(folder, ignore_errors=True)
        self._kept.clear()

    def write(
        self, file: Path, directory: AccountDirectory, logins: Path | None, folder: Path
    ) -> None:
        """Compute the feature columns of the transactions in `file` (with the accounts'
        logins in `logins`) into `folder`/records: (row, role, values) as Parquet, a folder
        per chunk of rows."""
        from pyspark.sql import functions as fn
        from pyspark.sql.pandas.types import from_arrow_schema
        from pyspark.sql.types import LongType, StructField, StructType

        session = self.session
        buckets = self.buckets or configured_buckets(session)
        records_schema = from_arrow_schema(_RECORDS)
        known = session.sparkContext.broadcast(directory)
        try:
            # Only what the features read travels (a transfer's free-text purpose does not).
            transactions = session.read.parquet(str(file)).select(
                *TRANSACTION_COLUMNS, fn.col("_metadata.row_index").alias(ROW)
            )
            with_party = StructType([*transactions.schema.fields, StructField(_PARTY, LongType())])
            transactions = transactions.mapInArrow(_with_party(known), with_party)
            # Every transaction names a payer or a payee (checked before this).
            home = fn.coalesce(
                _bucket_of("account", fn.col("payer_account"), buckets),
                _bucket_of("account", fn.col("payee_account"), buckets),
            )
            for role in OWNER_ROLES:
                kind, name = _KEYS[role]
                transactions = transactions.withColumn(
                    _OWNERS[role], fn.coalesce(_bucket_of(kind, fn.col(name), buckets), home)
                )
            owners = fn.array_distinct(fn.array(*(_OWNERS[role] for role in OWNER_ROLES)))
            grouped = transactions.withColumn(_BUCKET, fn.explode(owners)).groupBy(_BUCKET)
            if logins is None:
                records = grouped.applyInArrow(_bucket_features(known, False), records_schema)
            else:
                login_rows = (
                    session.read.parquet(str(logins))
                    .select(*LOGIN_COLUMNS)
                    .withColumn(_BUCKET, _bucket_of("account", fn.col("account_no"), buckets))
                )
                records = grouped.cogroup(login_rows.groupBy(_BUCKET)).applyInArrow(
                    _bucket_features(known, True), records_schema
                )
            (
                records.withColumn(_CHUNK, fn.floor(fn.col(ROW) / CHUNK_ROWS))
                .write.partitionBy(_CHUNK)
                .mode("overwrite")
                .parquet(str(folder / "records"))
            )
        finally:
            known.destroy()


def configured_buckets(session: SparkSession) -> int:
    """`spark.fundwall.buckets` of the session's configuration (spark-defaults.conf on a
    cluster), else four per core of the session."""
    text = session.conf.get(BUCKETS_SETTING, None)
    if text is None:
        return 4 * int(session.sparkContext.defaultParallelism)
    if not text.isdigit() or int(text) == 0:
        raise InvalidInput(f"a positive whole number, got '{text}'", BUCKETS_SETTING)
    return int(text)


def _read_back(folder: Path, expected: int, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The feature batches of rows 0 … expected - 1, in order: each chunk's records read and
    put together here."""
    for chunk, first in enumerate(range(0, expected, CHUNK_ROWS)):
        part = folder / f"{_CHUNK}={chunk}"
        if not part.is_dir():
            raise RuntimeError(f"Spark wrote no features of rows from {first}")
        count = min(CHUNK_ROWS, expected - first)
        yield from _assemble(pq.read_table(part), first, count).to_batches(batch_rows)
