"""Requests as rows and back: the repository the units of work build on.

Every function takes the open session and keyword arguments, and none of them commits: the use
case that called them commits once, so a refusal anywhere leaves nothing behind. Loading a
request with ``lock=True`` takes its row lock (``FOR UPDATE`` on PostgreSQL; on SQLite the write
transaction already holds the database lock from ``BEGIN IMMEDIATE``), and decisions are read
after the lock is held, so a waiting transaction sees every decision committed before it.

A stored request is checked against its own content hash whenever it is loaded: a row edited
outside withdrawbot would otherwise inherit approvals given on other content.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select, update

from approvals.content import Kind, WithdrawalContent, canonical_fields
from approvals.decisions import Approval, Decision
from approvals.lifecycle import Request, State
from approvals.money import exact_sum
from storage.failures import CorruptRow, RequestNotFound, StaleRequest
from storage.tables import DecisionRow, RequestRow, SubmissionRow

__all__ = [
    "DAILY_WINDOW",
    "StoredRequest",
    "content_detail",
    "insert_request",
    "load_request",
    "new_client_withdraw_id",
    "update_request",
    "withdrawn_in_window",
]

# The policy's daily limit is a rolling 24 hours.
DAILY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """A domain request with what only storage knows about it."""

    id: int
    client_withdraw_id: str
    version: int
    request: Request
    exchange_status: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None


def new_client_withdraw_id() -> str:
    """19 random decimal digits, no leading zero: numeric, and never guessable or repeated."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


def load_request(session: Session, *, request_id: int, lock: bool) -> StoredRequest:
    statement = (
        select(RequestRow)
        .where(col(RequestRow.id) == request_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    row = session.exec(statement).one_or_none()
    if row is None:
        raise RequestNotFound(request_id)
    decisions = session.exec(
        select(DecisionRow)
        .where(col(DecisionRow.request_id) == request_id)
        .order_by(col(DecisionRow.id))
    ).all()
    return _stored(row, decisions)


def insert_request(session: Session, *, request: Request, now: datetime) -> StoredRequest:
    """A new request with a fresh client withdraw id; its decisions (if any) with it."""
    row = RequestRow(
        client_withdraw_id=new_client_withdraw_id(),
        requester=request.requester,
        drafted_at=request.drafted_at,
        version=1,
        updated_at=now,
        **_changing(request),
    )
    session.add(row)
    session.flush()
    if row.id is None:
        raise RuntimeError("the database assigned no id to the new request")
    stored = StoredRequest(
        id=row.id, client_withdraw_id=row.client_withdraw_id, version=1, request=request
    )
    _add_decisions(session, request_id=row.id, approvals=request.decisions)
    return stored


def update_request(
    session: Session, *, stored: StoredRequest, request: Request, now: datetime
) -> StoredRequest:
    """Write the outcome of a transition; refused if the row changed since ``stored`` was read.

    Decisions are append-only: the new request must keep every decision already stored, in
    order, and only the ones after them are inserted.
    """
    known = stored.request.decisions
    if request.decisions[: len(known)] != known or request.requester != stored.request.requester:
        raise ValueError(f"request {stored.id}: a transition may only append decisions")
    result = session.exec(
        update(RequestRow)
        .where(col(RequestRow.id) == stored.id, col(RequestRow.version) == stored.version)
        .values(version=stored.version + 1, updated_at=now, **_changing(request))
    )
    if result.rowcount != 1:
        raise StaleRequest(stored.id, stored.version)
    _add_decisions(session, request_id=stored.id, approvals=request.decisions[len(known) :])
    return replace(stored, version=stored.version + 1, request=request)


def withdrawn_in_window(
    session: Session,
    *,
    coin_name: str,
    now: datetime,
    in_flight: Collection[State],
    exclude: int | None = None,
) -> Decimal:
    """What the daily limit counts as already gone: ``in_flight`` states, plus completed ones.

    Requests in an ``in_flight`` state count whatever their age (the money is still on its way
    out); completed requests count while they were signed within the last 24 hours.
    """
    moving = select(RequestRow.amount).where(
        col(RequestRow.coin_name) == coin_name,
        col(RequestRow.state).in_([state.value for state in in_flight]),
    )
    if exclude is not None:
        moving = moving.where(col(RequestRow.id) != exclude)
    completed = (
        select(RequestRow.amount)
        .join(SubmissionRow, col(SubmissionRow.request_id) == col(RequestRow.id))
        .where(
            col(RequestRow.coin_name) == coin_name,
            col(RequestRow.state) == State.COMPLETED.value,
            col(SubmissionRow.signed_at) > now - DAILY_WINDOW,
        )
    )
    amounts = [*session.exec(moving).all(), *session.exec(completed).all()]
    return exact_sum(*(Decimal(amount) for amount in amounts))


def content_detail(content: WithdrawalContent) -> dict[str, object]:
    """The content as the audit log and the outbox spell it: the very fields its hash covers."""
    return canonical_fields(content)


def _changing(request: Request) -> dict[str, Any]:
    """Every column a transition may change."""
    content = request.content
    return {
        "state": request.state.value,
        "kind": content.kind.value,
        "account_id": content.account_id,
        "coin_id": content.coin_id,
        "coin_name": content.coin_name,
        "amount": _decimal_text(content.amount),
        "destination": content.destination,
        "chain_id": content.chain_id,
        "erc20_address": content.erc20_address,
        "lp_account_id": content.lp_account_id,
        "lp_l2_key": content.lp_l2_key,
        "fee_cap": None if content.fee_cap is None else _decimal_text(content.fee_cap),
        "content_hash": content.hash,
        "approval_round": request.approval_round,
        "round_opened_at": request.round_opened_at,
        "expires_at": request.expires_at,
        "note": request.note,
    }


def _decimal_text(value: Decimal) -> str:
    """Plain notation, exactly the value (``format(.., "f")`` never rounds or uses exponents)."""
    return format(value, "f")


def _add_decisions(session: Session, *, request_id: int, approvals: tuple[Approval, ...]) -> None:
    for approval in approvals:
        session.add(
            DecisionRow(
                request_id=request_id,
                approval_round=approval.approval_round,
                approver=approval.approver,
                decision=approval.decision.value,
                at=approval.at,
                policy_hash=approval.policy_hash,
                content_hash=approval.content_hash,
                reason=approval.reason,
            )
        )
    if approvals:
        session.flush()


def _stored(row: RequestRow, decisions: Collection[DecisionRow]) -> StoredRequest:
    if row.id is None:
        raise RuntimeError("a loaded request has no id")
    try:
        content = WithdrawalContent(
            kind=Kind(row.kind),
            account_id=row.account_id,
            coin_id=row.coin_id,
            coin_name=row.coin_name,
            amount=Decimal(row.amount),
            destination=row.destination,
            chain_id=row.chain_id,
            erc20_address=row.erc20_address,
            lp_account_id=row.lp_account_id,
            lp_l2_key=row.lp_l2_key,
            fee_cap=None if row.fee_cap is None else Decimal(row.fee_cap),
        )
        state = State(row.state)
    except ArithmeticError as err:
        raise CorruptRow(f"withdrawal request {row.id} holds an amount that is no number") from err
    except ValueError as err:
        raise CorruptRow(f"withdrawal request {row.id} holds invalid content: {err}") from err
    if content.hash != row.content_hash:
        raise CorruptRow(
            f"withdrawal request {row.id} no longer matches its content hash; it was changed "
            "outside withdrawbot"
        )
    request = Request(
        requester=row.requester,
        content=content,
        state=state,
        drafted_at=row.drafted_at,
        round_opened_at=row.round_opened_at,
        expires_at=row.expires_at,
        approval_round=row.approval_round,
        decisions=tuple(
            Approval(
                approver=decision.approver,
                decision=Decision(decision.decision),
                at=decision.at,
                policy_hash=decision.policy_hash,
                content_hash=decision.content_hash,
                approval_round=decision.approval_round,
                reason=decision.reason,
            )
            for decision in decisions
        ),
        note=row.note,
    )
    return StoredRequest(
        id=row.id,
        client_withdraw_id=row.client_withdraw_id,
        version=row.version,
        request=request,
        exchange_status=row.exchange_status,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
    )
