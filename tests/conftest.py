"""Suite-wide test policy: with CI=true a skipped test is a failure, since CI has every service."""

from __future__ import annotations

import compileall
import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

# The commands' consoles are made at import and take their width then: a wide one, whatever
# runs the tests (a terminal, a pipe, a pytest-xdist worker), so no table cell is wrapped.
os.environ["COLUMNS"] = "200"


def pytest_configure(config: pytest.Config) -> None:
    """Compile the package's modules once, before the workers start, when Python was told not
    to write bytecode (PYTHONDONTWRITEBYTECODE): it still reads bytecode, and without it every
    `fundwall` child process the tests start (servers, commands, benchmarks) would compile
    every module it imports again, half a second each time."""
    if sys.dont_write_bytecode and not hasattr(config, "workerinput"):
        import fundwall

        compileall.compile_dir(Path(fundwall.__file__).parent, quiet=1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[assignment]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {reason}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each `xdist_group` on one worker under `--dist loadgroup` (make test).

    pytest-xdist names a test's group by appending `@group` to its node id, through the
    attribute pytest 9.2 no longer reads (pytest-dev/pytest-xdist#1386): the groups were
    silently spread over both workers, each starting its own Spark JVM. This appends it the
    way pytest 9.2 keeps node ids, only where xdist's own suffix is missing.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if names and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(names)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, None]:
    """A whole module skipped at collection (e.g. no browser) fails under CI=true too."""
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()  # type: ignore[assignment]
    if IN_CI and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {reason}"


# ---------------------------------------------------------------------------------------------
# Database fixtures: every test that uses one of them runs twice, on SQLite and on PostgreSQL.
#
#   def test_something(uow_factory):
#       with uow_factory() as uow:
#           uow.session.add(...)
#           uow.audit.record("system:test", "load", "region:R1")
#           uow.commit()
#
# `database_url` is an empty database (for migration tests); `migrated_database_url`,
# `platform` (the composition root over it), `database` and `uow_factory` give a database at
# the newest schema with empty tables, fast: migrations run once per session and each test
# gets a copy (SQLite) or emptied tables (PostgreSQL).
# Select one backend with `-k sqlite` or `-k postgresql`; `-m "not postgres"` skips PostgreSQL.

import itertools  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from fundwall.bootstrap import Platform  # noqa: E402
from fundwall.clock import FixedClock  # noqa: E402
from fundwall.config import get_settings  # noqa: E402
from fundwall.crypto import Keyring  # noqa: E402
from fundwall.domain.institutions import Institution, InstitutionKind  # noqa: E402
from fundwall.store import UnitOfWork  # noqa: E402
from fundwall.store.audit_chain import GENESIS_HASH  # noqa: E402
from fundwall.store.mapping import institution_row  # noqa: E402
from fundwall.store.migrate import upgrade  # noqa: E402
from fundwall.store.tables import Base  # noqa: E402
from kept_stores import KeptStores, opened_platform, run_postgres  # noqa: E402

POSTGRES_URL_ENV = "FUNDWALL_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
TEST_EPOCH = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
"""Where the `clock` fixture starts: Saturday 2024-06-01 16:00 in Asia/Shanghai."""

_schema_numbers = itertools.count(1)
_checkpoint_files = itertools.count(1)

SUITE_AUDIT_KEY = "a5" * 32
"""The audit key of every test that does not choose its own (hex, as in FUNDWALL_KEYS__AUDIT_KEY):
so no test writes a key file into the working directory, and databases built once per session
verify in every test. Tests of the key files remove the FUNDWALL_* variables."""


@pytest.fixture(scope="session", autouse=True)
def _suite_audit_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    checkpoints = tmp_path_factory.getbasetemp() / "audit-checkpoints" / "session.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FUNDWALL_KEYS__AUDIT_KEY", SUITE_AUDIT_KEY)
        patch.setenv("FUNDWALL_AUDIT__CHECKPOINTS", str(checkpoints))
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _audit_checkpoints_of_the_test(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Each test signs the audit chain's checkpoints into a file of its own: tests copy and
    empty databases, which one shared checkpoint file would rightly report as chains cut back."""
    folder = tmp_path_factory.getbasetemp() / "audit-checkpoints"
    monkeypatch.setenv(
        "FUNDWALL_AUDIT__CHECKPOINTS", str(folder / f"{next(_checkpoint_files)}.jsonl")
    )
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """URL of a PostgreSQL database private to this test session, dropped at its end.

    The server comes from $FUNDWALL_TEST_POSTGRES_URL (default
    postgresql+psycopg://postgres@127.0.0.1:5432/postgres; its database is used only to
    create and drop ours). The database is named fundwall_test_<pid>_<random>, so parallel
    runs never meet. When the server cannot be reached the PostgreSQL tests skip with the
    reason, which under CI=true is a failure.
    """
    server = make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"fundwall_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        first_line = str(error.orig).strip().splitlines()[0]
        shown = server.render_as_string(hide_password=True)
        pytest.skip(f"PostgreSQL unreachable at {shown} (set {POSTGRES_URL_ENV}): {first_line}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _new_postgres_schema(database_url: str) -> str:
    """A fresh schema in the session database and the URL that works inside it."""
    base: URL = make_url(database_url)
    schema = f"t{next(_schema_numbers)}_{secrets.token_hex(3)}"
    creator = create_engine(base)
    try:
        with creator.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        creator.dispose()
    scoped = base.update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)


@pytest.fixture(params=DATABASE_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database of the test's own, without any schema: SQLite, then PostgreSQL.

    SQLite: the file tmp_path/fundwall.db (not yet created). PostgreSQL: a fresh schema in
    the session database, chosen by `options=-csearch_path=...` in the URL, so everything
    created without a schema name lands there. For tests of migrations; hand it to
    `fundwall.store.migrate.upgrade`, or to a subprocess as FUNDWALL_DATABASE_URL.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fundwall.db'}"
    return _new_postgres_schema(request.getfixturevalue("postgres_database_url"))


@pytest.fixture
def second_database_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of another empty database of the test's own, on the backend of `database_url`
    (for a reference store beside the one under test)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'second.db'}"
    return _new_postgres_schema(request.getfixturevalue("postgres_database_url"))


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "fundwall.db"
    upgrade(f"sqlite:///{path}")  # disposes its engine, so the WAL is folded into the file
    return path


@pytest.fixture(scope="session")
def _migrated_postgres_schema(postgres_database_url: str) -> str:
    url = _new_postgres_schema(postgres_database_url)
    upgrade(url)
    return url


_EMPTY_POSTGRES_TABLES = ";".join(
    [
        # A test that left a transaction open fails here instead of hanging the run.
        "SET LOCAL lock_timeout = '10s'",
        # DELETE, not TRUNCATE: on tables this small it is many times faster (no new files).
        *(f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)),
        f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')",
    ]
)
"""Every table emptied and the audit chain's head reset, sent as one string: one round trip
to the server instead of one a table, a third of the time before each PostgreSQL test."""


@pytest.fixture(params=DATABASE_BACKENDS)
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a database at the newest schema with every table empty: SQLite, then PostgreSQL.

    Migrations run once per session. SQLite: each test gets its own copy of the migrated
    file in tmp_path. PostgreSQL: one migrated schema per session, its tables emptied and
    the audit chain head reset before each test (surrogate ids keep counting). So do not
    change its schema in a test (use `database_url` for that), and close your sessions (the
    `platform` fixture disposes its pool).
    """
    if request.param == "sqlite":
        path = tmp_path / "fundwall.db"
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_migrated_postgres_schema")
    run_postgres(url, _EMPTY_POSTGRES_TABLES)
    return url


@pytest.fixture
def clock() -> FixedClock:
    """A FixedClock at TEST_EPOCH (2024-06-01 08:00 UTC); move it with `.advance(...)`."""
    return FixedClock(TEST_EPOCH)


@pytest.fixture
def platform(migrated_database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Platform]:
    """The platform (`opened_platform`) over `migrated_database_url`, on the test's `clock`,
    with tmp_path as its data directory (so its keyring is the `keyring` fixture's key
    files); disposed after the test."""
    with opened_platform(migrated_database_url, clock, tmp_path) as opened:
        yield opened


@pytest.fixture(scope="session")
def kept_stores(tmp_path_factory: pytest.TempPathFactory) -> KeptStores:
    """This session's `KeptStores`."""
    return KeptStores(tmp_path_factory.mktemp("kept-stores"))


@pytest.fixture
def database(platform: Platform) -> Engine:
    """The platform's database (SQLite: foreign keys and WAL on)."""
    return platform.database


@pytest.fixture
def uow_factory(platform: Platform) -> Callable[[], UnitOfWork]:
    """Makes units of work on `database` with the test's `clock`: `with uow_factory() as uow:`."""
    return platform.unit_of_work


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    """A Keyring with fresh random key files under tmp_path/keys."""
    return Keyring.load(tmp_path / "keys")


@pytest.fixture
def institutions(uow_factory: Callable[[], UnitOfWork]) -> Callable[[], UnitOfWork]:
    """The test's units of work, on a database holding two banks (B001, B002), the hub (HUB1)
    and a police unit (PSB1)."""
    kinds = {
        "B001": InstitutionKind.BANK,
        "B002": InstitutionKind.BANK,
        "HUB1": InstitutionKind.HUB,
        "PSB1": InstitutionKind.POLICE_UNIT,
    }
    with uow_factory() as uow:
        for code, kind in kinds.items():
            uow.session.add(institution_row(Institution(code, code, code, kind, "350200")))
        uow.commit()
    return uow_factory


@pytest.fixture
def own_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Settings read anew from this test's environment alone (no FUNDWALL_* from outside),
    run from `tmp_path`; set what the test needs with the monkeypatch it yields."""
    for name in list(os.environ):
        if name.startswith("FUNDWALL_") and name != "FUNDWALL_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def configured_store(
    own_settings: pytest.MonkeyPatch, tmp_path: Path, migrated_database_url: str
) -> str:
    """A command's settings of this test only: the test's migrated database and data
    directory (keys); the database URL."""
    own_settings.setenv("FUNDWALL_DATABASE_URL", migrated_database_url)
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path))
    return migrated_database_url


@pytest.fixture
def stocked(uow_factory: Callable[[], UnitOfWork], keyring: Keyring) -> Callable[[], UnitOfWork]:
    """The two-bank world of tests/auth/world.py with its users, on SQLite and PostgreSQL (a
    module overrides it where it needs another world)."""
    from auth import world

    with uow_factory() as uow:
        world.build(uow, keyring)
        world.add_users(uow)
    return uow_factory
