"""The worker on edgeX V2 against the V2 simulator, on SQLite and PostgreSQL, over real HTTP.

One workflow, the other backend: priced by edgeX's fee, signed only after the last approval
over typed data checked field by field, submitted exactly once, followed to its end; a fee
above the cap goes back for approval, a lying typed-data answer is never signed, and an attempt
that outlived an outage is signed afresh for the same content, never sent twice.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from approvals.lifecycle import State
from bot.edgex.simulator import SimulatorServer
from bot.edgex.statuses import FLOW_WALK
from bot.worker.loop import Worker
from storage import alerts, transactions, work
from storage import freeze as freezing
from storage.engine import Database
from tests.worker.flow_world import (
    FLOW_ACCOUNT,
    PAYOUT,
    WALLET,
    approved_flow,
    flow_worker,
    setup_flows,
)
from tests.worker.world import Sim, outbox, state_of, wait_for

SUBMIT = "/api/v1/private/unified-asset/submitAssetFlow"


@pytest.fixture
def flow_sim(simulator: SimulatorServer) -> Iterator[tuple[Sim, dict[str, Any]]]:
    admin = Sim(simulator.url)
    keys = setup_flows(admin)
    yield admin, keys
    admin.close()


@pytest.fixture
def v2(db: Database, flow_sim: tuple[Sim, dict[str, Any]]) -> Iterator[Worker]:
    sim, keys = flow_sim
    built = flow_worker(db, sim.url, keys)
    yield built
    built.exchange.client.close()


def flows(sim: Sim) -> list[dict[str, Any]]:
    return list(sim.state()["flows"].values())


def poll_until(worker: Worker, database: Database, request_id: int, state: State) -> None:
    def reached() -> bool:
        worker.poller.run_once()
        return state_of(database, request_id) is state

    wait_for(reached, timeout=10)


def test_a_flow_is_priced_signed_sent_once_and_followed_to_completion(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker
) -> None:
    sim, _ = flow_sim
    stored = approved_flow(db, v2, "1000")
    assert stored.request.content.fee_cap == Decimal("1.5")  # 1 USDC fee plus 50 % headroom
    v2.submitter.run_once()
    assert state_of(db, stored.id) is State.SUBMITTED
    [flow] = flows(sim)
    attempt = flow["attempt"]
    assert attempt["amount"] == "999000000"  # gross 1000 USDC less edgeX's 1 USDC fee
    assert attempt["fee"] == "1000000"
    assert attempt["destinationAccount"] == PAYOUT
    assert attempt["userAddress"] == WALLET.address
    assert attempt["clientWithdrawId"] == stored.client_withdraw_id
    assert attempt["sourceAccount"] == FLOW_ACCOUNT
    poll_until(v2, db, stored.id, State.COMPLETED)
    statuses = [p["exchange_status"] for p in outbox(db, stored.id) if p.get("exchange_status")]
    assert statuses[-1] == FLOW_WALK[-1]
    signed = [p for p in outbox(db, stored.id) if p["event"] == "signed"]
    assert signed[0]["detail"]["verifying_contract"].lower() == (
        "0x000000000000000000000000000000000000ed9e"
    )
    assert len(flows(sim)) == 1


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("payout_failed", "ASSET_FLOW_FAILED"), ("risk_check_failure", "ASSET_FLOW_REJECTED")],
)
def test_each_failure_ends_failed_with_edgexs_code(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker, outcome: str, status: str
) -> None:
    sim, _ = flow_sim
    stored = approved_flow(db, v2)
    sim.post(
        "fates",
        outcome=outcome,
        code="CHAIN_REVERTED",
        reason="out of gas",
        clientId=stored.client_withdraw_id,
    )
    v2.submitter.run_once()
    poll_until(v2, db, stored.id, State.FAILED)
    after = transactions.get_request(db, request_id=stored.id)
    assert after.exchange_status == status
    assert "failCode CHAIN_REVERTED" in (after.request.note or "")
    assert "failReason out of gas" in (after.request.note or "")


def test_a_fee_above_the_approved_cap_goes_back_for_approval_unsigned(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker
) -> None:
    sim, _ = flow_sim
    stored = approved_flow(db, v2)
    sim.post("v2/fees", token="USDC", fee="2000000")  # 2 USDC, above the 1.5 cap
    v2.submitter.run_once()
    after = transactions.get_request(db, request_id=stored.id)
    assert after.request.state is State.PENDING_APPROVAL
    assert after.request.content.fee_cap == Decimal("3")
    assert "fee rose above the approved cap" in (after.request.note or "")
    assert sim.calls("getEIP712Data") == 0
    assert flows(sim) == []
    assert work.submissions(db, request_ids=[stored.id]) == {}


@pytest.mark.parametrize(
    "field",
    [
        "amount",
        "fee",
        "tokenAddress",
        "destination",
        "destinationAccount",
        "sourceAccount",
        "clientWithdrawId",
        "expireTime",
        "userAddress",
        "remark",
    ],
)
def test_typed_data_that_says_anything_else_is_never_signed(
    sqlite_db: Database, simulator: SimulatorServer, field: str
) -> None:
    sim = Sim(simulator.url)
    keys = setup_flows(sim)
    worker = flow_worker(sqlite_db, sim.url, keys)
    try:
        stored = approved_flow(sqlite_db, worker)
        sim.post("config", typedTamper=field)
        worker.submitter.run_once()
        assert state_of(sqlite_db, stored.id) is State.APPROVED
        assert work.submissions(sqlite_db, request_ids=[stored.id]) == {}
        assert sim.calls("submitAssetFlow") == 0
        [alert] = alerts.pending(sqlite_db)
        assert f"Withdrawal #{stored.id} was not signed" in alert.alert().texts[0]
        assert f"message.{field}" in alert.alert().texts[0]
    finally:
        worker.exchange.client.close()
        sim.close()


def test_an_attempt_that_outlived_an_outage_is_signed_afresh_and_sent_once(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]]
) -> None:
    """Stopped while waiting out edgeX's 429 (a shutdown mid-outage), resumed after expiry."""
    sim, keys = flow_sim
    worker = flow_worker(db, sim.url, keys, attempt_seconds=2, outlived_margin_ms=500)
    try:
        stored = approved_flow(db, worker)
        sim.post("faults", kind="rate_limit", path=SUBMIT, count=1, retryAfter="5")
        waiting = threading.Thread(target=worker.submitter.run_once)
        waiting.start()
        wait_for(lambda: sim.state()["faults"] == [])  # the 429 answered: waiting it out
        worker.stop_event.set()
        waiting.join(10)
        assert state_of(db, stored.id) is State.SUBMITTING
        first = work.submissions(db, request_ids=[stored.id])[stored.id]
        wait_for(lambda: worker.exchange.outlived(first), timeout=5)
        worker.stop_event.clear()
        worker.submitter.run_once()
        assert state_of(db, stored.id) is State.SUBMITTED
        again = work.submissions(db, request_ids=[stored.id])[stored.id]
        assert again.body != first.body
        assert again.client_withdraw_id == first.client_withdraw_id
        assert again.expire_time_ms > first.expire_time_ms
        [flow] = flows(sim)
        assert flow["attempt"] == json.loads(again.body)["attempt"]
        resigned = [p for p in outbox(db, stored.id) if p["event"] == "resigned"]
        assert "signed again for the same approved" in resigned[0]["detail"]["alert"]["text"]
    finally:
        worker.exchange.client.close()


def test_an_expired_attempt_edgex_already_has_is_recorded_not_signed_again(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]]
) -> None:
    """The answer to the first send was lost and the attempt expired: edgeX has the flow."""
    sim, keys = flow_sim
    worker = flow_worker(db, sim.url, keys, attempt_seconds=2, outlived_margin_ms=500)
    try:
        stored = approved_flow(db, worker)
        sim.post("faults", kind="drop_after_record", path=SUBMIT, count=1)
        sim.post("faults", kind="rate_limit", path=SUBMIT, count=1, retryAfter="5")
        waiting = threading.Thread(target=worker.submitter.run_once)
        waiting.start()
        wait_for(lambda: sim.state()["faults"] == [])  # recorded, then a 429: waiting it out
        worker.stop_event.set()
        waiting.join(10)
        first = work.submissions(db, request_ids=[stored.id])[stored.id]
        wait_for(lambda: worker.exchange.outlived(first), timeout=5)
        worker.stop_event.clear()
        worker.submitter.run_once()
        assert state_of(db, stored.id) is State.SUBMITTED
        [flow] = flows(sim)
        submission = work.submissions(db, request_ids=[stored.id])[stored.id]
        assert submission.body == first.body
        assert submission.exchange_withdraw_id == flow["flowId"]
        assert sim.calls("submitAssetFlow") == 1  # the recorded one; the 429 is not logged
    finally:
        worker.exchange.client.close()


def test_a_send_whose_answer_was_lost_is_resent_and_is_the_same_flow(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker
) -> None:
    sim, _ = flow_sim
    stored = approved_flow(db, v2)
    sim.post("faults", kind="drop_after_record", path=SUBMIT)
    v2.submitter.run_once()
    assert state_of(db, stored.id) is State.SUBMITTED
    assert sim.calls("submitAssetFlow") == 2
    assert len(flows(sim)) == 1


def test_no_answer_to_any_send_is_reconciled_by_client_id(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker
) -> None:
    sim, _ = flow_sim
    stored = approved_flow(db, v2)
    sim.post(
        "faults",
        kind="drop_after_record",
        path=SUBMIT,
        count=5,
    )
    v2.submitter.run_once()
    assert state_of(db, stored.id) is State.NEEDS_RECONCILIATION
    assert v2.poller.reconcile_once() == 1
    assert state_of(db, stored.id) is State.SUBMITTED
    [flow] = flows(sim)
    submission = work.submissions(db, request_ids=[stored.id])[stored.id]
    assert submission.exchange_withdraw_id == flow["flowId"]


def test_a_status_nobody_named_is_shown_and_watched_as_unknown(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker
) -> None:
    sim, _ = flow_sim
    sim.post("config", shape="hostile", flowStepMs=60_000)
    stored = approved_flow(db, v2)
    v2.submitter.run_once()
    v2.poller.run_once()
    after = transactions.get_request(db, request_id=stored.id)
    assert after.request.state is State.SUBMITTED
    assert after.exchange_status is not None
    assert after.exchange_status.startswith(FLOW_WALK[0])
    texts = [a["text"] for p in outbox(db, stored.id) for a in p["detail"].get("alerts", [])]
    assert any("status unknown at edgeX, check the account" in t for t in texts)


def test_a_made_up_typed_data_field_of_any_length_is_alerted_once(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]], v2: Worker
) -> None:
    sim, _ = flow_sim
    stored = approved_flow(db, v2)
    sim.post("config", typedTamper="z" * 500)
    v2.submitter.run_once()
    v2.submitter._parked.clear()
    v2.submitter.run_once()
    assert state_of(db, stored.id) is State.APPROVED
    [alert] = alerts.pending(db)
    assert f"Withdrawal #{stored.id} was not signed" in alert.alert().texts[0]
    assert sim.calls("submitAssetFlow") == 0


def test_an_outlived_attempt_is_not_signed_again_while_frozen(
    db: Database, flow_sim: tuple[Sim, dict[str, Any]]
) -> None:
    sim, keys = flow_sim
    worker = flow_worker(db, sim.url, keys, attempt_seconds=2, outlived_margin_ms=500)
    try:
        stored = approved_flow(db, worker)
        sim.post("faults", kind="rate_limit", path=SUBMIT, count=1, retryAfter="5")
        waiting = threading.Thread(target=worker.submitter.run_once)
        waiting.start()
        wait_for(lambda: sim.state()["faults"] == [])
        worker.stop_event.set()
        waiting.join(10)
        first = work.submissions(db, request_ids=[stored.id])[stored.id]
        wait_for(lambda: worker.exchange.outlived(first), timeout=5)
        worker.stop_event.clear()
        freezing.freeze(db, by="UT1", now=datetime.now(UTC), reason="incident")
        worker.submitter.run_once()
        assert state_of(db, stored.id) is State.SUBMITTING
        assert work.submissions(db, request_ids=[stored.id])[stored.id].body == first.body
        assert flows(sim) == []
        freezing.unfreeze(db, by=["UT1", "UT2"], now=datetime.now(UTC))
        worker.submitter._parked.clear()
        worker.submitter.run_once()
        assert state_of(db, stored.id) is State.SUBMITTED
        assert len(flows(sim)) == 1
    finally:
        worker.exchange.client.close()
