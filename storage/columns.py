"""Column types and encodings that make both engines store the same values the same way.

Times: SQLite has no time zone type, and a naive datetime compared with an aware one is a bug
waiting in a lease check. So every time is stored as UTC (naive text on SQLite, ``timestamptz``
on PostgreSQL) and always read back as an aware UTC datetime; a naive one is refused on the way
in rather than guessed at.

JSON: stored as text in one canonical spelling, so the audit chain can hash exactly the bytes
that are stored and a dump compares equal across engines.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "canonical_json", "utc"]


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime has no meaning here and is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a time must carry its time zone: {moment.isoformat()}")
    return moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces: the same value always becomes the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
