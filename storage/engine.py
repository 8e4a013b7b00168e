"""Engines and sessions: SQLite for one process, PostgreSQL for several, one behaviour.

SQLite (a file): WAL so readers never block the writer, foreign keys on, and every write
transaction opened with ``BEGIN IMMEDIATE`` (SQLAlchemy's documented pysqlite recipe: the
driver's own BEGIN is switched off and the ``begin`` event emits ours). Taking the write lock at
BEGIN rather than at the first write means two transactions can never both read a request and
then race to write it; the busy timeout makes the second one queue instead of failing.

PostgreSQL (psycopg 3): READ COMMITTED; the unit of work takes row locks (``FOR UPDATE``) where
SQLite relies on the lock taken at BEGIN. A connection attempt gives up after
``CONNECT_TIMEOUT_SECONDS`` (unless the URL sets its own ``connect_timeout``): libpq's default is
to wait forever, so a host that drops packets would hang start-up instead of refusing it.

:meth:`Database.relaxed_write` is a unit of work whose commit does not wait for the disk
(SQLite ``synchronous=NORMAL`` on its own connections, PostgreSQL ``synchronous_commit off``): a
process crash never loses it, a power failure may lose the last few. Only records whose loss
costs nothing but a repeated check use it (``storage.slack_deliveries``); everything else is
written with ``write``, fsynced at each commit.

``open_database`` is what a process calls to work; it refuses a database whose schema is not at
this code's migration head.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from storage.failures import StorageError
from storage.migrations import ensure_migrated

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "CONNECT_TIMEOUT_SECONDS",
    "Database",
    "connect_timeout",
    "create_database_engine",
    "database_url",
    "open_database",
]

BUSY_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10
_READ_ONLY = "withdrawbot_read_only"


def database_url(url: str | URL) -> URL:
    """The SQLAlchemy URL; ``postgres://`` and bare ``postgresql://`` mean psycopg 3."""
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text.removeprefix(prefix)
    return make_url(text)


def create_database_engine(
    url: str | URL, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS, pool_size: int = 5
) -> Engine:
    """An engine for ``url`` with the per-engine settings above; no schema check."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StorageError(
                "an in-memory SQLite database lives and dies with one connection; use a file "
                "(sqlite:///withdrawbot.db)"
            )
        engine = create_engine(
            parsed,
            connect_args={"timeout": busy_timeout},
            pool_size=pool_size,
            max_overflow=pool_size * 2,
        )
        _sqlite_hooks(engine, busy_timeout)
        return engine
    return create_engine(
        parsed,
        connect_args=connect_timeout(parsed),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
    )


def connect_timeout(url: URL) -> dict[str, int]:
    """The psycopg ``connect_timeout`` argument, unless the URL chose its own."""
    return {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def _sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        # The driver must not open transactions itself; _begin below does.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@dataclass(frozen=True)
class Database:
    """An engine plus the two kinds of transaction the rest of storage opens on it."""

    engine: Engine
    read_engine: Engine = field(init=False, repr=False, compare=False)
    relaxed_engine: Engine = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        reader = self.engine.execution_options(**{_READ_ONLY: True})
        object.__setattr__(self, "read_engine", reader)
        relaxed = self.engine
        if self.is_sqlite:
            # Its own small pool, so no connection of ``write`` ever runs unsynced.
            relaxed = create_database_engine(self.engine.url, pool_size=2)

            @event.listens_for(relaxed, "connect")
            def _unsynced(
                dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry
            ) -> None:
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        object.__setattr__(self, "relaxed_engine", relaxed)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def where(self) -> str:
        """The database as an operator names it: a file path, or the URL without password."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return str(Path(url.database or ":memory:"))
        return url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: nothing is kept unless the caller commits, once, at its end.

        On SQLite the transaction holds the write lock from its first statement.
        """
        with Session(self.engine, expire_on_commit=False, autoflush=False) as session:
            yield session

    @contextmanager
    def relaxed_write(self) -> Iterator[Session]:
        """A unit of work like :meth:`write` whose commit does not wait for the disk."""
        with Session(self.relaxed_engine, expire_on_commit=False, autoflush=False) as session:
            if not self.is_sqlite:
                session.connection().execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads; on SQLite it does not queue behind writers."""
        with Session(self.read_engine, expire_on_commit=False, autoflush=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.relaxed_engine is not self.engine:
            self.relaxed_engine.dispose()


def open_database(
    url: str | URL, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS, pool_size: int = 5
) -> Database:
    """The database to work on, refused unless its schema is at this code's migration head."""
    engine = create_database_engine(url, busy_timeout=busy_timeout, pool_size=pool_size)
    database = Database(engine)
    try:
        ensure_migrated(database)
    except BaseException:
        database.dispose()
        raise
    return database
