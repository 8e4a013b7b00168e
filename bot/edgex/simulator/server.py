"""The simulator's HTTP face: edgeX V1 and V2 routes, their authentication, faults, admin API.

Built on the standard library's threading HTTP server rather than an ASGI stack because fault
injection needs the raw socket: a "dropped connection after the withdrawal was recorded" must
close the TCP connection without a byte of response, which ASGI servers turn into a 500.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.edgex import signing
from bot.edgex.simulator.api_keys import ApiKeys
from bot.edgex.simulator.books import Account, Exchange, check_outcome, verify_stark
from bot.edgex.simulator.fields import ApiError
from bot.edgex.simulator.flows import AssetFlows
from bot.edgex.simulator.scripting import Script
from bot.edgex.statuses import WithdrawKind as Kind

log = logging.getLogger(__name__)

PRIVATE = "/api/v1/private/"
ASSETS = PRIVATE + "assets/"
UNIFIED = PRIVATE + "unified-asset/"
MAX_BODY = 64 * 1024
MAX_SLOW_SECONDS = 30.0


@dataclass
class Fault:
    """One injected misbehaviour, consumed by the next ``count`` matching requests."""

    kind: str
    path: str = "*"
    method: str = "*"
    count: int = 1
    status: int = 503
    retry_after: str = "1"
    seconds: float = 1.0

    KINDS = ("http_error", "rate_limit", "slow", "drop", "drop_after_record", "malformed_json")

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and self.path in {"*", path} and self.method in {"*", method}


@dataclass
class Request:
    """What a handler needs of an incoming request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None
    received_ms: int


Route = Callable[["SimulatorServer", Request, Account | None], Any]


class SimulatorServer:
    """A loopback edgeX V1 exchange; use as a context manager or call ``start``/``stop``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.exchange = Exchange(state_path)
        self.flows = AssetFlows(self.exchange.books, self.exchange.lifecycle_now)
        self.api_keys = ApiKeys(self.exchange.books)
        self.script = Script(self.exchange)
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.request_log: list[dict[str, Any]] = []
        self.clock = clock
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.simulator = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self.serve_forever, name="edgex-simulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        # A short poll keeps stop() quick (the stdlib default makes shutdown wait up to 0.5 s).
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wall_ms(self) -> int:
        return int(self.clock() * 1000)

    # --- dispatch --------------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def authenticate(self, request: Request) -> Account:
        """Check the Stark signature of a private request the way edgeX does (section 2)."""
        timestamp = request.headers.get("x-edgex-api-timestamp", "")
        signature = request.headers.get("x-edgex-api-signature", "")
        if not timestamp or not signature:
            raise ApiError(
                "AUTH_HEADER_MISSING",
                "X-edgeX-Api-Timestamp and X-edgeX-Api-Signature are required",
                http_status=401,
            )
        if not timestamp.isdigit() or len(timestamp) > 16:
            raise ApiError(
                "AUTH_TIMESTAMP_INVALID", "X-edgeX-Api-Timestamp must be Unix ms", http_status=401
            )
        with self.lock:
            window = self.exchange.books.config.auth_window_ms
        skew = int(timestamp) - request.received_ms
        if abs(skew) > window:
            raise ApiError(
                "AUTH_TIMESTAMP_EXPIRED",
                f"timestamp is {skew} ms away from server time (window {window} ms)",
                {"serverTime": str(request.received_ms)},
                http_status=401,
            )
        if len(signature) not in (128, 192) or not all(
            c in "0123456789abcdefABCDEF" for c in signature
        ):
            raise ApiError(
                "AUTH_SIGNATURE_MALFORMED",
                "X-edgeX-Api-Signature must be r||s (128 hex) or r||s||y (192 hex)",
                http_status=401,
            )
        if request.body:
            tail = signing.sign_value(request.body)
        else:
            tail = "&".join(f"{k}={request.query[k]}" for k in sorted(request.query))
        msg = signing.auth_message_hash(f"{timestamp}{request.method}{request.path}{tail}")
        account_id = str(
            (request.body or {}).get("accountId") or request.query.get("accountId", "")
        )
        with self.lock:
            if account_id:
                candidates = [self.exchange.account(account_id)]
            else:  # [ASSUMED] calls without accountId are tied to whichever account signed them
                candidates = self.exchange.accounts_for_key_check()
        for account in candidates:
            if verify_stark(msg, signature, account.l2_key):
                if not account.api_enabled:
                    raise ApiError(
                        "ACCOUNT_ID_WHITELIST_ERROR",
                        "accountId not in api whitelist",
                        {"accountId": account.account_id},
                    )
                return account
        raise ApiError(
            "AUTH_SIGNATURE_INVALID",
            "X-edgeX-Api-Signature does not verify for this request and account",
            {"accountId": account_id} if account_id else None,
            http_status=401,
        )

    def dispatch(self, request: Request) -> tuple[int, Any]:
        """Run a route and wrap its data (or error) in edgeX's envelope."""
        route = ROUTES.get((request.method, request.path))
        try:
            if route is None:
                raise ApiError(
                    "NOT_FOUND", f"no route {request.method} {request.path}", http_status=404
                )
            account = None
            if request.path.startswith(UNIFIED):
                with self.lock:
                    account = self.api_keys.authenticate(
                        request.headers,
                        method=request.method,
                        path=request.path,
                        query=request.query,
                        body=request.body,
                        received_ms=request.received_ms,
                    )
            elif request.path.startswith(PRIVATE):
                account = self.authenticate(request)
            with self.lock:
                data = route(self, request, account)
                self.exchange.save()
            return 200, self.envelope(request, "SUCCESS", data)
        except ApiError as err:
            return err.http_status, self.envelope(request, err.code, None, err.msg, err.error_param)

    def envelope(
        self,
        request: Request,
        code: str,
        data: Any,
        msg: str | None = None,
        error_param: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "code": code,
            "data": data,
            "msg": msg,
            "errorParam": error_param,
            "requestTime": str(request.received_ms),
            "responseTime": str(self.wall_ms()),
            "traceId": secrets.token_hex(16),
        }

    def admin(self, request: Request) -> tuple[int, Any]:
        handler = ADMIN.get((request.method, request.path))
        if handler is None:
            return 404, {"error": f"no admin route {request.method} {request.path}"}
        try:
            with self.lock:
                result = handler(self, request.body or {}, request)
                self.exchange.save()
            return 200, result
        except ApiError as err:
            return 400, {"error": err.msg, "code": err.code}
        except (TypeError, ValueError, KeyError) as err:
            return 400, {"error": f"bad admin request: {err}"}


# --- edgeX routes ------------------------------------------------------------------------------


def _server_time(sim: SimulatorServer, request: Request, _: Account | None) -> Any:
    return {"timeMillis": str(sim.wall_ms())}


def _metadata(sim: SimulatorServer, request: Request, _: Account | None) -> Any:
    return sim.exchange.metadata()


def _account(sim: SimulatorServer, request: Request, account: Account | None) -> Any:
    assert account is not None  # noqa: S101 - private routes always authenticate
    return sim.exchange.account_view(account)


def _create(kind: Kind) -> Route:
    def route(sim: SimulatorServer, request: Request, account: Account | None) -> Any:
        assert account is not None  # noqa: S101
        if request.body is None:
            raise ApiError("INVALID_PARAMETER", "a JSON object body is required")
        withdraw_id = sim.exchange.create_withdrawal(
            kind, account, request.body, request.received_ms
        )
        return (
            {"withdrawId": withdraw_id} if kind is Kind.NORMAL else {"crossWithdrawId": withdraw_id}
        )

    return route


def _by_id(kind: Kind, list_param: str) -> Route:
    def route(sim: SimulatorServer, request: Request, account: Account | None) -> Any:
        assert account is not None  # noqa: S101
        ids = [i for i in request.query.get(list_param, "").split(",") if i]
        if not ids:
            raise ApiError("INVALID_PARAMETER", f"{list_param} is required", {"field": list_param})
        if len(ids) > 100:
            raise ApiError(
                "INVALID_PARAMETER", f"{list_param} takes at most 100 ids", {"field": list_param}
            )
        return sim.exchange.withdrawals_by_id(kind, account, ids, request.received_ms)

    return route


def _sign_info(sim: SimulatorServer, request: Request, _: Account | None) -> Any:
    for name in ("amount", "chainId"):
        if not request.query.get(name):
            raise ApiError("INVALID_PARAMETER", f"{name} is required", {"field": name})
    return sim.exchange.liquidity.quote(request.query["chainId"], request.query["amount"])


def _withdrawable(sim: SimulatorServer, request: Request, _: Account | None) -> Any:
    return {
        "amount": sim.exchange.withdrawable(request.query.get("address", ""), request.received_ms)
    }


def _orders(sim: SimulatorServer, request: Request, account: Account | None) -> Any:
    assert account is not None  # noqa: S101
    return sim.exchange.orders_page(account, request.query, request.received_ms)


def _flow(
    call: Callable[[AssetFlows, Account, dict[str, Any] | None, int], Any],
) -> Route:
    def route(sim: SimulatorServer, request: Request, account: Account | None) -> Any:
        assert account is not None  # noqa: S101 - unified-asset routes always authenticate
        return call(sim.flows, account, request.body, request.received_ms)

    return route


def _flows_query(sim: SimulatorServer, request: Request, account: Account | None) -> Any:
    assert account is not None  # noqa: S101
    return sim.flows.query(account, request.query, request.received_ms)


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/public/meta/getServerTime"): _server_time,
    ("GET", "/api/v2/public/meta/getServerTime"): _server_time,
    ("POST", UNIFIED + "getFeeByAssetFlow"): _flow(AssetFlows.fee),
    ("POST", UNIFIED + "getEIP712Data"): _flow(AssetFlows.typed_data),
    ("POST", UNIFIED + "submitAssetFlow"): _flow(AssetFlows.submit),
    ("GET", UNIFIED + "queryAssetFlows"): _flows_query,
    ("GET", "/api/v1/public/meta/getMetaData"): _metadata,
    ("GET", PRIVATE + "account/getAccountById"): _account,
    ("POST", ASSETS + "createNormalWithdraw"): _create(Kind.NORMAL),
    ("POST", ASSETS + "createCrossWithdraw"): _create(Kind.CROSS),
    ("GET", ASSETS + "getNormalWithdrawById"): _by_id(Kind.NORMAL, "normalWithdrawIdList"),
    ("GET", ASSETS + "getCrossWithdrawById"): _by_id(Kind.CROSS, "crossWithdrawIdList"),
    ("GET", ASSETS + "getCrossWithdrawSignInfo"): _sign_info,
    ("GET", ASSETS + "getNormalWithdrawableAmount"): _withdrawable,
    ("GET", ASSETS + "getAllOrdersPage"): _orders,
}


# --- admin routes ------------------------------------------------------------------------------

AdminRoute = Callable[[SimulatorServer, dict[str, Any], Request], Any]


def _admin_account(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    return asdict(sim.script.create_account(spec, request.received_ms))


def _admin_fault(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    kind = str(spec.get("kind"))
    if kind not in Fault.KINDS:
        raise ApiError("INVALID_PARAMETER", f"fault kind must be one of {', '.join(Fault.KINDS)}")
    fault = Fault(
        kind=kind,
        path=str(spec.get("path", "*")),
        method=str(spec.get("method", "*")).upper(),
        count=int(spec.get("count", 1)),
        status=int(spec.get("status", 503)),
        retry_after=str(spec.get("retryAfter", "1")),
        seconds=min(float(spec.get("seconds", 1.0)), MAX_SLOW_SECONDS),
    )
    if fault.count < 1:
        raise ApiError("INVALID_PARAMETER", "count must be at least 1")
    sim.faults.append(fault)
    return asdict(fault)


def _admin_clear_faults(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    sim.faults.clear()
    return {"faults": []}


def _admin_flow_account(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    account = sim.script.create_flow_account(spec, request.received_ms)
    return {**asdict(account), **sim.api_keys.issue_key(account.account_id)}


def _admin_flow_fate(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    if "flowId" in spec:
        fate = sim.script.make_fate(spec)
        check_outcome(Kind.FLOW, fate.outcome)
        sim.flows.set_fate(str(spec["flowId"]), fate)
        return asdict(fate)
    return asdict(sim.script.script_fate(spec))


def _admin_state(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    sim.flows.walk_all(request.received_ms)
    return {
        **sim.exchange.snapshot(request.received_ms),
        "faults": [asdict(f) for f in sim.faults],
        "serverTime": sim.wall_ms(),
        "lifecycleTime": sim.exchange.lifecycle_now(sim.wall_ms()),
    }


def _admin_requests(sim: SimulatorServer, spec: dict[str, Any], request: Request) -> Any:
    return {"requests": list(sim.request_log)}


ADMIN: dict[tuple[str, str], AdminRoute] = {
    ("POST", "/_sim/accounts"): _admin_account,
    ("POST", "/_sim/v2/accounts"): _admin_flow_account,
    ("POST", "/_sim/v2/api_keys"): lambda sim, spec, _: sim.api_keys.issue_key(
        str(spec["accountId"])
    ),
    ("POST", "/_sim/v2/fees"): lambda sim, spec, _: sim.script.set_flow_fee(spec),
    ("POST", "/_sim/v2/fates"): _admin_flow_fate,
    ("POST", "/_sim/quote"): lambda sim, spec, _: sim.script.set_quote(spec),
    ("POST", "/_sim/fates"): lambda sim, spec, _: asdict(sim.script.script_fate(spec)),
    ("POST", "/_sim/advance"): lambda sim, spec, _: {
        "clockOffsetMs": sim.script.advance(float(spec.get("seconds", 0)))
    },
    ("POST", "/_sim/config"): lambda sim, spec, _: asdict(sim.script.configure(spec)),
    ("POST", "/_sim/faults"): _admin_fault,
    ("DELETE", "/_sim/faults"): _admin_clear_faults,
    ("GET", "/_sim/state"): _admin_state,
    ("GET", "/_sim/requests"): _admin_requests,
}


# --- HTTP plumbing -----------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # a burst of hundreds of connections must queue, not be refused
    simulator: SimulatorServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator_request %s", format % args)

    def _handle(self) -> None:
        sim = self.server.simulator
        received = sim.wall_ms()
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, {"error": "body too large"})
            return
        raw = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=None,
            received_ms=received,
        )
        if raw:
            try:
                parsed = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                parsed = None
            if not isinstance(parsed, dict):
                self._reply(
                    400,
                    sim.envelope(request, "INVALID_JSON", None, "the body must be a JSON object"),
                )
                return
            request.body = parsed
        if split.path.startswith("/_sim/"):
            self._reply(*sim.admin(request))
            return
        self._serve_api(sim, request)

    def _serve_api(self, sim: SimulatorServer, request: Request) -> None:
        fault = sim.take_fault(request.method, request.path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            self._drop()
            return
        if fault is not None and fault.kind == "http_error":
            self._reply(fault.status, "upstream error", content_type="text/plain")
            return
        if fault is not None and fault.kind == "rate_limit":
            self._reply(
                429,
                "too many requests",
                content_type="text/plain",
                headers={"Retry-After": fault.retry_after},
            )
            return
        status, payload = sim.dispatch(request)
        with sim.lock:
            sim.request_log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "code": payload["code"],
                    "at": request.received_ms,
                }
            )
            del sim.request_log[:-10_000]
        if fault is not None and fault.kind == "drop_after_record":
            self._drop()
            return
        if fault is not None and fault.kind == "malformed_json":
            self._reply(200, '{"code": "SUCCESS", "data": {', content_type="application/json")
            return
        self._reply(status, payload)

    def _drop(self) -> None:
        """Close the TCP connection without answering: the client cannot know what happened."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _reply(
        self,
        status: int,
        payload: Any,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
