"""The platform driver: Slack's signatures, and payloads a real Bolt app accepts and routes.

A small Bolt app (test-only listeners that record what they were given) runs behind Bolt's
Starlette adapter on uvicorn over loopback, so these tests prove the payloads are shaped the way
Bolt parses them, signed the way Bolt checks them, and acked the way the stand-in applies.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import uvicorn
from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.slack.home_view import home_view
from bot.slack.ids import ActionId, CallbackId, Field
from bot.slack.messages import request_message
from bot.slack.modals import ChainChoice, withdraw_modal
from bot.slack.standin import Person, SlackPlatform, SlackStandIn, sign
from tests.slack import world
from tests.slack.conftest import CHANNEL

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADDR = "0x52908400098527886E0F7030069857D2E4169EE7"


def test_signatures_are_slacks_v0_hmac() -> None:
    body = b"token=x&team_id=T1&text=250+USDT"
    expected = (
        "v0=" + hmac.new(SECRET.encode(), b"v0:1531420618:" + body, hashlib.sha256).hexdigest()
    )
    assert sign(SECRET, 1531420618, body) == expected
    verifier = SignatureVerifier(SECRET, clock=_FixedClock(1531420618))
    assert verifier.is_valid(body=body, timestamp="1531420618", signature=expected)
    assert not verifier.is_valid(body=body + b"x", timestamp="1531420618", signature=expected)


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value


class _Bot:
    """A Bolt app behind Starlette and uvicorn, recording what its listeners receive."""

    def __init__(self, standin: SlackStandIn) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        client = WebClient(token=standin.bot_token, base_url=standin.api_url)
        app = App(signing_secret=SECRET, client=client)
        self._listen(app)
        handler = SlackRequestHandler(app)

        async def events(request: Request) -> Response:
            return await handler.handle(request)

        config = uvicorn.Config(
            Starlette(routes=[Route("/slack/events", events, methods=["POST"])]),
            host="127.0.0.1",
            port=0,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/slack/events"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def _listen(self, app: App) -> None:
        @app.command("/withdraw")
        def command(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            self.seen.append(("command", body))
            if body["text"] == "form":
                ack()
                client.views_open(
                    trigger_id=body["trigger_id"],
                    view=withdraw_modal(
                        coins=["USDT"], chains=[ChainChoice(42161, "Arbitrum")], paper=False
                    ),
                )
            else:
                ack(f"got: {body['text']}")

        @app.action(ActionId.APPROVE.value)
        def approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
            self.seen.append(("approve", body))
            ack()
            if body.get("response_url"):
                respond(text="approved by you", replace_original=False)

        @app.action(ActionId.WITHDRAW_KIND.value)
        def kind(ack: Ack, body: dict[str, Any]) -> None:
            self.seen.append(("kind", body))
            ack()

        @app.view(CallbackId.WITHDRAW.value)
        def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            self.seen.append(("submit", body))
            amount = view["state"]["values"][Field.AMOUNT][Field.AMOUNT]["value"]
            if amount == "bad":
                ack(response_action="errors", errors={Field.AMOUNT.value: "not a number"})
            else:
                ack()

        @app.event("app_home_opened")
        def home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
            self.seen.append(("home", event))
            client.views_publish(
                user_id=event["user"],
                view={
                    "type": "home",
                    "blocks": [
                        {"type": "section", "text": {"type": "mrkdwn", "text": context.team_id}}
                    ],
                },
            )


@pytest.fixture
def bot(standin: SlackStandIn) -> Iterator[_Bot]:
    running = _Bot(standin)
    yield running
    running.stop()


@pytest.fixture
def platform(standin: SlackStandIn, bot: _Bot) -> Iterator[SlackPlatform]:
    with SlackPlatform(standin, events_url=bot.url, signing_secret=SECRET) as driver:
        yield driver


def _eventually(condition: Callable[[], bool]) -> None:
    """Bolt runs listeners after the ack, so their Web API calls land a moment later."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        time.sleep(0.01)


def _person(standin: SlackStandIn, user_id: str) -> Person:
    return standin.workspace.people[user_id]


def test_slash_commands_arrive_signed_and_their_ack_is_shown(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform
) -> None:
    alice = _person(standin, "U0ALICE")
    delivery = platform.command(alice, f"250 USDT to {ADDR} R&D <ops>", channel=CHANNEL)
    assert delivery.status == 200
    kind, body = bot.seen[-1]
    assert kind == "command"
    assert (body["user_id"], body["team_id"], body["channel_id"]) == (
        "U0ALICE",
        "T0STANDIN",
        CHANNEL,
    )
    assert body["command"] == "/withdraw"
    assert body["text"] == f"250 USDT to {ADDR} R&amp;D &lt;ops&gt;"
    assert body["response_url"] == delivery.response_url
    shown = standin.workspace.ephemerals_for("U0ALICE")
    assert [(e["text"], e["via"]) for e in shown] == [(f"got: {body['text']}", "ack")]
    sent = parse_qs(delivery.response.request.content.decode())
    assert sent["user_id"] == ["U0ALICE"]


def test_another_workspace_is_visible_to_the_bot(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform
) -> None:
    mallory = _person(standin, "U0MALLORY")
    platform.command(mallory, "list", channel=CHANNEL)
    assert bot.seen[-1][1]["team_id"] == "T0OTHER"


def test_forged_and_stale_requests_get_401(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform
) -> None:
    body = b"command=%2Fwithdraw&text=list&user_id=U0ALICE&team_id=T0STANDIN"
    form = "application/x-www-form-urlencoded"
    forged = platform.post(body, content_type=form, signature="v0=" + "0" * 64)
    assert forged.status_code == 401
    stale = platform.post(body, content_type=form, timestamp=int(time.time()) - 6 * 60)
    assert stale.status_code == 401
    other_secret = SlackPlatform(standin, events_url=bot.url, signing_secret="not-the-secret")
    with other_secret:
        assert other_secret.post(body, content_type=form).status_code == 401
    assert bot.seen == []


def test_clicks_send_the_buttons_the_bot_drew(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform, client: WebClient
) -> None:
    pending = world.card(world.pending())
    posted = client.chat_postMessage(
        channel=CHANNEL, **request_message(pending, paper=False).payload()
    )
    bob = _person(standin, "U0BOB")
    delivery = platform.click(bob, channel=CHANNEL, ts=posted["ts"], action_id=ActionId.APPROVE)
    assert delivery.status == 200
    kind, body = bot.seen[-1]
    assert kind == "approve"
    action = body["actions"][0]
    assert action["value"] == pending.ref.encode()
    assert action["block_id"] == "request.actions"
    assert body["user"]["id"] == "U0BOB"
    assert body["container"]["message_ts"] == posted["ts"]
    assert body["message"]["ts"] == posted["ts"]
    _eventually(lambda: bool(standin.workspace.ephemerals_for("U0BOB")))
    assert [e["text"] for e in standin.workspace.ephemerals_for("U0BOB")] == ["approved by you"]
    with pytest.raises(LookupError, match="no element"):
        platform.click(bob, channel=CHANNEL, ts=posted["ts"], action_id="nothing.here")


def test_modals_open_dispatch_submit_and_follow_the_ack(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform
) -> None:
    alice = _person(standin, "U0ALICE")
    platform.command(alice, "form", channel=CHANNEL)
    _eventually(lambda: bool(standin.workspace.modals.open_views("U0ALICE")))
    (view,) = standin.workspace.modals.open_views("U0ALICE")
    assert view["callback_id"] == CallbackId.WITHDRAW

    platform.act_in_view(
        alice, view_id=view["id"], action_id=ActionId.WITHDRAW_KIND, option="cross"
    )
    kind, body = bot.seen[-1]
    assert kind == "kind"
    assert body["actions"][0]["selected_option"]["value"] == "cross"
    assert body["view"]["id"] == view["id"]

    values = {
        Field.AMOUNT.value: "bad",
        Field.DESTINATION.value: ADDR,
        Field.REASON.value: "rebalancing",
    }
    refused = platform.submit(alice, view_id=view["id"], values=values)
    assert refused.ack() == {
        "response_action": "errors",
        "errors": {Field.AMOUNT.value: "not a number"},
    }
    assert [v["id"] for v in standin.workspace.modals.open_views("U0ALICE")] == [view["id"]]
    state = bot.seen[-1][1]["view"]["state"]["values"]
    assert state[Field.KIND][ActionId.WITHDRAW_KIND]["selected_option"]["value"] == "normal"
    assert state[Field.COIN][Field.COIN]["selected_option"]["value"] == "USDT"

    accepted = platform.submit(
        alice, view_id=view["id"], values={**values, Field.AMOUNT.value: "250"}
    )
    assert accepted.status == 200
    assert accepted.ack() is None
    assert standin.workspace.modals.open_views("U0ALICE") == []
    with pytest.raises(LookupError, match="no input blocks"):
        platform.submit(alice, view_id=view["id"], values={"nope": "x"})


def test_home_opened_events_arrive_and_the_home_is_published(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform
) -> None:
    carol = _person(standin, "U0CAROL")
    delivery = platform.open_home(carol)
    assert delivery.status == 200
    _eventually(lambda: standin.workspace.modals.home("U0CAROL") is not None)
    home = standin.workspace.modals.home("U0CAROL")
    assert home is not None
    assert home["blocks"][0]["text"]["text"] == "T0STANDIN"
    kind, event = bot.seen[-1]
    assert (kind, event["user"], event["tab"]) == ("home", "U0CAROL", "home")


def test_home_buttons_are_clicked_by_block(
    standin: SlackStandIn, bot: _Bot, platform: SlackPlatform, client: WebClient
) -> None:
    waiting = [world.card(world.pending(), request_id=i) for i in (3, 4)]
    view = home_view(waiting=waiting, in_flight=[], recent=[], frozen=None, paper=False)
    published = client.views_publish(user_id="U0BOB", view=view)["view"]
    bob = _person(standin, "U0BOB")
    platform.act_in_view(
        bob, view_id=published["id"], action_id=ActionId.APPROVE, block_id="home.4"
    )
    kind, body = bot.seen[-1]
    assert kind == "approve"
    assert body["actions"][0]["value"] == waiting[1].ref.encode()
    assert body["container"] == {"type": "view", "view_id": published["id"]}
    assert "response_url" not in body
