"""Whole approval rounds in Slack: approve, reject, cancel, expire, with reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest

from approvals.lifecycle import State
from bot.slack.ids import ActionId, CallbackId, Field
from storage import transactions
from tests.slack.e2e.conftest import World, ack_text


def _state(world: World, request_id: int) -> State:
    return transactions.get_request(world.stack.database, request_id=request_id).request.state


def _buttons(message: dict[str, object]) -> list[str]:
    blocks = message.get("blocks") or []
    assert isinstance(blocks, list)
    return [
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_full_approve_round(world: World) -> None:
    request_id = world.draft()
    root = world.root(request_id)
    shown = ack_text(root)
    assert "250 USDT" in shown
    assert "0x52908400098527886E0F7030069857D2E4169EE7" in shown
    assert "rent" in shown
    assert "2 of treasury: 0/2 so far" in shown
    assert _buttons(root) == [ActionId.APPROVE, ActionId.REJECT, ActionId.CANCEL]
    assert root["metadata"]["event_payload"]["key"].endswith("-1")

    assert world.click(world.bob, request_id, ActionId.APPROVE) == 200
    world.flush()
    assert "2 of treasury: 1/2 so far" in ack_text(world.root(request_id))
    replies = world.replies(request_id)
    assert len(replies) == 1
    assert "<@U0BOB> approved" in ack_text(replies[0])

    assert world.click(world.carol, request_id, ActionId.APPROVE) == 200
    world.flush()
    assert _state(world, request_id) is State.APPROVED
    root = world.root(request_id)
    assert _buttons(root) == []
    assert "Approved" in ack_text(root)
    replies = world.replies(request_id)
    assert len(replies) == 2
    assert "the policy is met" in ack_text(replies[1])
    # every thread post carries its own outbox key, in order
    keys = [r["metadata"]["event_payload"]["key"] for r in replies]
    assert [k.rsplit("-", 1)[1] for k in keys] == ["2", "3"]


def test_reject_round_asks_for_a_reason(world: World) -> None:
    request_id = world.draft()
    assert world.click(world.bob, request_id, ActionId.REJECT) == 200
    views = world.slack.workspace.modals.open_views(world.bob.user_id)
    assert views, "the reject form did not open"
    view = views[-1]
    assert view["callback_id"] == CallbackId.REJECT_REASON
    empty = world.platform.submit(world.bob, view_id=view["id"], values={})
    assert empty.ack() == {
        "response_action": "errors",
        "errors": {Field.REJECT_REASON.value: "Say why; the requester will read it"},
    }
    assert _state(world, request_id) is State.PENDING_APPROVAL
    done = world.platform.submit(
        world.bob, view_id=view["id"], values={Field.REJECT_REASON.value: "Wrong <!channel> wallet"}
    )
    assert done.status == 200
    assert done.ack() is None
    world.flush()
    assert _state(world, request_id) is State.REJECTED
    root = world.root(request_id)
    assert _buttons(root) == []
    assert "Rejected" in ack_text(root)
    assert "&lt;!channel&gt;" in ack_text(root)
    reply = world.replies(request_id)[-1]
    assert reply.get("subtype") == "thread_broadcast", "the outcome is shown in the channel too"
    assert "rejected: Wrong &lt;!channel&gt; wallet" in ack_text(reply)


def test_cancel_round_by_the_requester_only(world: World) -> None:
    request_id = world.draft()
    assert world.click(world.bob, request_id, ActionId.CANCEL) == 200
    assert "Only the person who drafted" in world.last_ephemeral(world.bob)
    assert _state(world, request_id) is State.PENDING_APPROVAL
    assert world.click(world.alice, request_id, ActionId.CANCEL) == 200
    world.flush()
    assert _state(world, request_id) is State.CANCELLED
    assert _buttons(world.root(request_id)) == []
    assert "Cancelled" in ack_text(world.root(request_id))
    assert world.replies(request_id)[-1].get("subtype") == "thread_broadcast"


def test_expire_round_after_one_reminder(world: World) -> None:
    request_id = world.draft()
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.flush()
    world.clock.advance(timedelta(minutes=10))
    assert world.stack.ops.sweep().reminded == ()
    world.clock.advance(timedelta(minutes=15))
    assert world.stack.ops.sweep().reminded == (request_id,)
    assert world.stack.ops.sweep().reminded == (), "one reminder per round"
    world.flush()
    reminder = ack_text(world.replies(request_id)[-1])
    assert "still needs 2 of treasury: 1/2 so far" in reminder
    assert "<@U0CAROL>" in reminder
    assert "<@U0BOB>" not in reminder.split("so far", 1)[1], "bob already approved"

    world.clock.advance(timedelta(hours=1))
    assert world.stack.ops.sweep().expired == (request_id,)
    world.flush()
    assert _state(world, request_id) is State.EXPIRED
    root = world.root(request_id)
    assert _buttons(root) == []
    assert "Expired" in ack_text(root)
    note = world.replies(request_id)[-1]
    assert "Expired" in ack_text(note)
    assert note.get("subtype") == "thread_broadcast"
