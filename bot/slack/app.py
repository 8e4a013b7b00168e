"""The Bolt app with every listener, and the one ASGI app that serves it over HTTP.

``build_app`` registers the listeners of each surface and its global middlewares: one puts the
commands, the reads and the after-ack runner into Bolt's context
(``bot.slack.listeners.OPERATIONS`` and ``READS``, ``bot.slack.deferred.AFTER_ACK``), one acts on
each Slack request once (a replay is acked and dropped), one refuses anything from another
Slack workspace before a listener sees it, answering in the shape each kind of
request needs (an ephemeral ack for a command, the form replaced for a submission, an
ephemeral note for a click).

``asgi_app`` serves ``POST /slack/events`` (commands, interactivity and events on one URL, as the
HTTP manifest says), ``GET /healthz`` and ``GET /metrics``. Bolt's ``App.dispatch`` is
synchronous (database and Slack calls), so it runs in Starlette's thread pool: the event loop
keeps accepting requests while acks are computed. Bolt checks the signature and refuses a
request whose timestamp is more than five minutes old with 401 before any listener runs; before
Bolt, ``bot.slack.front`` checks the same on the raw bytes and refuses malformed bodies with 400
(Bolt would answer some with a 500), each refusal in one short log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.slack import front
from bot.slack.deferred import AFTER_ACK, AfterAck
from bot.slack.listeners import OPERATIONS, READS, actions, commands, home, views
from bot.slack.listeners.fallback import listener_client
from bot.slack.messages import refusal_message
from bot.slack.modals import refusal_modal
from bot.slack.ports import Operations, Reads, Refusal

__all__ = ["EVENTS_PATH", "FirstTime", "asgi_app", "build_app", "delivery_key"]

EVENTS_PATH = "/slack/events"

log = logging.getLogger(__name__)


FirstTime = Callable[[str, str], bool]


def build_app(
    ops: Operations,
    reads: Reads,
    *,
    client: WebClient,
    signing_secret: str | None,
    after_ack: AfterAck,
    first_time: FirstTime,
) -> App:
    """The Bolt app; ``signing_secret`` ``None`` means Socket Mode (Slack's socket is trusted).

    ``after_ack`` runs the work listeners hand over once acked; its owner closes it on shutdown.
    ``first_time(key, kind)`` records a Slack request's key and says whether it is the first
    copy (``storage.slack_deliveries``); a later copy is acked and does nothing.
    """
    app = App(
        client=listener_client(client),
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    def provide(context: BoltContext, next: Callable[[], None]) -> None:
        context[OPERATIONS] = ops
        context[READS] = reads
        context[AFTER_ACK] = after_ack
        next()

    def same_workspace(
        body: dict[str, Any],
        context: BoltContext,
        next: Callable[[], None],
    ) -> BoltResponse | None:
        try:
            ops.check_team(user=context.user_id or "", team_id=context.team_id, action=_kind(body))
        except Refusal as refused:
            return _refused(ops, body, context, refused)
        next()
        return None

    def once(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not first_time(key, _kind(body)):
            log.info("slack.replay_ignored kind=%s", _kind(body))
            return BoltResponse(status=200, body="")
        next()
        return None

    app.use(provide)
    app.use(once)
    app.use(same_workspace)
    for surface in (commands, actions, views, home):
        surface.register(app)
    return app


def asgi_app(
    app: App,
    *,
    signing_secret: str | None,
    health: Callable[[], dict[str, Any]],
    metrics: Callable[[], tuple[bytes, str]],
    after_ack: AfterAck | None = None,
) -> Starlette:
    """One ASGI app: Slack's requests, a health check, and Prometheus metrics.

    Work handed to ``after_ack`` waits while Slack requests are being answered here.
    """

    async def events(request: Request) -> Response:
        body = await _capped_body(request)
        if body is None:
            return _refuse(front.Refusal(413, "too_large"), request.headers.get("content-length"))
        refused = front.check_request(body, request.headers, signing_secret=signing_secret)
        if refused is not None:
            return _refuse(refused, len(body))
        bolt_request = to_bolt_request(request, body)
        bolt_response: BoltResponse = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def healthz(request: Request) -> Response:
        report = await run_in_threadpool(health)
        return JSONResponse(report, status_code=200 if report.get("ok") else 503)

    async def metrics_page(request: Request) -> Response:
        payload, content_type = await run_in_threadpool(metrics)
        return Response(payload, media_type=content_type)

    async def not_found(request: Request) -> Response:
        return PlainTextResponse("Not found", status_code=404)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            Route("/", not_found),
        ],
        middleware=[Middleware(_Answering, after_ack=after_ack)] if after_ack else [],
    )


def _refuse(refused: front.Refusal, size: object) -> Response:
    """One short line per refused request, never its body: a flood must not fill the log."""
    event = "slack.refused" if refused.status == 401 else "slack.bad_request"
    log.warning("%s status=%s reason=%s bytes=%s", event, refused.status, refused.reason, size)
    return PlainTextResponse(refused.reason, status_code=refused.status)


async def _capped_body(request: Request) -> bytes | None:
    """The body, or ``None`` once it passes ``front.MAX_BODY`` (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > front.MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > front.MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Answering:
    """Counts a Slack request as being answered until its ack is written back to Slack.

    The count ends when the response has been sent, not when Bolt returns it: the event loop
    still needs the interpreter to write the ack, and after-ack work starting earlier would take
    it for 5 ms at a time.
    """

    def __init__(self, app: ASGIApp, after_ack: AfterAck) -> None:
        self.app = app
        self.after_ack = after_ack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != EVENTS_PATH:
            await self.app(scope, receive, send)
            return
        with self.after_ack.acking():
            await self.app(scope, receive, send)


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes one Slack request itself: its ``trigger_id``, or an event's ``event_id``.

    Slack issues a new ``trigger_id`` for every command, click and submission, and keeps an
    event's ``event_id`` across its retries; a request with neither (an options load) is
    harmless to repeat.
    """
    event_id = body.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"event:{event_id}"
    trigger_id = body.get("trigger_id")
    if isinstance(trigger_id, str) and trigger_id:
        return f"trigger:{trigger_id}"
    return None


def _kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    return str(body.get("type") or "event")


def _refused(
    ops: Operations, body: dict[str, Any], context: BoltContext, refused: Refusal
) -> BoltResponse:
    """The refusal in the shape Slack shows for this kind of request."""
    message = refusal_message(refused.message, paper=ops.paper)
    kind = _kind(body)
    if kind == "command":
        return _json({**message.payload(), "response_type": "ephemeral"})
    if kind == "view_submission":
        view = refusal_modal(refused.message, paper=ops.paper)
        return _json({"response_action": "update", "view": view.to_dict()})
    if kind == "block_actions" and body.get("response_url") and context.respond is not None:
        context.respond(**message.payload(), response_type="ephemeral", replace_original=False)
    return BoltResponse(status=200, body="")


def _json(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(body), headers={"content-type": "application/json"}
    )
