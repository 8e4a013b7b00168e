"""The notifier's Slack calls: post, update, find a posted event by its key, and what failed.

``chat.postMessage`` has no idempotency key, so every message the notifier posts carries its
outbox key in the message metadata, and :meth:`Poster.find_root` / :meth:`Poster.find_reply`
look for that key before an event that may already be in Slack is posted again.

Every Slack error becomes one :class:`DeliveryFailed` saying when to try again and whether
Slack will ever take it::

    429, 5xx, ratelimited, internal_error,
    request_timeout, service_unavailable,
    fatal_error, network errors             transient: Retry-After, else the caller's backoff
    the bot's own (invalid_auth,
    missing_scope, not_in_channel, ...)     transient, every 60 s: not this event's fault
    anything else (invalid_blocks,
    channel_not_found, message_not_found)   permanent: the event is set aside
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

__all__ = ["EVENT_TYPE", "DeliveryFailed", "Poster"]

log = logging.getLogger(__name__)

EVENT_TYPE = "withdrawbot_event"
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_BOT_WIDE_DELAY = 60.0
# Slack errors about the bot rather than the event: setting events aside would only quarantine
# every one of them until the token or the app's scopes are fixed.
_BOT_WIDE = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
        "access_denied",
        "not_in_channel",
    }
)
# Slack's own trouble, answered with HTTP 200 and ok: false: tried again on the normal backoff.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "request_timeout", "service_unavailable", "fatal_error"}
)
# A root message is looked for from a little before its event was written.
_HISTORY_SLACK = timedelta(minutes=5)


class DeliveryFailed(Exception):
    """Slack did not take an event; ``retry_after`` is how long to leave the request alone.

    ``permanent``: Slack will never take it (the event is set aside as a dead letter);
    ``posted``: the event's own message did go out (only its root redraw failed).
    """

    def __init__(
        self, message: str, *, retry_after: float, permanent: bool, posted: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.posted = posted


class Poster:
    """Posts to one channel with one client; every failure is a :class:`DeliveryFailed`."""

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel

    def post(
        self,
        message: Mapping[str, Any],
        *,
        key: str,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> str:
        """Post ``message`` carrying ``key``; returns its ts."""
        arguments: dict[str, Any] = {
            "channel": self.channel,
            **message,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts is not None:
            arguments["thread_ts"] = thread_ts
            if broadcast:
                arguments["reply_broadcast"] = True
        response = self._call(self.client.chat_postMessage, **arguments)
        return str(response["ts"])

    def update(self, message: Mapping[str, Any], *, ts: str) -> None:
        self._call(self.client.chat_update, channel=self.channel, ts=ts, **message)

    def find_reply(self, key: str, root_ts: str) -> str | None:
        """The ts of the reply carrying ``key`` in the thread of ``root_ts``, if posted."""
        return self._find(
            key,
            self.client.conversations_replies,
            channel=self.channel,
            ts=root_ts,
            include_all_metadata=True,
            limit=200,
        )

    def find_root(self, key: str, created_at: datetime) -> str | None:
        """The ts of the channel message carrying ``key``, posted after its event was written."""
        oldest = (created_at - _HISTORY_SLACK).timestamp()
        return self._find(
            key,
            self.client.conversations_history,
            channel=self.channel,
            oldest=f"{oldest:.6f}",
            include_all_metadata=True,
            limit=200,
        )

    def _find(self, key: str, call: Callable[..., SlackResponse], **arguments: Any) -> str | None:
        cursor: str | None = None
        while True:
            page = self._call(call, **arguments, cursor=cursor)
            found = _with_key(page.get("messages") or [], key)
            if found is not None:
                return found
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None

    def _call(self, call: Callable[..., SlackResponse], **arguments: Any) -> SlackResponse:
        method = call.__name__
        try:
            return call(**arguments)
        except SlackApiError as err:
            status = err.response.status_code
            headers = err.response.headers or {}
            retry_after = _retry_after(headers)
            error = str(err.response.get("error", "")) if err.response.data else ""
            transient = status in _TRANSIENT_STATUSES or error in _TRANSIENT_ERRORS
            if error in _BOT_WIDE and not transient:
                # Not this event's fault: every event would fail alike until someone fixes the
                # token or the scopes, so nothing is set aside; it is tried again slowly.
                log.error("notifier.slack_refuses_bot method=%s error=%s", method, error)
                retry_after = retry_after or _BOT_WIDE_DELAY
                transient = True
            raise DeliveryFailed(
                f"{method}: HTTP {status} {error}",
                retry_after=retry_after if retry_after is not None else 0.0,
                permanent=not transient,
            ) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryFailed(
                f"{method}: {type(err).__name__}", retry_after=0.0, permanent=False
            ) from None


def _with_key(messages: Sequence[Mapping[str, Any]], key: str) -> str | None:
    for message in messages:
        metadata = message.get("metadata") or {}
        if (metadata.get("event_payload") or {}).get("key") == key:
            return str(message["ts"])
    return None


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            text = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(str(text)))
            except ValueError:
                return None
    return None
