"""The stand-in's HTTP face: Slack's Web API under ``/api/<method>`` and ``response_url`` posts.

Point slack_sdk at it with ``WebClient(base_url=standin.api_url)`` or ``SLACK_API_URL``. It takes
what slack_sdk sends (GET query strings, form bodies, JSON bodies; the token as a Bearer header
or a ``token`` argument), checks the token like Slack (``not_authed`` / ``invalid_auth``),
records every call for tests to read (and lists them at ``GET /_standin/calls``, for a person
poking a running demo), and answers with Slack's envelope
(``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``).

Outages are scripted per method: :meth:`SlackStandIn.fail_next` answers the next N calls with
429 and a ``Retry-After`` header, or a 5xx; ``after_applying`` makes the call take effect and
still answer an error, which is how a post whose answer was lost looks to the bot (the case the
notifier's metadata check exists for).

Built on the standard library's threading server, like the edgeX simulator, so it starts in
milliseconds inside a test and needs no event loop.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.slack.standin.arguments import Json, SlackError
from bot.slack.standin.workspace import ResponseTarget, Workspace

__all__ = ["BOT_TOKEN", "MANIFEST_SCOPES", "REQUIRED_SCOPE", "Call", "Fault", "SlackStandIn"]

log = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-standin-0000000000-withdrawbot"  # noqa: S105 - a loopback stand-in's token
RESPONSE_PATH = "/response/"
API_PATH = "/api/"
CALLS_PATH = "/_standin/calls"
MAX_BODY = 1024 * 1024

Method = Callable[[Workspace, Mapping[str, Any]], Json]

# The bot scope Slack requires for each method the stand-in answers (None: no scope), and the
# scopes withdrawbot's manifest grants: a method outside them is answered ``missing_scope``, as
# Slack does, so a call the manifest does not cover fails here before it fails in a workspace.
# History is the private approval channel's scope (a public one would need channels:history).
REQUIRED_SCOPE: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "views.open": None,
    "views.update": None,
    "views.publish": None,
    "conversations.replies": "groups:history",
    "conversations.history": "groups:history",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
}
MANIFEST_SCOPES = frozenset({"commands", "chat:write", "groups:history", "usergroups:read"})

METHODS: dict[str, Method] = {
    "auth.test": Workspace.auth_test,
    "chat.postMessage": Workspace.chat_post_message,
    "chat.update": Workspace.chat_update,
    "chat.postEphemeral": Workspace.chat_post_ephemeral,
    "views.open": lambda workspace, args: workspace.modals.views_open(args),
    "views.update": lambda workspace, args: workspace.modals.views_update(args),
    "views.publish": lambda workspace, args: workspace.modals.views_publish(args),
    "conversations.replies": Workspace.conversations_replies,
    "conversations.history": Workspace.conversations_history,
    "usergroups.list": Workspace.usergroups_list,
    "usergroups.users.list": Workspace.usergroups_users_list,
    "users.info": Workspace.users_info,
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request the stand-in answered: a Web API method, or ``response_url`` for those posts.

    ``args`` are the parsed arguments without the token; ``status`` and ``answer`` are what
    was sent back.
    """

    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    answer: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.answer.get("ok"))

    def shown(self) -> Json:
        """The call as ``GET /_standin/calls`` lists it: never the token."""
        return {"method": self.method, "args": self.args, "status": self.status, "ok": self.ok}


@dataclass(slots=True)
class Fault:
    """The next ``count`` calls of ``method`` answer ``status`` (429 with ``retry_after``).

    ``error``: a Slack error code answered with HTTP 200, as Slack refuses a call.
    """

    method: str
    status: int
    count: int
    retry_after: int
    after_applying: bool
    error: str | None = None


class SlackStandIn:
    """A loopback Slack for one workspace with withdrawbot installed; a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_token: str = BOT_TOKEN,
        team_id: str = "T0STANDIN",
        team_name: str = "withdrawbot-standin",
        bot_user_id: str = "U0WITHDRAWBOT",
        bot_id: str = "B0WITHDRAWBOT",
        app_id: str = "A0WITHDRAWBOT",
        clock: Callable[[], float] = time.time,
        scopes: frozenset[str] = MANIFEST_SCOPES,
    ) -> None:
        self.bot_token = bot_token
        self.scopes = scopes
        self.workspace = Workspace(
            team_id=team_id,
            team_name=team_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            clock=clock,
        )
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.standin = self
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, with the trailing slash slack_sdk expects."""
        return self.url + API_PATH

    @property
    def calls_url(self) -> str:
        """Where a person reads the recorded calls (JSON) while the stand-in runs."""
        return self.url + CALLS_PATH

    def start(self) -> SlackStandIn:
        self._thread = threading.Thread(
            target=lambda: self._httpd.serve_forever(poll_interval=0.05),
            name="slack-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what tests read and script --------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every call so far, in the order answered."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        count: int = 1,
        retry_after: int = 1,
        after_applying: bool = False,
        error: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (``*`` for any) with an error.

        429 is Slack's rate limit (``ratelimited`` and ``Retry-After: retry_after``); 5xx is an
        outage. With ``after_applying`` the call still takes effect before the error answer.
        ``error`` answers HTTP 200 with ``{"ok": false, "error": error}`` instead, as Slack
        does for a refused call (``status`` is then ignored).
        """
        if error is not None:
            status = 200
        elif status != 429 and not 500 <= status <= 599:
            raise ValueError(f"scripted failures are 429 or 5xx, not {status}")
        if count < 1 or retry_after < 0:
            raise ValueError("count must be positive and retry_after not negative")
        with self._lock:
            self._faults.append(Fault(method, status, count, retry_after, after_applying, error))

    def clear_faults(self) -> None:
        """Slack is healthy again: the scripted failures not yet used are dropped."""
        with self._lock:
            self._faults.clear()

    def response_url(self, target: ResponseTarget) -> str:
        """A ``response_url`` for one simulated command or click."""
        return self.url + RESPONSE_PATH + self.workspace.issue_response_target(target)

    # --- answering -------------------------------------------------------------------------

    def answer_api(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], Json]:
        """Status, extra headers and JSON for one Web API call, recorded before returning."""
        fault = self._take_fault(method)
        status, headers, answer = 200, {}, self._run(method, args, token, fault)
        if fault is not None:
            status = fault.status
            if fault.error is not None:
                answer = {"ok": False, "error": fault.error}
            elif fault.status == 429:
                headers["Retry-After"] = str(fault.retry_after)
                answer = {"ok": False, "error": "ratelimited"}
            else:
                answer = {"ok": False, "error": "internal_error"}
        self._record(Call(method, args, token, status, answer))
        return status, headers, answer

    def answer_response_url(self, token: str, body: dict[str, Any]) -> tuple[int, Json]:
        answer: Json
        fault = self._take_fault("response_url")
        try:
            if fault is None or fault.after_applying:
                self.workspace.respond(token, body)
            status, answer = 200, {"ok": True}
        except SlackError as err:
            status, answer = 404, {"ok": False, "error": err.code}
        if fault is not None:
            status, answer = fault.status, {"ok": False, "error": "internal_error"}
        self._record(Call("response_url", body, None, status, answer))
        return status, answer

    def _run(
        self, method: str, args: dict[str, Any], token: str | None, fault: Fault | None
    ) -> Json:
        if fault is not None and not fault.after_applying:
            return {}
        try:
            if not token:
                raise SlackError("not_authed")
            if token != self.bot_token:
                raise SlackError("invalid_auth")
            handler = METHODS.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            needed = REQUIRED_SCOPE.get(method)
            if needed is not None and needed not in self.scopes:
                return {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(sorted(self.scopes)),
                }
            return {"ok": True, **handler(self.workspace, args)}
        except SlackError as err:
            answer: Json = {"ok": False, "error": err.code}
            if err.detail:
                answer["response_metadata"] = {"messages": [f"[ERROR] {err.detail}"]}
            return answer

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in (method, "*"):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    standin: SlackStandIn


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("slack_standin_request %s", format % args)

    def _handle(self) -> None:
        standin = self.server.standin
        split = urlsplit(self.path)
        try:
            args = self._arguments(split.query)
        except ValueError as err:
            self._send(400, {}, {"ok": False, "error": "invalid_form_data", "detail": str(err)})
            return
        if split.path.startswith(API_PATH):
            token = self._token(args)
            status, headers, answer = standin.answer_api(
                split.path.removeprefix(API_PATH), args, token
            )
            self._send(status, headers, answer)
        elif split.path == CALLS_PATH and self.command == "GET":
            self._send(200, {}, {"ok": True, "calls": [call.shown() for call in standin.calls]})
        elif split.path.startswith(RESPONSE_PATH) and self.command == "POST":
            status, answer = standin.answer_response_url(
                split.path.removeprefix(RESPONSE_PATH), args
            )
            self._send(status, {}, answer)
        else:
            self._send(404, {}, {"ok": False, "error": "unknown_method"})

    def _arguments(self, query: str) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return args
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json":
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("a JSON body must be an object")
            args.update(body)
        else:
            args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return args

    def _token(self, args: dict[str, Any]) -> str | None:
        body_token = args.pop("token", None)
        header = self.headers.get("Authorization") or ""
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ").strip()
        return str(body_token) if body_token else None

    def _send(self, status: int, headers: Mapping[str, str], answer: Json) -> None:
        data = json.dumps(answer).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
