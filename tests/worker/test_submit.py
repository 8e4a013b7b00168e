"""Approved requests through the in-process worker to the simulator and back, on SQLite."""

from __future__ import annotations

import json

from approvals.lifecycle import State
from bot.worker.loop import Worker
from storage import work
from storage.audit import verify
from storage.engine import Database
from tests.worker.world import Sim, approved, cross, outbox, state_of, wait_for


def test_normal_withdrawal_is_signed_sent_once_and_completed(
    sqlite_db: Database, sim: Sim, running: Worker
) -> None:
    stored = approved(sqlite_db)
    running.wakeup.notify()
    wait_for(lambda: state_of(sqlite_db, stored.id) is State.COMPLETED)

    [withdrawal] = sim.withdrawals()
    submission = work.submissions(sqlite_db, request_ids=[stored.id])[stored.id]
    assert withdrawal["body"] == json.loads(submission.body)
    assert submission.exchange_withdraw_id == withdrawal["id"]
    events = outbox(sqlite_db, stored.id)
    names = [e["event"] for e in events]
    assert names[:4] == ["draft_stored", "approve", "signed", "exchange_accepted"]
    assert names[-1] == "exchange_completed"
    polled = {"exchange_status", "exchange_completed"}
    statuses = [e["exchange_status"] for e in events if e["event"] in polled]
    assert len(statuses) == len(set(statuses))
    final = events[-1]["detail"]
    assert final["l1_tx_hash"].startswith("0x")
    assert final["alerts"] == []
    assert final["audit_head_hash"] == verify(sqlite_db).head_hash


def test_cross_withdrawal_completes(sqlite_db: Database, sim: Sim, running: Worker) -> None:
    stored = approved(sqlite_db, cross())
    running.wakeup.notify()
    wait_for(lambda: state_of(sqlite_db, stored.id) is State.COMPLETED)
    [withdrawal] = sim.withdrawals()
    assert withdrawal["kind"] == "CROSS"
    assert withdrawal["body"]["fee"] == "2"
