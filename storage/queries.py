"""Reads and small records the Slack side needs beside the units of work.

Lists of requests for ``/withdraw list`` and the App Home, the requester's reason (kept in the
draft's outbox detail, since it is not approved content), refused clicks for the audit log,
reminders sent, and the unfreeze votes that let two approvers resume signing without either of
them being able to do it alone. The outbox's own reads and marks are ``storage.outbox``'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, func, select

from approvals.content import canonical_fields
from approvals.lifecycle import State
from storage import audit, outbox
from storage.columns import utc
from storage.engine import Database
from storage.outbox_events import REMINDED
from storage.repository import StoredRequest, load_request
from storage.tables import AuditRow, OutboxRow, RequestRow

__all__ = [
    "REFUSED",
    "REMINDED",
    "UNFREEZE_VOTE",
    "count_by_state",
    "only_one",
    "pending_twins",
    "reasons",
    "record_refusal",
    "record_reminder",
    "record_unfreeze_vote",
    "reminded",
    "requests_in",
    "unfreeze_voters",
]

REFUSED = "refused"
UNFREEZE_VOTE = "unfreeze_vote"


@contextmanager
def only_one(database: Database, *, name: str) -> Iterator[bool]:
    """Whether this process may do ``name`` now, held until the block ends.

    On PostgreSQL a session advisory lock, so of several replicas' notifiers one drains the
    outbox at a time (two would both post an event neither has marked yet). SQLite serves one
    process, so there it is always granted.
    """
    if database.is_sqlite:
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with database.engine.connect() as connection:
        granted = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        )
        connection.commit()
        try:
            yield granted
        finally:
            if granted:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()


def requests_in(
    database: Database, *, states: Collection[State], limit: int = 50
) -> list[StoredRequest]:
    """Requests in ``states``, newest first."""
    with database.read() as session:
        ids = session.exec(
            select(col(RequestRow.id))
            .where(col(RequestRow.state).in_([state.value for state in states]))
            .order_by(col(RequestRow.id).desc())
            .limit(limit)
        ).all()
        return [load_request(session, request_id=i, lock=False) for i in ids if i is not None]


def count_by_state(database: Database) -> dict[str, int]:
    """How many requests are in each state (for metrics)."""
    with database.read() as session:
        states = session.exec(select(RequestRow.state)).all()
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts


def reasons(database: Database, *, request_ids: Collection[int]) -> dict[int, str]:
    """What each requester wrote, from the draft event (the first outbox row of a request)."""
    if not request_ids:
        return {}
    with database.read() as session:
        rows = session.exec(
            select(OutboxRow.request_id, OutboxRow.payload).where(
                col(OutboxRow.request_id).in_(list(request_ids)), col(OutboxRow.seq) == 1
            )
        ).all()
    found: dict[int, str] = {}
    for request_id, payload in rows:
        reason = json.loads(payload).get("detail", {}).get("reason")
        found[request_id] = reason if isinstance(reason, str) else ""
    return found


def record_refusal(
    database: Database,
    *,
    actor: str,
    action: str,
    reason: str,
    now: datetime,
    request_id: int | None = None,
) -> None:
    """A refused click or command: it changes nothing but this audit row."""
    with database.write() as session:
        content_hash = None
        if request_id is not None:
            content_hash = session.exec(
                select(RequestRow.content_hash).where(col(RequestRow.id) == request_id)
            ).first()
        audit.append(
            session,
            at=now,
            actor=actor,
            action=REFUSED,
            request_id=request_id if content_hash is not None else None,
            content_hash=content_hash,
            detail={"attempted": action, "reason": reason, "request_id": request_id},
        )
        session.commit()


def reminded(database: Database, *, request_ids: Collection[int]) -> dict[int, int]:
    """The approval round each request was last reminded of (absent: never)."""
    if not request_ids:
        return {}
    with database.read() as session:
        rows = session.exec(
            select(AuditRow.request_id, AuditRow.detail).where(
                col(AuditRow.action) == REMINDED,
                col(AuditRow.request_id).in_(list(request_ids)),
            )
        ).all()
    found: dict[int, int] = {}
    for request_id, detail in rows:
        if request_id is not None:
            found[request_id] = max(found.get(request_id, 0), int(json.loads(detail)["round"]))
    return found


def record_reminder(
    database: Database, *, stored: StoredRequest, mentioned: Collection[str], now: datetime
) -> bool:
    """Queue the reminder of this round (audit row and outbox event); False if one was.

    Checked and written under the request's row lock, so however many sweepers run, each round
    is reminded of once.
    """
    request = stored.request
    with database.write() as session:
        audit.lock_head(session)
        current = load_request(session, request_id=stored.id, lock=True)
        if current.request.state is not State.PENDING_APPROVAL:
            return False
        earlier = session.exec(
            select(AuditRow.detail).where(
                col(AuditRow.action) == REMINDED, col(AuditRow.request_id) == stored.id
            )
        ).all()
        if any(json.loads(d)["round"] == request.approval_round for d in earlier):
            return False
        audit.append(
            session,
            at=utc(now),
            actor=audit.SYSTEM_ACTOR,
            action=REMINDED,
            request_id=stored.id,
            content_hash=request.content_hash,
            detail={"round": request.approval_round, "mentioned": sorted(mentioned)},
        )
        outbox.append(
            session,
            stored=current,
            event=REMINDED,
            actor=audit.SYSTEM_ACTOR,
            previous_state=current.request.state,
            detail={"round": request.approval_round, "mentioned": sorted(mentioned)},
            now=now,
        )
        session.commit()
    return True


def record_unfreeze_vote(database: Database, *, by: str, now: datetime) -> None:
    """One approver asks to resume signing; a second, different one completes it."""
    with database.write() as session:
        audit.append(session, at=now, actor=by, action=UNFREEZE_VOTE, detail={"by": by})
        session.commit()


def unfreeze_voters(database: Database, *, window: timedelta) -> list[str]:
    """Who voted to unfreeze the current freeze, within ``window`` of the newest vote.

    A vote belongs to one freeze: only votes written to the audit log after the latest
    ``freeze`` row count (by the log's order, not by clocks, which replicas do not share), so
    a vote cast before an unfreeze and a second freeze dies with the first. Votes older than
    ``window`` before the newest vote do not count either: an old, forgotten vote must not
    turn one person's click into an unfreeze.
    """
    with database.read() as session:
        frozen_at = session.exec(
            select(func.max(AuditRow.seq)).where(col(AuditRow.action) == "freeze")
        ).one()
        rows = session.exec(
            select(AuditRow.actor, AuditRow.at)
            .where(col(AuditRow.action) == UNFREEZE_VOTE, col(AuditRow.seq) > (frozen_at or 0))
            .order_by(col(AuditRow.seq))
        ).all()
    if not rows:
        return []
    newest = utc(rows[-1][1])
    voters: list[str] = []
    for actor, at in rows:
        if newest - utc(at) <= window and actor not in voters:
            voters.append(actor)
    return voters


_WAITING = (State.AWAITING_QUOTE, State.PENDING_APPROVAL, State.APPROVED)


_TWIN_FIELDS = ("kind", "account_id", "coin_id", "amount", "destination", "chain_id")


def pending_twins(database: Database, *, requests: Sequence[StoredRequest]) -> dict[int, int]:
    """For each of ``requests``, the earliest other request still waiting with its content.

    Same kind, account, coin, amount, destination and chain: what a person would call "the
    same withdrawal" (a cross one's LP quote differs between drafts and is left out). One
    query for all of them, since a list or Home shows many cards at once.
    """
    if not requests:
        return {}
    with database.read() as session:
        waiting = session.exec(
            select(
                col(RequestRow.id),
                *(getattr(RequestRow, name) for name in _TWIN_FIELDS),
            )
            .where(col(RequestRow.state).in_([state.value for state in _WAITING]))
            .order_by(col(RequestRow.id))
        ).all()
    by_content: dict[tuple[object, ...], list[int]] = {}
    for request_id, *fields in waiting:
        if request_id is not None:
            by_content.setdefault(tuple(fields), []).append(request_id)
    twins: dict[int, int] = {}
    for stored in requests:
        fields = canonical_fields(stored.request.content)
        ids = by_content.get(tuple(fields[name] for name in _TWIN_FIELDS), [])
        other = next((i for i in ids if i != stored.id), None)
        if other is not None:
            twins[stored.id] = other
    return twins
