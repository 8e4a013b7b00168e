"""The stand-in's Slack workspace, and the Web API methods the bot calls, answered like Slack.

People, user groups, channels with threads and ephemerals are held in memory and guarded by one
lock, because the HTTP server answers on several threads and a test reads the same state; the
modals and Home tabs are ``bot.slack.standin.view_store`` (:attr:`Workspace.modals`) under the same
lock. Each method takes the call's arguments as Slack receives them (form strings or JSON values;
``blocks``, ``view`` and ``metadata`` may arrive as JSON text, read by
``bot.slack.standin.arguments``) and returns Slack's JSON, or raises
``bot.slack.standin.arguments.SlackError`` with one of Slack's error codes.

Where Slack is lenient in a way that would hide a bug, the stand-in is strict and says so: a
``thread_ts`` that names no message is refused instead of starting a new thread.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.slack.standin.arguments import (
    MAX_MESSAGE_BLOCKS,
    MAX_TEXT,
    Json,
    SlackError,
    check_blocks,
    flag_arg,
    metadata_arg,
    required_arg,
    text_arg,
)
from bot.slack.standin.history import history_page, replies_page
from bot.slack.standin.view_store import Views

__all__ = ["Channel", "Person", "ResponseTarget", "UserGroup", "Workspace"]

# Slack: a response_url can be used up to five times within 30 minutes of its request.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0


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

    def as_usergroup(self, team_id: str, *, include_users: bool) -> Json:
        """``usergroups.list``'s entry for this group."""
        return {
            "id": self.group_id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "handle": self.handle,
            "date_delete": 0,
            "user_count": len(self.users),
            **({"users": list(self.users)} if include_users else {}),
        }


@dataclass(slots=True)
class Channel:
    """A conversation with its messages in ``ts`` order; replies carry ``thread_ts``."""

    channel_id: str
    name: str
    members: set[str]
    messages: list[Json] = field(default_factory=list)

    def message(self, ts: str, *, missing: str = "message_not_found") -> Json:
        found = next((m for m in self.messages if m["ts"] == ts), None)
        if found is None:
            raise SlackError(missing)
        return found

    def thread(self, ts: str) -> list[Json]:
        """The thread ``ts`` is in (the root and its replies), in ``ts`` order."""
        message = self.message(ts, missing="thread_not_found")
        root_ts = message.get("thread_ts") or message["ts"]
        return [m for m in self.messages if m["ts"] == root_ts or m.get("thread_ts") == root_ts]


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Where a ``response_url`` leads: the channel, the person, and the message clicked, if any."""

    channel_id: str
    user_id: str
    message_ts: str | None


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
        self.ephemerals: list[Json] = []
        self.response_targets: dict[str, ResponseTarget] = {}
        self._response_uses: dict[str, tuple[float, int]] = {}
        self._last_ts = (0, 0)
        self._ids = itertools.count(1)
        self.modals = Views(
            lock=self.lock,
            clock=clock,
            ids=self._ids,
            people=self.people,
            owner={"team_id": team_id, "app_id": app_id, "bot_id": bot_id},
        )

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
            return copy.deepcopy(self._channel(channel_id).thread(ts))

    def message(self, channel_id: str, ts: str) -> Json:
        with self.lock:
            return copy.deepcopy(self._channel(channel_id).message(ts))

    def ephemerals_for(self, user_id: str) -> list[Json]:
        """Messages only ``user_id`` saw: ``chat.postEphemeral``, acks and ephemeral responses."""
        with self.lock:
            return [copy.deepcopy(e) for e in self.ephemerals if e["user"] == user_id]

    # --- what the platform hands out --------------------------------------------------------

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
            thread_ts = text_arg(args, "thread_ts")
            if thread_ts:
                parent = channel.message(thread_ts, missing="thread_not_found")
                root_ts = parent.get("thread_ts") or parent["ts"]
                root = channel.message(root_ts)
                message["thread_ts"] = root_ts
                if flag_arg(args, "reply_broadcast"):
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
            channel = self._channel(required_arg(args, "channel"))
            message = channel.message(required_arg(args, "ts"))
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
            user = required_arg(args, "user")
            # Slack documents user_not_in_channel for a recipient who is not a member (an
            # unknown user is not one either); not_in_channel is the bot's own absence.
            if user not in self.people or user not in channel.members:
                raise SlackError("user_not_in_channel")
            message = self._new_message(args)
            self.ephemerals.append(
                {**message, "user": user, "channel": channel.channel_id, "via": "chat"}
            )
            return {"message_ts": message["ts"]}

    def conversations_replies(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            return replies_page(self._postable(args), args)

    def conversations_history(self, args: Mapping[str, Any]) -> Json:
        """Top-level messages and broadcasts, newest first, from ``oldest`` on (Slack's order)."""
        with self.lock:
            return history_page(self._postable(args), args)

    def usergroups_list(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            include_users = flag_arg(args, "include_users")
            return {
                "usergroups": [
                    g.as_usergroup(self.team_id, include_users=include_users)
                    for g in self.groups.values()
                ]
            }

    def usergroups_users_list(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            group = self.groups.get(required_arg(args, "usergroup"))
            if group is None:
                raise SlackError("no_such_subteam")
            return {"users": list(group.users)}

    def users_info(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            person = self.people.get(required_arg(args, "user"))
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
            if flag_arg(body, "delete_original") and target.message_ts:
                original = channel.message(target.message_ts)
                channel.messages.remove(original)
                return
            if flag_arg(body, "replace_original") and target.message_ts:
                self._apply_update(channel.message(target.message_ts), body)
                return
            message = self._new_message(body)
            if body.get("response_type") == "in_channel":
                thread_ts = text_arg(body, "thread_ts")
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
        channel = self._channel(required_arg(args, "channel"))
        if self.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def _new_message(self, args: Mapping[str, Any]) -> Json:
        text = text_arg(args, "text")
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
        metadata = metadata_arg(args.get("metadata"))
        if metadata is not None:
            message["metadata"] = metadata
        return message

    def _apply_update(self, message: Json, args: Mapping[str, Any]) -> None:
        text = text_arg(args, "text")
        blocks = check_blocks(args.get("blocks"), limit=MAX_MESSAGE_BLOCKS)
        if not text and not blocks:
            raise SlackError("no_text")
        message["text"] = text
        message["blocks"] = blocks
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        metadata = metadata_arg(args.get("metadata"))
        if metadata is not None:
            message["metadata"] = metadata


def _shown(message: Json) -> Json:
    return copy.deepcopy(message)
