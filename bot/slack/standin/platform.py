"""The Slack platform's side toward the bot: slash commands, clicks, modal submissions, events.

Builds the payloads Slack sends (form-encoded slash commands, ``payload=`` interactivity,
JSON events), signs them exactly as Slack does (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``
with the signing secret, in ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``) and POSTs
them to the bot's ``/slack/events`` over real HTTP. Each simulated person acts with their own
user id and team id.

Clicks and submissions act on what the stand-in actually holds: :meth:`SlackPlatform.click`
finds the button in the stored message and sends its stored ``value``, and
:meth:`SlackPlatform.submit` fills the stored modal's inputs, so a test can only click what the
bot really drew. The ack is then applied like Slack applies it: a slash command's ack text is
shown to its author, ``response_action: update`` replaces the modal, an empty ack closes it.

Slack gives up on an ack after three seconds; the HTTP timeout defaults to that, so a slow ack
fails a test the way it fails a person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.slack.standin.arguments import Json
from bot.slack.standin.web_api import SlackStandIn
from bot.slack.standin.workspace import Person, ResponseTarget

__all__ = ["ACK_DEADLINE", "Delivery", "SlackPlatform", "sign", "view_state"]

ACK_DEADLINE = 3.0
FORM = "application/x-www-form-urlencoded"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One request Slack sent the bot, and the bot's HTTP answer (its ack)."""

    response: httpx.Response
    payload: Json
    response_url: str | None = None
    trigger_id: str | None = None

    @property
    def status(self) -> int:
        return self.response.status_code

    def ack(self) -> Json | None:
        """The ack body as JSON, ``None`` when it was empty.

        A plain-text ack (Bolt's ``ack("text")`` for a slash command) is what Slack shows as a
        message, so it reads as ``{"text": ...}``.
        """
        if not self.response.content:
            return None
        if not self.response.headers.get("content-type", "").startswith("application/json"):
            return {"text": self.response.text}
        body = self.response.json()
        if not isinstance(body, dict):
            raise ValueError(f"the ack is not a JSON object: {body!r}")
        return body


class SlackPlatform:
    """Slack, as the bot's HTTP endpoint sees it; a context manager closing its HTTP client."""

    def __init__(
        self,
        standin: SlackStandIn,
        *,
        events_url: str,
        signing_secret: str,
        clock: Callable[[], float] = time.time,
        ack_timeout: float = ACK_DEADLINE,
    ) -> None:
        self.standin = standin
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.clock = clock
        self._http = httpx.Client(timeout=ack_timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackPlatform:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- raw delivery ----------------------------------------------------------------------

    def headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """The signature headers Slack would send with ``body`` at ``timestamp`` (default now)."""
        when = int(self.clock()) if timestamp is None else timestamp
        return {
            "X-Slack-Request-Timestamp": str(when),
            "X-Slack-Signature": sign(self.signing_secret, when, body),
        }

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``body`` signed now; ``timestamp`` / ``signature`` override for forgery tests.

        ``extra_headers``: what Slack adds on a retry (``X-Slack-Retry-Num``, ...).
        """
        headers = {
            "Content-Type": content_type,
            **self.headers(body, timestamp=timestamp),
            **(extra_headers or {}),
        }
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        return self._http.post(self.events_url, content=body, headers=headers)

    # --- what people do --------------------------------------------------------------------

    def command(
        self, person: Person, text: str, *, channel: str, command: str = "/withdraw"
    ) -> Delivery:
        """``person`` types ``{command} {text}`` in ``channel``."""
        payload = self.command_payload(person, text, channel=channel, command=command)
        response = self.post(urlencode(payload).encode("utf-8"), content_type=FORM)
        delivery = Delivery(response, payload, payload["response_url"], payload["trigger_id"])
        ack = delivery.ack() if response.status_code == 200 else None
        if ack is not None and (ack.get("text") or ack.get("blocks")):
            self.standin.workspace.record_ack(person.user_id, channel, ack)
        return delivery

    def command_payload(
        self, person: Person, text: str, *, channel: str, command: str = "/withdraw"
    ) -> Json:
        """The form Slack posts for ``{command} {text}``, with a new response_url and trigger.

        Sign it with :meth:`headers` to send it some other way (the demo prints it as a curl).
        """
        workspace = self.standin.workspace
        return {
            "token": "legacy-verification-token",
            "team_id": person.team_id,
            "team_domain": workspace.team_name,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": person.user_id,
            "user_name": person.name,
            "command": command,
            "text": _slack_escape(text),
            "api_app_id": workspace.app_id,
            "is_enterprise_install": "false",
            "response_url": self.standin.response_url(
                ResponseTarget(channel, person.user_id, None)
            ),
            "trigger_id": workspace.modals.issue_trigger(person.user_id),
        }

    def click(
        self, person: Person, *, channel: str, ts: str, action_id: str, block_id: str | None = None
    ) -> Delivery:
        """``person`` clicks the button ``action_id`` on the message ``ts`` in ``channel``."""
        workspace = self.standin.workspace
        message = workspace.message(channel, ts)
        block, element = _find_element(message["blocks"], action_id, block_id)
        response_url = self.standin.response_url(ResponseTarget(channel, person.user_id, ts))
        trigger_id = workspace.modals.issue_trigger(person.user_id)
        payload: Json = {
            **self._interaction("block_actions", person, trigger_id),
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "message": message,
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [_action(block, element, None, self.clock())],
        }
        response = self._post_payload(payload)
        return Delivery(response, payload, response_url, trigger_id)

    def act_in_view(
        self,
        person: Person,
        *,
        view_id: str,
        action_id: str,
        block_id: str | None = None,
        option: str | None = None,
        values: Mapping[str, str | None] | None = None,
    ) -> Delivery:
        """``person`` uses element ``action_id`` (in ``block_id``) in a modal or Home view.

        A button sends its value; a select or radio sends ``option`` (an option's value).
        ``values`` is what the modal's inputs hold at that moment (see :meth:`submit`).
        """
        workspace = self.standin.workspace
        view = workspace.modals.view(view_id)
        block, element = _find_element(view["blocks"], action_id, block_id)
        trigger_id = workspace.modals.issue_trigger(person.user_id)
        shown = {**view, "state": {"values": view_state(view, values or {})}}
        shown.pop("user_id", None)
        payload: Json = {
            **self._interaction("block_actions", person, trigger_id),
            "container": {"type": "view", "view_id": view_id},
            "view": shown,
            "actions": [_action(block, element, option, self.clock())],
        }
        response = self._post_payload(payload)
        return Delivery(response, payload, None, trigger_id)

    def submit(self, person: Person, *, view_id: str, values: Mapping[str, str | None]) -> Delivery:
        """``person`` fills the modal's inputs (by block id) and presses its submit button.

        A text input takes the text; a select or radio takes an option's value (which must be
        offered); inputs not named are left empty, as Slack sends them.
        """
        workspace = self.standin.workspace
        view = workspace.modals.view(view_id)
        if view["user_id"] != person.user_id:
            raise ValueError(f"view {view_id} is not open for {person.user_id}")
        trigger_id = workspace.modals.issue_trigger(person.user_id)
        shown = {**view, "state": {"values": view_state(view, values)}}
        shown.pop("user_id", None)
        payload: Json = {
            **self._interaction("view_submission", person, trigger_id),
            "view": shown,
            "response_urls": [],
        }
        response = self._post_payload(payload)
        delivery = Delivery(response, payload, None, trigger_id)
        if response.status_code == 200:
            ack = delivery.ack()
            action = (ack or {}).get("response_action")
            if action == "update" and isinstance((ack or {}).get("view"), dict):
                workspace.modals.replace_view(view_id, (ack or {})["view"])
            elif action != "errors":
                workspace.modals.close_view(view_id)
        return delivery

    def open_home(self, person: Person) -> Delivery:
        """``person`` opens the app's Home tab (an ``app_home_opened`` event)."""
        workspace = self.standin.workspace
        now = self.clock()
        event: Json = {
            "type": "app_home_opened",
            "user": person.user_id,
            "channel": f"D{person.user_id[1:]}",
            "tab": "home",
            "event_ts": f"{now:.6f}",
        }
        home = workspace.modals.home(person.user_id)
        if home is not None:
            home.pop("user_id", None)
            event["view"] = home
        payload: Json = {
            "token": "legacy-verification-token",
            "team_id": person.team_id,
            "api_app_id": workspace.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": workspace.team_id,
                    "user_id": workspace.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        response = self.post(json.dumps(payload).encode("utf-8"), content_type="application/json")
        return Delivery(response, payload)

    # --- helpers ---------------------------------------------------------------------------

    def _interaction(self, kind: str, person: Person, trigger_id: str) -> Json:
        workspace = self.standin.workspace
        return {
            "type": kind,
            "team": {"id": person.team_id, "domain": workspace.team_name},
            "user": {
                "id": person.user_id,
                "username": person.name,
                "name": person.name,
                "team_id": person.team_id,
            },
            "api_app_id": workspace.app_id,
            "token": "legacy-verification-token",
            "trigger_id": trigger_id,
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _post_payload(self, payload: Json) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode("utf-8")
        return self.post(body, content_type=FORM)

    def _channel_name(self, channel: str) -> str:
        found = self.standin.workspace.channels.get(channel)
        return found.name if found is not None else "unknown"


def _slack_escape(text: str) -> str:
    """Slack sends slash-command text with ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _elements(blocks: list[Json]) -> Iterator[tuple[Json, Json]]:
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                yield block, element
        for key in ("accessory", "element"):
            element = block.get(key)
            if isinstance(element, dict):
                yield block, element


def _find_element(blocks: list[Json], action_id: str, block_id: str | None) -> tuple[Json, Json]:
    for block, element in _elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
            return block, element
    where = f" in block {block_id}" if block_id else ""
    raise LookupError(f"no element with action_id {action_id}{where} is shown")


def _option(element: Json, value: str) -> Json:
    for option in element.get("options", []):
        if option.get("value") == value:
            return dict(option)
    offered = [o.get("value") for o in element.get("options", [])]
    raise LookupError(f"option {value!r} is not offered by {element.get('action_id')}: {offered}")


def _action(block: Json, element: Json, option: str | None, now: float) -> Json:
    kind = element.get("type")
    action: Json = {
        "type": kind,
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "action_ts": f"{now:.6f}",
    }
    if kind == "button":
        action["text"] = element.get("text")
        action["value"] = element.get("value")
        if "style" in element:
            action["style"] = element["style"]
    else:
        if option is None:
            raise ValueError(f"{element.get('action_id')} is a {kind}: say which option")
        action["selected_option"] = _option(element, option)
    return action


def view_state(view: Json, values: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    """``view.state.values`` for a view whose inputs hold ``values`` (by block id).

    An input not named keeps its initial value or option, as on screen; ``None`` empties it.
    """
    inputs = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
    unknown = set(values) - set(inputs)
    if unknown:
        raise LookupError(f"the view has no input blocks {sorted(unknown)}")
    state: dict[str, dict[str, Any]] = {}
    for block_id, block in inputs.items():
        element = block["element"]
        kind = element.get("type")
        entry: Json = {"type": kind}
        if kind in ("static_select", "radio_buttons"):
            value = values.get(block_id)
            initial = element.get("initial_option") if block_id not in values else None
            entry["selected_option"] = (
                _option(element, value) if value is not None else initial and dict(initial)
            )
        else:
            entry["value"] = (
                values[block_id] if block_id in values else element.get("initial_value")
            )
        state[block_id] = {element["action_id"]: entry}
    return state
