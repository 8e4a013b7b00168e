"""Approved requests through the in-process worker to the simulator and back, on SQLite."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from approvals.lifecycle import State
from bot.refused import Refused
from bot.roles import Role, settings_for
from bot.worker.config import SendRetry
from bot.worker.loop import Worker
from bot.worker.main import run_worker
from storage import transactions, work
from storage.audit import verify
from storage.engine import Database
from tests.worker.world import (
    POLICY_TEXT,
    Sim,
    approved,
    cross,
    fast_config,
    outbox,
    state_of,
    wait_for,
    worker,
)


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


def test_stop_during_resends_leaves_the_stored_body_for_the_next_worker(
    sqlite_db: Database, sim: Sim
) -> None:
    sim.post("faults", kind="drop", path="/api/v1/private/assets/createNormalWithdraw", count=100)
    patient = worker(
        sqlite_db, sim.url, fast_config(send_retry=SendRetry(attempts=50, base_delay=0.2))
    )
    patient.start()
    stored = approved(sqlite_db)
    patient.wakeup.notify()
    wait_for(lambda: state_of(sqlite_db, stored.id) is State.SUBMITTING)
    started = time.monotonic()
    patient.stop()
    patient.exchange.client.close()
    assert time.monotonic() - started < 2
    after = transactions.get_request(sqlite_db, request_id=stored.id)
    assert after.request.state is State.SUBMITTING
    assert after.lease_owner is None
    assert sim.withdrawals() == []

    sim.http.delete("/_sim/faults")
    successor = worker(sqlite_db, sim.url)
    successor.start()
    try:
        wait_for(lambda: state_of(sqlite_db, stored.id) is State.COMPLETED)
    finally:
        successor.stop()
        successor.exchange.client.close()
    [withdrawal] = sim.withdrawals()
    body = work.submissions(sqlite_db, request_ids=[stored.id])[stored.id].body
    assert withdrawal["body"] == json.loads(body)


def test_worker_alone_refuses_a_policy_naming_slack_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_TEXT.replace('"UT2"]', '"@ops"]'))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("WITHDRAWBOT_POLICY", str(policy))
    monkeypatch.setenv("EDGEX_BASE_URL", "paper")
    with pytest.raises(Refused, match="cannot ask Slack who is in a user group"):
        run_worker(settings_for(Role.WORKER), lease_seconds=1, name="alone")
