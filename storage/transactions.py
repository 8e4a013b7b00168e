"""One transaction per use case: draft, decide (approve or reject), cancel, expire, re-quote.

Each one loads the request under its row lock, applies the pure transition from
``approvals.lifecycle`` (the rules live there and only there), writes the new state with one
audit row and one outbox event, and commits once. A refusal from the domain
(``approvals.refusals.ApprovalError``) propagates with its message for the person who clicked,
after the transaction is rolled back: the database is left exactly as it was.

Freeze and unfreeze are in ``storage.freeze``; the worker's steps in ``storage.work``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from approvals import lifecycle
from approvals.content import WithdrawalContent
from approvals.decisions import Decision
from approvals.drafts import Draft, check_draft
from approvals.lifecycle import TERMINAL, State, Trigger
from approvals.membership import Membership
from approvals.metadata import ExchangeMetadata, Quote
from approvals.policy import Policy
from storage import audit, outbox
from storage.audit import SYSTEM_ACTOR
from storage.columns import utc
from storage.engine import Database
from storage.repository import (
    StoredRequest,
    content_detail,
    insert_request,
    load_request,
    update_request,
    withdrawn_in_window,
)
from storage.tables import RequestRow

__all__ = [
    "DRAFT_IN_FLIGHT",
    "cancel",
    "decide",
    "draft",
    "expirable",
    "expire",
    "get_request",
    "record_change",
    "requote",
]

# What a new draft's daily-limit check counts as already gone: approved and everything after.
DRAFT_IN_FLIGHT = frozenset(
    {State.APPROVED, State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION}
)


def record_change(
    session: Session,
    *,
    before: State | None,
    after: StoredRequest,
    action: str,
    actor: str,
    policy_hash: str | None,
    detail: Mapping[str, object],
    now: datetime,
) -> None:
    """The audit row and the outbox event for one change, in the caller's transaction.

    A request's final event also names the audit chain's head after it, so the last post in its
    thread lets anyone check later that the log was not cut short.
    """
    full: dict[str, object] = {
        "from": None if before is None else before.value,
        "to": after.request.state.value,
        **detail,
    }
    row = audit.append(
        session,
        at=now,
        actor=actor,
        action=action,
        request_id=after.id,
        content_hash=after.request.content_hash,
        policy_hash=policy_hash,
        detail=full,
    )
    if after.request.state in TERMINAL:
        full = {**full, "audit_head_seq": row.seq, "audit_head_hash": row.row_hash}
    outbox.append(
        session,
        stored=after,
        event=action,
        actor=actor,
        previous_state=before,
        detail=full,
        now=now,
    )


def draft(
    database: Database,
    *,
    draft: Draft,
    requester: str,
    exchange: ExchangeMetadata,
    policy: Policy,
    membership: Membership,
    now: datetime,
    reason: str | None = None,
) -> StoredRequest:
    """Store a valid draft as a request waiting for approval, with its client withdraw id.

    A cross draft without its LP quote (drafted where the quote cannot be fetched) waits for
    the worker's quote instead (``storage.quoting``). The checks that need no stored state
    (``approvals.drafts.check_draft``) run first, outside the transaction; see
    :func:`store_checked`.
    """
    content = check_draft(
        draft, requester=requester, exchange=exchange, policy=policy, membership=membership
    )
    return store_checked(
        database, content=content, requester=requester, policy=policy, now=now, reason=reason
    )


def store_checked(
    database: Database,
    *,
    content: WithdrawalContent,
    requester: str,
    policy: Policy,
    now: datetime,
    reason: str | None = None,
) -> StoredRequest:
    """Store content ``check_draft`` returned, once the daily limit has room for it.

    ``reason`` is what the requester wrote; it is not part of the approved content, so it is
    kept in the draft's audit and outbox detail, where the messages read it from.

    The chain head is locked first, so the daily-limit sum is read in the same order in which
    submissions commit (``storage.work.begin_submission`` takes the same lock).
    """
    now = utc(now)
    with database.write() as session:
        audit.lock_head(session)
        withdrawn = withdrawn_in_window(
            session, coin_name=content.coin_name, now=now, in_flight=DRAFT_IN_FLIGHT
        )
        request = lifecycle.open_checked_request(
            content,
            requester=requester,
            policy=policy,
            withdrawn_in_window=withdrawn,
            now=now,
        )
        stored = insert_request(session, request=request, now=now)
        record_change(
            session,
            before=None,
            after=stored,
            action=(
                Trigger.DRAFT_STORED if request.content.quoted else Trigger.DRAFT_STORED_UNQUOTED
            ).value,
            actor=requester,
            policy_hash=policy.hash,
            detail={
                "client_withdraw_id": stored.client_withdraw_id,
                "content": content_detail(request.content),
                "expires_at": request.expires_at.isoformat(),
                "reason": reason,
            },
            now=now,
        )
        session.commit()
    return stored


def decide(
    database: Database,
    *,
    request_id: int,
    approver: str,
    decision: Decision,
    policy: Policy,
    membership: Membership,
    now: datetime,
    reason: str | None = None,
) -> StoredRequest:
    """Record an approve or reject click; the request moves if the policy is now decided."""
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        request = lifecycle.decide(
            stored.request,
            approver=approver,
            decision=decision,
            policy=policy,
            membership=membership,
            now=now,
            reason=reason,
        )
        after = update_request(session, stored=stored, request=request, now=now)
        recorded = request.decisions[-1]
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=decision.value,
            actor=approver,
            policy_hash=policy.hash,
            detail={
                "decision": recorded.decision.value,
                "approval_round": recorded.approval_round,
                "reason": recorded.reason,
            },
            now=now,
        )
        session.commit()
    return after


def cancel(database: Database, *, request_id: int, by: str, now: datetime) -> StoredRequest:
    """The requester withdraws a request that is still waiting for approvals or its quote."""
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        after = update_request(
            session, stored=stored, request=lifecycle.cancel(stored.request, by=by), now=now
        )
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=Trigger.CANCELLED.value,
            actor=by,
            policy_hash=None,
            detail={},
            now=now,
        )
        session.commit()
    return after


def expire(
    database: Database, *, request_id: int, now: datetime, actor: str = SYSTEM_ACTOR
) -> StoredRequest:
    """Close a request whose approval window has passed."""
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        after = update_request(
            session, stored=stored, request=lifecycle.expire(stored.request, now=now), now=now
        )
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=Trigger.WINDOW_PASSED.value,
            actor=actor,
            policy_hash=None,
            detail={"expires_at": stored.request.expires_at.isoformat()},
            now=now,
        )
        session.commit()
    return after


def requote(
    database: Database,
    *,
    request_id: int,
    quote: Quote,
    policy: Policy,
    now: datetime,
    actor: str = SYSTEM_ACTOR,
) -> StoredRequest:
    """Apply a fresh LP quote; a quote that fits what was approved writes nothing at all."""
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        request = lifecycle.requote(stored.request, quote=quote, policy=policy, now=now)
        if request == stored.request:
            return stored
        after = update_request(session, stored=stored, request=request, now=now)
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=Trigger.REQUOTED.value,
            actor=actor,
            policy_hash=policy.hash,
            detail={
                "previous_content_hash": stored.request.content_hash,
                "approval_round": request.approval_round,
                "content": content_detail(request.content),
            },
            now=now,
        )
        session.commit()
    return after


def get_request(database: Database, *, request_id: int) -> StoredRequest:
    with database.read() as session:
        return load_request(session, request_id=request_id, lock=False)


def expirable(database: Database, *, now: datetime, limit: int = 100) -> list[int]:
    """Ids of requests waiting (for approvals or a quote) whose window has passed, oldest first."""
    with database.read() as session:
        ids = session.exec(
            select(col(RequestRow.id))
            .where(
                col(RequestRow.state).in_(
                    [State.PENDING_APPROVAL.value, State.AWAITING_QUOTE.value]
                ),
                col(RequestRow.expires_at) <= utc(now),
            )
            .order_by(col(RequestRow.expires_at), col(RequestRow.id))
            .limit(limit)
        ).all()
    return [request_id for request_id in ids if request_id is not None]
