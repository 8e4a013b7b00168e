"""The loopback Slack, driven by slack_sdk's own WebClient over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.settings import Settings
from bot.slack.standin import ResponseTarget, SlackStandIn
from tests.slack.conftest import CHANNEL

OUTBOX = "withdrawbot_outbox"


def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def test_auth_test_names_the_workspace_and_the_bot(
    client: WebClient, standin: SlackStandIn
) -> None:
    answer = client.auth_test()
    assert answer["team_id"] == "T0STANDIN"
    assert answer["user_id"] == standin.workspace.bot_user_id
    assert answer["bot_id"] == standin.workspace.bot_id
    call = standin.calls_to("auth.test")[0]
    assert call.token == standin.bot_token
    assert call.ok


def test_tokens_are_checked(standin: SlackStandIn) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=standin.api_url)
    assert _error(wrong.auth_test) == "invalid_auth"
    anonymous = WebClient(base_url=standin.api_url)
    assert _error(anonymous.auth_test) == "not_authed"
    # A token in the form body counts like the Authorization header.
    answer = httpx.post(
        standin.api_url + "auth.test", data={"token": standin.bot_token}, timeout=5
    ).json()
    assert answer["ok"] is True
    assert [c.token for c in standin.calls] == ["xoxb-wrong", None, standin.bot_token]
    assert [c.answer.get("error") for c in standin.calls] == ["invalid_auth", "not_authed", None]


def test_slack_api_url_setting_reaches_the_standin(
    standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_API_URL", standin.api_url)
    settings = Settings.load()
    client = WebClient(token=standin.bot_token, base_url=settings.slack_api_url)
    assert client.auth_test()["ok"] is True


def test_post_thread_and_replies_with_metadata(client: WebClient, standin: SlackStandIn) -> None:
    root = client.chat_postMessage(
        channel=CHANNEL,
        text="Withdrawal #1",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*#1*"}}],
        metadata={"event_type": OUTBOX, "event_payload": {"key": "1:root"}},
    )
    assert root["channel"] == CHANNEL
    assert root["message"]["metadata"]["event_payload"] == {"key": "1:root"}
    replies = [
        client.chat_postMessage(
            channel=CHANNEL,
            thread_ts=root["ts"],
            text=f"event {n}",
            metadata={"event_type": OUTBOX, "event_payload": {"key": f"1:{n}"}},
        )
        for n in range(3)
    ]
    assert all(r["message"]["thread_ts"] == root["ts"] for r in replies)
    timestamps = [root["ts"], *(r["ts"] for r in replies)]
    assert timestamps == sorted(timestamps, key=lambda ts: tuple(map(int, ts.split("."))))
    assert len(set(timestamps)) == 4

    thread = client.conversations_replies(channel=CHANNEL, ts=root["ts"], include_all_metadata=True)
    keys = [m["metadata"]["event_payload"]["key"] for m in thread["messages"]]
    assert keys == ["1:root", "1:0", "1:1", "1:2"]
    assert thread["messages"][0]["reply_count"] == 3
    assert thread["has_more"] is False
    # Without include_all_metadata the metadata is not returned.
    plain = client.conversations_replies(channel=CHANNEL, ts=root["ts"])
    assert all("metadata" not in m for m in plain["messages"])
    # Asking from a reply's ts returns the same thread.
    from_reply = client.conversations_replies(channel=CHANNEL, ts=replies[1]["ts"])
    assert [m["ts"] for m in from_reply["messages"]] == timestamps
    # The channel itself shows only the root.
    assert [m["ts"] for m in standin.workspace.channel_messages(CHANNEL)] == [root["ts"]]
    post = standin.calls_to("chat.postMessage")[0]
    assert post.args["metadata"] == {"event_type": OUTBOX, "event_payload": {"key": "1:root"}}
    assert post.args["blocks"][0]["type"] == "section"


def test_replies_page_with_cursors(client: WebClient) -> None:
    root = client.chat_postMessage(channel=CHANNEL, text="root")
    for n in range(4):
        client.chat_postMessage(channel=CHANNEL, thread_ts=root["ts"], text=str(n))
    seen: list[str] = []
    cursor = None
    while True:
        page = client.conversations_replies(channel=CHANNEL, ts=root["ts"], limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            assert cursor == ""
            break
    assert seen == ["root", "0", "1", "2", "3"]


def test_broadcast_replies_show_in_the_channel(client: WebClient, standin: SlackStandIn) -> None:
    root = client.chat_postMessage(channel=CHANNEL, text="root")
    client.chat_postMessage(channel=CHANNEL, thread_ts=root["ts"], text="quiet")
    client.chat_postMessage(
        channel=CHANNEL, thread_ts=root["ts"], text="completed", reply_broadcast=True
    )
    shown = [m["text"] for m in standin.workspace.channel_messages(CHANNEL)]
    assert shown == ["root", "completed"]


def test_update_in_place(client: WebClient, standin: SlackStandIn) -> None:
    root = client.chat_postMessage(
        channel=CHANNEL,
        text="pending",
        metadata={"event_type": OUTBOX, "event_payload": {"key": "k"}},
    )
    updated = client.chat_update(channel=CHANNEL, ts=root["ts"], text="approved", blocks=[])
    assert updated["ts"] == root["ts"]
    message = standin.workspace.message(CHANNEL, root["ts"])
    assert message["text"] == "approved"
    assert message["metadata"]["event_payload"] == {"key": "k"}
    assert "edited" in message
    assert _error(lambda: client.chat_update(channel=CHANNEL, ts="1.000001", text="x")) == (
        "message_not_found"
    )


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_slack_refusals(client: WebClient, standin: SlackStandIn) -> None:
    standin.workspace.add_channel("C0ELSEWHERE", "elsewhere", bot_member=False)
    assert _error(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == (
        "channel_not_found"
    )
    assert _error(lambda: client.chat_postMessage(channel="C0ELSEWHERE", text="x")) == (
        "not_in_channel"
    )
    assert _error(lambda: client.chat_postMessage(channel=CHANNEL)) == "no_text"
    assert (
        _error(lambda: client.chat_postMessage(channel=CHANNEL, text="x", thread_ts="1.000009"))
        == "thread_not_found"
    )
    assert (
        _error(
            lambda: client.chat_postMessage(
                channel=CHANNEL, text="x", metadata={"event_type": OUTBOX}
            )
        )
        == "invalid_metadata_format"
    )
    too_many = [{"type": "divider"}] * 51
    assert _error(lambda: client.chat_postMessage(channel=CHANNEL, blocks=too_many)) == (
        "invalid_blocks"
    )
    assert _error(lambda: client.conversations_replies(channel=CHANNEL, ts="1.000009")) == (
        "thread_not_found"
    )
    assert _error(lambda: client.api_call("chat.scheduleMessage", json={})) == "unknown_method"


def test_ephemeral_messages_reach_only_their_person(
    client: WebClient, standin: SlackStandIn
) -> None:
    answer = client.chat_postEphemeral(channel=CHANNEL, user="U0ALICE", text="only you")
    assert answer["message_ts"]
    assert [e["text"] for e in standin.workspace.ephemerals_for("U0ALICE")] == ["only you"]
    assert standin.workspace.ephemerals_for("U0BOB") == []
    assert standin.workspace.channel_messages(CHANNEL) == []
    assert (
        _error(lambda: client.chat_postEphemeral(channel=CHANNEL, user="U0MALLORY", text="x"))
        == "user_not_in_channel"
    )


def test_people_and_groups(client: WebClient, standin: SlackStandIn) -> None:
    # The manifest grants no users:read, so Slack would refuse users.info as the stand-in does.
    assert _error(lambda: client.users_info(user="U0BOB")) == "missing_scope"
    standin.scopes = standin.scopes | {"users:read"}
    user = client.users_info(user="U0BOB")["user"]
    assert (user["id"], user["name"], user["team_id"]) == ("U0BOB", "bob", "T0STANDIN")
    assert _error(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"
    groups = client.usergroups_list(include_users=True)["usergroups"]
    assert [(g["handle"], g["users"]) for g in groups] == [("treasury", ["U0BOB", "U0CAROL"])]
    assert "users" not in client.usergroups_list()["usergroups"][0]
    group_id = groups[0]["id"]
    assert client.usergroups_users_list(usergroup=group_id)["users"] == ["U0BOB", "U0CAROL"]
    assert _error(lambda: client.usergroups_users_list(usergroup="S0NOPE")) == "no_such_subteam"


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "withdraw.modal",
    "title": {"type": "plain_text", "text": "Withdraw"},
    "blocks": [
        {
            "type": "input",
            "block_id": "amount",
            "label": {"type": "plain_text", "text": "Amount"},
            "element": {"type": "plain_text_input", "action_id": "amount"},
        }
    ],
}


def test_views_open_update_and_triggers(client: WebClient, standin: SlackStandIn) -> None:
    trigger = standin.workspace.modals.issue_trigger("U0ALICE")
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert opened["callback_id"] == "withdraw.modal"
    assert [v["id"] for v in standin.workspace.modals.open_views("U0ALICE")] == [opened["id"]]
    # A trigger works once.
    assert _error(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == (
        "expired_trigger_id"
    )
    assert _error(lambda: client.views_open(trigger_id="1.nope", view=MODAL)) == (
        "invalid_trigger_id"
    )
    changed = {**MODAL, "title": {"type": "plain_text", "text": "Withdraw (cross)"}}
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)["view"]
    assert updated["id"] == opened["id"]
    assert updated["title"]["text"] == "Withdraw (cross)"
    assert (
        _error(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed))
        == "hash_conflict"
    )
    assert _error(lambda: client.views_update(view_id="V0NOPE", view=changed)) == "not_found"
    duplicate = {**MODAL, "blocks": [*MODAL["blocks"], *MODAL["blocks"]]}
    assert (
        _error(
            lambda: client.views_open(
                trigger_id=standin.workspace.modals.issue_trigger("U0ALICE"), view=duplicate
            )
        )
        == "invalid_arguments"
    )


def test_triggers_expire_after_three_seconds() -> None:
    now = [1_000.0]
    with SlackStandIn(clock=lambda: now[0]) as slack:
        slack.workspace.add_person("U0ALICE", "alice")
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        trigger = slack.workspace.modals.issue_trigger("U0ALICE")
        now[0] += 3.5
        assert _error(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == (
            "expired_trigger_id"
        )


def test_home_tabs_are_published_per_person(client: WebClient, standin: SlackStandIn) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = client.views_publish(user_id="U0BOB", view=home)["view"]
    again = client.views_publish(user_id="U0BOB", view=home)["view"]
    assert first["id"] == again["id"]
    published = standin.workspace.modals.home("U0BOB")
    assert published is not None
    assert published["blocks"][0]["text"]["text"] == "hi"
    assert standin.workspace.modals.home("U0ALICE") is None
    assert _error(lambda: client.views_publish(user_id="U0NOBODY", view=home)) == ("user_not_found")
    assert _error(lambda: client.views_publish(user_id="U0BOB", view=MODAL)) == (
        "invalid_arguments"
    )


def test_rate_limits_and_outages_on_demand(client: WebClient, standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", status=429, count=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel=CHANNEL, text="x")
        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "7"
        assert raised.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel=CHANNEL, text="x")["ok"] is True
    standin.fail_next("*", status=503)
    with pytest.raises(SlackApiError) as raised:
        client.auth_test()
    assert raised.value.response.status_code == 503
    assert client.auth_test()["ok"] is True
    assert [(c.method, c.status) for c in standin.calls] == [
        ("chat.postMessage", 429),
        ("chat.postMessage", 429),
        ("chat.postMessage", 200),
        ("auth.test", 503),
        ("auth.test", 200),
    ]
    # Nothing failed was posted.
    assert [m["text"] for m in standin.workspace.channel_messages(CHANNEL)] == ["x"]
    with pytest.raises(ValueError, match="429 or 5xx"):
        standin.fail_next("auth.test", status=404)


def test_a_post_can_land_while_its_answer_is_lost(client: WebClient, standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", status=500, after_applying=True)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(
            channel=CHANNEL,
            text="root",
            metadata={"event_type": OUTBOX, "event_payload": {"key": "7:root"}},
        )
    landed = standin.workspace.channel_messages(CHANNEL)
    assert [m["metadata"]["event_payload"]["key"] for m in landed] == ["7:root"]


def test_slack_sdk_retry_handlers_honour_retry_after(standin: SlackStandIn) -> None:
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = WebClient(token=standin.bot_token, base_url=standin.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    standin.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel=CHANNEL, text="after a wait")["ok"] is True
    assert time.monotonic() - started >= 1.0


def _respond(url: str, **body: Any) -> int:
    return WebhookClient(url).send_dict(body).status_code


def test_response_urls_act_like_slacks(client: WebClient, standin: SlackStandIn) -> None:
    root = client.chat_postMessage(channel=CHANNEL, text="request #1")
    clicked = standin.response_url(ResponseTarget(CHANNEL, "U0BOB", root["ts"]))
    assert _respond(clicked, text="only for bob") == 200
    assert [e["text"] for e in standin.workspace.ephemerals_for("U0BOB")] == ["only for bob"]
    assert _respond(clicked, text="request #1 approved", replace_original=True) == 200
    assert standin.workspace.message(CHANNEL, root["ts"])["text"] == "request #1 approved"
    assert _respond(clicked, text="said out loud", response_type="in_channel") == 200
    assert [m["text"] for m in standin.workspace.channel_messages(CHANNEL)] == [
        "request #1 approved",
        "said out loud",
    ]
    assert _respond(clicked, delete_original=True) == 200
    assert [m["text"] for m in standin.workspace.channel_messages(CHANNEL)] == ["said out loud"]
    assert _respond(standin.url + "/response/nope", text="x") == 404
    posts = standin.calls_to("response_url")
    assert [p.args.get("text") for p in posts][:3] == [
        "only for bob",
        "request #1 approved",
        "said out loud",
    ]
    standin.fail_next("response_url", status=500)
    assert _respond(clicked, text="lost") == 500
    assert all(e["text"] != "lost" for e in standin.workspace.ephemerals_for("U0BOB"))


def test_form_encoded_json_arguments_are_decoded(standin: SlackStandIn) -> None:
    """Clients may send blocks and metadata as JSON text in a form body, as Slack allows."""
    answer = httpx.post(
        standin.api_url + "chat.postMessage",
        headers={"Authorization": f"Bearer {standin.bot_token}"},
        data={
            "channel": CHANNEL,
            "blocks": json.dumps([{"type": "divider"}]),
            "metadata": json.dumps({"event_type": OUTBOX, "event_payload": {"key": "f"}}),
        },
        timeout=5,
    ).json()
    assert answer["ok"] is True
    assert answer["message"]["blocks"] == [{"type": "divider"}]
    assert answer["message"]["metadata"]["event_payload"] == {"key": "f"}
    bad = httpx.post(
        standin.api_url + "chat.postMessage",
        headers={
            "Authorization": f"Bearer {standin.bot_token}",
            "Content-Type": "application/json",
        },
        content=b"[1, 2]",
        timeout=5,
    )
    assert bad.status_code == 400


def test_recorded_calls_are_listed_over_http_without_the_token(
    client: WebClient, standin: SlackStandIn
) -> None:
    client.chat_postMessage(channel=CHANNEL, text="hello")
    assert _error(lambda: WebClient(token="xoxb-wrong", base_url=standin.api_url).auth_test()) == (
        "invalid_auth"
    )
    listed = httpx.get(standin.calls_url).json()
    assert listed["ok"]
    assert [(c["method"], c["ok"]) for c in listed["calls"]] == [
        ("chat.postMessage", True),
        ("auth.test", False),
    ]
    assert listed["calls"][0]["args"]["text"] == "hello"
    assert "xoxb" not in json.dumps(listed)
