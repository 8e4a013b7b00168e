"""Every way a send or a withdrawal can end, each checked in the outbox payload the thread gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from approvals.lifecycle import State
from bot.edgex.statuses import FAILURES
from bot.worker.loop import Worker
from bot.worker.submitter import Submitter
from storage import alerts, work
from storage.engine import Database
from storage.freeze import freeze, unfreeze
from tests.worker.world import (
    LISTED_ARB,
    Sim,
    approved,
    cross,
    normal,
    outbox,
    state_of,
    wait_for,
)

CREATE_NORMAL = "/api/v1/private/assets/createNormalWithdraw"

FAILURE_KINDS = [
    ("normal", "risk_check_failure", "NORMAL_WITHDRAW_FAILED_RISK_CHECK_FAILURE"),
    ("normal", "censor_failure", "NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE"),
    ("normal", "l2_rejected", "NORMAL_WITHDRAW_FAILED_L2_REJECTED"),
    ("cross", "risk_check_failure", "CROSS_WITHDRAW_FAILED_RISK_CHECK_FAILURE"),
    ("cross", "transfer_rejected", "CROSS_WITHDRAW_FAILED_TRANSFER_REJECTED"),
    ("cross", "censor_account_rejected", "CROSS_WITHDRAW_FAILED_CENSOR_CHECKING_ACCOUNT_REJECTED"),
    ("cross", "censor_failure", "CROSS_WITHDRAW_FAILED_CENSORING"),
    ("cross", "l2_rejected", "CROSS_WITHDRAW_FAILED_L2_REJECTED"),
    ("cross", "l1_submit_rejected", "CROSS_WITHDRAW_FAILED_L1_SUBMIT_REJECTED"),
    ("cross", "l1_rejected", "CROSS_WITHDRAW_FAILED_L1_REJECTED"),
    ("cross", "balance_not_enough", "CROSS_WITHDRAW_FAILED_USER_BALANCE_NOT_ENOUGH"),
]


def test_every_failure_kind_ends_failed_with_its_reason(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    # V1's failures; edgeX V2's (ASSUMED) are followed in tests/worker/test_flows.py.
    v1 = {status for status in FAILURES if not status.startswith("ASSET_FLOW_")}
    assert {status for _, _, status in FAILURE_KINDS} == v1
    expected: dict[int, tuple[str, str]] = {}
    for index, (kind, outcome, status) in enumerate(FAILURE_KINDS):
        stored = approved(sqlite_db, normal("100") if kind == "normal" else cross("1000"))
        code = f"SIM-{index}"
        sim.post(
            "fates",
            outcome=outcome,
            code=code,
            reason=f"scripted {outcome}",
            clientId=stored.client_withdraw_id,
        )
        expected[stored.id] = (status, code)
    idle.start()
    try:
        wait_for(lambda: all(state_of(sqlite_db, i) is State.FAILED for i in expected), 20)
    finally:
        idle.stop()
    for request_id, (status, code) in expected.items():
        final = outbox(sqlite_db, request_id)[-1]
        assert final["event"] == "exchange_failed"
        assert final["state"] == "failed"
        assert final["exchange_status"] == status
        failure = final["detail"]["failure"]
        catalogue = FAILURES[status]
        assert failure["status"] == status
        assert failure["cause"] == catalogue.cause
        assert failure["next_step"] == catalogue.next_step
        assert final["note"].startswith(catalogue.cause)
        if catalogue.code_field is None:
            assert failure["code"] is None
            assert failure["codes"] == {}
        else:
            assert failure["code"] == code
            assert failure["reason"].startswith("scripted ")
            assert code in final["note"]
        assert len(final["detail"]["audit_head_hash"]) == 64


def test_error_answer_to_the_first_send_fails_with_code_and_message(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    first = approved(sqlite_db, normal("600000"))
    stored = approved(sqlite_db, normal("600000"))  # more than the balance the first one left
    idle.submitter.run_once()
    assert state_of(sqlite_db, first.id) is State.SUBMITTED
    assert state_of(sqlite_db, stored.id) is State.FAILED
    assert len(sim.withdrawals()) == 1
    final = outbox(sqlite_db, stored.id)[-1]
    assert final["event"] == "first_send_refused"
    assert final["note"].startswith("edgeX refused the withdrawal: BALANCE_NOT_ENOUGH: ")
    assert final["detail"]["error"]["code"] == "BALANCE_NOT_ENOUGH"
    assert final["detail"]["error"]["trace_id"]
    assert len(final["detail"]["audit_head_hash"]) == 64


def test_dropped_answer_is_resent_with_the_same_bytes(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    sim.post("faults", kind="drop_after_record", path=CREATE_NORMAL)
    stored = approved(sqlite_db)
    idle.submitter.run_once()
    assert state_of(sqlite_db, stored.id) is State.SUBMITTED
    [withdrawal] = sim.withdrawals()
    assert sim.calls("createNormalWithdraw") == 2
    submission = work.submissions(sqlite_db, request_ids=[stored.id])[stored.id]
    assert submission.exchange_withdraw_id == withdrawal["id"]


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ({"kind": "http_error", "status": 503, "count": 5}, "no answer after the last resend"),
        ({"kind": "http_error", "status": 400}, "an error answer to a resend"),
    ],
)
def test_ambiguous_send_needs_reconciliation_and_is_matched(
    sqlite_db: Database, sim: Sim, idle: Worker, second: dict[str, object], why: str
) -> None:
    sim.post("faults", kind="drop_after_record", path=CREATE_NORMAL)
    sim.post("faults", path=CREATE_NORMAL, **second)
    stored = approved(sqlite_db)
    idle.submitter.run_once()
    assert state_of(sqlite_db, stored.id) is State.NEEDS_RECONCILIATION
    alert = outbox(sqlite_db, stored.id)[-1]
    assert alert["event"] == "outcome_unknown"
    assert why in alert["detail"]["alert"]["text"]
    assert alert["detail"]["alert"]["kind"] == "needs_reconciliation"
    # Sending stopped: another pass sends nothing.
    sent = sim.calls("createNormalWithdraw")
    idle.submitter.run_once()
    assert sim.calls("createNormalWithdraw") == sent
    # The withdrawal edgeX recorded is ours, in flight: the watch must not call it foreign.
    assert idle.watch.run_once()[0] == 0

    assert idle.poller.reconcile_once() == 1
    [withdrawal] = sim.withdrawals()
    assert state_of(sqlite_db, stored.id) is State.SUBMITTED
    matched = outbox(sqlite_db, stored.id)[-1]
    assert matched["event"] == "matched_at_exchange"
    assert matched["detail"]["exchange_withdraw_id"] == withdrawal["id"]
    wait_for(
        lambda: idle.poller.run_once() >= 0 and state_of(sqlite_db, stored.id) is State.COMPLETED
    )
    assert len(sim.withdrawals()) == 1


@pytest.mark.parametrize(
    ("quote", "reason"),
    [({"fee": "3"}, "quote changed"), ({"crossWithdrawMaxAmount": "500"}, "can pay out")],
)
def test_cross_quote_drift_sends_the_request_back_unsigned(
    sqlite_db: Database, sim: Sim, idle: Worker, quote: dict[str, str], reason: str
) -> None:
    stored = approved(sqlite_db, cross("1000"))
    sim.post("quote", **quote)
    idle.submitter.run_once()
    after = state_of(sqlite_db, stored.id)
    assert after is State.PENDING_APPROVAL
    assert work.submissions(sqlite_db, request_ids=[stored.id]) == {}
    assert sim.withdrawals() == []
    back = outbox(sqlite_db, stored.id)[-1]
    assert back["event"] == "recheck_failed"
    assert back["approval_round"] == 2
    assert reason in back["note"]


def test_frozen_requests_wait_unsigned(sqlite_db: Database, sim: Sim, idle: Worker) -> None:
    freeze(sqlite_db, by="ops", now=datetime.now(UTC), reason="drill")
    stored = approved(sqlite_db)
    assert idle.submitter.run_once() == 0
    assert state_of(sqlite_db, stored.id) is State.APPROVED
    unfreeze(sqlite_db, by=["ops"], now=datetime.now(UTC))
    idle.submitter.run_once()
    assert state_of(sqlite_db, stored.id) is State.SUBMITTED


def test_a_freeze_longer_than_the_window_sends_the_approval_back_unsigned(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    """Unfrozen two days later, the worker asks for approval again instead of signing."""
    moment = [datetime.now(UTC)]
    submitter = Submitter(
        sqlite_db,
        idle.exchange,
        idle.config,
        policy=lambda: idle.policy,
        membership=idle.membership,
        stop=idle.stop_event,
        clock=lambda: moment[0],
    )
    freeze(sqlite_db, by="ops", now=moment[0], reason="incident")
    stored = approved(sqlite_db)
    assert submitter.run_once() == 0
    moment[0] += timedelta(days=2)
    unfreeze(sqlite_db, by=["ops"], now=moment[0])
    submitter.run_once()
    assert state_of(sqlite_db, stored.id) is State.PENDING_APPROVAL
    assert work.submissions(sqlite_db, request_ids=[stored.id]) == {}
    assert sim.withdrawals() == []
    assert sim.calls(CREATE_NORMAL) == 0
    back = outbox(sqlite_db, stored.id)[-1]
    assert back["event"] == "recheck_failed"
    assert back["approval_round"] == 2
    assert back["note"] == (
        "Sent back for approval before signing: Approved 47 hours 59 minutes ago, longer than "
        "the policy's approval window of 24 hours; approve again"
    )


def test_payout_to_another_address_raises_an_alert(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    stored = approved(sqlite_db, cross("1000"))
    other = "0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A"
    sim.post(
        "fates", outcome="success", l1CompletedEthAddress=other, clientId=stored.client_withdraw_id
    )
    idle.submitter.run_once()
    wait_for(
        lambda: idle.poller.run_once() >= 0 and state_of(sqlite_db, stored.id) is State.COMPLETED
    )
    final = outbox(sqlite_db, stored.id)[-1]
    [alert] = final["detail"]["alerts"]
    assert alert["kind"] == "destination_mismatch"
    assert alert["approved_destination"] == LISTED_ARB
    assert alert["l1_completed_eth_address"] == other
    [channel] = alerts.pending(sqlite_db)
    assert channel.event == "destination_mismatch"
