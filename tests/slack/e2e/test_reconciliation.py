"""A withdrawal edgeX may or may not have: approvers check, confirm it absent, and it fails.

The request gets into NEEDS_RECONCILIATION either through the real worker (the simulator drops
the first send unrecorded and answers the resend with an error) or, where the test must hold the
worker's hand (a match between drawing and clicking), through the storage functions the worker
uses. Every click goes over real HTTP, signed as Slack signs it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from approvals.lifecycle import ABSENCE_WAIT, State, Trigger
from bot.edgex.models import AssetOrder
from bot.slack.ids import ActionId
from bot.slack.standin import Person
from bot.worker.exchange_access import signed_terms
from bot.worker.order_search import order_candidate
from bot.worker.surfaced import report_surfaced
from storage import alerts, reconciliation, transactions, work
from storage.tables import AbsenceConfirmationRow, DecisionRow, OutboxRow, RequestRow
from tests.slack.e2e.conftest import CHANNEL, LISTED, World, ack_text, wait_for
from tests.slack.e2e.test_refusals import _last_audit, _show_stale_copy
from tests.storage.test_work import sign

CREATE_NORMAL = "/api/v1/private/assets/createNormalWithdraw"
OWNER = "e2e-worker"
_LEASES = {"lease_owner", "lease_until"}


def _state(world: World, request_id: int) -> State:
    return transactions.get_request(world.stack.database, request_id=request_id).request.state


def _snapshot(world: World) -> list[list[Any]]:
    """Requests (without the worker's lease columns), decisions, events and confirmations."""
    with world.stack.database.read() as session:
        tables: list[list[Any]] = [
            [
                tuple((k, v) for k, v in row.model_dump().items() if k not in _LEASES)
                for row in session.exec(select(RequestRow)).all()
            ]
        ]
        tables += [
            [tuple(r.model_dump().items()) for r in session.exec(select(table)).all()]
            for table in (DecisionRow, OutboxRow, AbsenceConfirmationRow)
        ]
    return tables


def _refused(world: World, person: Person, request_id: int, words: str) -> None:
    before = _snapshot(world)
    rows = world.audit_rows()
    assert world.click(person, request_id, ActionId.CONFIRM_ABSENT) == 200
    assert world.audit_rows() == rows + 1
    audit = _last_audit(world)
    assert (audit.action, audit.actor) == ("refused", person.user_id)
    assert _snapshot(world) == before, "a refused confirmation changed something"
    said = world.last_ephemeral(person)
    assert words in said, said


def _approved(world: World) -> int:
    request_id = world.draft()
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.click(world.carol, request_id, ActionId.APPROVE)
    return request_id


def _wait_out(world: World) -> None:
    """Past the wait before anyone may confirm absent, counted from the worker's own record."""
    world.clock.now = max(world.clock.now, datetime.now(UTC)) + ABSENCE_WAIT + timedelta(minutes=1)


def _unknown_by_hand(world: World) -> int:
    """Signed, stored and sent without a clear answer, as the worker records it."""
    request_id = _approved(world)
    assert _state(world, request_id) is State.APPROVED
    database, ops = world.stack.database, world.stack.ops
    now = world.clock.now
    work.claim(
        database, owner=OWNER, states={State.APPROVED}, now=now, lease_for=timedelta(hours=1)
    )
    work.begin_submission(
        database,
        request_id=request_id,
        owner=OWNER,
        policy=ops.policy,
        membership=ops.members.resolve(),
        quote=None,
        now=now,
        sign=sign,
        read_terms=signed_terms,
    )
    work.record_exchange_outcome(
        database,
        request_id=request_id,
        owner=OWNER,
        trigger=Trigger.OUTCOME_UNKNOWN,
        now=now,
        note="No answer after the last resend",
    )
    world.stack.notifier.wake()
    world.flush()
    return request_id


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_two_approvers_confirm_it_absent_and_it_fails(world_with_worker: World) -> None:
    world = world_with_worker
    world.admin.post("faults", kind="drop", path=CREATE_NORMAL)
    world.admin.post("faults", kind="http_error", status=400, path=CREATE_NORMAL)
    request_id = _approved(world)
    wait_for(lambda: _state(world, request_id) is State.NEEDS_RECONCILIATION, timeout=20)
    world.flush()
    _wait_out(world)
    client_id = transactions.get_request(
        world.stack.database, request_id=request_id
    ).client_withdraw_id

    root = world.root(request_id)
    shown = ack_text(root)
    assert "Needs reconciliation" in shown
    assert f"clientWithdrawId `{client_id}`" in shown
    assert "Confirmed not at edgeX: 0/2" in shown
    [button] = [
        element
        for block in root["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert button["action_id"] == ActionId.CONFIRM_ABSENT
    dialog = button["confirm"]["text"]["text"]
    assert f"mark withdrawal #{request_id} failed" in dialog
    assert "checked the edgeX account history" in dialog
    assert client_id in dialog

    world.click(world.bob, request_id, ActionId.CONFIRM_ABSENT)
    assert _state(world, request_id) is State.NEEDS_RECONCILIATION
    assert "Confirmed not at edgeX: 1/2 (<@U0BOB>)" in ack_text(world.root(request_id))
    assert "1/2 confirmations (<@U0BOB>)" in ack_text(world.replies(request_id)[-1])

    world.click(world.carol, request_id, ActionId.CONFIRM_ABSENT)
    assert _state(world, request_id) is State.FAILED
    root = world.root(request_id)
    assert "confirmed not at edgeX by <@U0BOB> and <@U0CAROL>" in ack_text(root)
    assert not [block for block in root["blocks"] if block["type"] == "actions"]
    last = world.replies(request_id)[-1]
    assert last.get("subtype") == "thread_broadcast"
    assert "2/2 confirmations" in ack_text(last)
    assert "Failed" in ack_text(last)
    assert "Audit log head" in ack_text(last)

    # Failed for good: the worker neither sends nor matches it again.
    time.sleep(0.5)
    assert _state(world, request_id) is State.FAILED
    sent = [c for c in world.admin.get("requests")["requests"] if c["path"] == CREATE_NORMAL]
    assert sent == []
    assert not world.admin.state()["withdrawals"]
    status = world.say(world.dave, f"status {request_id}")
    assert "confirmed not at edgeX by <@U0BOB> and <@U0CAROL>" in status


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_confirmation_refusals(world: World) -> None:
    request_id = _unknown_by_hand(world)
    _refused(world, world.bob, request_id, "check the account history again and confirm from")
    _wait_out(world)
    _refused(world, world.alice, request_id, "You drafted this request")
    _refused(world, world.frank, request_id, "You are not in treasury")
    # Erin approves the large tier only; this withdrawal's tier is treasury's alone.
    _refused(world, world.erin, request_id, "You are not in treasury")
    world.click(world.bob, request_id, ActionId.CONFIRM_ABSENT)
    _refused(world, world.bob, request_id, "You already confirmed")
    assert _state(world, request_id) is State.NEEDS_RECONCILIATION


def test_status_and_explain_say_what_to_check(world: World) -> None:
    request_id = _unknown_by_hand(world)
    _wait_out(world)
    world.click(world.carol, request_id, ActionId.CONFIRM_ABSENT)
    stored = transactions.get_request(world.stack.database, request_id=request_id)
    for command in ("status", "explain"):
        said = world.say(world.dave, f"{command} {request_id}")
        assert f"clientWithdrawId `{stored.client_withdraw_id}`" in said, said
        assert "Confirmed not at edgeX: 1/2 (<@U0CAROL>)" in said, said
        assert "edgeX could accept the signed body until" in said


def test_a_click_after_the_worker_matched_it_is_refused(world: World) -> None:
    request_id = _unknown_by_hand(world)
    _wait_out(world)
    world.click(world.bob, request_id, ActionId.CONFIRM_ABSENT)
    drawn = world.root(request_id)
    work.record_exchange_outcome(
        world.stack.database,
        request_id=request_id,
        owner=OWNER,
        trigger=Trigger.MATCHED_AT_EXCHANGE,
        now=world.clock.now,
        note="Found at edgeX as withdrawal 777",
        exchange_withdraw_id="777",
    )
    world.stack.notifier.wake()
    world.flush()
    assert "Confirm not at edgeX" not in ack_text(world.root(request_id))
    _show_stale_copy(world, request_id, drawn)
    _refused(world, world.carol, request_id, "no longer needs anyone to confirm")
    assert _state(world, request_id) is State.SUBMITTED


def test_edgex_showing_it_after_all_reaches_the_thread_and_the_channel(world: World) -> None:
    request_id = _unknown_by_hand(world)
    _wait_out(world)
    world.click(world.bob, request_id, ActionId.CONFIRM_ABSENT)
    world.click(world.carol, request_id, ActionId.CONFIRM_ABSENT)
    database = world.stack.database
    stored = transactions.get_request(database, request_id=request_id)
    [absent] = reconciliation.absent_requests(database, client_ids=[stored.client_withdraw_id])
    order = AssetOrder.model_validate(
        {"orderId": "901", "amount": "250", "coin": "USDT", "address": LISTED}
    )
    found = order_candidate(order, None)
    assert report_surfaced(database, absent=absent, found=found, now=world.clock.now)
    assert not report_surfaced(database, absent=absent, found=found, now=world.clock.now)
    world.stack.notifier.wake()
    world.flush()
    wait_for(lambda: not alerts.pending(database))
    said = f"Withdrawal #{request_id} is at edgeX after all: 250 USDT to {LISTED} (edgeX id 901"
    assert said in ack_text(world.replies(request_id)[-1])
    channel = [ack_text(m) for m in world.slack.workspace.channel_messages(CHANNEL)]
    [alert] = [text for text in channel if text.startswith("🚨")]
    assert said in alert
    assert "the money may leave twice" in alert
    assert _state(world, request_id) is State.FAILED


def test_an_account_alert_says_what_it_found_in_the_channel(world: World) -> None:
    """The watch's findings carry their words in ``detail.text``; the channel shows them."""
    text = "A withdrawal from edgeX account 1 that withdrawbot did not make: 5 USDT"
    database = world.stack.database
    assert alerts.raise_alert(
        database,
        event="foreign_withdrawal",
        subject="902",
        detail={"text": text},
        now=world.clock.now,
    )
    world.stack.notifier.wake()
    wait_for(lambda: not alerts.pending(database))
    channel = [ack_text(m) for m in world.slack.workspace.channel_messages(CHANNEL)]
    assert any(text in shown for shown in channel), channel
