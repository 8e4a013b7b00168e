"""Migrations: the schema at head is what storage.tables describes; other schemas are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from approvals.lifecycle import State
from storage.engine import Database, create_database_engine, open_database
from storage.failures import NewerSchema, NotMigrated
from storage.migrations import LOCATION, current_revision, head_revision, upgrade
from storage.tables import metadata
from tests.approvals.helpers import T1, cross
from tests.storage.databases import dump
from tests.storage.world import approve, store

STORAGE = Path(__file__).resolve().parents[2] / "storage"


def test_head_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_unmigrated_database_is_refused_in_one_line(unmigrated_url: str) -> None:
    with pytest.raises(NotMigrated) as refused:
        open_database(unmigrated_url)
    message = str(refused.value)
    assert message.endswith("is not migrated (run: withdrawbot migrate)")
    assert message.startswith("the database at ")
    assert "\n" not in message


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    with pytest.raises(NotMigrated, match=f"the database at {path} is not migrated"):
        open_database(f"sqlite:///{path}")
    assert not path.exists()


def test_password_never_shown() -> None:
    database = Database(create_database_engine("postgres://wb:s3cret-pw@db.invalid:5432/wb"))
    assert database.where == "postgresql+psycopg://wb:***@db.invalid:5432/wb"
    database.dispose()


def test_migrate_then_open(unmigrated_url: str) -> None:
    database = Database(create_database_engine(unmigrated_url))
    try:
        assert current_revision(database) is None
        assert upgrade(database) == head_revision()
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()
    open_database(unmigrated_url).dispose()


def test_migrating_again_changes_nothing(db: Database) -> None:
    store(db)
    before = dump(db)
    assert upgrade(db) == head_revision()
    assert dump(db) == before


def test_outdated_and_newer_schemas_are_refused(database_url: str) -> None:
    database = Database(create_database_engine(database_url))
    try:
        with database.engine.connect() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffffffff'")
            connection.commit()
        with pytest.raises(NewerSchema, match="migrated by a newer withdrawbot"):
            open_database(database_url)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("DELETE FROM alembic_version")
            connection.commit()
        with pytest.raises(NotMigrated):
            open_database(database_url)
    finally:
        database.dispose()


def test_downgrade_to_nothing_and_back(database_url: str) -> None:
    database = Database(create_database_engine(database_url))
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    try:
        with database.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            connection.commit()
        assert current_revision(database) is None
        upgrade(database)
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()
    open_database(database_url).dispose()


def test_migrations_live_inside_the_package() -> None:
    """The installed wheel carries them: script_location is found from the module itself."""
    assert LOCATION == STORAGE / "migrations"
    assert (LOCATION / "env.py").is_file()
    assert sorted(p.name for p in (LOCATION / "versions").glob("r*.py"))


def _to(database: Database, revision: str, *, down: bool) -> None:
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
        connection.commit()


def test_0003_keeps_every_row_and_admits_the_quote_states(database_url: str) -> None:
    """Requests with decisions and outbox rows pointing at them survive the copy SQLite makes."""
    database = Database(create_database_engine(database_url))
    try:
        _to(database, "0002", down=True)
        stored = store(database)
        approve(database, stored.id, T1)
        before = dump(database)
        _to(database, "head", down=False)
        after = dump(database)
        assert after.pop("alembic_version") == [(head_revision(),)]
        before.pop("alembic_version")
        created = {name: after.pop(name) for name in set(after) - set(before)}
        sequences = {row[0]: row[1] for row in after.pop("pg_sequences", [])}
        known = {row[0]: row[1] for row in before.pop("pg_sequences", [])}
        assert after == before
        assert all(rows == [] for rows in created.values())
        assert {name: sequences[name] for name in known} == known
        assert all(sequences[name] is None for name in set(sequences) - set(known))
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
        waiting = store(database, cross(quote=None))
        assert waiting.request.state is State.AWAITING_QUOTE
        with pytest.raises(IntegrityError):
            _to(database, "0002", down=True)
    finally:
        database.dispose()
