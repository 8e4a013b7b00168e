"""Each refusal is ephemeral and specific, and changes nothing but one audit entry.

Also: forged or stale signatures get 401 and change nothing; a doubled click acts once; the
App Home shows what waits for whom.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from approvals.lifecycle import State
from approvals.metadata import CrossQuote
from bot.slack.ids import ActionId
from storage import transactions
from storage.tables import AuditRow, DecisionRow, OutboxRow, RequestRow
from tests.slack.e2e.conftest import CHANNEL, LISTED, World, ack_text, wait_for


def _snapshot(world: World) -> list[list[Any]]:
    with world.stack.database.read() as session:
        return [
            [tuple(r.model_dump().items()) for r in session.exec(select(table)).all()]
            for table in (RequestRow, DecisionRow, OutboxRow)
        ]


def _last_audit(world: World) -> AuditRow:
    with world.stack.database.read() as session:
        rows = session.exec(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).all()  # type: ignore[attr-defined]
    return rows[0]


def _refused_click(world: World, person: Any, request_id: int, action: str, words: str) -> None:
    before = _snapshot(world)
    rows = world.audit_rows()
    assert world.click(person, request_id, action) == 200
    assert world.audit_rows() == rows + 1
    audit = _last_audit(world)
    assert audit.action == "refused"
    assert audit.actor == person.user_id
    assert _snapshot(world) == before, "a refused click changed the request"
    said = world.last_ephemeral(person)
    assert words in said, said


def _show_stale_copy(world: World, request_id: int, old: dict[str, Any]) -> None:
    """Put an old copy of the message back, as a phone that did not refresh would show it."""
    workspace = world.slack.workspace
    with workspace.lock:
        for message in workspace.channels[CHANNEL].messages:
            if message["ts"] == old["ts"]:
                message["blocks"] = copy.deepcopy(old["blocks"])


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_click_refusals(world: World) -> None:
    request_id = world.draft()
    _refused_click(world, world.alice, request_id, ActionId.APPROVE, "You drafted this request")
    _refused_click(world, world.frank, request_id, ActionId.APPROVE, "You are not in treasury")
    world.click(world.bob, request_id, ActionId.APPROVE)
    _refused_click(world, world.bob, request_id, ActionId.APPROVE, "You already approved")
    _refused_click(
        world, world.bob, request_id, ActionId.CANCEL, "Only the person who drafted this request"
    )


def test_refusal_when_no_longer_pending(world: World) -> None:
    request_id = world.draft()
    drawn = world.root(request_id)
    world.command(world.alice, f"cancel {request_id}")
    world.flush()
    _show_stale_copy(world, request_id, drawn)
    _refused_click(world, world.bob, request_id, ActionId.APPROVE, "was cancelled")


def test_refusal_when_content_changed_since_the_message_was_drawn(world: World) -> None:
    world.say(world.alice, f"cross 100 USDT to {LISTED} chain 42161 bridge")
    world.flush()
    drawn = world.root(1)
    stored = transactions.get_request(world.stack.database, request_id=1)
    transactions.requote(
        world.stack.database,
        request_id=1,
        quote=CrossQuote(
            lp_account_id=stored.request.content.lp_account_id or "",
            lp_l2_key=stored.request.content.lp_l2_key or "",
            max_amount=Decimal(40000),
            fee=Decimal(4),
        ),
        policy=world.stack.ops.policy,
        now=world.clock.now,
    )
    world.flush()
    current = world.root(1)
    assert "approval round 2" in ack_text(current)
    _show_stale_copy(world, 1, drawn)
    _refused_click(world, world.bob, 1, ActionId.APPROVE, "changed since this message was drawn")
    _show_stale_copy(world, 1, current)
    world.click(world.bob, 1, ActionId.APPROVE)
    assert len(transactions.get_request(world.stack.database, request_id=1).request.decisions) == 1


def test_refusals_for_another_workspace(world: World) -> None:
    request_id = world.draft()
    rows = world.audit_rows()
    said = ack_text(world.command(world.mallory, f"250 USDT to {LISTED} mine"))
    assert "only takes requests from its own Slack workspace" in said
    assert world.audit_rows() == rows + 1
    world.slack.workspace.channels[CHANNEL].members.add(world.mallory.user_id)
    before = _snapshot(world)
    assert world.click(world.mallory, request_id, ActionId.APPROVE) == 200
    wait_for(lambda: "own Slack workspace" in "".join(world.ephemerals(world.mallory)))
    assert _snapshot(world) == before


def test_forged_and_stale_signatures_get_401_and_change_nothing(world: World) -> None:
    before = _snapshot(world)
    rows = world.audit_rows()
    body = (
        "command=%2Fwithdraw&text=250+USDT+to+" + LISTED + "+rent&user_id=U0ALICE"
        "&team_id=T0STANDIN&channel_id=C0TREASURY&trigger_id=1.2.3"
    ).encode()
    form = "application/x-www-form-urlencoded"
    forged = world.platform.post(body, content_type=form, signature="v0=" + "0" * 64)
    assert forged.status_code == 401
    stale = world.platform.post(body, content_type=form, timestamp=int(time.time()) - 6 * 60)
    assert stale.status_code == 401
    assert world.platform.post(body, content_type=form, signature="").status_code == 401
    assert _snapshot(world) == before
    assert world.audit_rows() == rows
    assert not world.slack.calls_to("chat.postMessage")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_doubled_click_acts_once(world: World) -> None:
    request_id = world.draft()
    ts = world.root_ts(request_id)
    statuses: list[int] = []

    def click() -> None:
        delivery = world.platform.click(
            world.bob, channel=CHANNEL, ts=ts, action_id=ActionId.APPROVE
        )
        statuses.append(delivery.status)

    threads = [threading.Thread(target=click) for _ in range(2)]
    rows = world.audit_rows()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    wait_for(lambda: world.audit_rows() == rows + 2)
    world.flush()
    stored = transactions.get_request(world.stack.database, request_id=request_id).request
    assert [d.approver for d in stored.decisions] == ["U0BOB"]
    assert len(world.replies(request_id)) == 1
    wait_for(lambda: "You already approved" in "".join(world.ephemerals(world.bob)))


def test_home_shows_what_waits_for_me(world: World) -> None:
    request_id = world.draft()
    delivery = world.platform.open_home(world.bob)
    assert delivery.status == 200
    wait_for(lambda: world.slack.workspace.modals.home(world.bob.user_id) is not None)
    home = world.slack.workspace.modals.home(world.bob.user_id) or {}
    shown = json.dumps(home)
    assert "Waiting for you" in shown
    assert f"#{request_id}" in shown
    delivery = world.platform.act_in_view(world.bob, view_id=home["id"], action_id=ActionId.APPROVE)
    assert delivery.status == 200
    wait_for(
        lambda: (
            len(
                transactions.get_request(
                    world.stack.database, request_id=request_id
                ).request.decisions
            )
            == 1
        )
    )
    wait_for(
        lambda: (
            "Nothing waits for your approval"
            in json.dumps(world.slack.workspace.modals.home(world.bob.user_id))
        )
    )
    world.platform.open_home(world.alice)
    wait_for(lambda: world.slack.workspace.modals.home(world.alice.user_id) is not None)
    assert "Nothing waits for your approval" in json.dumps(
        world.slack.workspace.modals.home(world.alice.user_id)
    )
    assert (
        transactions.get_request(world.stack.database, request_id=request_id).request.state
        is State.PENDING_APPROVAL
    )
