"""The worker's steps: leases, the move to SUBMITTING with its signed body, exchange outcomes.

Several replicas may run workers. A worker claims requests with a lease (owner and
``lease_until``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), so two
workers never work on one request, and a request is resumed by another worker only after its
owner's lease ran out. Acting on a request (signing it, recording what edgeX answered to the
send) requires holding its lease at that moment.

``begin_submission`` is the one way into SUBMITTING: it re-checks the request against the
present (``approvals.lifecycle.begin_submission``), refuses while frozen, signs through the
worker's callback only if the re-check passed, checks that the signed body carries exactly the
approved content and the request's client withdraw id, and stores body and state together.
Every later send is a resend of that stored body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, func, or_, select, update

from approvals import lifecycle
from approvals.content import Kind
from approvals.lifecycle import State, Trigger
from approvals.membership import Membership
from approvals.metadata import Quote
from approvals.policy import Policy
from storage import audit
from storage.columns import utc
from storage.engine import Database
from storage.failures import LeaseLost, SubmissionMismatch
from storage.freeze import ensure_not_frozen
from storage.repository import StoredRequest, load_request, update_request, withdrawn_in_window
from storage.tables import STATUS, RequestRow, StatusEventRow, SubmissionRow
from storage.transactions import record_change

__all__ = [
    "LEAVING",
    "STATUS_MAX",
    "SignedSubmission",
    "SignedTerms",
    "Signer",
    "Submission",
    "SubmissionStart",
    "TermsReader",
    "begin_submission",
    "bounded_status",
    "claim",
    "hold_lease",
    "record_exchange_outcome",
    "record_status",
    "release_lease",
    "renew_lease",
    "renew_submission",
    "submissions",
]

# What the re-check before signing counts as already gone: money that left or is leaving.
# Approved requests not yet signed do not count, or two of them could block each other.
LEAVING = frozenset({State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION})
STATUS_MAX = STATUS


def bounded_status(status: str) -> str:
    """The status text edgeX sent, as stored: whole when it fits, else cut with an ellipsis.

    edgeX controls its length; the raw record beside it keeps the whole text.
    """
    return status if len(status) <= STATUS_MAX else status[: STATUS_MAX - 1] + "…"


@dataclass(frozen=True, slots=True)
class SignedSubmission:
    """What the worker's signer returns: the exact JSON text that will be sent, every time."""

    kind: Kind
    body: str
    client_withdraw_id: str
    expire_time_ms: int
    # edgeX V2: the typed data's domain contract the signature is bound to, shown in the thread.
    verifying_contract: str | None = None


Signer = Callable[[StoredRequest], SignedSubmission]


@dataclass(frozen=True, slots=True)
class SignedTerms:
    """What a signed body says it does, read back from its text, in the approval's own terms.

    ``None`` where the body does not say (a normal withdrawal has no chain, LP or fee).
    """

    client_withdraw_id: str | None
    expire_time_ms: int | None
    account_id: str | None
    coin_id: str | None
    amount: Decimal | None
    destination: str | None
    erc20_address: str | None = None
    lp_account_id: str | None = None
    chain_id: int | None = None
    fee: Decimal | None = None


# Reads a signed body's text (the exchange's wire format, which storage does not know) into the
# terms storage compares with the approved content; raises ValueError on a body it cannot read.
TermsReader = Callable[[Kind, str], SignedTerms]


@dataclass(frozen=True, slots=True)
class Submission:
    """A stored signed body; ``exchange_withdraw_id`` once edgeX has named the withdrawal."""

    request_id: int
    kind: Kind
    body: str
    client_withdraw_id: str
    expire_time_ms: int
    signed_at: datetime
    exchange_withdraw_id: str | None


@dataclass(frozen=True, slots=True)
class SubmissionStart:
    """The request after the re-check; ``submission`` is None if it went back for approval."""

    request: StoredRequest
    submission: Submission | None


def claim(
    database: Database,
    *,
    owner: str,
    states: Collection[State],
    now: datetime,
    lease_for: timedelta,
    limit: int = 10,
    exclude: Collection[int] = (),
) -> list[StoredRequest]:
    """Lease up to ``limit`` requests in ``states`` that nobody holds a live lease on.

    ``exclude`` are requests the caller means to leave alone for now (waiting out a backoff).
    """
    now = utc(now)
    with database.write() as session:
        query = select(col(RequestRow.id)).where(
            col(RequestRow.state).in_([state.value for state in states]),
            or_(
                col(RequestRow.lease_until).is_(None),
                col(RequestRow.lease_until) <= now,
            ),
        )
        if exclude:
            query = query.where(col(RequestRow.id).not_in(list(exclude)))
        ids = list(
            session.exec(
                query.order_by(col(RequestRow.id)).limit(limit).with_for_update(skip_locked=True)
            ).all()
        )
        if not ids:
            return []
        session.exec(
            update(RequestRow)
            .where(col(RequestRow.id).in_(ids))
            .values(lease_owner=owner, lease_until=now + lease_for)
        )
        claimed = [load_request(session, request_id=i, lock=False) for i in ids if i is not None]
        session.commit()
    return claimed


def renew_lease(
    database: Database, *, request_id: int, owner: str, now: datetime, lease_for: timedelta
) -> datetime:
    """Extend ``owner``'s lease; ``LeaseLost`` if another worker has taken the request."""
    until = utc(now) + lease_for
    with database.write() as session:
        result = session.exec(
            update(RequestRow)
            .where(col(RequestRow.id) == request_id, col(RequestRow.lease_owner) == owner)
            .values(lease_until=until)
        )
        if result.rowcount != 1:
            raise LeaseLost(request_id, owner)
        session.commit()
    return until


def release_lease(database: Database, *, request_id: int, owner: str) -> bool:
    """Give the request back at once; False if ``owner`` did not hold it."""
    with database.write() as session:
        result = session.exec(
            update(RequestRow)
            .where(col(RequestRow.id) == request_id, col(RequestRow.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )
        session.commit()
    return result.rowcount == 1


def hold_lease(stored: StoredRequest, *, owner: str, now: datetime) -> None:
    """Refuse (``LeaseLost``) unless ``owner`` holds a live lease on the request just loaded."""
    if stored.lease_owner != owner or stored.lease_until is None or stored.lease_until <= now:
        raise LeaseLost(stored.id, owner)


def begin_submission(
    database: Database,
    *,
    request_id: int,
    owner: str,
    policy: Policy,
    membership: Membership,
    quote: Quote | None,
    now: datetime,
    sign: Signer,
    read_terms: TermsReader,
) -> SubmissionStart:
    """Re-check, sign and store the body with the move to SUBMITTING, in one transaction.

    ``read_terms`` reads the signed body back; a body that says anything but the approved
    content is refused (``SubmissionMismatch``) and nothing is stored.

    Raises ``Frozen`` while frozen and ``LeaseLost`` unless ``owner`` holds the lease; if the
    re-check fails, the request goes back for approval (a new round) and nothing is signed.
    """
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        hold_lease(stored, owner=owner, now=now)
        ensure_not_frozen(session)
        audit.lock_head(session)
        withdrawn = withdrawn_in_window(
            session,
            coin_name=stored.request.content.coin_name,
            now=now,
            in_flight=LEAVING,
            exclude=stored.id,
        )
        request = lifecycle.begin_submission(
            stored.request,
            policy=policy,
            membership=membership,
            quote=quote,
            withdrawn_in_window=withdrawn,
            now=now,
        )
        after = update_request(session, stored=stored, request=request, now=now)
        submission = None
        if request.state is State.SUBMITTING:
            signed = sign(after)
            submission = _store_signed(session, after, signed, read_terms, now=now)
            action = Trigger.SIGNED
            detail: dict[str, object] = {
                "client_withdraw_id": submission.client_withdraw_id,
                "expire_time_ms": submission.expire_time_ms,
                "body_sha256": hashlib.sha256(submission.body.encode()).hexdigest(),
            }
            if signed.verifying_contract is not None:
                detail["verifying_contract"] = signed.verifying_contract
        else:
            action = Trigger.RECHECK_FAILED
            detail = {"approval_round": request.approval_round}
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
    return SubmissionStart(after, submission)


def renew_submission(
    database: Database,
    *,
    request_id: int,
    owner: str,
    now: datetime,
    sign: Signer,
    read_terms: TermsReader,
    detail: Mapping[str, object] | None = None,
) -> Submission:
    """Replace a SUBMITTING request's stored body with one signed afresh for the same content.

    For a body edgeX will no longer take (an edgeX V2 attempt past its expiry) once edgeX says
    it has no withdrawal of the request's client id: the new body carries the same client id
    and exactly the approved content (``SubmissionMismatch`` otherwise, nothing written), so
    it is the same withdrawal, never a second. The old body's hash stays in the audit log.
    ``Frozen`` while frozen: this signs, and a freeze stops all signing.
    """
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        hold_lease(stored, owner=owner, now=now)
        ensure_not_frozen(session)  # a new signature, as in begin_submission
        if stored.request.state is not State.SUBMITTING:
            raise SubmissionMismatch(f"request {request_id} is not being submitted")
        row = session.exec(
            select(SubmissionRow).where(col(SubmissionRow.request_id) == request_id)
        ).one()
        if row.exchange_withdraw_id is not None:
            raise SubmissionMismatch(f"edgeX already named withdrawal request {request_id}")
        signed = sign(stored)
        _check_signed(stored, signed, read_terms)
        before = hashlib.sha256(row.body.encode()).hexdigest()
        row.body, row.expire_time_ms, row.signed_at = signed.body, signed.expire_time_ms, now
        session.add(row)
        audit.lock_head(session)
        record_change(
            session,
            before=stored.request.state,
            after=stored,
            action="resigned",
            actor=owner,
            policy_hash=None,
            detail={
                "client_withdraw_id": signed.client_withdraw_id,
                "expire_time_ms": signed.expire_time_ms,
                "body_sha256": hashlib.sha256(signed.body.encode()).hexdigest(),
                "replaced_body_sha256": before,
                **(
                    {"verifying_contract": signed.verifying_contract}
                    if signed.verifying_contract is not None
                    else {}
                ),
                **(detail or {}),
            },
            now=now,
        )
        session.commit()
    return Submission(
        request_id=request_id,
        kind=signed.kind,
        body=signed.body,
        client_withdraw_id=signed.client_withdraw_id,
        expire_time_ms=signed.expire_time_ms,
        signed_at=now,
        exchange_withdraw_id=None,
    )


def _store_signed(
    session: Session,
    stored: StoredRequest,
    signed: SignedSubmission,
    read_terms: TermsReader,
    *,
    now: datetime,
) -> Submission:
    _check_signed(stored, signed, read_terms)
    session.add(
        SubmissionRow(
            request_id=stored.id,
            kind=signed.kind.value,
            client_withdraw_id=signed.client_withdraw_id,
            expire_time_ms=signed.expire_time_ms,
            body=signed.body,
            signed_at=now,
        )
    )
    session.flush()
    return Submission(
        request_id=stored.id,
        kind=signed.kind,
        body=signed.body,
        client_withdraw_id=signed.client_withdraw_id,
        expire_time_ms=signed.expire_time_ms,
        signed_at=now,
        exchange_withdraw_id=None,
    )


def _check_signed(stored: StoredRequest, signed: SignedSubmission, read: TermsReader) -> None:
    """Refuse a body that would send anything other than what was approved.

    The body's text is read back by ``read`` (the worker's, who knows the wire format), so what
    is compared is what the bytes say, not what the signer meant them to say.
    """
    content = stored.request.content
    where = f"the signed body of withdrawal request {stored.id}"
    if signed.kind is not content.kind:
        raise SubmissionMismatch(f"{where} has another kind than the approved request")
    try:
        terms = read(signed.kind, signed.body)
    except ValueError as err:
        raise SubmissionMismatch(f"{where} cannot be read: {err}") from err
    id_field = "clientCrossWithdrawId" if content.kind is Kind.CROSS else "clientWithdrawId"
    checks: list[tuple[str, object, object]] = [
        (id_field, terms.client_withdraw_id, stored.client_withdraw_id),
        ("client withdraw id", signed.client_withdraw_id, stored.client_withdraw_id),
        ("expireTime", terms.expire_time_ms, signed.expire_time_ms),
        ("accountId", terms.account_id, content.account_id),
        ("coinId", terms.coin_id, content.coin_id),
        ("amount", terms.amount, content.amount),
        ("ethAddress", terms.destination, content.destination),
    ]
    if content.kind is not Kind.NORMAL:
        checks += [
            ("erc20Address", terms.erc20_address, content.erc20_address),
            ("chainId", terms.chain_id, content.chain_id),
        ]
    if content.kind is Kind.CROSS:
        checks.append(("lpAccountId", terms.lp_account_id, content.lp_account_id))
    for name, found, approved in checks:
        if found != approved:
            raise SubmissionMismatch(f"{where} has another {name} than the approved request")
    if content.fee_cap is not None and (terms.fee is None or terms.fee > content.fee_cap):
        raise SubmissionMismatch(f"{where} pays a fee above the approved fee cap")


def record_exchange_outcome(
    database: Database,
    *,
    request_id: int,
    owner: str,
    trigger: Trigger,
    now: datetime,
    note: str | None = None,
    exchange_withdraw_id: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> StoredRequest:
    """What edgeX answered to the send (or reconciliation found); ``owner`` holds the lease.

    ``exchange_withdraw_id`` is kept with the submission when edgeX names the withdrawal;
    ``detail`` is what the thread needs to explain it (error codes, the matched order).
    """
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        hold_lease(stored, owner=owner, now=now)
        request = lifecycle.record_exchange_outcome(stored.request, trigger, note=note)
        after = update_request(session, stored=stored, request=request, now=now)
        if exchange_withdraw_id is not None:
            session.exec(
                update(SubmissionRow)
                .where(col(SubmissionRow.request_id) == request_id)
                .values(exchange_withdraw_id=exchange_withdraw_id)
            )
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=trigger.value,
            actor=owner,
            policy_hash=None,
            detail={"exchange_withdraw_id": exchange_withdraw_id, **(detail or {})},
            now=now,
        )
        session.commit()
    return after


def record_status(
    database: Database,
    *,
    request_id: int,
    expected_previous: str | None,
    exchange_status: str,
    raw: str,
    now: datetime,
    trigger: Trigger | None = None,
    note: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> StoredRequest | None:
    """A status read from edgeX, kept as an event and outbox row; None when nothing was written.

    Written only while the request is SUBMITTED and its stored status is still
    ``expected_previous`` (what the poller saw before it asked edgeX), so two pollers or a
    delayed answer can never write a status twice or move it backwards. ``raw`` is the
    exchange's record as JSON text; ``trigger`` ends the request on a terminal status.
    """
    now = utc(now)
    exchange_status = bounded_status(exchange_status)
    try:
        json.loads(raw)
    except ValueError as err:
        raise ValueError(f"the exchange record of request {request_id} is not JSON") from err
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        if (
            stored.request.state is not State.SUBMITTED
            or stored.exchange_status != expected_previous
            or stored.exchange_status == exchange_status
        ):
            return None
        after = stored
        if trigger is not None:
            moved = lifecycle.record_exchange_outcome(stored.request, trigger, note=note)
            after = update_request(session, stored=stored, request=moved, now=now)
        after = replace(after, exchange_status=exchange_status)
        last = session.exec(
            select(func.max(StatusEventRow.seq)).where(col(StatusEventRow.request_id) == request_id)
        ).one()
        session.add(
            StatusEventRow(
                request_id=request_id,
                seq=(last or 0) + 1,
                exchange_status=exchange_status,
                raw=raw,
                at=now,
            )
        )
        session.exec(
            update(RequestRow)
            .where(col(RequestRow.id) == request_id)
            .values(exchange_status=exchange_status)
        )
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action="exchange_status" if trigger is None else trigger.value,
            actor=audit.SYSTEM_ACTOR,
            policy_hash=None,
            detail={
                "exchange_status": exchange_status,
                "previous": stored.exchange_status,
                **(detail or {}),
            },
            now=now,
        )
        session.commit()
    return after


def submissions(database: Database, *, request_ids: Collection[int]) -> dict[int, Submission]:
    """The stored signed bodies of these requests (the poller asks in batches)."""
    with database.read() as session:
        rows = session.exec(
            select(SubmissionRow).where(col(SubmissionRow.request_id).in_(list(request_ids)))
        ).all()
    return {
        row.request_id: Submission(
            request_id=row.request_id,
            kind=Kind(row.kind),
            body=row.body,
            client_withdraw_id=row.client_withdraw_id,
            expire_time_ms=row.expire_time_ms,
            signed_at=row.signed_at,
            exchange_withdraw_id=row.exchange_withdraw_id,
        )
        for row in rows
    }
