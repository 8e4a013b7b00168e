"""Alerts for the channel that belong to no request, such as a withdrawal withdrawbot never made.

They are delivered like the outbox (``pending`` in order, ``mark_delivered`` with the Slack
message ts), but keyed by what they are about rather than by a request: ``raise_alert`` with the
same key twice writes one row, so every replica may look at the same exchange history and the
channel still hears of each finding once. Each alert is also written to the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update

from storage import audit, dead_letters
from storage.columns import canonical_json, utc
from storage.engine import Database
from storage.outbox_events import AlertEvent, read_alert
from storage.tables import AlertRow

__all__ = ["AlertEntry", "alert_key", "mark_delivered", "pending", "raise_alert"]


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """One undelivered alert; ``key`` goes into the Slack message metadata like an outbox key."""

    id: int
    key: str
    event: str
    payload: Mapping[str, Any]
    created_at: datetime

    def alert(self) -> AlertEvent:
        """The alert as the lines to post (``storage.outbox_events.read_alert``)."""
        return read_alert(self.event, self.payload)


def alert_key(*, event: str, subject: str) -> str:
    return f"withdrawbot-alert-{event}-{subject}"


def raise_alert(
    database: Database,
    *,
    event: str,
    subject: str,
    detail: Mapping[str, object],
    now: datetime,
    actor: str = audit.SYSTEM_ACTOR,
) -> bool:
    """Store the alert unless one with the same event and subject exists; True if stored."""
    now = utc(now)
    key = alert_key(event=event, subject=subject)
    payload = {
        "event": event,
        "key": key,
        "subject": subject,
        "at": now.isoformat(timespec="microseconds"),
        "detail": dict(detail),
    }
    with database.write() as session:
        exists = session.exec(select(AlertRow.id).where(col(AlertRow.alert_key) == key)).first()
        if exists is not None:
            return False
        audit.append(session, at=now, actor=actor, action=event, detail=payload)
        session.add(
            AlertRow(alert_key=key, event=event, payload=canonical_json(payload), created_at=now)
        )
        try:
            session.commit()
        except IntegrityError:
            # Another replica stored the same finding between our check and our commit.
            session.rollback()
            return False
    return True


def pending(database: Database, *, limit: int = 100) -> list[AlertEntry]:
    """Undelivered alerts, oldest first, less those set aside as dead letters."""
    with database.read() as session:
        rows = session.exec(
            select(AlertRow)
            .where(
                col(AlertRow.delivered_at).is_(None),
                ~dead_letters.is_set_aside(AlertRow.alert_key),
            )
            .order_by(col(AlertRow.id))
            .limit(limit)
        ).all()
    entries: list[AlertEntry] = []
    for row in rows:
        if row.id is None:
            raise RuntimeError("a loaded alert has no id")
        entries.append(
            AlertEntry(
                id=row.id,
                key=row.alert_key,
                event=row.event,
                payload=json.loads(row.payload),
                created_at=row.created_at,
            )
        )
    return entries


def mark_delivered(
    database: Database, *, key: str, now: datetime, slack_ts: str | None = None
) -> bool:
    """Record that the alert is in Slack; False if it already was."""
    with database.write() as session:
        result = session.exec(
            update(AlertRow)
            .where(col(AlertRow.alert_key) == key, col(AlertRow.delivered_at).is_(None))
            .values(delivered_at=utc(now), slack_ts=slack_ts)
        )
        session.commit()
    return result.rowcount == 1
