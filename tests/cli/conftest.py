from tests.storage.databases import (  # noqa: F401 - fixtures
    database_url,
    engine_name,
    postgres_server,
    postgres_template,
    sqlite_template,
    unmigrated_url,
)
