"""Each Slack request acts once: replays and Slack's retries are acked and do nothing.

The copies are the same signed bytes (a replay within Slack's five-minute window) or Slack's own
retry headers on them; the key is kept in the database, so on PostgreSQL two replicas would agree.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from bot.slack.ids import ActionId
from bot.slack.standin.platform import FORM
from tests.slack.e2e.conftest import CHANNEL, LISTED, World, ack_text, wait_for


def _open_count(world: World) -> int:
    return len(world.stack.reads.open_requests())


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("retry_headers", [False, True], ids=["replayed", "slack_retries"])
def test_a_signed_command_sent_three_times_drafts_once(world: World, retry_headers: bool) -> None:
    payload = world.platform.command_payload(
        world.alice, f"250 USDT to {LISTED} rent", channel=CHANNEL
    )
    body = urlencode(payload).encode()
    signed_at = int(time.time())
    answers = []
    for attempt in range(3):
        extra = (
            {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"}
            if retry_headers and attempt
            else {}
        )
        answers.append(
            world.platform.post(body, content_type=FORM, timestamp=signed_at, extra_headers=extra)
        )
        time.sleep(0.3)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "Drafting" in answers[0].text
    assert answers[1].text == answers[2].text == ""
    wait_for(lambda: _open_count(world) == 1)
    time.sleep(0.5)
    world.flush()
    assert _open_count(world) == 1


def test_a_replayed_approval_counts_once(world: World) -> None:
    request_id = world.draft()
    clicked = world.platform.click(
        world.bob, channel=CHANNEL, ts=world.root_ts(request_id), action_id=ActionId.APPROVE
    )
    assert clicked.status == 200
    body = urlencode({"payload": json.dumps(clicked.payload)}).encode()
    again = world.platform.post(body, content_type=FORM)
    assert (again.status_code, again.text) == (200, "")
    world.flush()
    assert len(world.stack.reads.card(request_id).request.decisions) == 1


def test_the_same_content_typed_again_is_drafted_and_marked_as_a_likely_copy(
    world: World,
) -> None:
    first = world.draft()
    said = world.say(world.alice, f"250 USDT to {LISTED} again")
    assert "Drafted withdrawal #2" in said
    assert f"Same as #{first}, still pending" in said
    assert "/withdraw cancel 2" in said
    world.flush()
    assert f"Same as #{first}, still pending" in ack_text(world.root(2))
    other = world.draft(text=f"251 USDT to {LISTED} rent")
    assert "Same as" not in ack_text(world.root(other))


def test_an_event_slack_retries_is_handled_once(world: World) -> None:
    opened = world.platform.open_home(world.bob)
    assert opened.status == 200
    wait_for(lambda: len(world.slack.calls_to("views.publish")) == 1)
    body = json.dumps(opened.payload).encode()
    for attempt in (1, 2):
        retried = world.platform.post(
            body,
            content_type="application/json",
            extra_headers={"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "timeout"},
        )
        assert retried.status_code == 200
    time.sleep(0.5)
    assert len(world.slack.calls_to("views.publish")) == 1
