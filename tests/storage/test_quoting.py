"""The worker's quote for a cross draft stored without one, on both engines."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlmodel import col, select

from approvals.lifecycle import State
from approvals.refusals import ActionRefused, TransitionRefused
from storage import quoting, transactions, work
from storage.engine import Database
from storage.failures import LeaseLost
from storage.repository import StoredRequest
from storage.tables import OutboxRow
from tests.approvals.helpers import QUOTE, REQUESTER, T0, T1, cross
from tests.storage.databases import dump
from tests.storage.world import MINUTE, POLICY, approve, store

LEASE = 2 * MINUTE
QUOTED_AT = T0 + 5 * MINUTE


def _events(db: Database, request_id: int) -> list[tuple[str, dict[str, object]]]:
    with db.read() as session:
        rows = session.exec(
            select(OutboxRow)
            .where(col(OutboxRow.request_id) == request_id)
            .order_by(col(OutboxRow.seq))
        ).all()
    return [(row.event, json.loads(row.payload)) for row in rows]


def _claimed(db: Database, owner: str = "w1") -> StoredRequest:
    [stored] = work.claim(
        db, owner=owner, states=[State.AWAITING_QUOTE], now=QUOTED_AT, lease_for=LEASE
    )
    return stored


def test_the_quote_makes_the_draft_approvable_as_if_quoted_at_once(db: Database) -> None:
    inline = store(db, cross())
    waiting = store(db, cross(quote=None))
    assert waiting.request.state is State.AWAITING_QUOTE
    claimed = _claimed(db)
    assert claimed.id == waiting.id
    after = quoting.record_quote(
        db, request_id=waiting.id, owner="w1", quote=QUOTE, policy=POLICY, now=QUOTED_AT
    )
    assert after.request.state is State.PENDING_APPROVAL
    assert after.request.content == inline.request.content
    assert after.request.content_hash == inline.request.content_hash
    assert after.request.expires_at == QUOTED_AT + POLICY.approval_expiry
    stored = transactions.get_request(db, request_id=waiting.id)
    assert stored.request == after.request
    events = _events(db, waiting.id)
    assert [name for name, _ in events] == ["draft_stored_unquoted", "quoted"]
    quoted = events[1][1]
    assert quoted["previous_state"] == "awaiting_quote"
    assert quoted["state"] == "pending_approval"
    assert quoted["detail"]["quote"] == {  # type: ignore[index]
        "lp_account_id": "555",
        "lp_l2_key": "0x0abc",
        "fee": "2",
        "max_amount": "40000",
    }
    assert approve(db, waiting.id, T1, now=QUOTED_AT + MINUTE).request.decisions


def test_only_the_lease_holder_quotes_and_a_second_worker_finds_nothing(db: Database) -> None:
    waiting = store(db, cross(quote=None))
    _claimed(db, "w1")
    assert not work.claim(
        db, owner="w2", states=[State.AWAITING_QUOTE], now=QUOTED_AT, lease_for=LEASE
    )
    before = dump(db)
    with pytest.raises(LeaseLost):
        quoting.record_quote(
            db, request_id=waiting.id, owner="w2", quote=QUOTE, policy=POLICY, now=QUOTED_AT
        )
    assert dump(db) == before


def test_a_quote_that_cannot_serve_the_draft_ends_it(db: Database) -> None:
    waiting = store(db, cross(quote=None))
    _claimed(db)
    after = quoting.record_quote(
        db,
        request_id=waiting.id,
        owner="w1",
        quote=replace(QUOTE, max_amount=Decimal("10")),
        policy=POLICY,
        now=QUOTED_AT,
    )
    assert after.request.state is State.QUOTE_REFUSED
    assert after.request.note is not None
    assert "the liquidity provider can pay out" in after.request.note
    [_, (event, payload)] = _events(db, waiting.id)
    assert event == "quote_refused"
    assert payload["detail"]["quote"]["max_amount"] == "10"  # type: ignore[index]
    assert payload["detail"]["audit_head_hash"]  # type: ignore[index]


def test_an_exchange_refusal_ends_the_draft_with_edgexs_words(db: Database) -> None:
    waiting = store(db, cross(quote=None))
    _claimed(db)
    after = quoting.record_quote_refused(
        db,
        request_id=waiting.id,
        owner="w1",
        reason="edgeX refused to quote it: CHAIN_NOT_SUPPORTED",
        now=QUOTED_AT,
        detail={"error": {"code": "CHAIN_NOT_SUPPORTED", "message": "chain 42161"}},
    )
    assert after.request.state is State.QUOTE_REFUSED
    assert after.request.note == (
        "No LP quote, so it cannot be approved: edgeX refused to quote it: CHAIN_NOT_SUPPORTED"
    )
    [_, (event, payload)] = _events(db, waiting.id)
    assert event == "quote_refused"
    assert payload["detail"]["error"]["code"] == "CHAIN_NOT_SUPPORTED"  # type: ignore[index]


def test_a_draft_cancelled_while_it_was_quoted_stays_cancelled(db: Database) -> None:
    waiting = store(db, cross(quote=None))
    _claimed(db)
    cancelled = transactions.cancel(db, request_id=waiting.id, by=REQUESTER, now=QUOTED_AT)
    assert cancelled.request.state is State.CANCELLED
    before = dump(db)
    with pytest.raises(TransitionRefused):
        quoting.record_quote(
            db, request_id=waiting.id, owner="w1", quote=QUOTE, policy=POLICY, now=QUOTED_AT
        )
    assert dump(db) == before


def test_a_draft_that_got_no_quote_in_its_window_expires(db: Database) -> None:
    waiting = store(db, cross(quote=None))
    closed = waiting.request.expires_at
    assert transactions.expirable(db, now=closed - MINUTE) == []
    assert transactions.expirable(db, now=closed) == [waiting.id]
    work.claim(db, owner="w1", states=[State.AWAITING_QUOTE], now=closed, lease_for=LEASE)
    with pytest.raises(ActionRefused):
        quoting.record_quote(
            db, request_id=waiting.id, owner="w1", quote=QUOTE, policy=POLICY, now=closed
        )
    expired = transactions.expire(db, request_id=waiting.id, now=closed)
    assert expired.request.state is State.EXPIRED
