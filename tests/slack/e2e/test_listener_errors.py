"""Slack errors after the ack, each with what the person sees.

Slack's answers are scripted on the stand-in as Slack sends them (429 with Retry-After, 5xx,
HTTP 200 with ``ok: false`` and the code); the bot runs for real over HTTP.
"""

from __future__ import annotations

from bot.slack.ids import ActionId, CallbackId, Field
from tests.slack.e2e.conftest import CHANNEL, LISTED, World, ack_text, wait_for

ELSEWHERE = "C0GENERAL"


def _form_opened(world: World, user_id: str) -> str:
    wait_for(lambda: bool(world.slack.workspace.modals.open_views(user_id)), timeout=15)
    view = world.slack.workspace.modals.open_views(user_id)[-1]
    assert view["callback_id"] == CallbackId.WITHDRAW
    return str(view["id"])


def _responses(world: World, user_id: str) -> list[str]:
    return [
        ack_text(m)
        for m in world.slack.workspace.ephemerals_for(user_id)
        if m.get("via") == "respond"
    ]


def test_a_rate_limited_views_open_is_waited_out(world: World) -> None:
    world.slack.fail_next("views.open", status=429, retry_after=1)
    world.platform.command(world.alice, "", channel=CHANNEL)
    _form_opened(world, world.alice.user_id)
    assert [c.status for c in world.slack.calls_to("views.open")] == [429, 200]


def test_a_5xx_on_views_publish_is_retried(world: World) -> None:
    world.slack.fail_next("views.publish", status=503)
    world.platform.open_home(world.bob)
    wait_for(lambda: world.slack.workspace.modals.home(world.bob.user_id) is not None)
    assert [c.status for c in world.slack.calls_to("views.publish")] == [503, 200]


def test_an_expired_trigger_tells_the_person_what_to_do_instead(world: World) -> None:
    world.slack.fail_next("views.open", error="expired_trigger_id")
    world.platform.command(world.alice, "", channel=CHANNEL)
    wait_for(lambda: bool(_responses(world, world.alice.user_id)))
    (said,) = _responses(world, world.alice.user_id)
    assert "Slack could not open the withdrawal form (expired_trigger_id)" in said
    assert "/withdraw 250 USDT to 0x" in said
    assert world.slack.workspace.modals.open_views(world.alice.user_id) == []


def test_the_reject_form_not_opening_is_said_in_the_thread_of_the_click(world: World) -> None:
    request_id = world.draft()
    world.slack.fail_next("views.open", error="invalid_trigger_id")
    world.platform.click(
        world.bob, channel=CHANNEL, ts=world.root_ts(request_id), action_id=ActionId.REJECT
    )
    wait_for(lambda: bool(_responses(world, world.bob.user_id)))
    assert (
        "Slack could not open the reject form (invalid_trigger_id)"
        in (_responses(world, world.bob.user_id)[-1])
    )
    assert "Click Reject again" in _responses(world, world.bob.user_id)[-1]


def test_a_stale_form_is_redrawn_on_its_current_version(world: World) -> None:
    world.platform.command(world.alice, "", channel=CHANNEL)
    view_id = _form_opened(world, world.alice.user_id)
    world.slack.fail_next("views.update", error="hash_conflict")
    world.switch_form_to_cross(world.alice, view_id)
    updates = world.slack.calls_to("views.update")
    assert [c.answer.get("error") for c in updates] == ["hash_conflict", None]
    assert "hash" not in updates[1].args


def test_a_requester_outside_the_approval_channel_is_told_where_they_are(world: World) -> None:
    """Dave drafts from another channel; the approval channel's ephemeral cannot reach him."""
    workspace = world.slack.workspace
    workspace.channels[CHANNEL].members.discard(world.dave.user_id)
    workspace.add_channel(ELSEWHERE, "general", members=[world.dave.user_id])
    world.platform.command(world.dave, "", channel=ELSEWHERE)
    view_id = _form_opened(world, world.dave.user_id)
    submitted = world.platform.submit(
        world.dave,
        view_id=view_id,
        values={Field.AMOUNT: "250", Field.DESTINATION: LISTED, Field.REASON: "from general"},
    )
    assert submitted.status == 200
    wait_for(lambda: bool(workspace.ephemerals_for(world.dave.user_id)))
    (note,) = workspace.ephemerals_for(world.dave.user_id)
    assert note["channel"] == ELSEWHERE
    assert "Drafted withdrawal #1" in ack_text(note)
    errors = [c.answer.get("error") for c in world.slack.calls_to("chat.postEphemeral")]
    assert errors == ["user_not_in_channel", None]


def test_a_refused_click_in_home_is_answered_in_home(world: World) -> None:
    """A Home click has no response_url, and Bob is not in the approval channel: the refusal
    is shown at the top of his Home rather than lost."""
    request_id = world.draft()
    world.platform.open_home(world.bob)
    wait_for(lambda: world.slack.workspace.modals.home(world.bob.user_id) is not None)
    home_id = str((world.slack.workspace.modals.home(world.bob.user_id) or {})["id"])
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.slack.workspace.channels[CHANNEL].members.discard(world.bob.user_id)
    published = len(world.slack.calls_to("views.publish"))
    world.platform.act_in_view(world.bob, view_id=home_id, action_id=ActionId.APPROVE)
    wait_for(lambda: len(world.slack.calls_to("views.publish")) > published)
    home = ack_text(
        {"blocks": (world.slack.workspace.modals.home(world.bob.user_id) or {})["blocks"]}
    )
    assert "🚫 You already approved" in home, home
