"""People's reconciliation: two approvers confirm a withdrawal absent at edgeX, once each."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from approvals.lifecycle import State, Trigger
from approvals.refusals import ActionRefused, TransitionRefused
from storage import alerts, audit, outbox, reconciliation, transactions, work
from storage.engine import Database
from storage.repository import StoredRequest
from storage.tables import AbsenceConfirmationRow
from tests.approvals.helpers import F1, O1, OUTSIDER, REQUESTER, T2, T3
from tests.storage.databases import dump
from tests.storage.test_work import NOW, submitting
from tests.storage.world import MEMBERSHIP, MINUTE, POLICY

LATER = NOW + 30 * MINUTE


def unknown(db: Database) -> StoredRequest:
    """A request whose send had no clear answer (worker-a holds its lease)."""
    sent = submitting(db)
    return work.record_exchange_outcome(
        db,
        request_id=sent.id,
        owner="worker-a",
        trigger=Trigger.OUTCOME_UNKNOWN,
        now=NOW + MINUTE,
    )


def confirm(db: Database, request_id: int, who: str, minutes: int = 0) -> StoredRequest:
    return reconciliation.confirm_absent(
        db,
        request_id=request_id,
        confirmer=who,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=LATER + minutes * MINUTE,
    )


def _audit(db: Database, request_id: int) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.connection().execute(
            text("SELECT action, actor FROM audit_log WHERE request_id = :id ORDER BY seq"),
            {"id": request_id},
        )
        return [(row[0], row[1]) for row in rows]


def test_two_approvers_end_it_failed(db: Database) -> None:
    stored = unknown(db)
    first = confirm(db, stored.id, T3)
    assert first.request == stored.request
    assert first.version == stored.version
    assert reconciliation.confirmers(db, request_ids=[stored.id]) == {stored.id: (T3,)}
    second = confirm(db, stored.id, O1, minutes=5)
    assert second.request.state is State.FAILED
    assert second.request.note == f"Confirmed absent at edgeX by {T3} and {O1}"
    assert reconciliation.confirmers(db, request_ids=[stored.id]) == {stored.id: (T3, O1)}
    with db.read() as session:
        rows = session.connection().execute(
            text("SELECT confirmer, at, policy_hash FROM absence_confirmations ORDER BY id")
        )
        recorded = [(row[0], row[2]) for row in rows]
    assert recorded == [(T3, POLICY.hash), (O1, POLICY.hash)]
    assert _audit(db, stored.id)[-2:] == [
        (reconciliation.CONFIRM_ABSENT, T3),
        (reconciliation.CONFIRM_ABSENT, O1),
    ]
    events = [e for e in outbox.pending(db) if e.request_id == stored.id][-2:]
    assert [(e.payload["previous_state"], e.payload["state"]) for e in events] == [
        ("needs_reconciliation", "needs_reconciliation"),
        ("needs_reconciliation", "failed"),
    ]
    assert events[0].payload["detail"]["confirmers"] == [T3]
    assert events[1].payload["detail"]["confirmers"] == [T3, O1]
    assert events[1].payload["detail"]["audit_head_hash"]
    assert audit.verify(db).intact


@pytest.mark.parametrize(
    ("who", "earlier", "message"),
    [
        (REQUESTER, (), "You drafted this request"),
        (OUTSIDER, (), "You are not in treasury"),
        (F1, (), "You are not in treasury"),
        (T3, (T3,), "You already confirmed"),
    ],
    ids=["requester", "outsider", "other-group", "twice"],
)
def test_refused_confirmations_change_nothing(
    db: Database, who: str, earlier: tuple[str, ...], message: str
) -> None:
    stored = unknown(db)
    for person in earlier:
        confirm(db, stored.id, person)
    before = dump(db)
    with pytest.raises(ActionRefused, match=message):
        confirm(db, stored.id, who, minutes=1)
    assert dump(db) == before


def test_a_confirmation_before_the_wait_is_over_changes_nothing(db: Database) -> None:
    stored = unknown(db)  # the outcome became unknown at NOW + 1 min
    before = dump(db)
    with pytest.raises(ActionRefused, match="confirm from"):
        reconciliation.confirm_absent(
            db,
            request_id=stored.id,
            confirmer=T3,
            policy=POLICY,
            membership=MEMBERSHIP,
            now=NOW + 10 * MINUTE,
        )
    assert dump(db) == before
    confirm(db, stored.id, T3)  # 30 minutes on
    assert reconciliation.confirmers(db, request_ids=[stored.id]) == {stored.id: (T3,)}


def test_a_matched_withdrawal_cannot_be_confirmed_absent(db: Database) -> None:
    stored = unknown(db)
    confirm(db, stored.id, T3)
    work.record_exchange_outcome(
        db,
        request_id=stored.id,
        owner="worker-a",
        trigger=Trigger.MATCHED_AT_EXCHANGE,
        now=NOW + MINUTE,
        exchange_withdraw_id="901",
    )
    before = dump(db)
    with pytest.raises(TransitionRefused, match="no longer needs anyone to confirm"):
        confirm(db, stored.id, O1)
    assert dump(db) == before


def test_a_withdrawal_confirmed_absent_is_never_matched(db: Database) -> None:
    stored = unknown(db)
    confirm(db, stored.id, T3)
    confirm(db, stored.id, O1)
    before = dump(db)
    with pytest.raises(TransitionRefused):
        work.record_exchange_outcome(
            db,
            request_id=stored.id,
            owner="worker-a",
            trigger=Trigger.MATCHED_AT_EXCHANGE,
            now=NOW + MINUTE,
            exchange_withdraw_id="901",
        )
    assert dump(db) == before
    states = {State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION, State.APPROVED}
    assert work.claim(db, owner="w", states=states, now=LATER, lease_for=MINUTE) == []


def test_failed_requests_edgex_never_named_are_found_by_client_id(db: Database) -> None:
    confirmed = unknown(db)
    confirm(db, confirmed.id, T3)
    confirm(db, confirmed.id, O1)
    open_one = unknown(db)
    found = reconciliation.absent_requests(
        db, client_ids=[confirmed.client_withdraw_id, open_one.client_withdraw_id, "1"]
    )
    assert found == [
        reconciliation.AbsentRequest(
            request_id=confirmed.id,
            client_withdraw_id=confirmed.client_withdraw_id,
            confirmed=True,
        )
    ]
    assert reconciliation.absent_requests(db, client_ids=[]) == []


def test_the_database_refuses_a_second_confirmation_by_the_same_person(db: Database) -> None:
    stored = unknown(db)
    confirm(db, stored.id, T2)
    with db.write() as session:
        session.add(
            AbsenceConfirmationRow(
                request_id=stored.id, confirmer=T2, at=LATER, policy_hash=POLICY.hash
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_a_failed_withdrawal_found_at_edgex_is_reported_once(db: Database) -> None:
    stored = unknown(db)
    assert reconciliation.confirmed_absent_since(db, since=LATER) == []
    confirm(db, stored.id, T3)
    confirm(db, stored.id, O1, minutes=1)
    [signed_at] = reconciliation.confirmed_absent_since(db, since=LATER)
    assert signed_at == NOW + MINUTE
    assert reconciliation.confirmed_absent_since(db, since=LATER + 2 * MINUTE) == []
    [absent] = reconciliation.absent_requests(db, client_ids=[stored.client_withdraw_id])
    detail = {"alert": {"kind": reconciliation.FOUND_AT_EXCHANGE, "text": "at edgeX after all"}}
    assert reconciliation.report_found(
        db, absent=absent, order_id="901", detail=detail, now=LATER + 5 * MINUTE
    )
    before = dump(db)
    assert not reconciliation.report_found(
        db, absent=absent, order_id="901", detail=detail, now=LATER + 6 * MINUTE
    )
    assert dump(db) == before
    [alert] = alerts.pending(db)
    assert alert.payload["detail"]["request_id"] == stored.id
    event = outbox.pending(db)[-1]
    assert (event.event, event.payload["state"]) == (reconciliation.FOUND_AT_EXCHANGE, "failed")
    assert event.payload["detail"]["alert"]["text"] == "at edgeX after all"
    assert _audit(db, stored.id)[-1] == (reconciliation.FOUND_AT_EXCHANGE, audit.SYSTEM_ACTOR)
    assert transactions.get_request(db, request_id=stored.id).request.state is State.FAILED
