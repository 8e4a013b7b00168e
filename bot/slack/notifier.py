"""The notifier: drains the outbox into Slack, in order per request, never losing or doubling.

Every state change wrote an outbox event in its own transaction (``storage.outbox``). For each
undelivered event, oldest first, the notifier:

1. looks in Slack for a message carrying the event's outbox key in its metadata, when the event
   may have been posted before (it was created before this notifier started, or an earlier
   attempt failed after Slack may have applied it): the thread for a reply,
   ``conversations.history`` for a request's root message;
2. otherwise posts it: the first event of a request is the root message in the approval channel;
   every later one is a reply in its thread, broadcast to the channel when it is a final
   outcome;
3. redraws the root message from the request as it is now (approvals so far, status, progress
   track), once per request per pass, with the last of its events;
4. marks it delivered; the marks of one pass are written in one transaction at its end (an
   event posted but not yet marked when the process dies is found by step 1 after a restart,
   and within the process by remembering what it attempted).

``chat.postMessage`` has no idempotency key, so step 1 is what makes a crash between posting
and marking harmless. A request whose event could not be delivered is skipped for the rest of
the pass, so a later event never overtakes an earlier one; other requests go on. 429 answers
are retried after their ``Retry-After``; 5xx answers and network errors after a backoff. An
event Slack will never accept (``invalid_blocks``, ``channel_not_found``, ``message_not_found``
on the redraw, ...) or that cannot be drawn at all is set aside as a dead letter
(``storage.dead_letters``) with a plain-text note in its place, and the request's later events
go on: one bad event must never stop delivery. Errors about the bot itself (a revoked token, a
missing scope) set nothing aside; every event waits until they are fixed. Of several
replicas on PostgreSQL one notifier drains at a time (an advisory lock): two could both post an
event neither had marked yet.

Each event is read into its type (``storage.outbox_events``: a decision, an absence
confirmation, a quote, a reminder, a status edgeX reported, any other transition) and drawn by
``bot.slack.thread_replies``; the Slack calls and what their failures mean are
``bot.slack.posting``'s. An event whose payload has no known shape is set aside like one that
cannot be drawn.

An approver's ``confirm_absent`` (``storage.reconciliation``) is said in the thread with the
confirmations so far; the one that ends the request adds its final transition, broadcast like
every final outcome.

The worker's quoter writes ``quoted`` when a cross draft stored without its LP quote (a web-only
process cannot fetch one) gets it: the root message is redrawn with the quoted LP, fee cap and
the approval buttons, and the thread says what edgeX quoted (``detail.quote``). Its
``quote_refused`` ends the request; it reads like any final transition, with edgeX's code and
message when edgeX refused.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_sdk import WebClient

from approvals.lifecycle import Request
from bot.slack.messages import Message, RequestCard, request_message
from bot.slack.posting import DeliveryFailed, Poster
from bot.slack.quarantine import Quarantine
from bot.slack.text import clip
from bot.slack.thread_replies import alert_message, as_of, event_reply
from storage import alerts, outbox, queries
from storage.engine import Database
from storage.outbox import OutboxEntry

__all__ = ["CardSource", "DrainResult", "Latch", "Notifier", "Unrenderable"]

log = logging.getLogger(__name__)

_BACKOFF_MAX = 60.0


class Latch(Protocol):
    """What the notifier sleeps on between passes (``bot.wakeups.Wakeup``)."""

    def notify(self) -> None: ...

    def wait(self, timeout: float) -> bool: ...


class CardSource(Protocol):
    """Where the notifier gets a request drawn as now, and as it was at an earlier event."""

    def card(self, request_id: int) -> RequestCard: ...

    def rebuild(self, card: RequestCard, request: Request) -> RequestCard: ...


class Unrenderable(Exception):
    """An event could not be drawn as Block Kit; it is set aside, never retried for ever."""


def _render(build: Callable[[], Message]) -> dict[str, Any]:
    """``build()``'s payload; any failure to draw it (or to fit Block Kit) is :class:`Unrenderable`.

    Rendering is pure, so an exception here is the same on every retry: retrying it would
    only hold the request's later events back.
    """
    try:
        return build().payload()
    except Exception as err:
        raise Unrenderable(f"{type(err).__name__}: {clip(str(err), 300)}") from err


@dataclass(frozen=True, slots=True)
class DrainResult:
    """One pass: how many events went out, and when to try again (``None``: nothing waits)."""

    delivered: int
    retry_in: float | None


class Notifier:
    """Delivers outbox events to ``channel``; call :meth:`drain` or run :meth:`run` in a thread."""

    def __init__(
        self,
        *,
        database: Database,
        client: WebClient,
        cards: CardSource,
        channel: str,
        paper: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        batch: int = 200,
        settle: float = 0.05,
        wakeup: Latch,
        before_pass: Callable[[], None] = lambda: None,
    ) -> None:
        """``before_pass`` runs before each pass of :meth:`run`; ``wakeup`` ends its sleep.

        The web process waits there while Slack requests are being acked
        (``bot.slack.deferred``), since a pass of posts would otherwise stretch every ack it
        overlaps.
        """
        self.database = database
        self.cards = cards
        self._slack = Poster(client, channel)
        self._quarantine = Quarantine(self._slack, database, paper=paper, clock=clock)
        self.paper = paper
        self.clock = clock
        self._monotonic = monotonic
        self._batch = batch
        self._settle = settle
        self._started_at = clock()
        self._attempted: set[str] = set()
        self._stale_roots: set[int] = set()
        self._failures: dict[int, int] = {}
        self._not_before: dict[int, float] = {}
        self._wakeup = wakeup
        self._lock = threading.Lock()
        self._before_pass = before_pass

    def wake(self) -> None:
        """Something was written to the outbox: drain now rather than at the next tick."""
        self._wakeup.notify()

    def run(self, stop: threading.Event, *, interval: float = 2.0) -> None:
        """Drain until ``stop`` is set; a failure of the loop itself is logged, never fatal."""
        while not stop.is_set():
            try:
                self._before_pass()
                result = self.drain()
                wait = interval if result.retry_in is None else min(interval, result.retry_in)
            except Exception:
                log.exception("notifier.pass_failed")
                wait = interval
            if self._wakeup.wait(max(wait, 0.05)):
                # Let a burst of changes land, then deliver them in one pass.
                stop.wait(self._settle)

    def drain(self) -> DrainResult:
        """One pass over the undelivered events, in order per request."""
        with self._lock, queries.only_one(self.database, name="withdrawbot-notifier") as mine:
            if not mine:
                return DrainResult(0, None)
            entries = outbox.pending(self.database, limit=self._batch)
            delivered: list[tuple[str, str]] = []
            try:
                retry_in = self._deliver_all(entries, delivered)
            finally:
                outbox.mark_delivered_many(self.database, delivered=delivered, now=self.clock())
            sent, alert_wait = self._drain_alerts()
            if alert_wait is not None:
                retry_in = alert_wait if retry_in is None else min(retry_in, alert_wait)
            return DrainResult(len(delivered) + sent, retry_in)

    def _deliver_all(
        self, entries: Sequence[OutboxEntry], delivered: list[tuple[str, str]]
    ) -> float | None:
        """Post in order; a request stops at its first failure. Returns when to try again.

        What went out is appended to ``delivered`` as it happens, so the caller marks it even
        if a later entry raises.
        """
        last_of = {entry.request_id: entry.key for entry in entries}
        roots: dict[int, str | None] = {e.request_id: e.thread_ts for e in entries if e.thread_ts}
        blocked: set[int] = set()
        retry_in: float | None = None
        now = self._monotonic()
        for entry in entries:
            request_id = entry.request_id
            if request_id in blocked:
                continue
            wait = self._not_before.get(request_id, 0.0) - now
            if wait > 0:
                blocked.add(request_id)
                retry_in = wait if retry_in is None else min(retry_in, wait)
                continue
            try:
                ts = self._deliver(
                    entry, roots.get(request_id), redraw=last_of[request_id] == entry.key
                )
            except Unrenderable as bad:
                self._set_aside(entry, roots, error=str(bad), posted=None)
                continue
            except DeliveryFailed as failed:
                if failed.permanent:
                    self._set_aside(entry, roots, error=str(failed), posted=failed.posted)
                    continue
                blocked.add(request_id)
                delay = self._delay(request_id, failed)
                self._not_before[request_id] = self._monotonic() + delay
                retry_in = delay if retry_in is None else min(retry_in, delay)
                log.warning(
                    "notifier.delivery_failed request=%s key=%s retry_in=%.1f error=%s",
                    request_id,
                    entry.key,
                    delay,
                    failed,
                )
                continue
            self._failures.pop(request_id, None)
            self._not_before.pop(request_id, None)
            if entry.seq == 1:
                roots[request_id] = ts
            delivered.append((entry.key, ts))
        return retry_in

    # --- one event -----------------------------------------------------------------------------

    def _deliver(self, entry: OutboxEntry, root_ts: str | None, *, redraw: bool) -> str:
        card = self.cards.card(entry.request_id)
        retrying = entry.key in self._attempted or entry.created_at < self._started_at
        self._attempted.add(entry.key)
        if entry.seq == 1:
            ts = self._slack.find_root(entry.key, entry.created_at) if retrying else None
            if ts is None:
                root = _render(lambda: request_message(card, paper=self.paper))
                ts = self._slack.post(root, key=entry.key)
            return ts
        if root_ts is None:
            raise DeliveryFailed(
                "the request's first message was set aside, so it has no thread"
                if entry.root_set_aside
                else "the request's root message is not posted yet",
                retry_after=1.0,
                permanent=entry.root_set_aside,
            )
        ts = self._slack.find_reply(entry.key, root_ts) if retrying else None
        if ts is None:
            reply, broadcast = self._reply(entry, card)
            ts = self._slack.post(
                _render(lambda: reply), key=entry.key, thread_ts=root_ts, broadcast=broadcast
            )
        if redraw and entry.request_id not in self._stale_roots:
            self._redraw(entry.request_id, card, root_ts=root_ts, reply_ts=ts)
        return ts

    def _redraw(self, request_id: int, card: RequestCard, *, root_ts: str, reply_ts: str) -> None:
        """Update the root message; one that can never be updated is given up for this process.

        Slack refuses for good to edit a deleted message (``message_not_found``), one too old
        (``edit_window_closed``) or not the bot's (``cant_update_message``): every later event
        would fail the same way, so the request's events go on without redraws, and the event
        that found out is set aside with its reply (``reply_ts``) already in the thread.
        """
        try:
            root = _render(lambda: request_message(card, paper=self.paper))
            self._slack.update(root, ts=root_ts)
        except Unrenderable as bad:
            self._stale_roots.add(request_id)
            raise DeliveryFailed(
                f"chat.update: {bad}", retry_after=0.0, permanent=True, posted=reply_ts
            ) from None
        except DeliveryFailed as failed:
            if not failed.permanent:
                raise
            self._stale_roots.add(request_id)
            raise DeliveryFailed(
                str(failed), retry_after=0.0, permanent=True, posted=reply_ts
            ) from None

    def _set_aside(
        self,
        entry: OutboxEntry,
        roots: dict[int, str | None],
        *,
        error: str,
        posted: str | None,
    ) -> None:
        """Quarantine a request's event; the note goes where the event would have.

        In the thread (and the channel) for a reply; in the channel for a request's first
        message, whose note then holds its thread. ``posted`` is the event's own reply when it
        did go out (only the card's redraw failed).
        """
        first = entry.seq == 1
        root_ts = None if first else roots.get(entry.request_id)
        ts = self._quarantine.set_aside(
            key=entry.key,
            event=entry.event,
            error=error,
            request_id=entry.request_id,
            first=first,
            posted=posted,
            thread_ts=root_ts,
        )
        if first:
            roots[entry.request_id] = ts

    def _reply(self, entry: OutboxEntry, card: RequestCard) -> tuple[Message, bool]:
        """The thread reply for one event, and whether it is a final outcome for the channel.

        Anything the reply cannot be drawn from (a payload of another shape, a bug) raises
        :class:`Unrenderable`, so the event is set aside rather than retried for ever.
        """
        try:
            return self._draw_reply(entry, card)
        except Exception as err:
            raise Unrenderable(f"{type(err).__name__}: {err}") from err

    def _draw_reply(self, entry: OutboxEntry, card: RequestCard) -> tuple[Message, bool]:
        event = entry.change()
        then = self.cards.rebuild(card, as_of(card.request, event))
        then = replace(then, exchange_status=event.exchange_status)
        return event_reply(event, then, paper=self.paper)

    # --- alerts that belong to no request --------------------------------------------------------

    def _drain_alerts(self) -> tuple[int, float | None]:
        delivered = 0
        for entry in alerts.pending(self.database, limit=self._batch):
            retrying = entry.key in self._attempted or entry.created_at < self._started_at
            self._attempted.add(entry.key)
            try:
                ts = self._slack.find_root(entry.key, entry.created_at) if retrying else None
                if ts is None:
                    message = alert_message(entry.alert(), paper=self.paper)
                    ts = self._slack.post(message.payload(), key=entry.key)
            except DeliveryFailed as failed:
                if failed.permanent:
                    self._quarantine.set_aside(
                        key=entry.key,
                        event=entry.event,
                        error=str(failed),
                        request_id=None,
                        first=True,
                    )
                    continue
                log.warning("notifier.alert_failed key=%s error=%s", entry.key, failed)
                return delivered, max(failed.retry_after, 1.0)
            alerts.mark_delivered(self.database, key=entry.key, now=self.clock(), slack_ts=ts)
            delivered += 1
        return delivered, None

    def _delay(self, request_id: int, failed: DeliveryFailed) -> float:
        """Retry-After when Slack gave one; otherwise exponential backoff."""
        attempts = self._failures.get(request_id, 0) + 1
        self._failures[request_id] = attempts
        if failed.retry_after > 0:
            return failed.retry_after
        return min(_BACKOFF_MAX, 0.5 * 2.0 ** (attempts - 1))
