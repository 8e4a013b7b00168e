"""What the poller, the reconciler and the account watch need beyond ``storage.work``.

Outcomes and exchange statuses (with their ``detail`` for the thread, compare-and-set on the
stored status, and the audit head on a request's final post) are written by
``storage.work.record_exchange_outcome`` / ``record_status``; this module adds:

* one-off reports (stalled, ambiguous reconciliation) written once until something changes;
* ``claim_tracked`` leases many in-flight requests in one statement, reading only the few
  columns the poller needs, so a thousand of them do not hold the write lock for long.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from approvals.content import Kind
from approvals.lifecycle import State
from storage import audit, outbox
from storage.columns import utc
from storage.engine import Database
from storage.repository import load_request
from storage.tables import OutboxRow, RequestRow, SubmissionRow

__all__ = [
    "Tracked",
    "claim_tracked",
    "known_client_ids",
    "known_exchange_ids",
    "release_leases",
    "report_once",
    "tracked",
]


@dataclass(frozen=True, slots=True)
class Tracked:
    """An in-flight request as the poller and the watch see it.

    ``last_event`` / ``last_event_at`` are the newest outbox event of the request: every change
    writes one, so its time is when the request last moved (or was last reported).
    """

    request_id: int
    client_withdraw_id: str
    kind: Kind
    state: State
    amount: Decimal
    destination: str
    chain_id: int
    exchange_withdraw_id: str | None
    exchange_status: str | None
    signed_at: datetime
    last_event: str | None
    last_event_at: datetime | None


def _tracked_rows(session: Session, ids: Collection[int]) -> list[Tracked]:
    newest = (
        select(OutboxRow.request_id, func.max(OutboxRow.seq).label("seq"))
        .where(col(OutboxRow.request_id).in_(list(ids)))
        .group_by(col(OutboxRow.request_id))
        .subquery()
    )
    last = {
        request_id: (event, at)
        for request_id, event, at in session.exec(
            select(OutboxRow.request_id, OutboxRow.event, OutboxRow.created_at).join(
                newest,
                (col(OutboxRow.request_id) == newest.c.request_id)
                & (col(OutboxRow.seq) == newest.c.seq),
            )
        ).all()
    }
    rows = session.exec(
        select(RequestRow, SubmissionRow)
        .join(SubmissionRow, col(SubmissionRow.request_id) == col(RequestRow.id))
        .where(col(RequestRow.id).in_(list(ids)))
        .order_by(col(RequestRow.id))
    ).all()
    found: list[Tracked] = []
    for request, submission in rows:
        if request.id is None:
            raise RuntimeError("a loaded request has no id")
        event, at = last.get(request.id, (None, None))
        found.append(
            Tracked(
                request_id=request.id,
                client_withdraw_id=request.client_withdraw_id,
                kind=Kind(request.kind),
                state=State(request.state),
                amount=Decimal(request.amount),
                destination=request.destination,
                chain_id=request.chain_id,
                exchange_withdraw_id=submission.exchange_withdraw_id,
                exchange_status=request.exchange_status,
                signed_at=submission.signed_at,
                last_event=event,
                last_event_at=at,
            )
        )
    return found


def claim_tracked(
    database: Database,
    *,
    owner: str,
    states: Collection[State],
    now: datetime,
    lease_for: timedelta,
    limit: int,
) -> list[Tracked]:
    """Lease up to ``limit`` signed requests in ``states`` that nobody holds a live lease on."""
    now = utc(now)
    with database.write() as session:
        ids = [
            request_id
            for request_id in session.exec(
                select(col(RequestRow.id))
                .where(
                    col(RequestRow.state).in_([state.value for state in states]),
                    (col(RequestRow.lease_until).is_(None)) | (col(RequestRow.lease_until) <= now),
                )
                .order_by(col(RequestRow.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if request_id is not None
        ]
        if not ids:
            return []
        session.exec(
            update(RequestRow)
            .where(col(RequestRow.id).in_(ids))
            .values(lease_owner=owner, lease_until=now + lease_for)
        )
        found = _tracked_rows(session, ids)
        session.commit()
    return found


def tracked(database: Database, *, states: Collection[State], limit: int = 10_000) -> list[Tracked]:
    """Signed requests in ``states``, without leasing them (the watch only reads)."""
    with database.read() as session:
        ids = [
            request_id
            for request_id in session.exec(
                select(col(RequestRow.id))
                .where(col(RequestRow.state).in_([state.value for state in states]))
                .order_by(col(RequestRow.id))
                .limit(limit)
            ).all()
            if request_id is not None
        ]
        return _tracked_rows(session, ids) if ids else []


def release_leases(
    database: Database, *, owner: str, request_ids: Collection[int] | None = None
) -> int:
    """Give back ``owner``'s leases (these, or all of them at shutdown); returns how many."""
    statement = update(RequestRow).where(col(RequestRow.lease_owner) == owner)
    if request_ids is not None:
        if not request_ids:
            return 0
        statement = statement.where(col(RequestRow.id).in_(list(request_ids)))
    with database.write() as session:
        result = session.exec(statement.values(lease_owner=None, lease_until=None))
        session.commit()
    return int(result.rowcount)


def known_exchange_ids(database: Database, *, exchange_ids: Collection[str]) -> set[str]:
    """Which of these edgeX withdrawal ids belong to withdrawbot's submissions."""
    if not exchange_ids:
        return set()
    with database.read() as session:
        found = session.exec(
            select(SubmissionRow.exchange_withdraw_id).where(
                col(SubmissionRow.exchange_withdraw_id).in_(list(exchange_ids))
            )
        ).all()
    return {value for value in found if value is not None}


def known_client_ids(database: Database, *, client_ids: Collection[str]) -> set[str]:
    """Which of these client withdraw ids withdrawbot drew (for any request, signed or not)."""
    if not client_ids:
        return set()
    with database.read() as session:
        found = session.exec(
            select(RequestRow.client_withdraw_id).where(
                col(RequestRow.client_withdraw_id).in_(list(client_ids))
            )
        ).all()
    return set(found)


def report_once(
    database: Database,
    *,
    request_id: int,
    event: str,
    expected_state: State,
    expected_exchange_status: str | None,
    detail: Mapping[str, object],
    now: datetime,
) -> bool:
    """An outbox event that changes nothing (stalled, ambiguous match), written once.

    Skipped if the request moved on since it was read, or if the newest event of the request
    is already this report: any change writes a newer event, after which it may be reported
    again.
    """
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        if (
            stored.request.state is not expected_state
            or stored.exchange_status != expected_exchange_status
        ):
            return False
        newest = session.exec(
            select(OutboxRow.event)
            .where(col(OutboxRow.request_id) == request_id)
            .order_by(col(OutboxRow.seq).desc())
            .limit(1)
        ).first()
        if newest == event:
            return False
        outbox.append(
            session,
            stored=stored,
            event=event,
            actor=audit.SYSTEM_ACTOR,
            previous_state=stored.request.state,
            detail=dict(detail),
            now=now,
        )
        session.commit()
    return True
