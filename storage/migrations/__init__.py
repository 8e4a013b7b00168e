"""Alembic migrations, shipped inside the package and run programmatically.

There is no ``alembic.ini``: the script location is this directory, found from this module, so
``withdrawbot migrate`` works the same from a checkout and from an installed wheel, and the
connection is handed to ``env.py`` directly instead of through a URL in a config file (the URL
may hold a password). Revisions in ``versions/`` are written by hand, one per schema change,
and ``tests/storage/test_migrations.py`` checks that head matches ``storage.tables``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage.failures import NewerSchema, NotMigrated

if TYPE_CHECKING:
    from storage.engine import Database

__all__ = ["current_revision", "ensure_migrated", "head_revision", "upgrade"]

LOCATION = Path(__file__).resolve().parent


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    # Config values go through configparser interpolation, so a '%' in the path is doubled.
    config.set_main_option("script_location", str(LOCATION).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError(f"no migration revisions found in {LOCATION / 'versions'}")
    return head


def current_revision(database: Database) -> str | None:
    """The revision the database is at, or ``None`` if it was never migrated."""
    if not _file_exists(database):
        return None
    with database.read_engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise RuntimeError(f"the database at {database.where} has several heads: {heads}")
    return heads[0] if heads else None


def upgrade(database: Database) -> str:
    """Bring the schema to head in one transaction; returns the revision it is at now."""
    with database.engine.connect() as connection:
        command.upgrade(_config(connection), "head")
        connection.commit()
    return head_revision()


def ensure_migrated(database: Database) -> None:
    """Refuse to work on a schema other than this code's head, saying what to do."""
    current = current_revision(database)
    if current == head_revision():
        return
    known = {script.revision for script in _scripts().walk_revisions()}
    if current is not None and current not in known:
        raise NewerSchema(database.where, current)
    raise NotMigrated(database.where)


def _file_exists(database: Database) -> bool:
    """Connecting to a missing SQLite file would create an empty one; report it instead."""
    url = database.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return Path(url.database or "").exists()
