"""Test databases on both engines, each migrated by the real Alembic migrations.

SQLite: a file per test, copied from one migrated per session. PostgreSQL (when
``WITHDRAWBOT_TEST_POSTGRES_URL`` is set): a database per test, created from a template migrated
once per session, under a name unique to this run (process id and random suffix), and every
database this run created is dropped at its end, so two runs on one server never meet.

The fixtures are imported by ``tests/storage/conftest.py`` and ``tests/cli/conftest.py``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text

from storage.engine import Database, create_database_engine, open_database
from storage.engine import database_url as sqlalchemy_url
from storage.migrations import upgrade
from storage.tables import metadata

POSTGRES_ENV = "WITHDRAWBOT_TEST_POSTGRES_URL"
SKIP_POSTGRES = f"set {POSTGRES_ENV} to run the PostgreSQL tests"
ENGINES = ("sqlite", "postgresql")


@dataclass
class PostgresServer:
    """Creates and drops this run's databases through an autocommit admin connection."""

    url: str
    prefix: str = field(default_factory=lambda: f"wbtest_{os.getpid()}_{secrets.token_hex(4)}")
    created: list[str] = field(default_factory=list)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        libpq = sqlalchemy_url(self.url).set(drivername="postgresql")
        return psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True)

    def url_of(self, name: str) -> str:
        return sqlalchemy_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        with self._admin() as admin:
            admin.execute(f"CREATE DATABASE {name}{clause}")
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def drop_all(self) -> None:
        for name in self.created:
            self.drop(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        pytest.skip(SKIP_POSTGRES)
    server = PostgresServer(url)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    name = postgres_server.create()
    migrate(postgres_server.url_of(name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "withdrawbot.db"
    migrate(f"sqlite:///{path}")
    return path


def migrate(url: str) -> None:
    database = Database(create_database_engine(url))
    try:
        upgrade(database)
    finally:
        database.dispose()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of this test's engine."""
    if engine_name == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "withdrawbot.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create(template=request.getfixturevalue("postgres_template"))
    yield server.url_of(name)
    server.drop(name)


@pytest.fixture
def unmigrated_url(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A database nobody migrated: a SQLite path with no file yet, an empty PostgreSQL one."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create()
    yield server.url_of(name)
    server.drop(name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """For what only SQLite has (pragmas, file locks); not parametrised over engines."""
    path = tmp_path / "withdrawbot.db"
    shutil.copyfile(sqlite_template, path)
    database = open_database(f"sqlite:///{path}")
    yield database
    database.dispose()


def dump(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (and PostgreSQL's sequence positions), in a stable order.

    Tables a later migration creates are left out of a database not yet migrated that far.
    """
    tables: dict[str, list[tuple[object, ...]]] = {}
    with database.read_engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        names = [table.name for table in metadata.sorted_tables if table.name in present]
        for name in [*names, "alembic_version"]:
            rows = connection.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all()  # noqa: S608
            tables[name] = [tuple(row) for row in rows]
        if not database.is_sqlite:
            sequences = connection.execute(
                text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
            ).all()
            tables["pg_sequences"] = [tuple(row) for row in sequences]
    return tables


def sqlite_file_bytes(database: Database) -> bytes:
    """The database file after a checkpoint, so every committed page is in it."""
    path = Path(database.engine.url.database or "")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    assert busy == 0, "the checkpoint could not complete"
    return path.read_bytes()


def allow_tampering(database: Database) -> None:
    """Switch off the append-only triggers, as someone with database access could."""
    with database.engine.connect() as connection:
        if database.is_sqlite:
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        else:
            connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        connection.commit()
