"""The Slack outbox: events written with the change they describe, delivered later, in order.

A Slack outage must delay messages, never lose them, and a crash between posting and marking
must not post twice. So each event is a row written in the same transaction as the state
change (``append``, called by the units of work), numbered per request, with a stable
``outbox_key`` the notifier puts in the message metadata and can look for in the thread before
posting again. The payload describes the event (states, actor, decision, note) as JSON, read
into one type per kind of event by ``storage.outbox_events`` (:meth:`OutboxEntry.change`); how
it reads in Slack is decided by the Slack layer.

Here too: the marks of a notifier pass in one write (``mark_delivered_many``), the backlog the
metrics report, and a request's root message. Alerts that belong to no request are delivered the
same way from ``storage.alerts``; events set aside for good are ``storage.dead_letters``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select, update

from approvals.lifecycle import State
from storage import dead_letters
from storage.columns import canonical_json, utc
from storage.engine import Database
from storage.outbox_events import RequestEvent, read_request_event
from storage.repository import StoredRequest
from storage.tables import OutboxRow

__all__ = [
    "OutboxEntry",
    "append",
    "backlog",
    "mark_delivered",
    "mark_delivered_many",
    "outbox_key",
    "pending",
    "root_message",
]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One undelivered event; ``thread_ts`` is the request's root message once it is posted.

    ``root_set_aside``: the request's first event is a dead letter whose note could not be
    posted either, so there is no thread to reply in.
    """

    id: int
    request_id: int
    seq: int
    key: str
    event: str
    payload: Mapping[str, Any]
    created_at: datetime
    thread_ts: str | None
    root_set_aside: bool = False

    def change(self) -> RequestEvent:
        """The event as its type (``storage.outbox_events``); :class:`UnreadableEvent` if none."""
        return read_request_event(self.event, self.payload)


def outbox_key(*, client_withdraw_id: str, seq: int) -> str:
    """Unique across databases too: the client withdraw id is random per request."""
    return f"withdrawbot-{client_withdraw_id}-{seq}"


def append(
    session: Session,
    *,
    stored: StoredRequest,
    event: str,
    actor: str,
    previous_state: State | None,
    detail: Mapping[str, object],
    now: datetime,
) -> OutboxRow:
    """The next event of ``stored``'s request; the caller holds the request's row lock."""
    last = session.exec(
        select(func.max(OutboxRow.seq)).where(col(OutboxRow.request_id) == stored.id)
    ).one()
    seq = (last or 0) + 1
    request = stored.request
    payload = {
        "event": event,
        "request_id": stored.id,
        "client_withdraw_id": stored.client_withdraw_id,
        "seq": seq,
        "actor": actor,
        "at": utc(now).isoformat(timespec="microseconds"),
        "previous_state": None if previous_state is None else previous_state.value,
        "state": request.state.value,
        "exchange_status": stored.exchange_status,
        "approval_round": request.approval_round,
        "content_hash": request.content_hash,
        "note": request.note,
        "detail": dict(detail),
    }
    row = OutboxRow(
        request_id=stored.id,
        seq=seq,
        outbox_key=outbox_key(client_withdraw_id=stored.client_withdraw_id, seq=seq),
        event=event,
        payload=canonical_json(payload),
        created_at=utc(now),
    )
    session.add(row)
    session.flush()
    return row


def pending(database: Database, *, limit: int = 100) -> list[OutboxEntry]:
    """Undelivered events, oldest first, so each request's events come in their order.

    Events set aside as dead letters (``storage.dead_letters``) are not offered again.

    The notifier must deliver a request's events one after the other and stop at the first it
    cannot deliver, or a later event could overtake an earlier one.
    """
    with database.read() as session:
        rows = session.exec(
            select(OutboxRow)
            .where(
                col(OutboxRow.delivered_at).is_(None),
                ~dead_letters.is_set_aside(OutboxRow.outbox_key),
            )
            .order_by(col(OutboxRow.id))
            .limit(limit)
        ).all()
        firsts = session.exec(
            select(
                OutboxRow.request_id,
                OutboxRow.slack_ts,
                col(OutboxRow.delivered_at).is_not(None)
                | dead_letters.is_set_aside(OutboxRow.outbox_key),
            ).where(
                col(OutboxRow.request_id).in_({row.request_id for row in rows}),
                col(OutboxRow.seq) == 1,
            )
        ).all()
    roots = {request_id: ts for request_id, ts, _ in firsts}
    # A first event delivered or set aside with no message of its own: no thread will come.
    set_aside = {request_id for request_id, ts, done in firsts if done and ts is None}
    entries: list[OutboxEntry] = []
    for row in rows:
        if row.id is None:
            raise RuntimeError("a loaded outbox row has no id")
        entries.append(
            OutboxEntry(
                id=row.id,
                request_id=row.request_id,
                seq=row.seq,
                key=row.outbox_key,
                event=row.event,
                payload=json.loads(row.payload),
                created_at=row.created_at,
                thread_ts=roots.get(row.request_id),
                root_set_aside=row.request_id in set_aside,
            )
        )
    return entries


def mark_delivered(
    database: Database, *, key: str, now: datetime, slack_ts: str | None = None
) -> bool:
    """Record that the event is in Slack (``slack_ts`` is its message); False if it already was."""
    with database.write() as session:
        result = session.exec(
            update(OutboxRow)
            .where(col(OutboxRow.outbox_key) == key, col(OutboxRow.delivered_at).is_(None))
            .values(delivered_at=utc(now), slack_ts=slack_ts)
        )
        session.commit()
    return result.rowcount == 1


def mark_delivered_many(
    database: Database, *, delivered: Sequence[tuple[str, str]], now: datetime
) -> int:
    """Mark many outbox events delivered (key, Slack ts) in one transaction; returns how many.

    One write for a whole notifier pass instead of one per event, so a burst of drafts does not
    queue behind the notifier's bookkeeping for the database's write lock.
    """
    if not delivered:
        return 0
    marked = 0
    with database.write() as session:
        for key, ts in delivered:
            result = session.exec(
                update(OutboxRow)
                .where(col(OutboxRow.outbox_key) == key, col(OutboxRow.delivered_at).is_(None))
                .values(delivered_at=utc(now), slack_ts=ts)
            )
            marked += result.rowcount
        session.commit()
    return marked


def backlog(database: Database, *, now: datetime) -> tuple[int, float]:
    """Outbox events waiting for delivery and the age in seconds of the oldest one.

    Dead letters wait for a person, not for the notifier: they are counted apart.
    """
    with database.read() as session:
        created = session.exec(
            select(OutboxRow.created_at).where(
                col(OutboxRow.delivered_at).is_(None),
                ~dead_letters.is_set_aside(OutboxRow.outbox_key),
            )
        ).all()
    if not created:
        return 0, 0.0
    return len(created), max(0.0, (utc(now) - min(utc(c) for c in created)).total_seconds())


def root_message(database: Database, *, request_id: int) -> str | None:
    """The Slack ts of the request's root message, once it is posted."""
    with database.read() as session:
        return session.exec(
            select(OutboxRow.slack_ts).where(
                col(OutboxRow.request_id) == request_id, col(OutboxRow.seq) == 1
            )
        ).first()
