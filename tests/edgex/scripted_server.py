"""A scripted edgeX stand-in on 127.0.0.1 for the client tests.

It records every request exactly as it arrived (method, raw target, headers, body, client port),
answers from a per-path script of :class:`Reply` objects, and checks each private request's auth
headers the way edgeX does: the sign-content is rebuilt from the *raw* path, query and body that
came over the wire and the signature is checked with starknet-py's verifier against the account's
public key. A client that signed one string and sent another fails here.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from starknet_py.hash.utils import verify_message_signature

from bot.edgex import signing

PRIVATE_PREFIX = "/api/v1/private/"
SERVER_TIME_PATH = "/api/v1/public/meta/getServerTime"
AUTH_WINDOW_MS = 30_000


def envelope(
    data: Any = None,
    *,
    code: str = "SUCCESS",
    msg: str | None = None,
    error_param: Any = None,
    trace_id: str = "trace-0001",
) -> dict[str, Any]:
    now = str(int(time.time() * 1000))
    return {
        "code": code,
        "data": data,
        "msg": msg,
        "errorParam": error_param,
        "requestTime": now,
        "responseTime": now,
        "traceId": trace_id,
    }


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``body`` wins over ``json``; ``drop`` closes without answering."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.json).encode()


def ok(data: Any, **kwargs: Any) -> Reply:
    return Reply(json=envelope(data), **kwargs)


def api_error(code: str, msg: str | None = None, *, status: int = 200, **kwargs: Any) -> Reply:
    error_param = kwargs.pop("error_param", None)
    trace_id = kwargs.pop("trace_id", "trace-err")
    body = envelope(None, code=code, msg=msg, error_param=error_param, trace_id=trace_id)
    return Reply(status=status, json=body, **kwargs)


@dataclass
class Recorded:
    method: str
    target: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    client_port: int
    auth_error: str | None = None

    @property
    def private(self) -> bool:
        return self.path.startswith(PRIVATE_PREFIX)


class _Refused(Exception):
    pass


def verify_auth(
    *,
    method: str,
    path: str,
    raw_query: str,
    body: bytes,
    headers: Mapping[str, str],
    public_x: int,
    public_y: int,
    now_ms: int,
) -> str | None:
    """None if the auth headers are valid for exactly these wire bytes, else the reason."""
    try:
        timestamp, numbers = _auth_headers(headers, now_ms)
        content = _sign_content(timestamp, method, path, raw_query, body)
    except _Refused as refusal:
        return str(refusal)
    if len(numbers) == 3 and numbers[2] != public_y:
        return "the y in r||s||y is not the account's"
    if not verify_message_signature(signing.auth_message_hash(content), numbers[:2], public_x):
        return "signature does not verify"
    return None


def _auth_headers(headers: Mapping[str, str], now_ms: int) -> tuple[int, list[int]]:
    timestamp = headers.get("x-edgex-api-timestamp")
    signature = headers.get("x-edgex-api-signature")
    if timestamp is None or signature is None:
        raise _Refused("missing auth headers")
    if not timestamp.isdigit():
        raise _Refused("timestamp is not a number")
    if abs(int(timestamp) - now_ms) > AUTH_WINDOW_MS:
        raise _Refused(f"timestamp {timestamp} is {int(timestamp) - now_ms} ms from server time")
    if len(signature) not in {128, 192} or not all(
        c in "0123456789abcdefABCDEF" for c in signature
    ):
        raise _Refused("signature is not 128 or 192 hex digits")
    return int(timestamp), [int(signature[i : i + 64], 16) for i in range(0, len(signature), 64)]


def _sign_content(timestamp: int, method: str, path: str, raw_query: str, body: bytes) -> str:
    """The sign-content rebuilt from the raw wire bytes (the query is not URL-decoded)."""
    query: dict[str, str | int] = {}
    if raw_query:
        for pair in raw_query.split("&"):
            name, _, value = pair.partition("=")
            query[name] = value
    try:
        return signing.sign_content(
            timestamp, method, path, query=query or None, body=json.loads(body) if body else None
        )
    except signing.InvalidRequest as exc:
        raise _Refused(f"cannot rebuild sign content: {exc}") from None


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        """Skip ``HTTPServer``'s reverse DNS lookup of the address (slow, and not loopback)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])


class ScriptedServer:
    """Start, script replies per path, run the client, then inspect :attr:`requests`."""

    def __init__(self, *, public_x: int, public_y: int, clock: Callable[[], float] = time.time):
        self.public_x = public_x
        self.public_y = public_y
        self.clock = clock
        self.requests: list[Recorded] = []
        self.unscripted: list[str] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _LoopbackServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(replies)

    def to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def auth_failures(self) -> list[str]:
        with self._lock:
            return [f"{r.method} {r.target}: {r.auth_error}" for r in self.requests if r.auth_error]

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _next_reply(self, record: Recorded) -> Reply:
        with self._lock:
            self.requests.append(record)
            queue = self._scripts.get(record.path)
            if queue:
                return queue.popleft()
        if record.path == SERVER_TIME_PATH:
            return ok({"timeMillis": str(self.now_ms())})
        with self._lock:
            self.unscripted.append(f"{record.method} {record.target}")
        return api_error("UNSCRIPTED", f"no reply scripted for {record.path}", status=500)

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test inspects ``server.requests`` instead."""

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, raw_query = self.path.partition("?")
            headers = {name.lower(): value for name, value in self.headers.items()}
            record = Recorded(
                method=self.command,
                target=self.path,
                path=path,
                raw_query=raw_query,
                headers=headers,
                body=body,
                client_port=self.client_address[1],
            )
            if record.private:
                record.auth_error = verify_auth(
                    method=self.command,
                    path=path,
                    raw_query=raw_query,
                    body=body,
                    headers=headers,
                    public_x=server.public_x,
                    public_y=server.public_y,
                    now_ms=server.now_ms(),
                )
            reply = server._next_reply(record)
            if record.auth_error and reply.status == 200:
                reply = api_error("INVALID_SIGNATURE", record.auth_error)
            if reply.delay:
                server.wait(reply.delay)
            if reply.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = reply.payload()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (read timeout) before the answer
                self.close_connection = True

    return Handler
