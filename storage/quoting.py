"""The worker's LP quote for a cross draft stored without one: filled in or refused, one step each.

A process without the account key stores a cross-chain draft in AWAITING_QUOTE
(``storage.transactions.draft``). A worker claims it with a lease (``storage.work.claim``, as
the submitter claims approved requests, so two replicas never quote one request), fetches the
quote, and records the outcome here: the quote filled into the content and the request
approvable, or the request ended because edgeX will not quote it. Each is one transaction with
its audit row and outbox event, like every other transition, and needs the lease at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from approvals import lifecycle
from approvals.lifecycle import State, Trigger
from approvals.metadata import CrossQuote, Quote
from approvals.money import canonical_decimal
from approvals.policy import Policy
from storage.columns import utc
from storage.engine import Database
from storage.repository import StoredRequest, content_detail, load_request, update_request
from storage.transactions import record_change
from storage.work import hold_lease

__all__ = ["quote_detail", "record_quote", "record_quote_refused"]


def quote_detail(quote: Quote) -> dict[str, str]:
    """The quote as edgeX gave it, for the thread and the audit log (fee and maximum included)."""
    if not isinstance(quote, CrossQuote):
        return {"fee": canonical_decimal(quote.fee)}
    return {
        "lp_account_id": quote.lp_account_id,
        "lp_l2_key": quote.lp_l2_key,
        "fee": canonical_decimal(quote.fee),
        "max_amount": canonical_decimal(quote.max_amount),
    }


def record_quote(
    database: Database,
    *,
    request_id: int,
    owner: str,
    quote: Quote,
    policy: Policy,
    now: datetime,
) -> StoredRequest:
    """Fill ``quote`` in: the request waits for approval, or ends if the quote cannot serve it.

    Raises the domain's refusal (the request moved on, say it was cancelled, or its window
    closed) and ``LeaseLost``; either way nothing is written.
    """
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        hold_lease(stored, owner=owner, now=now)
        request = lifecycle.quote_received(stored.request, quote=quote, policy=policy, now=now)
        after = update_request(session, stored=stored, request=request, now=now)
        detail: dict[str, object] = {"quote": quote_detail(quote)}
        if request.state is State.PENDING_APPROVAL:
            action = Trigger.QUOTED
            detail |= {
                "content": content_detail(request.content),
                "previous_content_hash": stored.request.content_hash,
                "expires_at": request.expires_at.isoformat(),
            }
        else:
            action = Trigger.QUOTE_REFUSED
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=action.value,
            actor=owner,
            policy_hash=policy.hash,
            detail=detail,
            now=now,
        )
        session.commit()
    return after


def record_quote_refused(
    database: Database,
    *,
    request_id: int,
    owner: str,
    reason: str,
    now: datetime,
    detail: Mapping[str, object] | None = None,
) -> StoredRequest:
    """End a draft edgeX will not quote; ``detail`` keeps edgeX's error for the thread."""
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        hold_lease(stored, owner=owner, now=now)
        request = lifecycle.quote_refused(stored.request, reason=reason)
        after = update_request(session, stored=stored, request=request, now=now)
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=Trigger.QUOTE_REFUSED.value,
            actor=owner,
            policy_hash=None,
            detail=dict(detail or {}),
            now=now,
        )
        session.commit()
    return after
