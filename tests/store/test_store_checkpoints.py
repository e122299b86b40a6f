"""A SQLite store's write-ahead log is checkpointed by a thread, not by the commit that takes
it past a thousand pages (`store.database.checkpoint_apart`): that commit would otherwise
wait for the copy and its sync, the slowest percent of a workflow's calls."""

from __future__ import annotations

import time
from pathlib import Path

from fundwall.store.database import CHECKPOINT_SECONDS, checkpoint_apart, open_database

BLOB_BYTES = 8_000
ROWS = 640  # 5 MB: some 1,300 pages, past the thousand that SQLite checkpoints at


def test_commits_leave_the_log_to_the_thread_which_copies_it_within_seconds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    database = open_database(f"sqlite:///{path}")
    checkpoints = checkpoint_apart(database)
    assert checkpoints is not None
    try:
        with database.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            connection.exec_driver_sql("CREATE TABLE t (x BLOB)")
            connection.commit()
            started = time.monotonic()
            for _ in range(ROWS):
                connection.exec_driver_sql(f"INSERT INTO t VALUES (randomblob({BLOB_BYTES}))")
                connection.commit()
            written_s = time.monotonic() - started
        if written_s < CHECKPOINT_SECONDS:  # the thread's first round had not come yet
            # No commit copied the log into the database file: the rows are in the log.
            assert path.stat().st_size < ROWS * BLOB_BYTES / 4
        deadline = time.monotonic() + 20 * CHECKPOINT_SECONDS  # a guard, not a measure
        while path.stat().st_size < ROWS * BLOB_BYTES:
            assert time.monotonic() < deadline, "the thread never checkpointed the log"
            time.sleep(0.05)
    finally:
        checkpoints.stop()
        database.dispose()
    assert not checkpoints.is_alive()


def test_only_a_sqlite_file_is_checkpointed_apart() -> None:
    database = open_database("sqlite://")
    assert checkpoint_apart(database) is None
    with database.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    database.dispose()
