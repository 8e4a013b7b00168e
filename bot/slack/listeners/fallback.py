"""What a listener does when a Slack call after the ack fails: the person is still told.

A modal opens only with a ``trigger_id`` used within three seconds, once; a view update loses a
race with the person's own edit (``hash_conflict``); an ephemeral message reaches only members of
its channel. Each of those failed silently, leaving someone clicking a button that did nothing.
So: a modal that cannot be opened is replaced by an ephemeral answer through ``response_url``
saying why and what to do instead; a stale view is updated again on its current version; an
ephemeral that cannot reach the person in one channel is tried in the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.slack.messages import Message, refusal_message
from bot.slack.text import clip

__all__ = ["listener_client", "open_or_explain", "slack_error", "tell", "update_view"]

log = logging.getLogger(__name__)

# The person is not reachable in that channel: try another rather than give up.
_NOT_THERE = frozenset(
    {"not_in_channel", "channel_not_found", "user_not_in_channel", "is_archived", "user_not_found"}
)


def listener_client(client: WebClient) -> WebClient:
    """``client`` for listeners: also waits out rate limits and retries Slack's 5xx once.

    The notifier keeps its own client and retry rules: a post that Slack applied before its 5xx
    must be looked for before it is sent again, which slack_sdk's handlers cannot know.
    """
    handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=1),
    ]
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=handlers,
    )


def slack_error(err: SlackApiError) -> str:
    """Slack's error code (``ratelimited``, ``expired_trigger_id``, ...), or the HTTP status."""
    code = err.response.get("error") if isinstance(err.response.data, dict) else None
    return clip(str(code or f"HTTP {err.response.status_code}"), 80)


def open_or_explain(
    open_view: Callable[[], Any], respond: Respond | None, *, what: str, instead: str, paper: bool
) -> None:
    """Open a modal; when Slack will not, tell the person through ``response_url``."""
    try:
        open_view()
    except SlackApiError as err:
        code = slack_error(err)
        log.warning("slack.view_not_opened what=%s error=%s", what, code)
        if respond is None:
            return
        message = refusal_message(
            f"Slack could not open the {what} ({code}). {instead}", paper=paper
        )
        respond(**message.payload(), response_type="ephemeral", replace_original=False)


def update_view(client: WebClient, *, view_id: str, hash: str | None, view: Any) -> None:
    """``views.update``; on ``hash_conflict`` once more on the view's current version.

    The conflict means the person changed the form while it was being redrawn; the redraw is
    for what they chose last, so it is applied without the stale hash rather than lost.
    """
    try:
        client.views_update(view_id=view_id, hash=hash, view=view)
    except SlackApiError as err:
        if slack_error(err) != "hash_conflict":
            raise
        log.info("slack.view_redrawn_after_conflict view=%s", view_id)
        client.views_update(view_id=view_id, view=view)


def tell(client: WebClient, *, user: str, channels: Sequence[str], message: Message) -> None:
    """An ephemeral for ``user`` in the first of ``channels`` Slack will show it in."""
    payload = message.payload()
    last: SlackApiError | None = None
    for channel in dict.fromkeys(c for c in channels if c):
        try:
            client.chat_postEphemeral(channel=channel, user=user, **payload)
            return
        except SlackApiError as err:
            if slack_error(err) not in _NOT_THERE:
                raise
            last = err
    log.warning(
        "slack.person_not_reached user=%s error=%s", user, slack_error(last) if last else "none"
    )
