"""An event Slack refuses for good is set aside; it never holds back anything else.

Slack's refusals are scripted on the stand-in as Slack sends them (HTTP 200, ``ok: false`` and
the code); the rest of the stack runs for real. What a person sees is checked in the channel and
the thread, what an operator sees in ``/metrics`` and from ``withdrawbot outbox``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import main
from bot.slack.ids import ActionId
from storage import dead_letters, outbox
from storage.tables import OutboxRow
from tests.slack.e2e.conftest import CHANNEL, LISTED, World, ack_text, wait_for


def _dead_gauge(world: World) -> float:
    page = httpx.get(f"{world.url}/metrics", timeout=10)
    for family in text_string_to_metric_families(page.text):
        for sample in family.samples:
            if sample.name == "withdrawbot_outbox_dead_letters":
                return sample.value
    raise AssertionError("no withdrawbot_outbox_dead_letters in /metrics")


def _cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _channel_texts(world: World) -> list[str]:
    return [ack_text(m) for m in world.slack.workspace.channel_messages(CHANNEL)]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_refused_reply_is_set_aside_shown_counted_and_retried(
    world: World,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = world.draft()
    world.slack.fail_next("chat.postMessage", error="invalid_blocks")
    world.click(world.bob, first, ActionId.APPROVE)
    world.flush()

    notes = [text for text in map(ack_text, world.replies(first)) if "could not be shown" in text]
    assert len(notes) == 1, world.replies(first)
    assert "invalid_blocks" in notes[0]
    assert f"/withdraw status {first}" in notes[0]
    assert "withdrawbot audit export" in notes[0]
    assert any("could not be shown" in text for text in _channel_texts(world)), "not broadcast"

    # Everything after it still goes out: a new request is drafted, posted and approved.
    second = world.draft()
    world.click(world.bob, second, ActionId.APPROVE)
    world.click(world.carol, second, ActionId.APPROVE)
    assert "Approved" in ack_text(world.root(second))
    assert _dead_gauge(world) == 1

    code, out, err = _cli(capsys, monkeypatch, database_url, "outbox", "dead")
    assert code == 0, err
    (line,) = out.strip().splitlines()
    key, about, event, _when, error = line.split("\t")
    assert about == f"request #{first}"
    assert "invalid_blocks" in error
    assert event

    code, out, err = _cli(capsys, monkeypatch, database_url, "outbox", "retry", key, "--by", "ops")
    assert (code, out.strip()) == (0, "1 dead letter(s) offered to the notifier again"), err
    world.flush()
    assert world.last_audit_action() == "outbox_retry"
    assert _dead_gauge(world) == 0
    assert any("approved" in ack_text(reply).lower() for reply in world.replies(first))

    code, _out, err = _cli(capsys, monkeypatch, database_url, "outbox", "drop", key, "--by", "ops")
    assert code == 1
    assert err.strip() == (
        f"withdrawbot outbox drop: {key} is not a dead letter (see withdrawbot outbox dead)"
    )


def test_a_refused_first_message_leaves_a_note_that_holds_the_thread(world: World) -> None:
    world.slack.fail_next("chat.postMessage", error="msg_blocks_too_long")
    request_id = world.draft()
    root = world.root(request_id)
    assert "could not be shown in Slack as a card" in ack_text(root)
    assert "msg_blocks_too_long" in ack_text(root)
    (letter,) = dead_letters.listing(world.stack.database)
    assert (letter.request_id, letter.kind) == (request_id, "request")

    # The note has no buttons, so a decision comes another way; its answer joins the thread.
    world.say(world.alice, f"cancel {request_id}")
    world.flush()
    assert world.replies(request_id), "a later event did not reply in the note's thread"


def test_an_event_of_no_known_shape_is_set_aside_and_the_next_goes_out(world: World) -> None:
    request_id = world.draft()
    world.flush()
    with world.stack.database.write() as session:
        session.add(
            OutboxRow(
                request_id=request_id,
                seq=2,
                outbox_key=f"withdrawbot-hand-written-{request_id}-2",
                event="signed",
                payload='{"state": "no such state", "detail": []}',
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.flush()
    texts = [ack_text(reply) for reply in world.replies(request_id)]
    assert "could not be shown" in texts[0], texts
    assert "UnreadableEvent" in texts[0], texts
    assert any("approved" in text.lower() for text in texts[1:]), texts
    (letter,) = dead_letters.listing(world.stack.database)
    assert letter.key == f"withdrawbot-hand-written-{request_id}-2"


def test_a_root_that_can_no_longer_be_updated_stops_only_its_redraws(world: World) -> None:
    request_id = world.draft()
    world.slack.fail_next("chat.update", error="message_not_found")
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.flush()
    texts = [ack_text(reply) for reply in world.replies(request_id)]
    assert any("approved" in text.lower() for text in texts[:1]), texts
    assert any("can no longer be updated" in text for text in texts), texts

    updates = len(world.slack.calls_to("chat.update"))
    world.click(world.carol, request_id, ActionId.APPROVE)
    world.flush()
    assert len(world.slack.calls_to("chat.update")) == updates, "tried the dead root again"
    assert len(world.replies(request_id)) == 3  # bob's answer, the note, carol's answer
    assert len(dead_letters.listing(world.stack.database)) == 1


def test_bot_wide_errors_are_retried_not_set_aside(world: World) -> None:
    """``not_in_channel`` is fixed by inviting the bot: nothing is set aside, the event waits."""
    world.slack.fail_next("chat.postMessage", error="not_in_channel")
    assert "Drafted withdrawal #1" in world.say(world.alice, f"250 USDT to {LISTED} rent")
    wait_for(lambda: bool(world.slack.calls_to("chat.postMessage")))
    assert dead_letters.listing(world.stack.database) == []
    assert [entry.request_id for entry in outbox.pending(world.stack.database)] == [1]


@pytest.mark.parametrize("error", ["service_unavailable", "request_timeout", "fatal_error"])
def test_slacks_own_trouble_is_retried_on_the_backoff(world: World, error: str) -> None:
    """Slack's transient codes (HTTP 200, ``ok: false``) neither set the event aside nor wait
    the bot-wide minute: the message is in the channel within the notifier's first backoffs."""
    world.slack.fail_next("chat.postMessage", error=error)
    request_id = world.draft()
    world.flush(timeout=10)
    assert dead_letters.listing(world.stack.database) == []
    assert world.root(request_id)
