"""storage.tracking and storage.alerts on both engines: writes that happen once, or not at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from approvals.content import Kind
from approvals.lifecycle import State, Trigger
from approvals.money import canonical_decimal
from bot.edgex.signing import build_normal_withdraw_body
from bot.worker.exchange_access import signed_terms
from storage import alerts, tracking, work
from storage.engine import Database
from storage.repository import StoredRequest
from storage.work import SignedSubmission
from tests.edgex.vectors import vector_coin, vector_key
from tests.worker.world import approved, membership, outbox, policy, state_of

OWNER = "test/submit"
LEASE = timedelta(minutes=1)
EXPIRE_MS = 1_900_000_000_000
RAW = json.dumps({"status": "x"})


def sign(stored: StoredRequest) -> SignedSubmission:
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


def submitted(db: Database) -> StoredRequest:
    stored = approved(db)
    now = datetime.now(UTC)
    work.claim(db, owner=OWNER, states={State.APPROVED}, now=now, lease_for=LEASE)
    pol = policy()
    work.begin_submission(
        db,
        request_id=stored.id,
        owner=OWNER,
        policy=pol,
        membership=membership(pol),
        quote=None,
        now=now,
        sign=sign,
        read_terms=signed_terms,
    )
    return work.record_exchange_outcome(
        db,
        request_id=stored.id,
        owner=OWNER,
        trigger=Trigger.EXCHANGE_ACCEPTED,
        now=now,
        exchange_withdraw_id="42",
    )


def status(db: Database, request_id: int, previous: str | None, new: str) -> bool:
    return (
        work.record_status(
            db,
            request_id=request_id,
            expected_previous=previous,
            exchange_status=new,
            raw=RAW,
            now=datetime.now(UTC),
        )
        is not None
    )


def test_a_status_is_written_once_and_only_from_what_the_poller_saw(db: Database) -> None:
    stored = submitted(db)
    assert status(db, stored.id, None, "A")
    assert not status(db, stored.id, None, "A")  # a second replica read the same thing
    assert not status(db, stored.id, None, "B")  # a slow poll started before A was written
    assert not status(db, stored.id, "A", "A")
    assert status(db, stored.id, "A", "B")
    assert [e["exchange_status"] for e in outbox(db, stored.id)][-2:] == ["A", "B"]


def test_the_final_status_ends_the_request_with_the_audit_head(db: Database) -> None:
    stored = submitted(db)
    ended = work.record_status(
        db,
        request_id=stored.id,
        expected_previous=None,
        exchange_status="DONE",
        raw=RAW,
        now=datetime.now(UTC),
        trigger=Trigger.EXCHANGE_COMPLETED,
        detail={"l1_tx_hash": "0xabc"},
    )
    assert ended is not None
    assert state_of(db, stored.id) is State.COMPLETED
    final = outbox(db, stored.id)[-1]
    assert final["detail"]["l1_tx_hash"] == "0xabc"
    assert len(final["detail"]["audit_head_hash"]) == 64
    assert not status(db, stored.id, "DONE", "LATER")  # nothing after the end


def test_a_report_is_written_once_until_the_request_moves(db: Database) -> None:
    stored = submitted(db)

    def report() -> bool:
        return tracking.report_once(
            db,
            request_id=stored.id,
            event="stalled",
            expected_state=State.SUBMITTED,
            expected_exchange_status=current,
            detail={},
            now=datetime.now(UTC),
        )

    current: str | None = None
    assert report()
    assert not report()
    assert status(db, stored.id, None, "A")
    assert not report()  # read before the move: stale
    current = "A"
    assert report()


def test_leases_are_given_back_by_owner(db: Database) -> None:
    stored = submitted(db)
    assert tracking.release_leases(db, owner="someone else") == 0
    assert tracking.release_leases(db, owner=OWNER, request_ids=[]) == 0
    assert tracking.release_leases(db, owner=OWNER, request_ids=[stored.id]) == 1
    [claimed] = tracking.claim_tracked(
        db,
        owner="poller",
        states={State.SUBMITTED},
        now=datetime.now(UTC),
        lease_for=LEASE,
        limit=10,
    )
    assert claimed.exchange_withdraw_id == "42"
    assert claimed.last_event == "exchange_accepted"
    assert (
        tracking.claim_tracked(
            db,
            owner="other",
            states={State.SUBMITTED},
            now=datetime.now(UTC),
            lease_for=LEASE,
            limit=10,
        )
        == []
    )
    assert tracking.known_exchange_ids(db, exchange_ids=["42", "43"]) == {"42"}
    assert tracking.known_client_ids(db, client_ids=[stored.client_withdraw_id, "x"]) == {
        stored.client_withdraw_id
    }


def test_an_alert_is_raised_once_per_subject(db: Database) -> None:
    now = datetime.now(UTC)
    assert alerts.raise_alert(db, event="foreign_withdrawal", subject="7", detail={}, now=now)
    assert not alerts.raise_alert(db, event="foreign_withdrawal", subject="7", detail={}, now=now)
    assert alerts.raise_alert(db, event="foreign_withdrawal", subject="8", detail={}, now=now)
    pending = alerts.pending(db)
    assert [a.payload["subject"] for a in pending] == ["7", "8"]
    assert alerts.mark_delivered(db, key=pending[0].key, now=now, slack_ts="1.1")
    assert not alerts.mark_delivered(db, key=pending[0].key, now=now)
    assert [a.key for a in alerts.pending(db)] == [pending[1].key]


def test_a_status_longer_than_its_column_is_kept_bounded_and_written_once(db: Database) -> None:
    """edgeX controls the status text: a long one must not make the poll cycle raise."""
    stored = submitted(db)
    long = "ASSET_FLOW_PENDING_" + "É" * 300
    assert status(db, stored.id, None, long)
    kept = [e["exchange_status"] for e in outbox(db, stored.id)][-1]
    assert len(kept) == work.STATUS_MAX
    assert kept.startswith("ASSET_FLOW_PENDING_")
    assert kept.endswith("…")
    # The poller compares what it stored with the full text it reads again: nothing new.
    assert not status(db, stored.id, kept, long)
    assert status(db, stored.id, kept, "DONE")
