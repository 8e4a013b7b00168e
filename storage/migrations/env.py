"""Run by Alembic inside ``storage.migrations.upgrade``, on the connection it was handed.

SQLite cannot alter most columns in place, so migrations run in batch mode there (copy and
move). On PostgreSQL an advisory lock makes replicas that migrate at the same time take turns;
the second one then finds the schema at head and does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.tables import metadata

# Any fixed number works; it only has to be the same in every withdrawbot process.
_MIGRATION_LOCK = 0x77_64_62_6F_74


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run migrations through storage.migrations.upgrade (withdrawbot migrate)")
_run(_connection)
