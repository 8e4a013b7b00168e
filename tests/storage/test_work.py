"""The worker's steps: leases, signing into SUBMITTING, exchange outcomes, status events, outbox."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from approvals.content import Kind
from approvals.lifecycle import State, Trigger
from approvals.money import canonical_decimal
from approvals.policy import parse_policy
from approvals.refusals import DraftRefused, TransitionRefused
from bot.edgex.signing import build_normal_withdraw_body
from bot.worker.exchange_access import signed_terms
from storage import audit, outbox, transactions, work
from storage.engine import Database
from storage.failures import Frozen, LeaseLost, SubmissionMismatch
from storage.freeze import freeze, unfreeze
from storage.repository import StoredRequest
from storage.tables import AuditRow
from storage.work import SignedSubmission
from tests.approvals.helpers import F1, POLICY_TEXT, T0, T1, T2, cross, normal
from tests.edgex.vectors import vector_coin, vector_key
from tests.storage.databases import dump
from tests.storage.world import MEMBERSHIP, MINUTE, POLICY, approve, store

LEASE = timedelta(minutes=2)
EXPIRE_MS = 1_737_000_000_000
NOW = T0 + 10 * MINUTE


def sign(stored: StoredRequest) -> SignedSubmission:
    """A real signed createNormalWithdraw body for the stored content."""
    content = stored.request.content
    body = build_normal_withdraw_body(
        vector_key(),
        account_id=content.account_id,
        coin=vector_coin(),
        amount=canonical_decimal(content.amount),
        eth_address=content.destination,
        client_withdraw_id=stored.client_withdraw_id,
        expire_time_ms=EXPIRE_MS,
    )
    return SignedSubmission(
        kind=Kind.NORMAL,
        body=json.dumps(body),
        client_withdraw_id=stored.client_withdraw_id,
        expire_time_ms=EXPIRE_MS,
    )


def approved(db: Database, amount: str = "100") -> StoredRequest:
    stored = store(db, normal(amount))
    for approver in (T1, T2, F1):
        result = approve(db, stored.id, approver)
        if result.request.state is State.APPROVED:
            return result
    raise AssertionError("not approved")


def claim_one(db: Database, owner: str = "worker-a", now: datetime = NOW) -> StoredRequest:
    [claimed] = work.claim(
        db, owner=owner, states={State.APPROVED}, now=now, lease_for=LEASE, limit=1
    )
    return claimed


def begin(
    db: Database, request_id: int, *, owner: str = "worker-a", signer: work.Signer = sign
) -> work.SubmissionStart:
    return work.begin_submission(
        db,
        request_id=request_id,
        owner=owner,
        policy=POLICY,
        membership=MEMBERSHIP,
        quote=None,
        now=NOW + MINUTE,
        sign=signer,
        read_terms=signed_terms,
    )


def submitting(db: Database) -> StoredRequest:
    request = approved(db)
    claim_one(db)
    return begin(db, request.id).request


def test_claim_leases_what_nobody_holds(db: Database) -> None:
    first, second = approved(db), approved(db)
    store(db)  # pending: not claimable as approved
    claimed = work.claim(db, owner="a", states={State.APPROVED}, now=NOW, lease_for=LEASE)
    assert [c.id for c in claimed] == [first.id, second.id]
    assert {(c.lease_owner, c.lease_until) for c in claimed} == {("a", NOW + LEASE)}
    assert claimed[0].request == first.request
    assert work.claim(db, owner="b", states={State.APPROVED}, now=NOW, lease_for=LEASE) == []
    later = NOW + LEASE
    taken = work.claim(db, owner="b", states={State.APPROVED}, now=later, lease_for=LEASE)
    assert [c.lease_owner for c in taken] == ["b", "b"]


def test_leases_do_not_touch_the_request(db: Database) -> None:
    request = approved(db)
    claim_one(db)
    stored = transactions.get_request(db, request_id=request.id)
    assert (stored.version, stored.request) == (request.version, request.request)


def test_renew_and_release(db: Database) -> None:
    request = approved(db)
    claim_one(db, owner="a")
    later = NOW + MINUTE
    until = work.renew_lease(db, request_id=request.id, owner="a", now=later, lease_for=LEASE)
    assert until == later + LEASE
    with pytest.raises(LeaseLost, match="b no longer holds the lease"):
        work.renew_lease(db, request_id=request.id, owner="b", now=NOW, lease_for=LEASE)
    assert not work.release_lease(db, request_id=request.id, owner="b")
    assert work.release_lease(db, request_id=request.id, owner="a")
    assert claim_one(db, owner="b").lease_owner == "b"
    with pytest.raises(LeaseLost):
        work.renew_lease(db, request_id=request.id, owner="a", now=NOW, lease_for=LEASE)


def test_begin_submission_stores_the_signed_body_with_the_state(db: Database) -> None:
    request = approved(db)
    claim_one(db)
    calls: list[StoredRequest] = []

    def signer(stored: StoredRequest) -> SignedSubmission:
        calls.append(stored)
        return sign(stored)

    start = begin(db, request.id, signer=signer)
    assert start.request.request.state is State.SUBMITTING
    assert [c.request.state for c in calls] == [State.SUBMITTING]
    assert start.submission is not None
    assert json.loads(start.submission.body)["clientWithdrawId"] == request.client_withdraw_id
    stored = work.submissions(db, request_ids=[request.id])
    assert stored == {request.id: start.submission}
    assert transactions.get_request(db, request_id=request.id) == start.request
    assert outbox.pending(db)[-1].event == "signed"
    assert audit.verify(db).intact
    with pytest.raises(TransitionRefused, match="is being sent to edgeX"):
        begin(db, request.id)


def test_no_lease_no_submission(db: Database) -> None:
    request = approved(db)
    before = dump(db)
    with pytest.raises(LeaseLost):
        begin(db, request.id)
    claim_one(db, owner="a", now=NOW - LEASE)  # its lease has run out by NOW + MINUTE
    with pytest.raises(LeaseLost):
        begin(db, request.id, owner="a")
    assert {k: v for k, v in dump(db).items() if k != "requests"} == {
        k: v for k, v in before.items() if k != "requests"
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "101"}, "another amount"),
        ({"ethAddress": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, "another ethAddress"),
        ({"clientWithdrawId": "1"}, "another clientWithdrawId"),
        ({"accountId": "1"}, "another accountId"),
        ({"coinId": "1001"}, "another coinId"),
        ({"expireTime": "1"}, "another expireTime"),
    ],
)
def test_a_body_that_differs_from_the_approval_is_never_stored(
    db: Database, change: dict[str, str], message: str
) -> None:
    request = approved(db)
    claim_one(db)
    before = dump(db)

    def wrong(stored: StoredRequest) -> SignedSubmission:
        signed = sign(stored)
        return replace(signed, body=json.dumps(json.loads(signed.body) | change))

    with pytest.raises(SubmissionMismatch, match=message):
        begin(db, request.id, signer=wrong)
    assert dump(db) == before


@pytest.mark.parametrize(
    ("text", "message"), [("{", "cannot be read"), ("[]", "cannot be read: it is not a JSON")]
)
def test_a_body_that_cannot_be_read_back_is_never_stored(
    db: Database, text: str, message: str
) -> None:
    request = approved(db)
    claim_one(db)
    before = dump(db)

    def unreadable(stored: StoredRequest) -> SignedSubmission:
        return replace(sign(stored), body=text)

    with pytest.raises(SubmissionMismatch, match=message):
        begin(db, request.id, signer=unreadable)
    assert dump(db) == before


def test_recheck_failure_goes_back_for_approval_unsigned(db: Database) -> None:
    request = approved(db)
    claim_one(db)
    changed = parse_policy(POLICY_TEXT.replace('expiry = "24h"', 'expiry = "23h"'))

    def never(stored: StoredRequest) -> SignedSubmission:
        raise AssertionError("signed after a failed re-check")

    start = work.begin_submission(
        db,
        request_id=request.id,
        owner="worker-a",
        policy=changed,
        membership=MEMBERSHIP,
        quote=None,
        now=NOW + MINUTE,
        sign=never,
        read_terms=signed_terms,
    )
    assert start.submission is None
    assert start.request.request.state is State.PENDING_APPROVAL
    assert start.request.request.approval_round == 2
    assert work.submissions(db, request_ids=[request.id]) == {}
    assert outbox.pending(db)[-1].event == "recheck_failed"


def test_approvals_older_than_the_window_go_back_unsigned_with_audit_and_note(
    db: Database,
) -> None:
    """Days after the quorum (a long freeze), signing reopens the approval instead."""
    request = approved(db)
    late = T0 + timedelta(days=3)
    claim_one(db, now=late)

    def never(stored: StoredRequest) -> SignedSubmission:
        raise AssertionError("signed on approvals older than the window")

    start = work.begin_submission(
        db,
        request_id=request.id,
        owner="worker-a",
        policy=POLICY,
        membership=MEMBERSHIP,
        quote=None,
        now=late,
        sign=never,
        read_terms=signed_terms,
    )
    assert start.submission is None
    back = start.request.request
    assert back.state is State.PENDING_APPROVAL
    assert back.approval_round == 2
    assert back.expires_at == late + POLICY.approval_expiry
    assert work.submissions(db, request_ids=[request.id]) == {}
    note = (
        "Sent back for approval before signing: Approved 2 days 23 hours 59 minutes ago, longer "
        "than the policy's approval window of 24 hours; approve again"
    )
    assert back.note == note
    event = outbox.pending(db)[-1]
    assert event.event == "recheck_failed"
    assert event.payload["note"] == note
    assert event.payload["previous_state"] == "approved"
    with db.read() as session:
        row = session.exec(select(AuditRow).order_by(col(AuditRow.seq).desc())).first()
    assert row is not None
    assert (row.action, row.actor, row.request_id) == ("recheck_failed", "worker-a", request.id)
    assert json.loads(row.detail) == {
        "from": "approved",
        "to": "pending_approval",
        "approval_round": 2,
    }
    assert audit.verify(db).problem is None


def test_daily_limit_at_signing_counts_what_is_leaving(db: Database) -> None:
    """Approved requests do not count against each other; signed ones do."""
    drafts = [store(db, normal(amount)) for amount in ("250000", "250000", "10")]
    for request in drafts:
        for approver in (T1, T2, F1):
            if approve(db, request.id, approver).request.state is State.APPROVED:
                break
    claimed = work.claim(db, owner="w", states={State.APPROVED}, now=NOW, lease_for=LEASE)
    assert len(claimed) == 3
    assert begin(db, drafts[0].id, owner="w").request.request.state is State.SUBMITTING
    assert begin(db, drafts[1].id, owner="w").request.request.state is State.SUBMITTING
    sent_back = begin(db, drafts[2].id, owner="w")
    assert sent_back.submission is None
    assert sent_back.request.request.state is State.PENDING_APPROVAL
    assert "above the policy's daily limit" in (sent_back.request.request.note or "")


def test_frozen_means_nothing_moves_to_submitting(db: Database) -> None:
    request = approved(db)
    claim_one(db)
    change = freeze(db, by="oncall", reason="exchange incident", now=NOW)
    assert change.changed
    before = dump(db)
    with pytest.raises(Frozen, match="withdrawals are frozen by oncall: exchange incident"):
        begin(db, request.id)
    assert dump(db) == before
    assert not freeze(db, by="someone else", now=NOW).changed
    unfreeze(db, by=["alice", "bob"], now=NOW)
    assert begin(db, request.id).request.request.state is State.SUBMITTING


def test_exchange_outcomes_need_the_lease_and_keep_the_withdraw_id(db: Database) -> None:
    request = submitting(db)
    with pytest.raises(LeaseLost):
        work.record_exchange_outcome(
            db,
            request_id=request.id,
            owner="someone",
            trigger=Trigger.EXCHANGE_ACCEPTED,
            now=NOW + MINUTE,
        )
    accepted = work.record_exchange_outcome(
        db,
        request_id=request.id,
        owner="worker-a",
        trigger=Trigger.EXCHANGE_ACCEPTED,
        now=NOW + MINUTE,
        exchange_withdraw_id="777",
    )
    assert accepted.request.state is State.SUBMITTED
    [submission] = work.submissions(db, request_ids=[request.id]).values()
    assert submission.exchange_withdraw_id == "777"
    assert outbox.pending(db)[-1].payload["detail"]["exchange_withdraw_id"] == "777"


def test_status_events_are_kept_once_per_change(db: Database) -> None:
    request = submitting(db)
    work.record_exchange_outcome(
        db,
        request_id=request.id,
        owner="worker-a",
        trigger=Trigger.EXCHANGE_ACCEPTED,
        now=NOW + MINUTE,
        exchange_withdraw_id="777",
    )
    raw = json.dumps({"id": "777", "status": "NORMAL_WITHDRAW_L2_APPROVED"})
    first = work.record_status(
        db,
        request_id=request.id,
        expected_previous=None,
        exchange_status="NORMAL_WITHDRAW_L2_APPROVED",
        raw=raw,
        now=NOW,
    )
    assert first is not None
    assert first.exchange_status == "NORMAL_WITHDRAW_L2_APPROVED"
    before = dump(db)
    for previous in ("NORMAL_WITHDRAW_L2_APPROVED", None):  # unchanged, or a stale poller
        again = work.record_status(
            db,
            request_id=request.id,
            expected_previous=previous,
            exchange_status="NORMAL_WITHDRAW_L2_APPROVED",
            raw=raw,
            now=NOW,
        )
        assert again is None
    assert dump(db) == before
    done = work.record_status(
        db,
        request_id=request.id,
        expected_previous="NORMAL_WITHDRAW_L2_APPROVED",
        exchange_status="NORMAL_WITHDRAW_SUCCESS",
        raw=json.dumps({"id": "777", "status": "NORMAL_WITHDRAW_SUCCESS"}),
        now=NOW + MINUTE,
        trigger=Trigger.EXCHANGE_COMPLETED,
    )
    assert done is not None
    assert done.request.state is State.COMPLETED
    assert transactions.get_request(db, request_id=request.id) == done
    with db.read() as session:
        events = session.connection().execute(
            text("SELECT seq, exchange_status FROM status_events ORDER BY seq")
        )
        assert [tuple(e) for e in events] == [
            (1, "NORMAL_WITHDRAW_L2_APPROVED"),
            (2, "NORMAL_WITHDRAW_SUCCESS"),
        ]
    assert [e.event for e in outbox.pending(db)][-2:] == ["exchange_status", "exchange_completed"]
    with pytest.raises(ValueError, match="is not JSON"):
        work.record_status(
            db, request_id=request.id, expected_previous=None, exchange_status="X", raw="{", now=NOW
        )


def test_completed_withdrawals_count_towards_the_limit_for_a_day(db: Database) -> None:
    request = approved(db, "250000")
    claim_one(db)
    begin(db, request.id)  # signed at NOW + MINUTE
    work.record_exchange_outcome(
        db,
        request_id=request.id,
        owner="worker-a",
        trigger=Trigger.EXCHANGE_ACCEPTED,
        now=NOW + MINUTE,
    )
    work.record_status(
        db,
        request_id=request.id,
        expected_previous=None,
        exchange_status="NORMAL_WITHDRAW_SUCCESS",
        raw="{}",
        now=NOW + 2 * MINUTE,
        trigger=Trigger.EXCHANGE_COMPLETED,
    )
    approved(db, "100")  # approved, not yet sent: counts for new drafts
    with pytest.raises(DraftRefused, match="to 500,100 USDT, above the policy's daily limit"):
        store(db, normal("250000"), now=NOW + 3 * MINUTE)
    a_day_later = NOW + MINUTE + timedelta(hours=24)
    assert store(db, normal("250000"), now=a_day_later).request.state is State.PENDING_APPROVAL


def test_outbox_order_delivery_and_thread(db: Database) -> None:
    first = store(db)
    second = store(db, cross("1000"))
    approve(db, first.id, T1)
    pending = outbox.pending(db)
    order = [(first.id, 1), (second.id, 1), (first.id, 2)]
    assert [(e.request_id, e.seq) for e in pending] == order
    assert pending[0].key == f"withdrawbot-{first.client_withdraw_id}-1"
    assert all(e.thread_ts is None for e in pending)
    assert outbox.mark_delivered(db, key=pending[0].key, now=NOW, slack_ts="1700000000.000100")
    assert not outbox.mark_delivered(db, key=pending[0].key, now=NOW, slack_ts="other")
    rest = outbox.pending(db)
    assert [(e.request_id, e.seq) for e in rest] == [(second.id, 1), (first.id, 2)]
    assert rest[1].thread_ts == "1700000000.000100"
    assert outbox.pending(db, limit=1) == rest[:1]
