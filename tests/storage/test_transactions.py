"""Units of work: each use case stores the domain's transition, one audit row and one event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from approvals import lifecycle
from approvals.content import Kind
from approvals.decisions import Decision
from approvals.lifecycle import State
from approvals.policy import parse_policy
from approvals.refusals import ActionRefused, TransitionRefused
from storage import audit, outbox, transactions
from storage.engine import Database
from storage.failures import CorruptRow, RequestNotFound, StaleRequest
from storage.repository import update_request
from tests.approvals.helpers import (
    F1,
    OUTSIDER,
    POLICY_TEXT,
    QUOTE,
    REQUESTER,
    T0,
    T1,
    T2,
    cross,
    normal,
)
from tests.storage.databases import dump
from tests.storage.world import MEMBERSHIP, MINUTE, POLICY, approve, store


def _events(db: Database, request_id: int) -> list[str]:
    return [e.event for e in outbox.pending(db) if e.request_id == request_id]


def _actions(db: Database) -> list[tuple[str, str, int | None]]:
    with db.read() as session:
        query = text("SELECT action, actor, request_id FROM audit_log ORDER BY seq")
        rows = session.connection().execute(query)
        return [(row[0], row[1], row[2]) for row in rows]


def test_draft_is_stored_exactly(db: Database) -> None:
    stored = store(db, normal("1500.250000"))
    assert stored.client_withdraw_id.isdigit()
    assert len(stored.client_withdraw_id) == 19
    loaded = transactions.get_request(db, request_id=stored.id)
    assert loaded.request == stored.request
    assert loaded.request.content.hash == stored.request.content_hash
    assert loaded.request.drafted_at == T0
    assert loaded.request.drafted_at.tzinfo is UTC
    with db.read() as session:
        amount = session.connection().execute(text("SELECT amount FROM requests")).one()[0]
    assert amount == "1500.250000"
    assert _actions(db) == [("draft_stored", REQUESTER, stored.id)]
    assert _events(db, stored.id) == ["draft_stored"]
    payload = outbox.pending(db)[0].payload
    assert payload["state"] == "pending_approval"
    assert payload["detail"]["content"]["amount"] == "1500.25"
    assert payload["client_withdraw_id"] == stored.client_withdraw_id


def test_cross_draft_keeps_lp_fields_and_fee_cap(db: Database) -> None:
    stored = store(db, cross("1000"))
    loaded = transactions.get_request(db, request_id=stored.id).request
    assert loaded.content.kind is Kind.CROSS
    assert loaded.content.fee_cap == Decimal("2.5")
    assert loaded.content.lp_l2_key == "0xabc"
    assert loaded == stored.request


def test_client_withdraw_ids_are_distinct(db: Database) -> None:
    ids = {store(db).client_withdraw_id for _ in range(5)}
    assert len(ids) == 5


def test_approval_reaches_approved_once(db: Database) -> None:
    stored = store(db)
    approved = approve(db, stored.id, T1)
    assert approved.request.state is State.APPROVED
    assert approved.version == 2
    with pytest.raises(TransitionRefused, match="is already approved"):
        approve(db, stored.id, T2)
    assert transactions.get_request(db, request_id=stored.id) == approved
    assert _actions(db)[-1] == ("approve", T1, stored.id)
    event = outbox.pending(db)[-1].payload
    assert (event["previous_state"], event["state"]) == ("pending_approval", "approved")


def test_large_amount_needs_three_people(db: Database) -> None:
    stored = store(db, normal("20000"))
    assert approve(db, stored.id, T1).request.state is State.PENDING_APPROVAL
    assert approve(db, stored.id, T2).request.state is State.PENDING_APPROVAL
    final = approve(db, stored.id, F1)
    assert final.request.state is State.APPROVED
    assert [a.approver for a in final.request.decisions] == [T1, T2, F1]
    assert transactions.get_request(db, request_id=stored.id) == final


def test_reject_with_reason(db: Database) -> None:
    stored = store(db)
    rejected = transactions.decide(
        db,
        request_id=stored.id,
        approver=T1,
        decision=Decision.REJECT,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=T0 + MINUTE,
        reason="wrong wallet",
    )
    assert rejected.request.state is State.REJECTED
    assert rejected.request.note == f"Rejected by {T1}: wrong wallet"
    assert transactions.get_request(db, request_id=stored.id) == rejected
    assert outbox.pending(db)[-1].payload["detail"]["reason"] == "wrong wallet"


@pytest.mark.parametrize(
    ("approver", "decision", "reason", "message"),
    [
        (REQUESTER, Decision.APPROVE, None, "You drafted this request"),
        (REQUESTER, Decision.REJECT, "no", "use Cancel instead of Reject"),
        (OUTSIDER, Decision.APPROVE, None, "You are not in treasury"),
        (T1, Decision.REJECT, "  ", "Please say why you reject this request"),
    ],
)
def test_refused_clicks_change_nothing(
    db: Database, approver: str, decision: Decision, reason: str | None, message: str
) -> None:
    stored = store(db)
    before = dump(db)
    with pytest.raises(ActionRefused, match=message):
        transactions.decide(
            db,
            request_id=stored.id,
            approver=approver,
            decision=decision,
            policy=POLICY,
            membership=MEMBERSHIP,
            now=T0 + MINUTE,
            reason=reason,
        )
    assert dump(db) == before


def test_double_click_counts_once(db: Database) -> None:
    stored = store(db, normal("20000"))
    approve(db, stored.id, T1)
    before = dump(db)
    with pytest.raises(ActionRefused, match="You already approved this version"):
        approve(db, stored.id, T1, now=T0 + 2 * MINUTE)
    assert dump(db) == before


def test_cancel_by_the_requester_only(db: Database) -> None:
    stored = store(db)
    before = dump(db)
    with pytest.raises(ActionRefused, match="Only the person who drafted"):
        transactions.cancel(db, request_id=stored.id, by=T1, now=T0 + MINUTE)
    assert dump(db) == before
    cancelled = transactions.cancel(db, request_id=stored.id, by=REQUESTER, now=T0 + MINUTE)
    assert cancelled.request.state is State.CANCELLED
    assert _actions(db)[-1] == ("cancelled", REQUESTER, stored.id)
    with pytest.raises(TransitionRefused, match="was cancelled"):
        approve(db, stored.id, T1)


def test_expire_only_after_the_window(db: Database) -> None:
    stored = store(db)
    window_end = stored.request.expires_at
    assert transactions.expirable(db, now=window_end - MINUTE) == []
    before = dump(db)
    with pytest.raises(ActionRefused, match="can still be approved until"):
        transactions.expire(db, request_id=stored.id, now=window_end - MINUTE)
    assert dump(db) == before
    assert transactions.expirable(db, now=window_end) == [stored.id]
    expired = transactions.expire(db, request_id=stored.id, now=window_end)
    assert expired.request.state is State.EXPIRED
    assert transactions.expirable(db, now=window_end + MINUTE) == []
    assert _actions(db)[-1] == ("window_passed", audit.SYSTEM_ACTOR, stored.id)


def test_requote_that_fits_writes_nothing(db: Database) -> None:
    stored = store(db, cross("1000"))
    before = dump(db)
    same = transactions.requote(
        db,
        request_id=stored.id,
        quote=replace(QUOTE, fee=Decimal("2.4")),
        policy=POLICY,
        now=T0 + MINUTE,
    )
    assert same == stored
    assert dump(db) == before


def test_requote_that_changes_content_opens_a_new_round(db: Database) -> None:
    stored = store(db, cross("1000"))
    approved = approve(db, stored.id, T1)
    assert approved.request.state is State.APPROVED
    requoted = transactions.requote(
        db,
        request_id=stored.id,
        quote=replace(QUOTE, fee=Decimal("3")),
        policy=POLICY,
        now=T0 + 2 * MINUTE,
    )
    assert requoted.request.state is State.PENDING_APPROVAL
    assert requoted.request.approval_round == 2
    assert requoted.request.content_hash != stored.request.content_hash
    assert transactions.get_request(db, request_id=stored.id) == requoted
    # The same approver decides again in the new round; the old decision stays on record.
    again = approve(db, stored.id, T1, now=T0 + 3 * MINUTE)
    assert again.request.state is State.APPROVED
    assert [(a.approver, a.approval_round) for a in again.request.decisions] == [
        (T1, 1),
        (T1, 2),
    ]


def test_a_new_policy_lets_an_approver_decide_again_in_the_same_round(db: Database) -> None:
    """The domain voids approvals given under another policy without opening a new round."""
    stored = store(db, normal("20000"))
    approve(db, stored.id, T1)
    stricter = parse_policy(POLICY_TEXT.replace('expiry = "24h"', 'expiry = "23h"'))
    assert stricter.hash != POLICY.hash
    again = approve(db, stored.id, T1, pol=stricter, now=T0 + 2 * MINUTE)
    assert [(a.approval_round, a.policy_hash) for a in again.request.decisions] == [
        (1, POLICY.hash),
        (1, stricter.hash),
    ]


def test_times_are_stored_as_utc_and_naive_ones_refused(db: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    stored = store(db, now=datetime(2025, 1, 2, 12, 0, tzinfo=plus_two))
    loaded = transactions.get_request(db, request_id=stored.id).request
    assert loaded.drafted_at == T0
    assert loaded.drafted_at.tzinfo is UTC
    before = dump(db)
    with pytest.raises(ValueError, match="must carry its time zone"):
        store(db, now=datetime(2025, 1, 2, 10, 0))
    assert dump(db) == before


def test_unknown_request(db: Database) -> None:
    with pytest.raises(RequestNotFound, match="there is no withdrawal request 42"):
        approve(db, 42, T1)


def test_content_edited_outside_withdrawbot_is_refused(db: Database) -> None:
    stored = store(db)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("UPDATE requests SET amount = '99'")
        connection.commit()
    with pytest.raises(CorruptRow, match="no longer matches its content hash"):
        approve(db, stored.id, T1)
    with pytest.raises(CorruptRow):
        transactions.get_request(db, request_id=stored.id)


def test_every_change_is_in_the_chain(db: Database) -> None:
    first = store(db)
    second = store(db, normal("20000"))
    approve(db, first.id, T1)
    approve(db, second.id, T2)
    transactions.cancel(db, request_id=second.id, by=REQUESTER, now=T0 + 2 * MINUTE)
    verdict = audit.verify(db)
    assert verdict.intact, verdict.problem
    assert verdict.rows == 5
    assert [e.seq for e in outbox.pending(db) if e.request_id == second.id] == [1, 2, 3]


def test_a_write_from_a_stale_read_is_refused(db: Database) -> None:
    """The version column: a write that did not hold the row lock cannot overwrite a newer one."""
    stored = store(db)
    moved = lifecycle.cancel(stored.request, by=REQUESTER)
    with db.write() as session:
        update_request(session, stored=stored, request=moved, now=T0 + MINUTE)
        with pytest.raises(StaleRequest, match=f"request {stored.id} changed after it was read"):
            update_request(session, stored=stored, request=moved, now=T0 + MINUTE)
