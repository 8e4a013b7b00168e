"""Engine settings: WAL, foreign keys, busy timeout, BEGIN IMMEDIATE; URL forms."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.engine import Database, create_database_engine, database_url
from storage.failures import StorageError


def test_postgres_urls_mean_psycopg_3() -> None:
    for given in ("postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d"):
        url = database_url(given)
        assert url.drivername == "postgresql+psycopg"
        assert (url.username, url.password, url.host, url.database) == ("u", "p", "h", "d")
    assert database_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_db: Database) -> None:
    with sqlite_db.read() as session:
        assert session.connection().execute(text("PRAGMA journal_mode")).one()[0] == "wal"
        assert session.connection().execute(text("PRAGMA foreign_keys")).one()[0] == 1
        assert session.connection().execute(text("PRAGMA busy_timeout")).one()[0] == 30_000


def _try_write_lock(path: str) -> str:
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return "free"
    except sqlite3.OperationalError as err:
        return str(err)
    finally:
        other.close()


def test_sqlite_write_transactions_take_the_write_lock_at_begin(sqlite_db: Database) -> None:
    path = sqlite_db.engine.url.database or ""
    with sqlite_db.write() as session:
        # Only a read, yet the write lock is held from BEGIN on.
        session.connection().execute(text("SELECT 1")).one()
        assert _try_write_lock(path) == "database is locked"
    assert _try_write_lock(path) == "free"
    with sqlite_db.read() as session:
        session.connection().execute(text("SELECT count(*) FROM requests")).one()
        assert _try_write_lock(path) == "free"


def test_sqlite_second_writer_queues_instead_of_failing(sqlite_db: Database) -> None:
    """With the busy timeout, a writer waits for the first to commit rather than erroring."""
    order: list[str] = []
    first_has_lock = threading.Event()

    def first() -> None:
        with sqlite_db.write() as session:
            session.connection().execute(text("SELECT 1")).one()
            first_has_lock.set()
            time.sleep(0.3)
            order.append("first commits")
            session.commit()

    thread = threading.Thread(target=first)
    thread.start()
    first_has_lock.wait(5)
    with sqlite_db.write() as session:
        session.connection().execute(text("SELECT 1")).one()
        order.append("second has the lock")
        session.commit()
    thread.join()
    assert order == ["first commits", "second has the lock"]


def test_foreign_keys_are_enforced(db: Database) -> None:
    orphan = text(
        "INSERT INTO outbox (request_id, seq, outbox_key, event, payload, created_at) "
        "VALUES (999, 1, 'k', 'e', '{}', CURRENT_TIMESTAMP)"
    )
    with db.write() as session, pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        session.connection().execute(orphan)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(StorageError, match="use a file"):
        create_database_engine(url)
