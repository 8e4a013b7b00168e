"""Exchange queries: questions for edgeX's private API that a web-only process leaves the worker.

``/withdraw history`` and ``claimable`` need the account key, which a web-only process never
reads. It stores the question (``ask``) with the Slack ``response_url`` to answer through; a
worker claims it with a lease like every other piece of work (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite), so two replicas never answer one query, and finishes it
with an outcome. ``renew`` just before posting the answer makes sure this worker still holds it.

The ``response_url`` is a bearer URL (anyone holding it may post to the person): it is handed
out only inside a claim, and dropped in the same update that finishes the query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, or_, select, update

from storage.columns import utc
from storage.engine import Database
from storage.failures import StorageError
from storage.tables import ExchangeQueryRow

__all__ = [
    "ExchangeQuery",
    "Outcome",
    "QueryKind",
    "ask",
    "claim",
    "defer",
    "finish",
    "release_leases",
    "renew",
]


class QueryKind(StrEnum):
    """The two reads, named as the command names them (the table's ``kind`` CHECK lists both)."""

    HISTORY = "history"
    CLAIMABLE = "claimable"


class Outcome(StrEnum):
    """How a query ended: its answer posted, a failure posted, or nothing posted (and why)."""

    ANSWERED = "answered"
    FAILED = "failed"
    EXPIRED = "expired"
    UNDELIVERED = "undelivered"


@dataclass(frozen=True, slots=True)
class ExchangeQuery:
    """A claimed query; ``attempts`` counts the earlier tries that failed for now."""

    id: int
    kind: QueryKind
    argument: str
    requester: str
    response_url: str
    created_at: datetime
    attempts: int

    def __repr__(self) -> str:
        # The response_url is a bearer URL: a query that ends up in a log must not show it.
        return (
            f"ExchangeQuery(id={self.id}, kind={self.kind.value}, argument={self.argument!r}, "
            f"requester={self.requester!r}, attempts={self.attempts})"
        )


def ask(
    database: Database,
    *,
    kind: QueryKind,
    argument: str,
    requester: str,
    response_url: str,
    now: datetime,
) -> int:
    """Store a question for the worker; ``argument`` (days or address) is already checked.

    A database error here is raised as a ``StorageError`` naming only its type: SQLAlchemy's
    own message shows the statement's parameters, and one of them is the ``response_url``.
    """
    row = ExchangeQueryRow(
        kind=kind.value,
        argument=argument,
        requester=requester,
        response_url=response_url,
        created_at=utc(now),
        attempts=0,
    )
    try:
        with database.write() as session:
            session.add(row)
            session.flush()
            query_id = row.id
            session.commit()
    except SQLAlchemyError as err:
        raise StorageError(f"the exchange query was not stored ({type(err).__name__})") from None
    if query_id is None:
        raise RuntimeError("the database assigned no id to the exchange query")
    return query_id


def claim(
    database: Database, *, owner: str, now: datetime, lease_for: timedelta, limit: int = 10
) -> list[ExchangeQuery]:
    """Lease up to ``limit`` unfinished queries, oldest first, that nobody holds or waits on."""
    now = utc(now)
    with database.write() as session:
        ids = list(
            session.exec(
                select(col(ExchangeQueryRow.id))
                .where(
                    col(ExchangeQueryRow.finished_at).is_(None),
                    or_(
                        col(ExchangeQueryRow.lease_until).is_(None),
                        col(ExchangeQueryRow.lease_until) <= now,
                    ),
                )
                .order_by(col(ExchangeQueryRow.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
        )
        if not ids:
            return []
        session.exec(
            update(ExchangeQueryRow)
            .where(col(ExchangeQueryRow.id).in_(ids))
            .values(lease_owner=owner, lease_until=now + lease_for)
        )
        rows = session.exec(
            select(ExchangeQueryRow)
            .where(col(ExchangeQueryRow.id).in_(ids))
            .order_by(col(ExchangeQueryRow.id))
        ).all()
        claimed = [_query(row) for row in rows]
        session.commit()
    return claimed


def _query(row: ExchangeQueryRow) -> ExchangeQuery:
    if row.id is None or row.response_url is None:
        raise RuntimeError("an unfinished exchange query without its id or response_url")
    return ExchangeQuery(
        id=row.id,
        kind=QueryKind(row.kind),
        argument=row.argument,
        requester=row.requester,
        response_url=row.response_url,
        created_at=row.created_at,
        attempts=row.attempts,
    )


def renew(
    database: Database, *, query_id: int, owner: str, now: datetime, lease_for: timedelta
) -> bool:
    """Extend ``owner``'s live lease on an unfinished query; False if it no longer holds one."""
    now = utc(now)
    return _update_held(
        database,
        query_id=query_id,
        owner=owner,
        live_at=now,
        values={"lease_until": now + lease_for},
    )


def finish(
    database: Database, *, query_id: int, owner: str, outcome: Outcome, now: datetime
) -> bool:
    """End the query ``owner`` holds with ``outcome`` and drop its URL; False if not held."""
    return _update_held(
        database,
        query_id=query_id,
        owner=owner,
        values={
            "finished_at": utc(now),
            "outcome": outcome.value,
            "response_url": None,
            "lease_owner": None,
            "lease_until": None,
        },
    )


def defer(database: Database, *, query_id: int, owner: str, until: datetime) -> bool:
    """Give the query back after a failure that may pass, to be tried again from ``until``.

    The lease is kept without an owner until then, so no worker claims it sooner.
    """
    return _update_held(
        database,
        query_id=query_id,
        owner=owner,
        values={
            "attempts": ExchangeQueryRow.attempts + 1,
            "lease_owner": None,
            "lease_until": utc(until),
        },
    )


def _update_held(
    database: Database,
    *,
    query_id: int,
    owner: str,
    values: Mapping[str, object],
    live_at: datetime | None = None,
) -> bool:
    """Change an unfinished query only while ``owner`` holds it; False when it does not.

    With ``live_at`` the lease must also still be live then. A worker that lost its lease so
    never touches what another one took over.
    """
    statement = update(ExchangeQueryRow).where(
        col(ExchangeQueryRow.id) == query_id,
        col(ExchangeQueryRow.lease_owner) == owner,
        col(ExchangeQueryRow.finished_at).is_(None),
    )
    if live_at is not None:
        statement = statement.where(col(ExchangeQueryRow.lease_until) > live_at)
    with database.write() as session:
        result = session.exec(statement.values(values))
        session.commit()
    return result.rowcount == 1


def release_leases(database: Database, *, owner: str, query_ids: list[int] | None = None) -> int:
    """Give back ``owner``'s leases at once (these, or all of them at shutdown)."""
    statement = update(ExchangeQueryRow).where(col(ExchangeQueryRow.lease_owner) == owner)
    if query_ids is not None:
        statement = statement.where(col(ExchangeQueryRow.id).in_(query_ids))
    with database.write() as session:
        result = session.exec(statement.values(lease_owner=None, lease_until=None))
        session.commit()
    return int(result.rowcount)
