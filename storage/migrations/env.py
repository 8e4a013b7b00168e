"""Run by Alembic inside ``storage.migrations.upgrade``, on the connection it was handed.

SQLite cannot alter most columns in place, so migrations run in batch mode there (copy and
move). Dropping the original of a copied table would trip the foreign keys pointing at it, so
foreign keys are off while migrations run on SQLite (the pragma works only outside a
transaction) and ``PRAGMA foreign_key_check`` must find nothing before the commit: SQLite's own
recipe for changing a table. On PostgreSQL an advisory lock makes replicas that migrate at the
same time take turns; the second one then finds the schema at head and does nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection

from storage.tables import metadata

# Any fixed number works; it only has to be the same in every withdrawbot process.
_MIGRATION_LOCK = 0x77_64_62_6F_74


def _run(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        _migrate(connection, sqlite=False)
        return
    _sqlite_foreign_keys(connection, on=False)
    try:
        _migrate(connection, sqlite=True)
    except BaseException:
        connection.rollback()
        raise
    else:
        # Alembic may leave its work in a transaction it opened implicitly; the pragma can only
        # be switched back on outside one, so that transaction ends here.
        connection.commit()
    finally:
        _sqlite_foreign_keys(connection, on=True)


def _migrate(connection: Connection, *, sqlite: bool) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        on_version_apply=_check_foreign_keys if sqlite else None,
    )
    with context.begin_transaction():
        if not sqlite:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()


def _check_foreign_keys(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Run inside each revision's transaction, so a dangling row rolls that revision back."""
    if (
        ctx.connection is not None
        and ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").first()
    ):
        raise RuntimeError("the migration left rows whose foreign keys point nowhere")


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Set the pragma on the driver's connection: through SQLAlchemy it would open a transaction.

    Inside a transaction SQLite ignores it without a word, hence the refusal.
    """
    if connection.in_transaction():
        raise RuntimeError("migrations on SQLite must start outside a transaction")
    connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}"
    )


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run migrations through storage.migrations.upgrade (withdrawbot migrate)")
_run(_connection)
