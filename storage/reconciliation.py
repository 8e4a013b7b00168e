"""Reconciliation by people: approvers confirm that edgeX never received a withdrawal.

A request whose send had no clear answer waits in NEEDS_RECONCILIATION while the worker looks
for it at edgeX. When it is not there, two approvers confirm so, one click each; the second
confirmation ends it FAILED (``approvals.lifecycle.confirm_absent``). Each confirmation is a
row of its own (who, when, under which policy), written with its audit row and outbox event in
the transaction that may also move the request.

The request's row lock orders a confirmation against the worker's match: whichever commits
first wins, and the other finds the request in a state it can no longer act on (a confirmation
of a matched withdrawal is refused; a match of a failed one is refused to the worker, and the
account watch reports the withdrawal as found after all, through ``absent_requests``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from approvals import lifecycle
from approvals.lifecycle import State
from approvals.membership import Membership
from approvals.policy import Policy
from storage import audit
from storage.alerts import alert_key
from storage.columns import canonical_json, utc
from storage.engine import Database
from storage.outbox_events import CONFIRM_ABSENT
from storage.repository import StoredRequest, load_request, update_request
from storage.tables import (
    AbsenceConfirmationRow,
    AlertRow,
    AuditRow,
    RequestRow,
    SubmissionRow,
)
from storage.transactions import record_change

__all__ = [
    "CONFIRM_ABSENT",
    "FOUND_AT_EXCHANGE",
    "AbsentRequest",
    "absent_requests",
    "confirm_absent",
    "confirmed_absent_since",
    "confirmers",
    "report_found",
]

# The alert, audit action and outbox event of a failed withdrawal seen at edgeX after all.
FOUND_AT_EXCHANGE = "found_at_exchange"


@dataclass(frozen=True, slots=True)
class AbsentRequest:
    """A FAILED request that edgeX never named a withdrawal for, so edgeX should not have it.

    ``confirmed`` when approvers said it was absent (rather than edgeX refusing the first send).
    """

    request_id: int
    client_withdraw_id: str
    confirmed: bool


def confirm_absent(
    database: Database,
    *,
    request_id: int,
    confirmer: str,
    policy: Policy,
    membership: Membership,
    now: datetime,
) -> StoredRequest:
    """Record one confirmation; the request ends FAILED if it is the second that counts.

    Refused (the domain's ``ApprovalError``, nothing written) unless the request still needs
    reconciliation and ``confirmer`` may confirm it.
    """
    now = utc(now)
    with database.write() as session:
        stored = load_request(session, request_id=request_id, lock=True)
        earlier = _confirmers(session, [request_id]).get(request_id, ())
        request = lifecycle.confirm_absent(
            stored.request,
            confirmer=confirmer,
            earlier=earlier,
            policy=policy,
            membership=membership,
        )
        lifecycle.check_absence_wait(unknown_since=_unknown_since(session, request_id), now=now)
        session.add(
            AbsenceConfirmationRow(
                request_id=request_id, confirmer=confirmer, at=now, policy_hash=policy.hash
            )
        )
        session.flush()
        after = stored
        if request != stored.request:
            after = update_request(session, stored=stored, request=request, now=now)
        counted = lifecycle.absence_confirmers(
            stored.request, confirmers=(*earlier, confirmer), policy=policy, membership=membership
        )
        record_change(
            session,
            before=stored.request.state,
            after=after,
            action=CONFIRM_ABSENT,
            actor=confirmer,
            policy_hash=policy.hash,
            detail={
                "client_withdraw_id": stored.client_withdraw_id,
                "confirmers": list(counted),
                "needed": lifecycle.ABSENCE_QUORUM,
            },
            now=now,
        )
        session.commit()
    return after


def _unknown_since(session: Session, request_id: int) -> datetime:
    """When the request's send outcome became unknown (its audit row; the signing if none)."""
    unknown = session.exec(
        select(AuditRow.at)
        .where(
            col(AuditRow.request_id) == request_id,
            col(AuditRow.action) == lifecycle.Trigger.OUTCOME_UNKNOWN.value,
        )
        .order_by(col(AuditRow.seq).desc())
        .limit(1)
    ).first()
    if unknown is not None:
        return utc(unknown)
    signed = session.exec(
        select(SubmissionRow.signed_at).where(col(SubmissionRow.request_id) == request_id)
    ).one()
    return utc(signed)


def confirmers(database: Database, *, request_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    """Who confirmed each request absent, in the order they did (eligible or not by now)."""
    if not request_ids:
        return {}
    with database.read() as session:
        return _confirmers(session, request_ids)


def absent_requests(database: Database, *, client_ids: Collection[str]) -> list[AbsentRequest]:
    """Which of these client withdraw ids belong to FAILED requests edgeX never named.

    Such a withdrawal turning up at edgeX means it left after all while withdrawbot (and its
    people) hold it for failed: a duplicate may already have been drafted.
    """
    if not client_ids:
        return []
    with database.read() as session:
        rows = session.exec(
            select(RequestRow.id, RequestRow.client_withdraw_id)
            .join(SubmissionRow, col(SubmissionRow.request_id) == col(RequestRow.id))
            .where(
                col(RequestRow.client_withdraw_id).in_(list(client_ids)),
                col(RequestRow.state) == State.FAILED.value,
                col(SubmissionRow.exchange_withdraw_id).is_(None),
            )
            .order_by(col(RequestRow.id))
        ).all()
        ids = [request_id for request_id, _ in rows if request_id is not None]
        confirmed = set(_confirmers(session, ids))
    return [
        AbsentRequest(
            request_id=request_id, client_withdraw_id=client_id, confirmed=request_id in confirmed
        )
        for request_id, client_id in rows
        if request_id is not None
    ]


def confirmed_absent_since(database: Database, *, since: datetime) -> list[datetime]:
    """When the requests that people confirmed absent at or after ``since`` were signed.

    The account watch looks back that far once more: their withdrawal, should edgeX have it
    after all, may be older than the stretch of history it reads each cycle.
    """
    confirmed = (
        select(AbsenceConfirmationRow.request_id)
        .group_by(col(AbsenceConfirmationRow.request_id))
        .having(func.count() >= lifecycle.ABSENCE_QUORUM)
    )
    with database.read() as session:
        return list(
            session.exec(
                select(SubmissionRow.signed_at)
                .join(RequestRow, col(RequestRow.id) == col(SubmissionRow.request_id))
                .where(
                    col(RequestRow.state) == State.FAILED.value,
                    col(RequestRow.updated_at) >= utc(since),
                    col(RequestRow.id).in_(confirmed),
                )
                .order_by(col(SubmissionRow.signed_at))
            ).all()
        )


def report_found(
    database: Database,
    *,
    absent: AbsentRequest,
    order_id: str,
    detail: Mapping[str, object],
    now: datetime,
) -> bool:
    """A failed withdrawal seen at edgeX as ``order_id``: its thread and the channel hear of it.

    One transaction writes the channel alert (once per edgeX withdrawal, whoever sees it), the
    thread's event and the audit row; False, writing nothing, if it was reported already or the
    request is no longer what ``absent`` says. ``detail`` carries the ``alert`` text both show.
    """
    now = utc(now)
    key = alert_key(event=FOUND_AT_EXCHANGE, subject=order_id)
    with database.write() as session:
        stored = load_request(session, request_id=absent.request_id, lock=True)
        if stored.request.state is not State.FAILED:
            return False
        if session.exec(select(AlertRow.id).where(col(AlertRow.alert_key) == key)).first():
            return False
        full = {**detail, "request_id": absent.request_id, "order_id": order_id}
        payload = {
            "event": FOUND_AT_EXCHANGE,
            "key": key,
            "subject": order_id,
            "at": now.isoformat(timespec="microseconds"),
            "detail": full,
        }
        session.add(
            AlertRow(
                alert_key=key,
                event=FOUND_AT_EXCHANGE,
                payload=canonical_json(payload),
                created_at=now,
            )
        )
        record_change(
            session,
            before=stored.request.state,
            after=stored,
            action=FOUND_AT_EXCHANGE,
            actor=audit.SYSTEM_ACTOR,
            policy_hash=None,
            detail=full,
            now=now,
        )
        session.commit()
    return True


def _confirmers(session: Session, request_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    rows = session.exec(
        select(AbsenceConfirmationRow.request_id, AbsenceConfirmationRow.confirmer)
        .where(col(AbsenceConfirmationRow.request_id).in_(list(request_ids)))
        .order_by(col(AbsenceConfirmationRow.id))
    ).all()
    found: dict[int, list[str]] = {}
    for request_id, confirmer in rows:
        found.setdefault(request_id, []).append(confirmer)
    return {request_id: tuple(users) for request_id, users in found.items()}
