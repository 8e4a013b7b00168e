"""A Slack outage during a round delays messages but loses none and doubles none."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from sqlmodel import select, update

from bot.slack.ids import ActionId
from bot.slack.notifier import Notifier
from bot.wakeups import Wakeup
from storage import outbox
from storage.tables import OutboxRow
from tests.slack.e2e.conftest import CHANNEL, LISTED, World, ack_text


def _keys_in_slack(world: World) -> Counter[str]:
    workspace = world.slack.workspace
    with workspace.lock:
        messages = list(workspace.channels[CHANNEL].messages)
    return Counter(
        str(m["metadata"]["event_payload"]["key"]) for m in messages if m.get("metadata")
    )


def _assert_each_event_once(world: World) -> None:
    with world.stack.database.read() as session:
        keys = [row.outbox_key for row in session.exec(select(OutboxRow)).all()]
    shown = _keys_in_slack(world)
    assert sorted(shown) == sorted(keys), "an event was lost or one Slack never saw was shown"
    assert set(shown.values()) == {1}, f"posted twice: {shown}"


def test_rate_limits_and_5xx_during_a_round(world: World) -> None:
    world.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    request_id = world.draft()
    world.slack.fail_next("chat.postMessage", status=503, count=2)
    world.slack.fail_next("chat.update", status=500)
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.slack.fail_next("*", status=429, retry_after=1, count=3)
    world.click(world.carol, request_id, ActionId.APPROVE)
    world.flush(timeout=20)
    _assert_each_event_once(world)
    assert "Approved" in ack_text(world.root(request_id))
    posts = world.slack.calls_to("chat.postMessage")
    assert [c.status for c in posts].count(429) >= 1
    assert len(world.replies(request_id)) == 2


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_answers_lost_after_slack_applied_them_are_not_posted_again(world: World) -> None:
    world.slack.fail_next("chat.postMessage", status=500, after_applying=True)
    assert "Drafted withdrawal #1" in world.say(world.alice, f"250 USDT to {LISTED} rent")
    world.flush(timeout=20)
    assert world.slack.calls_to("conversations.history"), "the root was looked for"
    world.slack.fail_next("chat.postMessage", status=502, after_applying=True)
    world.click(world.bob, 1, ActionId.APPROVE)
    world.flush(timeout=20)
    assert world.slack.calls_to("conversations.replies"), "the thread was looked in"
    _assert_each_event_once(world)
    assert len(world.replies(1)) == 1


def test_a_restarted_notifier_looks_before_it_posts(world: World) -> None:
    request_id = world.draft()
    world.click(world.bob, request_id, ActionId.APPROVE)
    # The running notifier stops (the process died) between posting and marking.
    world.stack.stop.set()
    world.stack.notifier.wake()
    for thread in world.stack.threads:
        thread.join(10)
    with world.stack.database.write() as session:
        session.exec(
            update(OutboxRow).where(OutboxRow.seq == 2).values(delivered_at=None)  # type: ignore[arg-type]
        )
        session.commit()
    assert len(outbox.pending(world.stack.database)) == 1
    restarted = Notifier(
        database=world.stack.database,
        client=WebClient(token=world.slack.bot_token, base_url=world.slack.api_url),
        cards=world.stack.reads,
        channel=CHANNEL,
        paper=False,
        clock=lambda: datetime.now(UTC),
        wakeup=Wakeup(),
    )
    world.slack.clear_calls()
    assert restarted.drain().delivered == 1
    assert world.slack.calls_to("conversations.replies")
    assert not world.slack.calls_to("chat.postMessage")
    _assert_each_event_once(world)
