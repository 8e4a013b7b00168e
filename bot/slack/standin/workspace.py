"""The stand-in's Slack workspace, and the Web API methods the bot calls, answered like Slack.

People, user groups, channels with threads, modals and Home tabs are held in memory and guarded
by one lock, because the HTTP server answers on several threads and a test reads the same state.
Each method takes the call's arguments as Slack receives them (form
strings or JSON values; ``blocks``, ``view`` and ``metadata`` may arrive as JSON text) and returns
Slack's JSON, or raises :class:`SlackError` with one of Slack's error codes.

Where Slack is lenient in a way that would hide a bug, the stand-in is strict and says so: a
``thread_ts`` that names no message is refused instead of starting a new thread, and a trigger id
is single-use and valid for three seconds, as Slack documents.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "TRIGGER_TTL",
    "Channel",
    "Person",
    "ResponseTarget",
    "SlackError",
    "UserGroup",
    "Workspace",
    "check_blocks",
]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
# Block Kit's documented limits, answered with the codes Slack uses for them.
MAX_BLOCKS_JSON = 13_000  # Slack reports msg_blocks_too_long from about here
_TEXT_LIMITS = {"section": 3000, "header": 150, "context": 3000}
_FIELD_MAX = 2000
_FIELDS_MAX = 10
_CONTEXT_ELEMENTS_MAX = 10
_ACTIONS_ELEMENTS_MAX = 25
_BUTTON_TEXT_MAX = 75
_OPTIONS_MAX = 100
TRIGGER_TTL = 3.0
# Slack: a response_url can be used up to five times within 30 minutes of its request.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0
REPLIES_LIMIT = 1000

Json = dict[str, Any]


class SlackError(Exception):
    """A Web API refusal: ``{"ok": false, "error": code}`` with HTTP 200, as Slack answers."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Person:
    """A simulated Slack user; ``team_id`` differs for someone from another workspace."""

    user_id: str
    name: str
    team_id: str
    real_name: str = ""
    tz: str = "UTC"

    def as_user(self) -> Json:
        """``users.info``'s ``user`` object."""
        real_name = self.real_name or self.name
        return {
            "id": self.user_id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": False,
            "tz": self.tz,
            "tz_offset": 0,
            "profile": {"real_name": real_name, "display_name": self.name},
        }


@dataclass(slots=True)
class UserGroup:
    """A user group (``@treasury``): the policy names handles, the bot resolves them."""

    group_id: str
    handle: str
    name: str
    users: list[str]


@dataclass(slots=True)
class Channel:
    """A conversation with its messages in ``ts`` order; replies carry ``thread_ts``."""

    channel_id: str
    name: str
    members: set[str]
    messages: list[Json] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Where a ``response_url`` leads: the channel, the person, and the message clicked, if any."""

    channel_id: str
    user_id: str
    message_ts: str | None


@dataclass(slots=True)
class _Trigger:
    user_id: str
    issued: float
    used: bool = False


class Workspace:
    """One Slack workspace with the bot installed in it."""

    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock
        self.lock = threading.RLock()
        self.people: dict[str, Person] = {}
        self.groups: dict[str, UserGroup] = {}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, Json] = {}
        self.homes: dict[str, Json] = {}
        self.ephemerals: list[Json] = []
        self.closed_views: set[str] = set()
        self.triggers: dict[str, _Trigger] = {}
        self.response_targets: dict[str, ResponseTarget] = {}
        self._response_uses: dict[str, tuple[float, int]] = {}
        self._last_ts = (0, 0)
        self._ids = itertools.count(1)

    # --- setting the scene ---------------------------------------------------------------

    def add_person(self, user_id: str, name: str, *, team_id: str | None = None) -> Person:
        """A person of this workspace (or of ``team_id``, to act as an outsider)."""
        person = Person(user_id, name, team_id or self.team_id)
        with self.lock:
            self.people[user_id] = person
        return person

    def add_group(self, handle: str, users: Iterable[str], *, name: str | None = None) -> UserGroup:
        with self.lock:
            group = UserGroup(f"S{next(self._ids):08d}", handle, name or handle, list(users))
            self.groups[group.group_id] = group
        return group

    def add_channel(
        self, channel_id: str, name: str, *, members: Iterable[str] = (), bot_member: bool = True
    ) -> Channel:
        """A channel; the bot can post only where it is a member, as in Slack."""
        everyone = set(members) | ({self.bot_user_id} if bot_member else set())
        channel = Channel(channel_id, name, everyone)
        with self.lock:
            self.channels[channel_id] = channel
        return channel

    # --- reading what happened -------------------------------------------------------------

    def channel_messages(self, channel_id: str) -> list[Json]:
        """What the channel shows: top-level messages and replies also sent to the channel."""
        with self.lock:
            return [
                copy.deepcopy(m)
                for m in self._channel(channel_id).messages
                if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
            ]

    def thread(self, channel_id: str, ts: str) -> list[Json]:
        """The parent message and its replies, oldest first, metadata included."""
        with self.lock:
            return copy.deepcopy(self._thread(self._channel(channel_id), ts))

    def message(self, channel_id: str, ts: str) -> Json:
        with self.lock:
            return copy.deepcopy(self._message(self._channel(channel_id), ts))

    def ephemerals_for(self, user_id: str) -> list[Json]:
        """Messages only ``user_id`` saw: ``chat.postEphemeral``, acks and ephemeral responses."""
        with self.lock:
            return [copy.deepcopy(e) for e in self.ephemerals if e["user"] == user_id]

    def view(self, view_id: str) -> Json:
        with self.lock:
            if view_id not in self.views:
                raise KeyError(f"no view {view_id}")
            return copy.deepcopy(self.views[view_id])

    def open_views(self, user_id: str) -> list[Json]:
        """Modals open for ``user_id``, oldest first (closed ones are gone, as on screen)."""
        with self.lock:
            return [
                copy.deepcopy(v)
                for view_id, v in self.views.items()
                if v["user_id"] == user_id
                and v["type"] == "modal"
                and view_id not in self.closed_views
            ]

    def home(self, user_id: str) -> Json | None:
        with self.lock:
            found = self.homes.get(user_id)
            return copy.deepcopy(found) if found is not None else None

    # --- what the platform hands out --------------------------------------------------------

    def issue_trigger(self, user_id: str) -> str:
        """A trigger id for one interaction; ``views.open`` accepts it once, within 3 s."""
        trigger_id = f"{next(self._ids)}.{secrets.token_hex(6)}"
        with self.lock:
            self.triggers[trigger_id] = _Trigger(user_id, self.clock())
        return trigger_id

    def issue_response_target(self, target: ResponseTarget) -> str:
        """A token for a new ``response_url``; the server turns it into a URL."""
        token = secrets.token_urlsafe(12)
        with self.lock:
            self.response_targets[token] = target
            self._response_uses[token] = (self.clock(), 0)
        return token

    # --- Web API methods -------------------------------------------------------------------

    def auth_test(self, args: Mapping[str, Any]) -> Json:
        return {
            "url": f"https://{self.team_name}.slack.com/",
            "team": self.team_name,
            "user": "withdrawbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            channel = self._postable(args)
            message = self._new_message(args)
            thread_ts = _text(args, "thread_ts")
            if thread_ts:
                parent = self._message(channel, thread_ts, missing="thread_not_found")
                root_ts = parent.get("thread_ts") or parent["ts"]
                root = self._message(channel, root_ts)
                message["thread_ts"] = root_ts
                if _flag(args, "reply_broadcast"):
                    message["subtype"] = "thread_broadcast"
                root["thread_ts"] = root_ts
                root["reply_count"] = root.get("reply_count", 0) + 1
                root["latest_reply"] = message["ts"]
                users = root.setdefault("reply_users", [])
                if self.bot_user_id not in users:
                    users.append(self.bot_user_id)
            channel.messages.append(message)
            return {"channel": channel.channel_id, "ts": message["ts"], "message": _shown(message)}

    def chat_update(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            channel = self._channel(_required(args, "channel"))
            message = self._message(channel, _required(args, "ts"))
            if message.get("bot_id") != self.bot_id:
                raise SlackError("cant_update_message")
            self._apply_update(message, args)
            return {
                "channel": channel.channel_id,
                "ts": message["ts"],
                "text": message["text"],
                "message": _shown(message),
            }

    def chat_post_ephemeral(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            channel = self._postable(args)
            user = _required(args, "user")
            # Slack documents user_not_in_channel for a recipient who is not a member (an
            # unknown user is not one either); not_in_channel is the bot's own absence.
            if user not in self.people or user not in channel.members:
                raise SlackError("user_not_in_channel")
            message = self._new_message(args)
            self.ephemerals.append(
                {**message, "user": user, "channel": channel.channel_id, "via": "chat"}
            )
            return {"message_ts": message["ts"]}

    def views_open(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            trigger_id = _required(args, "trigger_id")
            trigger = self.triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used or self.clock() - trigger.issued > TRIGGER_TTL:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            view = self._new_view(_json(args, "view"), user_id=trigger.user_id, kind="modal")
            self.views[view["id"]] = view
            return {"view": _without_owner(view)}

    def views_update(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            view_id = _text(args, "view_id")
            external_id = _text(args, "external_id")
            current = self._find_view(view_id, external_id)
            expected = _text(args, "hash")
            if expected and expected != current["hash"]:
                raise SlackError("hash_conflict")
            updated = self._new_view(
                _json(args, "view"), user_id=current["user_id"], kind="modal", view_id=current["id"]
            )
            updated["state"] = current["state"]
            updated["root_view_id"] = current["root_view_id"]
            self.views[current["id"]] = updated
            return {"view": _without_owner(updated)}

    def views_publish(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            user_id = _required(args, "user_id")
            if user_id not in self.people:
                raise SlackError("user_not_found")
            current = self.homes.get(user_id)
            expected = _text(args, "hash")
            if expected and current is not None and expected != current["hash"]:
                raise SlackError("hash_conflict")
            view = self._new_view(
                _json(args, "view"),
                user_id=user_id,
                kind="home",
                view_id=current["id"] if current else None,
            )
            self.homes[user_id] = view
            self.views[view["id"]] = view
            return {"view": _without_owner(view)}

    def conversations_replies(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            channel = self._channel(_required(args, "channel"))
            if self.bot_user_id not in channel.members:
                raise SlackError("not_in_channel")
            thread = self._thread(channel, _required(args, "ts"))
            limit = _int(args, "limit", REPLIES_LIMIT)
            if not 1 <= limit <= REPLIES_LIMIT:
                raise SlackError("invalid_limit")
            cursor = _text(args, "cursor")
            if cursor and not cursor.isdigit():
                raise SlackError("invalid_cursor")
            start = int(cursor or 0)
            page = thread[start : start + limit]
            with_metadata = _flag(args, "include_all_metadata")
            messages = [
                m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in (_shown(m) for m in page)
            ]
            more = start + limit < len(thread)
            return {
                "messages": messages,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }

    def conversations_history(self, args: Mapping[str, Any]) -> Json:
        """Top-level messages and broadcasts, newest first, from ``oldest`` on (Slack's order)."""
        with self.lock:
            channel = self._channel(_required(args, "channel"))
            if self.bot_user_id not in channel.members:
                raise SlackError("not_in_channel")
            oldest = float(_text(args, "oldest") or 0)
            limit = _int(args, "limit", REPLIES_LIMIT)
            if not 1 <= limit <= REPLIES_LIMIT:
                raise SlackError("invalid_limit")
            cursor = _text(args, "cursor")
            if cursor and not cursor.isdigit():
                raise SlackError("invalid_cursor")
            shown = [
                m
                for m in reversed(channel.messages)
                if float(m["ts"]) >= oldest
                and (
                    m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
                )
            ]
            start = int(cursor or 0)
            page = shown[start : start + limit]
            with_metadata = _flag(args, "include_all_metadata")
            messages = [
                m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in (_shown(m) for m in page)
            ]
            more = start + limit < len(shown)
            return {
                "messages": messages,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }

    def usergroups_list(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            include_users = _flag(args, "include_users")
            return {
                "usergroups": [
                    {
                        "id": g.group_id,
                        "team_id": self.team_id,
                        "is_usergroup": True,
                        "name": g.name,
                        "handle": g.handle,
                        "date_delete": 0,
                        "user_count": len(g.users),
                        **({"users": list(g.users)} if include_users else {}),
                    }
                    for g in self.groups.values()
                ]
            }

    def usergroups_users_list(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            group = self.groups.get(_required(args, "usergroup"))
            if group is None:
                raise SlackError("no_such_subteam")
            return {"users": list(group.users)}

    def users_info(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            person = self.people.get(_required(args, "user"))
            if person is None:
                raise SlackError("user_not_found")
            return {"user": person.as_user()}

    # --- response_url ----------------------------------------------------------------------

    def respond(self, token: str, body: Mapping[str, Any]) -> None:
        """A post to a ``response_url``: replace or delete the clicked message, or say more."""
        with self.lock:
            target = self.response_targets.get(token)
            if target is None:
                raise SlackError("invalid_url")
            issued, uses = self._response_uses[token]
            if self.clock() - issued > RESPONSE_URL_TTL:
                raise SlackError("expired_url")
            if uses >= RESPONSE_URL_USES:
                raise SlackError("used_url")
            self._response_uses[token] = (issued, uses + 1)
            channel = self._channel(target.channel_id)
            if _flag(body, "delete_original") and target.message_ts:
                original = self._message(channel, target.message_ts)
                channel.messages.remove(original)
                return
            if _flag(body, "replace_original") and target.message_ts:
                self._apply_update(self._message(channel, target.message_ts), body)
                return
            message = self._new_message(body)
            if body.get("response_type") == "in_channel":
                thread_ts = _text(body, "thread_ts")
                if thread_ts:
                    message["thread_ts"] = thread_ts
                channel.messages.append(message)
                return
            self.ephemerals.append(
                {**message, "user": target.user_id, "channel": channel.channel_id, "via": "respond"}
            )

    def record_ack(self, user_id: str, channel_id: str, body: Mapping[str, Any]) -> None:
        """A slash command's ack with content, which Slack shows like an ephemeral response."""
        with self.lock:
            message = self._new_message(body)
            if body.get("response_type") == "in_channel":
                self._channel(channel_id).messages.append(message)
                return
            self.ephemerals.append(
                {**message, "user": user_id, "channel": channel_id, "via": "ack"}
            )

    def close_view(self, view_id: str) -> None:
        with self.lock:
            self.closed_views.add(view_id)

    def replace_view(self, view_id: str, view: Mapping[str, Any]) -> None:
        """A ``response_action: update`` ack: the modal shows ``view`` instead."""
        with self.lock:
            current = self.views[view_id]
            updated = self._new_view(
                view, user_id=current["user_id"], kind="modal", view_id=view_id
            )
            updated["root_view_id"] = current["root_view_id"]
            self.views[view_id] = updated

    # --- helpers ---------------------------------------------------------------------------

    def next_ts(self) -> str:
        """Strictly increasing message timestamps, shaped like Slack's ``1700000000.000100``."""
        with self.lock:
            seconds = int(self.clock())
            last_seconds, last_micros = self._last_ts
            micros = last_micros + 1 if seconds <= last_seconds else 0
            seconds = max(seconds, last_seconds)
            if micros > 999_999:
                seconds, micros = seconds + 1, 0
            self._last_ts = (seconds, micros)
            return f"{seconds}.{micros:06d}"

    def _channel(self, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _postable(self, args: Mapping[str, Any]) -> Channel:
        channel = self._channel(_required(args, "channel"))
        if self.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def _message(self, channel: Channel, ts: str, *, missing: str = "message_not_found") -> Json:
        found = next((m for m in channel.messages if m["ts"] == ts), None)
        if found is None:
            raise SlackError(missing)
        return found

    def _thread(self, channel: Channel, ts: str) -> list[Json]:
        message = self._message(channel, ts, missing="thread_not_found")
        root_ts = message.get("thread_ts") or message["ts"]
        return [m for m in channel.messages if m["ts"] == root_ts or m.get("thread_ts") == root_ts]

    def _new_message(self, args: Mapping[str, Any]) -> Json:
        text = _text(args, "text")
        blocks = check_blocks(args.get("blocks"), limit=MAX_MESSAGE_BLOCKS)
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        message: Json = {
            "type": "message",
            "ts": self.next_ts(),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": text,
            "blocks": blocks,
        }
        metadata = _metadata(args.get("metadata"))
        if metadata is not None:
            message["metadata"] = metadata
        return message

    def _apply_update(self, message: Json, args: Mapping[str, Any]) -> None:
        text = _text(args, "text")
        blocks = check_blocks(args.get("blocks"), limit=MAX_MESSAGE_BLOCKS)
        if not text and not blocks:
            raise SlackError("no_text")
        message["text"] = text
        message["blocks"] = blocks
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        metadata = _metadata(args.get("metadata"))
        if metadata is not None:
            message["metadata"] = metadata

    def _new_view(
        self, spec: Mapping[str, Any], *, user_id: str, kind: str, view_id: str | None = None
    ) -> Json:
        if spec.get("type") != kind:
            raise SlackError("invalid_arguments", f"view.type must be {kind}")
        if kind == "modal" and not isinstance(spec.get("title"), Mapping):
            raise SlackError("invalid_arguments", "a modal needs a title")
        blocks = check_blocks(spec.get("blocks"), limit=MAX_VIEW_BLOCKS)
        block_ids = [b["block_id"] for b in blocks if "block_id" in b]
        if len(block_ids) != len(set(block_ids)):
            raise SlackError("invalid_arguments", "block_id values must be unique in a view")
        new_id = view_id or f"V{next(self._ids):010d}"
        return {
            **copy.deepcopy(dict(spec)),
            "id": new_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "blocks": blocks,
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "root_view_id": new_id,
            "previous_view_id": None,
            "private_metadata": spec.get("private_metadata") or "",
            "callback_id": spec.get("callback_id") or "",
            "external_id": spec.get("external_id") or "",
            "user_id": user_id,
        }

    def _find_view(self, view_id: str, external_id: str) -> Json:
        if view_id:
            found = self.views.get(view_id)
        else:
            found = next(
                (v for v in self.views.values() if external_id and v["external_id"] == external_id),
                None,
            )
        if found is None or found["id"] in self.closed_views:
            raise SlackError("not_found")
        return found


# --- argument reading, as Slack does it --------------------------------------------------------


def _text(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise SlackError("invalid_arguments", f"{name} must be a string")
    return str(value)


def _required(args: Mapping[str, Any], name: str) -> str:
    value = _text(args, name)
    if not value:
        raise SlackError("invalid_arguments", f"{name} is required")
    return value


def _flag(args: Mapping[str, Any], name: str) -> bool:
    value = args.get(name)
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


def _int(args: Mapping[str, Any], name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments", f"{name} must be a number") from None


def _json(args: Mapping[str, Any], name: str) -> Json:
    value = args.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_json", f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise SlackError("invalid_arguments", f"{name} is required")
    return value


def check_blocks(value: object, *, limit: int) -> list[Json]:
    """``blocks`` as Slack would take them, or the :class:`SlackError` Slack would answer."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_blocks_format") from None
    if not isinstance(value, list) or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in value
    ):
        raise SlackError("invalid_blocks_format")
    if len(value) > limit:
        raise SlackError("invalid_blocks", f"more than {limit} blocks")
    for index, block in enumerate(value):
        problem = _block_problem(block)
        if problem is not None:
            raise SlackError("invalid_blocks", f"block {index}: {problem}")
    if limit == MAX_MESSAGE_BLOCKS and len(json.dumps(value, ensure_ascii=False)) > MAX_BLOCKS_JSON:
        raise SlackError("msg_blocks_too_long")
    return copy.deepcopy(value)


def _text_of(node: object) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("text"), str):
        return str(node["text"])
    return None


def _block_problem(block: Json) -> str | None:
    """What Slack would refuse in ``block`` (its documented per-block limits), or ``None``."""
    return next(_block_problems(block), None)


def _block_problems(block: Json) -> Iterator[str]:
    kind = block["type"]
    limit = _TEXT_LIMITS.get(kind)
    text = _text_of(block.get("text"))
    if limit is not None and text is not None and len(text) > limit:
        yield f"{kind} text over {limit} characters"
    fields = block.get("fields")
    if isinstance(fields, list):
        if len(fields) > _FIELDS_MAX:
            yield f"more than {_FIELDS_MAX} fields"
        if any(len(_text_of(field) or "") > _FIELD_MAX for field in fields):
            yield f"a field over {_FIELD_MAX} characters"
    elements = block.get("elements")
    elements = elements if isinstance(elements, list) else []
    if kind == "context" and len(elements) > _CONTEXT_ELEMENTS_MAX:
        yield f"more than {_CONTEXT_ELEMENTS_MAX} context elements"
    if kind == "context" and any(
        len(_text_of(element) or "") > _TEXT_LIMITS["context"] for element in elements
    ):
        yield "a context element over 3000 characters"
    if kind == "actions" and len(elements) > _ACTIONS_ELEMENTS_MAX:
        yield f"more than {_ACTIONS_ELEMENTS_MAX} elements"
    accessory = block.get("accessory") or block.get("element")
    for element in [*elements, accessory]:
        problem = _element_problem(element) if isinstance(element, dict) else None
        if problem is not None:
            yield problem


def _element_problem(element: Json) -> str | None:
    if (
        element.get("type") == "button"
        and len(_text_of(element.get("text")) or "") > _BUTTON_TEXT_MAX
    ):
        return f"a button label over {_BUTTON_TEXT_MAX} characters"
    options = element.get("options")
    if isinstance(options, list) and len(options) > _OPTIONS_MAX:
        return f"more than {_OPTIONS_MAX} options"
    return None


def _metadata(value: object) -> Json | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_metadata_format") from None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not isinstance(value.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": value["event_payload"]}


def _shown(message: Json) -> Json:
    return copy.deepcopy(message)


def _without_owner(view: Json) -> Json:
    return {k: copy.deepcopy(v) for k, v in view.items() if k != "user_id"}
