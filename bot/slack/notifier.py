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

Exchange events come from the worker (``storage.work.record_status`` writes event
``exchange_status`` or the terminal trigger, with ``detail.exchange_status`` and, from the
worker's ``bot.worker.reports.status_detail``, fields such as ``censorFailCode`` or an error's
``code`` and ``message``); they are drawn with ``exchange_reply`` and any code or reason found
in the detail.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.web import SlackResponse

from approvals.decisions import Decision
from approvals.lifecycle import TERMINAL, Request, State, Trigger
from bot.slack.messages import (
    Message,
    RequestCard,
    absence_reply,
    decision_reply,
    exchange_reply,
    fallback_note,
    quote_reply,
    reminder_reply,
    request_message,
    transition_reply,
)
from bot.slack.text import PAPER_BANNER, PAPER_PREFIX, SECTION_MAX, clip, clip_markup, escape, fit
from storage import alerts, dead_letters, outbox, queries
from storage.engine import Database
from storage.outbox import OutboxEntry
from storage.reconciliation import CONFIRM_ABSENT

__all__ = ["EVENT_TYPE", "CardSource", "DeliveryFailed", "Notifier", "Unrenderable"]

log = logging.getLogger(__name__)

EVENT_TYPE = "withdrawbot_event"
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_BACKOFF_MAX = 60.0
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
        "request_timeout",
        "service_unavailable",
        "fatal_error",
    }
)
_HISTORY_SLACK = timedelta(minutes=5)
_CODE_FIELDS = (
    "code",
    "censorFailCode",
    "l2RejectCode",
    "l1RejectedReasonCode",
    "censor_fail_code",
    "l2_reject_code",
    "l1_rejected_reason_code",
)
_REASON_FIELDS = (
    "message",
    "reason",
    "censorFailReason",
    "l2RejectReason",
    "l1RejectedReasonMsg",
    "censor_fail_reason",
    "l2_reject_reason",
    "l1_rejected_reason_msg",
)


class Latch(Protocol):
    """What the notifier sleeps on between passes (``bot.wakeups.Wakeup``)."""

    def notify(self) -> None: ...

    def wait(self, timeout: float) -> bool: ...


class CardSource(Protocol):
    """Where the notifier gets a request drawn as now, and as it was at an earlier event."""

    def card(self, request_id: int) -> RequestCard: ...

    def rebuild(self, card: RequestCard, request: Request) -> RequestCard: ...


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
        self.client = client
        self.cards = cards
        self.channel = channel
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
                queries.mark_delivered_many(self.database, delivered=delivered, now=self.clock())
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
            ts = self._find_root(entry.key, entry.created_at) if retrying else None
            if ts is None:
                root = _render(lambda: request_message(card, paper=self.paper))
                ts = self._post(root, key=entry.key)
            return ts
        if root_ts is None:
            raise DeliveryFailed(
                "the request's first message was set aside, so it has no thread"
                if entry.root_set_aside
                else "the request's root message is not posted yet",
                retry_after=1.0,
                permanent=entry.root_set_aside,
            )
        ts = self._find_reply(entry, root_ts) if retrying else None
        if ts is None:
            reply, broadcast = self._reply(entry, card)
            ts = self._post(
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
            self._call(self.client.chat_update, channel=self.channel, ts=root_ts, **root)
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
        ts = self._quarantine(
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

    def _quarantine(
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
        """Set ``key`` aside (``storage.dead_letters``) and say so in Slack in plain text.

        When the note itself cannot be posted the event is set aside all the same: delivery of
        everything else must go on. Returns the message standing for the event, if any.
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
            note_ts = self._post(
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
        payload = entry.payload
        state = State(str(payload.get("state")))
        previous = payload.get("previous_state")
        moved = previous is not None and previous != state.value
        then = self.cards.rebuild(card, _as_of(card.request, payload))
        then = replace(then, exchange_status=_str(payload.get("exchange_status")))
        detail: Mapping[str, Any] = payload.get("detail") or {}
        event = entry.event
        parts: list[Message] = []
        person = self._person_reply(event, then, str(payload.get("actor", "")), detail)
        if person is not None:
            parts.append(person)
            if moved:
                parts.append(transition_reply(then, paper=self.paper))
        elif event == "reminded":
            parts.append(reminder_reply(then, paper=self.paper))
        elif event == Trigger.QUOTED.value and isinstance(detail.get("quote"), Mapping):
            quote: Mapping[str, Any] = detail["quote"]
            parts.append(
                quote_reply(
                    then,
                    fee=str(quote.get("fee", "")),
                    max_amount=str(quote.get("max_amount", "")),
                    lp_account=str(quote.get("lp_account_id", "")),
                    paper=self.paper,
                )
            )
        elif then.exchange_status is not None and "exchange_status" in detail:
            code, said = _exchange_words(detail)
            parts.append(exchange_reply(then, code=code, detail=said, paper=self.paper))
            if moved:
                parts.append(transition_reply(then, paper=self.paper))
        elif moved or not _alerts(detail):
            parts.append(transition_reply(then, paper=self.paper))
            code, said = _exchange_words(detail)
            if code or said:
                words = " · ".join(fit(w, 500) for w in (code, said) if w)
                parts.append(_lines([f"edgeX said: {words}"], paper=self.paper))
        extra = [f"⚠️ {fit(text, 1500)}" for text in _alerts(detail)]
        if isinstance(detail.get("l1_tx_hash"), str):
            extra.append(f"L1 transaction `{escape(detail['l1_tx_hash'])}`")
        if isinstance(detail.get("audit_head_hash"), str):
            extra.append(
                f"Audit log head `{escape(detail['audit_head_hash'])}` (compare with "
                "`withdrawbot audit verify`)"
            )
        if extra:
            parts.append(_lines(extra, paper=self.paper))
        return _join(parts), moved and state in TERMINAL

    def _person_reply(
        self, event: str, then: RequestCard, actor: str, detail: Mapping[str, Any]
    ) -> Message | None:
        """What a person's click said (approve, reject, confirm absent); None for other events."""
        if event in (Decision.APPROVE.value, Decision.REJECT.value):
            return decision_reply(
                then,
                approver=actor,
                decision=Decision(event),
                reason=_str(detail.get("reason")),
                paper=self.paper,
            )
        if event == CONFIRM_ABSENT:
            confirmed = detail.get("confirmers")
            return absence_reply(
                then,
                confirmer=actor,
                confirmed_by=[str(u) for u in confirmed] if isinstance(confirmed, list) else [],
                needed=int(detail.get("needed") or 0),
                paper=self.paper,
            )
        return None

    # --- alerts that belong to no request --------------------------------------------------------

    def _drain_alerts(self) -> tuple[int, float | None]:
        delivered = 0
        for entry in alerts.pending(self.database, limit=self._batch):
            retrying = entry.key in self._attempted or entry.created_at < self._started_at
            self._attempted.add(entry.key)
            try:
                ts = self._find_root(entry.key, entry.created_at) if retrying else None
                if ts is None:
                    detail: Mapping[str, Any] = entry.payload.get("detail") or {}
                    own = detail.get("text")
                    texts = (
                        _alerts(detail)
                        or ([own] if isinstance(own, str) else [])
                        or [f"{entry.event}: {entry.payload.get('subject', '')}"]
                    )
                    lines = [f"🚨 {fit(text, 2000)}" for text in texts]
                    ts = self._post(_lines(lines, paper=self.paper).payload(), key=entry.key)
            except DeliveryFailed as failed:
                if failed.permanent:
                    self._quarantine(
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

    # --- Slack calls -----------------------------------------------------------------------------

    def _post(
        self,
        message: Mapping[str, Any],
        *,
        key: str,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> str:
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

    def _find_reply(self, entry: OutboxEntry, root_ts: str) -> str | None:
        cursor: str | None = None
        while True:
            page = self._call(
                self.client.conversations_replies,
                channel=self.channel,
                ts=root_ts,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            found = _with_key(page.get("messages") or [], entry.key)
            if found is not None:
                return found
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None

    def _find_root(self, key: str, created_at: datetime) -> str | None:
        oldest = (created_at - _HISTORY_SLACK).timestamp()
        cursor: str | None = None
        while True:
            page = self._call(
                self.client.conversations_history,
                channel=self.channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
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
            transient = status in _TRANSIENT_STATUSES or error in ("ratelimited", "internal_error")
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

    def _delay(self, request_id: int, failed: DeliveryFailed) -> float:
        """Retry-After when Slack gave one; otherwise exponential backoff."""
        attempts = self._failures.get(request_id, 0) + 1
        self._failures[request_id] = attempts
        if failed.retry_after > 0:
            return failed.retry_after
        return min(_BACKOFF_MAX, 0.5 * 2.0 ** (attempts - 1))


def _as_of(request: Request, payload: Mapping[str, Any]) -> Request:
    """The request as the event saw it: its state and note, and the decisions made by then."""
    at_text = payload.get("at")
    at = datetime.fromisoformat(at_text) if isinstance(at_text, str) else None
    decisions = tuple(d for d in request.decisions if at is None or d.at <= at)
    return replace(
        request,
        state=State(str(payload.get("state"))),
        note=_str(payload.get("note")),
        decisions=decisions,
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _exchange_words(detail: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """EdgeX's own code and reason, wherever in the worker's detail they are."""
    sources: list[Mapping[str, Any]] = [detail]
    for nested in ("error", "failure", "codes", "record"):
        value = detail.get(nested)
        if isinstance(value, Mapping):
            sources.append(value)
    code = next((_str(s.get(f)) for s in sources for f in _CODE_FIELDS if _str(s.get(f))), None)
    said = next((_str(s.get(f)) for s in sources for f in _REASON_FIELDS if _str(s.get(f))), None)
    return code, said


def _alerts(detail: Mapping[str, Any]) -> list[str]:
    """The worker's warnings in a detail: ``alert.text`` and each of ``alerts[].text``."""
    found: list[Mapping[str, Any]] = []
    if isinstance(detail.get("alert"), Mapping):
        found.append(detail["alert"])
    found += [a for a in detail.get("alerts") or () if isinstance(a, Mapping)]
    return [str(a["text"]) for a in found if isinstance(a.get("text"), str)]


def _lines(lines: Sequence[str], *, paper: bool) -> Message:
    """Lines of mrkdwn already escaped, as one section."""
    text = clip_markup("\n".join(lines), SECTION_MAX)
    blocks: tuple[Block, ...] = (SectionBlock(text=MarkdownTextObject(text=text)),)
    if paper:
        banner = ContextBlock(elements=[MarkdownTextObject(text=PAPER_BANNER)])
        return Message(text=f"{PAPER_PREFIX} {text}", blocks=(banner, *blocks))
    return Message(text=text, blocks=blocks)


def _join(parts: Sequence[Message]) -> Message:
    if len(parts) == 1:
        return parts[0]
    blocks: list[Block] = []
    for part in parts:
        blocks.extend(part.blocks[1:] if blocks and _has_banner(part) else part.blocks)
    return Message(text=parts[-1].text, blocks=tuple(blocks))


def _has_banner(message: Message) -> bool:
    return message.text.startswith(PAPER_PREFIX) and message.blocks[0].type == "context"


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
