"""Dead letters: Slack events set aside because Slack refuses them for good or they cannot be drawn.

The notifier delivers a request's events in order, so one event that can never be delivered
(Slack answers ``invalid_blocks``, ``channel_not_found``, ``message_not_found``; or rendering it
raised) would hold back everything behind it, and one bad event at the head of the queue held back
every request's. Instead it is set aside here with its error: ``pending`` no longer offers it,
the channel is told in plain text, ``/metrics`` counts it (``withdrawbot_outbox_dead_letters``),
and an operator lists, retries or drops it with ``withdrawbot outbox``. Request events
(``outbox``) and account alerts (``account_alerts``) are set aside alike; each retry or drop is
written to the audit log, since it changes what people were told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import exists
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select, update

from storage import audit
from storage.columns import utc
from storage.engine import Database
from storage.tables import AlertRow, DeadLetterRow, OutboxRow

__all__ = [
    "ERROR_KEPT",
    "DeadLetter",
    "count",
    "drop",
    "is_set_aside",
    "listing",
    "retry",
    "set_aside",
]

ERROR_KEPT = 500  # characters of the error kept; Slack's codes are short, exceptions need not be
RETRIED = "outbox_retry"
DROPPED = "outbox_drop"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One event set aside; ``request_id`` is ``None`` for an account alert."""

    key: str
    kind: Literal["request", "alert"]
    request_id: int | None
    event: str
    dead_at: datetime
    error: str


def is_set_aside(key_column: object) -> ColumnElement[bool]:
    """A condition for ``outbox`` / ``account_alerts`` queries: this row's event is set aside."""
    return exists().where(col(DeadLetterRow.event_key) == key_column)


def set_aside(
    database: Database,
    *,
    key: str,
    event: str,
    error: str,
    now: datetime,
    request_id: int | None = None,
    slack_ts: str | None = None,
) -> None:
    """Set the event ``key`` aside with ``error`` (again: the newer error is kept).

    ``slack_ts`` is the plain-text note posted in its place, kept where the event's own message
    would be: for a request's first event it is the thread every later event replies in.
    """
    with database.write() as session:
        row = session.get(DeadLetterRow, key) or DeadLetterRow(
            event_key=key,
            kind="alert" if request_id is None else "request",
            request_id=request_id,
            event=event[:64],
            dead_at=utc(now),
            error="",
        )
        row.dead_at = utc(now)
        row.error = error[:ERROR_KEPT] or "?"
        session.add(row)
        if slack_ts is not None:
            _mark_note(session, key, slack_ts, alert=request_id is None)
        session.commit()


def _mark_note(session: Session, key: str, slack_ts: str, *, alert: bool) -> None:
    if alert:
        session.exec(
            update(AlertRow).where(col(AlertRow.alert_key) == key).values(slack_ts=slack_ts)
        )
    else:
        session.exec(
            update(OutboxRow).where(col(OutboxRow.outbox_key) == key).values(slack_ts=slack_ts)
        )


def listing(database: Database) -> list[DeadLetter]:
    """Every event set aside and neither retried nor dropped, oldest first."""
    with database.read() as session:
        rows = session.exec(
            select(DeadLetterRow).order_by(col(DeadLetterRow.dead_at), col(DeadLetterRow.event_key))
        ).all()
    return [
        DeadLetter(
            key=row.event_key,
            kind="alert" if row.kind == "alert" else "request",
            request_id=row.request_id,
            event=row.event,
            dead_at=utc(row.dead_at),
            error=row.error,
        )
        for row in rows
    ]


def count(database: Database) -> int:
    """How many events are set aside now (the ``withdrawbot_outbox_dead_letters`` gauge)."""
    with database.read() as session:
        return int(session.exec(select(func.count()).select_from(DeadLetterRow)).one())


def retry(database: Database, *, key: str, by: str, now: datetime) -> bool:
    """Offer the event to the notifier again; False if ``key`` is not a dead letter."""
    return _settle(database, key=key, by=by, now=now, action=RETRIED)


def drop(database: Database, *, key: str, by: str, now: datetime) -> bool:
    """Give the event up for good: marked delivered, its error kept in the audit log."""
    return _settle(database, key=key, by=by, now=now, action=DROPPED)


def _settle(database: Database, *, key: str, by: str, now: datetime, action: str) -> bool:
    with database.write() as session:
        row = session.get(DeadLetterRow, key)
        if row is None:
            return False
        detail = {"key": key, "event": row.event, "error": row.error}
        if action == DROPPED:
            _mark_dropped(session, key, now, alert=row.kind == "alert")
        session.delete(row)
        audit.append(
            session, at=now, actor=by, action=action, request_id=row.request_id, detail=detail
        )
        session.commit()
    return True


def _mark_dropped(session: Session, key: str, now: datetime, *, alert: bool) -> None:
    if alert:
        session.exec(
            update(AlertRow)
            .where(col(AlertRow.alert_key) == key, col(AlertRow.delivered_at).is_(None))
            .values(delivered_at=utc(now))
        )
    else:
        session.exec(
            update(OutboxRow)
            .where(col(OutboxRow.outbox_key) == key, col(OutboxRow.delivered_at).is_(None))
            .values(delivered_at=utc(now))
        )
