"""The quoter against the simulator: drafts stored without their LP quote get the worker's."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from approvals.lifecycle import State
from bot.edgex.errors import EdgeXAPIError, EdgeXHTTPError
from bot.worker.loop import Worker
from bot.worker.quoter import Quoter, refuses_quote
from storage import transactions
from storage.engine import Database
from storage.repository import StoredRequest
from tests.worker.world import (
    EXCHANGE,
    REQUESTER,
    Sim,
    cross,
    fast_config,
    membership,
    outbox,
    policy,
    state_of,
    worker,
)

SIGN_INFO = "/api/v1/private/assets/getCrossWithdrawSignInfo"


def _draft(database: Database, *, quoted: bool = False, amount: str = "1000") -> StoredRequest:
    pol = policy()
    draft = cross(amount) if quoted else replace(cross(amount), quote=None)
    return transactions.draft(
        database,
        draft=draft,
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        now=datetime.now(UTC),
    )


def test_the_worker_quotes_a_draft_as_a_draft_quoted_at_once(
    sqlite_db: Database, idle: Worker
) -> None:
    inline = _draft(sqlite_db, quoted=True)
    waiting = _draft(sqlite_db)
    assert waiting.request.state is State.AWAITING_QUOTE
    assert idle.quoter.run_once() == 1
    after = transactions.get_request(sqlite_db, request_id=waiting.id)
    assert after.request.state is State.PENDING_APPROVAL
    assert after.request.content_hash == inline.request.content_hash
    assert after.lease_owner is None
    events = outbox(sqlite_db, waiting.id)
    assert [e["event"] for e in events] == ["draft_stored_unquoted", "quoted"]
    assert idle.quoter.run_once() == 0


def test_an_amount_above_the_lp_maximum_ends_the_draft(
    sqlite_db: Database, idle: Worker, sim: Sim
) -> None:
    sim.post("quote", chainId="42161", crossWithdrawMaxAmount="500")
    waiting = _draft(sqlite_db)
    idle.quoter.run_once()
    after = transactions.get_request(sqlite_db, request_id=waiting.id)
    assert after.request.state is State.QUOTE_REFUSED
    assert after.request.note is not None
    assert "above the 500 USDT the liquidity provider can pay out" in after.request.note


def test_edgexs_refusal_ends_the_draft_with_its_code(
    sqlite_db: Database, idle: Worker, sim: Sim
) -> None:
    sim.post("quote", chainId="42161", refuse={"code": "LP_UNAVAILABLE", "msg": "no LP"})
    waiting = _draft(sqlite_db)
    idle.quoter.run_once()
    after = transactions.get_request(sqlite_db, request_id=waiting.id)
    assert after.request.state is State.QUOTE_REFUSED
    assert after.request.note == (
        "No LP quote, so it cannot be approved: edgeX refused to quote it: LP_UNAVAILABLE: no LP"
    )
    last = outbox(sqlite_db, waiting.id)[-1]
    assert last["event"] == "quote_refused"
    assert last["detail"]["error"]["code"] == "LP_UNAVAILABLE"


def test_an_outage_leaves_the_draft_waiting_and_retries_after_a_pause(
    sqlite_db: Database, idle: Worker, sim: Sim
) -> None:
    clock = [0.0]
    quoter = Quoter(
        sqlite_db,
        idle.exchange,
        idle.config,
        policy=policy,
        stop=threading.Event(),
        monotonic=lambda: clock[0],
    )
    sim.post("faults", kind="http_error", path=SIGN_INFO, status=503, count=2)
    waiting = _draft(sqlite_db)
    assert quoter.run_once() == 1
    assert state_of(sqlite_db, waiting.id) is State.AWAITING_QUOTE
    asked = sim.calls("getCrossWithdrawSignInfo")
    assert quoter.run_once() == 0, "it waits out its pause"
    assert sim.calls("getCrossWithdrawSignInfo") == asked
    clock[0] += idle.config.error_backoff
    assert quoter.run_once() == 1
    assert state_of(sqlite_db, waiting.id) is State.PENDING_APPROVAL


def test_a_draft_past_its_window_expires_instead_of_being_quoted(
    sqlite_db: Database, idle: Worker, sim: Sim
) -> None:
    waiting = _draft(sqlite_db)
    late = waiting.request.expires_at
    quoter = Quoter(
        sqlite_db,
        idle.exchange,
        idle.config,
        policy=policy,
        stop=threading.Event(),
        clock=lambda: late,
    )
    quoter.run_once()
    assert state_of(sqlite_db, waiting.id) is State.EXPIRED
    assert sim.calls("getCrossWithdrawSignInfo") == 0


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (
            EdgeXAPIError(
                method="GET",
                path=SIGN_INFO,
                code="CHAIN_NOT_SUPPORTED",
                msg=None,
                error_param=None,
                trace_id=None,
                http_status=200,
            ),
            True,
        ),
        (
            EdgeXAPIError(
                method="GET",
                path=SIGN_INFO,
                code="AUTH_SIGNATURE_INVALID",
                msg=None,
                error_param=None,
                trace_id=None,
                http_status=401,
            ),
            False,
        ),
        (
            EdgeXAPIError(
                method="GET",
                path=SIGN_INFO,
                code="AUTH_TIMESTAMP_EXPIRED",
                msg=None,
                error_param=None,
                trace_id=None,
                http_status=200,
            ),
            False,
        ),
        (
            EdgeXAPIError(
                method="GET",
                path=SIGN_INFO,
                code="SYSTEM_BUSY",
                msg=None,
                error_param=None,
                trace_id=None,
                http_status=503,
                retryable=True,
            ),
            False,
        ),
        (
            EdgeXHTTPError(
                method="GET",
                path=SIGN_INFO,
                status=404,
                body_excerpt="",
                retryable=False,
                outcome_unknown=False,
            ),
            False,
        ),
    ],
    ids=["refusal", "auth-401", "auth-code", "busy", "no-envelope"],
)
def test_only_an_answer_about_the_quote_itself_refuses_it(
    error: EdgeXAPIError | EdgeXHTTPError, refused: bool
) -> None:
    assert refuses_quote(error) is refused


def test_the_quote_fee_is_what_the_exchange_said(
    sqlite_db: Database, idle: Worker, sim: Sim
) -> None:
    sim.post("quote", chainId="42161", fee="3.5")
    waiting = _draft(sqlite_db)
    idle.quoter.run_once()
    quoted = outbox(sqlite_db, waiting.id)[-1]
    assert quoted["detail"]["quote"]["fee"] == "3.5"
    after = transactions.get_request(sqlite_db, request_id=waiting.id)
    assert after.request.content.fee_cap is not None
    assert after.request.content.fee_cap >= Decimal("3.5")


def test_two_workers_quote_each_draft_once(db: Database, sim: Sim) -> None:
    """Replicas on one database (PostgreSQL when configured): every draft gets one quote."""
    drafts = [_draft(db) for _ in range(12)]
    quoters = [worker(db, sim.url, fast_config(owner=name)) for name in ("a", "b")]
    try:
        threads = [
            threading.Thread(target=lambda q=q: [q.quoter.run_once() for _ in range(4)])
            for q in quoters
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        for stored in drafts:
            assert state_of(db, stored.id) is State.PENDING_APPROVAL
            events = [e["event"] for e in outbox(db, stored.id)]
            assert events == ["draft_stored_unquoted", "quoted"]
    finally:
        for built in quoters:
            built.exchange.client.close()
