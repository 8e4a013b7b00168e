"""``conversations.replies`` and ``conversations.history`` over one channel, paged like Slack.

Both page with a cursor (an offset here, opaque to the bot as Slack's is) and ``limit``
(1..1000, ``invalid_limit`` outside it), and leave each message's ``metadata`` out unless
``include_all_metadata`` is set, as Slack does: the notifier's search for an event's outbox key
only works when it asks for the metadata.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.slack.standin.arguments import Json, SlackError, flag_arg, int_arg, required_arg, text_arg

if TYPE_CHECKING:
    from bot.slack.standin.workspace import Channel

__all__ = ["REPLIES_LIMIT", "history_page", "replies_page"]

REPLIES_LIMIT = 1000


def replies_page(channel: Channel, args: Mapping[str, Any]) -> Json:
    """One page of the thread of ``args["ts"]``, oldest first."""
    return _page(channel.thread(required_arg(args, "ts")), args)


def history_page(channel: Channel, args: Mapping[str, Any]) -> Json:
    """One page of the top-level messages and broadcasts from ``oldest`` on, newest first."""
    oldest = float(text_arg(args, "oldest") or 0)
    shown = [
        m
        for m in reversed(channel.messages)
        if float(m["ts"]) >= oldest
        and (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast")
    ]
    return _page(shown, args)


def _page(messages: Sequence[Json], args: Mapping[str, Any]) -> Json:
    limit = int_arg(args, "limit", REPLIES_LIMIT)
    if not 1 <= limit <= REPLIES_LIMIT:
        raise SlackError("invalid_limit")
    cursor = text_arg(args, "cursor")
    if cursor and not cursor.isdigit():
        raise SlackError("invalid_cursor")
    start = int(cursor or 0)
    page = messages[start : start + limit]
    with_metadata = flag_arg(args, "include_all_metadata")
    shown = [
        m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
        for m in (copy.deepcopy(m) for m in page)
    ]
    more = start + limit < len(messages)
    return {
        "messages": shown,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }
