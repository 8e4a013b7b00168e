"""Setting an event aside for good: a dead letter in storage and a plain-text note in Slack.

An event Slack will never accept, or that cannot be drawn, must not hold back everything after
it: it goes to ``storage.dead_letters`` with its error (``withdrawbot outbox dead | retry |
drop``), and a note says in plain text, where the event would have been, that it was set aside
and why. When the note itself cannot be posted the event is set aside all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.slack.messages import fallback_note
from bot.slack.posting import DeliveryFailed, Poster
from bot.slack.text import clip
from storage import dead_letters
from storage.engine import Database

__all__ = ["Quarantine"]

log = logging.getLogger(__name__)


class Quarantine:
    """Sets events aside in one database and says so through one poster."""

    def __init__(
        self, poster: Poster, database: Database, *, paper: bool, clock: Callable[[], datetime]
    ) -> None:
        self._slack = poster
        self.database = database
        self.paper = paper
        self.clock = clock

    def set_aside(
        self,
        *,
        key: str,
        event: str,
        error: str,
        request_id: int | None,
        first: bool,
        posted: str | None = None,
        thread_ts: str | None = None,
    ) -> str | None:
        """Set ``key`` aside and say so in ``thread_ts`` (or the channel for a first message).

        ``posted`` is the event's own message when it did go out (only a redraw failed).
        Returns the message standing for the event, if any.
        """
        note = fallback_note(
            request_id=request_id,
            event=event,
            error=error,
            first=first,
            redraw=posted is not None,
            paper=self.paper,
        )
        ts = posted
        try:
            note_ts = self._slack.post(
                note, key=f"{key}-dead", thread_ts=thread_ts, broadcast=thread_ts is not None
            )
            ts = ts or note_ts
        except DeliveryFailed as failed:
            error = f"{error}; the note about it failed too: {failed}"
        dead_letters.set_aside(
            self.database,
            key=key,
            event=event,
            error=error,
            now=self.clock(),
            request_id=request_id,
            slack_ts=ts,
        )
        log.error(
            "notifier.dead_letter request=%s key=%s event=%s error=%s",
            request_id,
            key,
            event,
            clip(error, 300),
        )
        return ts
