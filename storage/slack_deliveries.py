"""Slack requests already acted on, so a replayed or retried one acts no more.

Slack retries an Events API delivery it thinks was lost (same ``event_id``, ``X-Slack-Retry-Num``
1, 2, 3), and a signed body stays valid for five minutes, so anyone who sees one can post it
again. Approval clicks were idempotent by their stored reference; a slash command was not: each
copy drafted a request. So the key of each request (``trigger_id`` for commands and
interactions, ``event_id`` for events) is inserted here before any listener runs, with
``INSERT ... ON CONFLICT DO NOTHING``: the first copy wins, in the database, so replicas agree.
Keys are kept for ``RETENTION``, longer than Slack's signature window: an older copy is refused
by its timestamp before it gets here.

The insert is on Slack's ack path, once per request, so it is committed without waiting for the
disk (``Database.relaxed_write``): an fsync per request made the acks of a burst queue behind
each other (p99 x1.8 of bare Bolt, against x1.1 without). A process crash loses no key; a power
failure may lose the last few, which costs at most acting on a copy Slack retries in that
moment, and a likely copy of a draft is pointed out on its card anyway.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete

from storage.columns import utc
from storage.engine import Database
from storage.tables import SlackDeliveryRow

__all__ = ["KEY_MAX", "PRUNE_EVERY", "RETENTION", "first_time"]

RETENTION = timedelta(minutes=10)
KEY_MAX = 160
PRUNE_EVERY = 64


def first_time(database: Database, *, key: str, kind: str, now: datetime) -> bool:
    """Record ``key``; True only for the first copy seen within ``RETENTION``.

    About one insert in ``PRUNE_EVERY`` (chosen by the key's checksum, so no state is kept)
    also prunes the keys older than ``RETENTION``, so the table stays the size of ten minutes
    of traffic without a delete on every ack.

    ``key`` and ``kind`` come from the request body, so they are stored escaped
    (:func:`_storable`): a lone surrogate or a NUL, which no database column takes, must not
    turn an ack into a 500. Slack's own ids are ASCII and stored as they are.
    """
    key, kind = _storable(key)[:KEY_MAX], _storable(kind)[:32]
    insert = (sqlite.insert if database.is_sqlite else postgresql.insert)(SlackDeliveryRow)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that may have done nothing.
    statement = (
        insert.values(delivery_key=key, kind=kind, seen_at=utc(now))
        .on_conflict_do_nothing(index_elements=["delivery_key"])
        .returning(col(SlackDeliveryRow.delivery_key))
    )
    with database.relaxed_write() as session:
        if zlib.crc32(key.encode("ascii")) % PRUNE_EVERY == 0:
            session.exec(
                delete(SlackDeliveryRow).where(col(SlackDeliveryRow.seen_at) < utc(now) - RETENTION)
            )
        inserted = session.exec(statement).first() is not None
        session.commit()
    return inserted


def _storable(text: str) -> str:
    """``text`` as printable ASCII, escaped losslessly, so two different keys stay two keys."""
    return text.encode("unicode_escape").decode("ascii")
