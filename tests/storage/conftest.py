from tests.storage.databases import (  # noqa: F401 - fixtures
    database_url,
    db,
    engine_name,
    postgres_server,
    postgres_template,
    sqlite_db,
    sqlite_template,
    unmigrated_url,
)
