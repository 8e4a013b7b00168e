"""Synchronous edgeX V1 REST client: one method per endpoint, typed answers, one error tree.

Why it is built this way (edgex-protocol.md sections 2 and 7):

* Private requests are signed with the exchange's clock, not ours: the offset is measured on
  ``getServerTime`` (midpoint of the round trip) before the first private call and again every
  ``time_sync_interval`` seconds, so a host clock that is hours off still authenticates.
* The query string is built here, raw and in sorted order, and sent byte for byte as signed
  (``httpx``'s ``params=`` would turn ``,`` into ``%2C``). The signer's own rules refuse any value
  that would travel differently, before anything is sent.
* A POST body is serialised once, and the signature is computed from those very bytes parsed back,
  so what is signed is what travels.
* GETs retry (transport errors, 429, 5xx; exponential backoff with jitter, ``Retry-After``
  honoured, each attempt signed afresh). POSTs never retry here: the worker resends the stored body
  itself. A POST always goes out on a fresh connection, so a stale keep-alive connection cannot turn
  a withdrawal into an outcome-unknown one.
"""

from __future__ import annotations

import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import TypeAdapter

from bot.edgex import signing
from bot.edgex.errors import EdgeXError
from bot.edgex.models import (
    Account,
    AssetOrdersPage,
    CrossWithdraw,
    CrossWithdrawCreated,
    CrossWithdrawSignInfo,
    Envelope,
    Many,
    MetaData,
    NormalWithdraw,
    NormalWithdrawCreated,
    ServerTime,
    WithdrawableAmount,
)
from bot.edgex.signing import InvalidRequest, StarkKey
from bot.edgex.wire import body_text, decode_data, log_event, read_envelope, transport_error

__all__ = [
    "ACCOUNT_PATH",
    "ALL_ORDERS_PATH",
    "CREATE_CROSS_PATH",
    "CREATE_NORMAL_PATH",
    "CROSS_BY_ID_PATH",
    "CROSS_SIGN_INFO_PATH",
    "METADATA_PATH",
    "NORMAL_BY_ID_PATH",
    "NORMAL_WITHDRAWABLE_PATH",
    "SERVER_TIME_PATH",
    "AccountClient",
    "EdgeXClient",
    "EdgeXPublicClient",
    "RetryPolicy",
    "body_bytes",
]

SERVER_TIME_PATH = "/api/v1/public/meta/getServerTime"
METADATA_PATH = "/api/v1/public/meta/getMetaData"
ACCOUNT_PATH = "/api/v1/private/account/getAccountById"
_ASSETS = "/api/v1/private/assets"
CREATE_NORMAL_PATH = f"{_ASSETS}/createNormalWithdraw"
CREATE_CROSS_PATH = f"{_ASSETS}/createCrossWithdraw"
NORMAL_BY_ID_PATH = f"{_ASSETS}/getNormalWithdrawById"
CROSS_BY_ID_PATH = f"{_ASSETS}/getCrossWithdrawById"
CROSS_SIGN_INFO_PATH = f"{_ASSETS}/getCrossWithdrawSignInfo"
NORMAL_WITHDRAWABLE_PATH = f"{_ASSETS}/getNormalWithdrawableAmount"
ALL_ORDERS_PATH = f"{_ASSETS}/getAllOrdersPage"
_PRIVATE_PREFIX = "/api/v1/private/"

_ID = re.compile(r"[0-9]{1,20}")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_ETH_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_MAX_PAGE_SIZE = 100

T = TypeVar("T")
log = logging.getLogger(__name__)

_SERVER_TIME = TypeAdapter(ServerTime)
_METADATA = TypeAdapter(MetaData)
_ACCOUNT = TypeAdapter(Account)
_NORMAL_LIST: TypeAdapter[tuple[NormalWithdraw, ...]] = TypeAdapter(Many[NormalWithdraw])
_CROSS_LIST: TypeAdapter[tuple[CrossWithdraw, ...]] = TypeAdapter(Many[CrossWithdraw])
_SIGN_INFO = TypeAdapter(CrossWithdrawSignInfo)
_WITHDRAWABLE = TypeAdapter(WithdrawableAmount)
_ORDERS_PAGE = TypeAdapter(AssetOrdersPage)
_NORMAL_CREATED = TypeAdapter(NormalWithdrawCreated)
_CROSS_CREATED = TypeAdapter(CrossWithdrawCreated)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds for GET retries. A ``Retry-After`` beyond ``max_retry_after`` ends the retries."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("a retry policy needs max_attempts >= 1, 0 <= base <= max delay")

    def backoff(self, attempt: int, jitter: float) -> float:
        """Exponential backoff with equal jitter: never less than half the nominal delay."""
        nominal = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return nominal / 2 + nominal / 2 * jitter


@cache
def _tls_context() -> ssl.SSLContext:
    """One verified TLS context (certifi roots) for every client: loading it costs ~30 ms."""
    return httpx.create_ssl_context()


def _query_string(path: str, query: Mapping[str, str]) -> bytes:
    """The raw ``k=v&...`` the signer signs; the signer's own check refuses unsafe values first."""
    signing.sign_content(0, "GET", path, query=query)
    return "&".join(f"{name}={query[name]}" for name in sorted(query)).encode("ascii")


class EdgeXPublicClient:
    """The public endpoints; needs no key, so a process that never signs can read metadata."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in {"http", "https"} or not url.host or url.query or url.path != "/":
            raise ValueError("base_url must be http(s)://host[:port] without a path or query")
        self._base_url = url
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self._http = self._new_http()
        # Exchange minus local clock (ms), measured by the signing client; Retry-After dates use it.
        self._offset_ms: int | None = None

    def _new_http(self, limits: httpx.Limits | None = None) -> httpx.Client:
        # trust_env=False: no proxy or netrc from the environment decides where signed calls go.
        return httpx.Client(
            timeout=self._timeout,
            headers={"Accept": "application/json", "User-Agent": "withdrawbot"},
            verify=_tls_context(),
            trust_env=False,
            follow_redirects=False,
            limits=limits or httpx.Limits(),
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- endpoints ------------------------------------------------------------------------

    def get_server_time(self, path: str = SERVER_TIME_PATH) -> int:
        """The exchange's clock in Unix milliseconds (``data.timeMillis``); V2 has its own path."""
        return self._get(path, _SERVER_TIME, "server time").time_millis

    def get_metadata(self) -> MetaData:
        """Coins (asset ids and resolutions to sign with), chains, limits and system accounts."""
        return self._get(METADATA_PATH, _METADATA, "metadata")

    # --- machinery ------------------------------------------------------------------------

    def _auth_headers(
        self, method: str, path: str, query: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> dict[str, str]:
        """Public calls carry no auth; the signing client overrides this."""
        return {}

    def _get(
        self, path: str, adapter: TypeAdapter[T], what: str, query: Mapping[str, str] | None = None
    ) -> T:
        params = dict(query or {})
        raw_query = _query_string(path, params)

        def attempt() -> T:
            headers = self._auth_headers("GET", path, params, None)
            envelope = self._exchange("GET", path, raw_query, None, headers)
            return decode_data(adapter, envelope, what=what, method="GET", path=path)

        return self._retrying("GET", path, attempt)

    def _retrying(self, method: str, path: str, attempt: Callable[[], T]) -> T:
        number = 1
        while True:
            try:
                return attempt()
            except EdgeXError as err:
                if err.path != path:
                    raise  # a clock sync inside the attempt failed after its own retries
                err.attempts = number
                delay = self._retry_delay(err, number)
                if delay is None:
                    raise
                log_event(
                    log,
                    logging.WARNING,
                    "edgex.retry",
                    method=method,
                    path=path,
                    attempt=number,
                    delay_s=f"{delay:.3f}",
                    error=type(err).__name__,
                    retry_after=err.retry_after,
                )
                self._sleep(delay)
                number += 1

    def _retry_delay(self, err: EdgeXError, attempt: int) -> float | None:
        if not err.retryable or attempt >= self._retry.max_attempts:
            return None
        if err.retry_after is not None and err.retry_after > self._retry.max_retry_after:
            return None
        return max(self._retry.backoff(attempt, self._jitter()), err.retry_after or 0.0)

    def _exchange(
        self,
        method: str,
        path: str,
        raw_query: bytes,
        content: bytes | None,
        headers: Mapping[str, str],
        *,
        http: httpx.Client | None = None,
    ) -> Envelope:
        """One request, one answer: the SUCCESS envelope or an ``EdgeXError``."""
        client = http or self._http
        raw_path = path.encode("ascii") + (b"?" + raw_query if raw_query else b"")
        request = client.build_request(
            method, self._base_url.copy_with(raw_path=raw_path), content=content, headers=headers
        )
        started = time.perf_counter()
        # The httpx exception holds the signed request; it is translated outside the ``except``
        # so it never rides along as ``__context__`` of what we raise.
        failure: EdgeXError | None = None
        try:
            response = client.send(request)
        except httpx.HTTPError as exc:
            failure = transport_error(exc, method=method, path=path)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        if failure is not None:
            log_event(
                log,
                logging.WARNING,
                "edgex.transport_error",
                method=method,
                path=path,
                error=type(failure).__name__,
                ms=elapsed_ms,
            )
            raise failure
        try:
            now = self._clock() + (self._offset_ms or 0) / 1000
            envelope = read_envelope(response, method=method, path=path, now=now)
        except EdgeXError as err:
            log_event(
                log,
                logging.WARNING,
                "edgex.response",
                method=method,
                path=path,
                status=response.status_code,
                error=type(err).__name__,
                code=getattr(err, "code", None),
                trace_id=getattr(err, "trace_id", None),
                ms=elapsed_ms,
            )
            raise
        log_event(
            log,
            logging.INFO,
            "edgex.response",
            method=method,
            path=path,
            status=response.status_code,
            code=envelope.code,
            trace_id=envelope.trace_id,
            ms=elapsed_ms,
        )
        return envelope


class AccountClient(EdgeXPublicClient):
    """What every client of one account shares, whichever way its requests are authenticated.

    The exchange clock (the offset measured on ``time_source``'s ``time_path``: this host for
    V1, the V2 REST host for V2's asset host) and the submit POST: never retried, on a fresh
    connection, logged with its client id and, on failure, whether its outcome is unknown.
    """

    def __init__(
        self,
        base_url: str,
        *,
        account_id: str,
        time_source: EdgeXPublicClient | None = None,
        time_path: str = SERVER_TIME_PATH,
        time_sync_interval: float = 600.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not isinstance(account_id, str) or not _ID.fullmatch(account_id):
            raise ValueError("account_id must be the decimal edgeX account id")
        super().__init__(
            base_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry,
            clock=clock,
            sleep=sleep,
            jitter=jitter,
        )
        self._account_id = account_id
        self._time_source = time_source or self
        self._time_path = time_path
        self._sync_interval = time_sync_interval
        self._synced_at = 0.0
        self._time_lock = threading.Lock()
        self._post_http = self._new_http(httpx.Limits(max_keepalive_connections=0))

    @property
    def account_id(self) -> str:
        """The account every private call is made for."""
        return self._account_id

    def close(self) -> None:
        """Close pooled connections."""
        super().close()
        if self._time_source is not self:
            self._time_source.close()
        self._post_http.close()

    # --- exchange clock -------------------------------------------------------------------

    def server_time_ms(self) -> int:
        """Now on the exchange's clock (Unix ms); measures the offset first when it is stale.

        Use it for anything the exchange compares with its own clock (auth timestamps, expiry).
        """
        with self._time_lock:
            if self._offset_ms is None or abs(self._clock() - self._synced_at) >= (
                self._sync_interval
            ):
                self._offset_ms = self._measure_offset()
            return round(self._clock() * 1000) + self._offset_ms

    def sync_time(self) -> int:
        """Measure the offset now; returns exchange minus local clock in milliseconds."""
        with self._time_lock:
            self._offset_ms = self._measure_offset()
            return self._offset_ms

    def _measure_offset(self) -> int:
        source, path = self._time_source, self._time_path

        def attempt() -> tuple[int, float, float]:
            sent = self._clock()
            envelope = source._exchange("GET", path, b"", None, {})
            received = self._clock()
            server = decode_data(
                _SERVER_TIME, envelope, what="server time", method="GET", path=path
            )
            return server.time_millis, sent, received

        server_ms, sent, received = source._retrying("GET", path, attempt)
        offset = server_ms - round((sent + received) * 500)
        self._synced_at = received
        log_event(
            log,
            logging.INFO,
            "edgex.time_sync",
            offset_ms=offset,
            rtt_ms=round((received - sent) * 1000),
        )
        return offset

    # --- the one send -----------------------------------------------------------------------

    def _submit(
        self,
        path: str,
        content: bytes,
        as_sent: Mapping[str, Any],
        adapter: TypeAdapter[T],
        what: str,
        *,
        client_id: object,
    ) -> T:
        """One POST of ``content`` (authenticated over ``as_sent``, its parsed-back form)."""
        headers = {"Content-Type": "application/json"}
        headers.update(self._auth_headers("POST", path, {}, as_sent))
        log_event(log, logging.INFO, "edgex.submit", path=path, client_id=client_id)
        try:
            envelope = self._exchange("POST", path, b"", content, headers, http=self._post_http)
            return decode_data(adapter, envelope, what=what, method="POST", path=path)
        except EdgeXError as err:
            log_event(
                log,
                logging.ERROR,
                "edgex.submit_failed",
                path=path,
                client_id=client_id,
                error=type(err).__name__,
                outcome_unknown=err.outcome_unknown,
                retryable=err.retryable,
            )
            raise


class EdgeXClient(AccountClient):
    """Public and private endpoints for one account, signed with that account's L2 key."""

    def __init__(
        self,
        base_url: str,
        *,
        key: StarkKey,
        account_id: str,
        signature_with_public_y: bool = False,
        time_sync_interval: float = 600.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """``signature_with_public_y`` sends the docs' 192-hex r||s||y form instead of r||s."""
        super().__init__(
            base_url,
            account_id=account_id,
            time_sync_interval=time_sync_interval,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry,
            clock=clock,
            sleep=sleep,
            jitter=jitter,
        )
        self._key = key
        self._with_public_y = signature_with_public_y

    # --- private endpoints ----------------------------------------------------------------

    def get_account(self) -> Account:
        """The account record; its ``l2_key`` must equal the signing key's (start-up check)."""
        return self._get(ACCOUNT_PATH, _ACCOUNT, "account", {"accountId": self._account_id})

    def get_normal_withdraw_by_id(self, withdraw_ids: Sequence[str]) -> tuple[NormalWithdraw, ...]:
        """Normal withdrawal records for a batch of ids (unknown ids are simply absent)."""
        query = {
            "accountId": self._account_id,
            "normalWithdrawIdList": _id_list(withdraw_ids, "withdraw_ids"),
        }
        return self._get(NORMAL_BY_ID_PATH, _NORMAL_LIST, "normal withdraw list", query)

    def get_cross_withdraw_by_id(self, withdraw_ids: Sequence[str]) -> tuple[CrossWithdraw, ...]:
        """Cross withdrawal records for a batch of ids (unknown ids are simply absent)."""
        query = {
            "accountId": self._account_id,
            "crossWithdrawIdList": _id_list(withdraw_ids, "withdraw_ids"),
        }
        return self._get(CROSS_BY_ID_PATH, _CROSS_LIST, "cross withdraw list", query)

    def get_cross_withdraw_sign_info(
        self, *, amount: str, chain_id: str | int, token_address: str | None = None
    ) -> CrossWithdrawSignInfo:
        """The LP quote (account, key, fee, max amount) a cross withdrawal is signed against."""
        query = {"amount": _decimal(amount, "amount"), "chainId": _uint_text(chain_id, "chain_id")}
        if token_address is not None:
            query["tokenAddress"] = _address(token_address, "token_address")
        return self._get(CROSS_SIGN_INFO_PATH, _SIGN_INFO, "cross withdraw sign info", query)

    def get_normal_withdrawable_amount(self, address: str) -> WithdrawableAmount:
        """What ``address`` can claim on L1 from completed normal withdrawals."""
        query = {"address": _address(address, "address")}
        return self._get(NORMAL_WITHDRAWABLE_PATH, _WITHDRAWABLE, "withdrawable amount", query)

    def get_all_orders_page(
        self,
        *,
        start_time_s: int | None = None,
        end_time_s: int | None = None,
        chain_id: str | int | None = None,
        type_list: Sequence[str] | None = None,
        size: int = _MAX_PAGE_SIZE,
        offset_data: str | None = None,
    ) -> AssetOrdersPage:
        """One page of deposits and withdrawals (times in Unix seconds); for reconciliation."""
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_PAGE_SIZE:
            raise InvalidRequest(f"size must be an integer from 1 to {_MAX_PAGE_SIZE}")
        query = {"accountId": self._account_id, "size": str(size)}
        if start_time_s is not None:
            query["startTime"] = _uint_text(start_time_s, "start_time_s")
        if end_time_s is not None:
            query["endTime"] = _uint_text(end_time_s, "end_time_s")
        if chain_id is not None:
            query["chainId"] = _uint_text(chain_id, "chain_id")
        if type_list is not None:
            if isinstance(type_list, str) or not type_list:
                raise InvalidRequest("type_list must be a non-empty list of order types")
            query["typeList"] = ",".join(type_list)
        if offset_data is not None:
            query["offsetData"] = offset_data
        return self._get(ALL_ORDERS_PATH, _ORDERS_PAGE, "orders page", query)

    def create_normal_withdraw(self, body: Mapping[str, Any] | str) -> str:
        """Submit a signed ``build_normal_withdraw_body`` body once; returns the ``withdrawId``.

        ``body`` as text (``bot.edgex.wire.body_text``, as stored) is sent byte for byte.
        Never retried. On an ``EdgeXError`` with ``outcome_unknown`` the withdrawal may exist.
        """
        created = self._post(CREATE_NORMAL_PATH, body, _NORMAL_CREATED, "created normal withdraw")
        return created.withdraw_id

    def create_cross_withdraw(self, body: Mapping[str, Any] | str) -> str:
        """Submit a signed ``build_cross_withdraw_body`` body once; returns the cross withdraw id.

        ``body`` as text (``bot.edgex.wire.body_text``, as stored) is sent byte for byte.
        Never retried. On an ``EdgeXError`` with ``outcome_unknown`` the withdrawal may exist.
        """
        created = self._post(CREATE_CROSS_PATH, body, _CROSS_CREATED, "created cross withdraw")
        return created.cross_withdraw_id

    # --- machinery ------------------------------------------------------------------------

    def _auth_headers(
        self, method: str, path: str, query: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> dict[str, str]:
        if not path.startswith(_PRIVATE_PREFIX):
            return {}
        signed = signing.auth_headers(
            self._key,
            timestamp_ms=self.server_time_ms(),
            method=method,
            path=path,
            query=query or None,
            body=body,
            with_public_y=self._with_public_y,
        )
        return signed.headers

    def _post(
        self, path: str, body: Mapping[str, Any] | str, adapter: TypeAdapter[T], what: str
    ) -> T:
        content, as_sent = self._body_bytes(body)
        client_id = as_sent.get("clientWithdrawId") or as_sent.get("clientCrossWithdrawId")
        return self._submit(path, content, as_sent, adapter, what, client_id=client_id)

    def _body_bytes(self, body: Mapping[str, Any] | str) -> tuple[bytes, dict[str, Any]]:
        """The bytes to send and their parsed-back form, which is what gets signed.

        A text body is sent as it is (checked first like a mapping); a mapping is serialised
        by ``body_text``, the one serialisation the worker also stores.
        """
        if isinstance(body, str):
            content, parsed = body_bytes(body)
            self._check_body(parsed)
            return content, parsed
        self._check_body(body)
        content = body_text(body).encode("ascii")
        as_sent: dict[str, Any] = json.loads(content)
        return content, as_sent

    def _check_body(self, body: Mapping[str, Any]) -> None:
        if not isinstance(body, Mapping) or not body:
            raise InvalidRequest("the body must be a non-empty signed withdrawal body")
        for name, value in body.items():
            if not isinstance(name, str):
                raise InvalidRequest("body field names must be strings")
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise InvalidRequest(f"body field {name[:40]} must be a string or an integer")
        if not isinstance(body.get("l2Signature"), str):
            raise InvalidRequest("the body carries no l2Signature: sign it before submitting")
        if body.get("accountId") != self._account_id:
            raise InvalidRequest("the body's accountId is not this client's account")


def body_bytes(body: str) -> tuple[bytes, dict[str, Any]]:
    """A stored body's text as the bytes sent, and the object they parse back to.

    The object is what gets authenticated; anything but ASCII JSON text of an object is refused.
    """
    try:
        content = body.encode("ascii")
        parsed = json.loads(content)
    except (UnicodeEncodeError, ValueError):
        raise InvalidRequest("the body text is not ASCII JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidRequest("the body text is not a JSON object")
    return content, parsed


def _id_list(ids: Sequence[str], name: str) -> str:
    if isinstance(ids, str) or not ids:
        raise InvalidRequest(f"{name} must be a non-empty list of ids")
    for item in ids:
        if not isinstance(item, str) or not _ID.fullmatch(item):
            raise InvalidRequest(f"{name} holds {str(item)[:30]!r}, not a decimal id")
    return ",".join(ids)


def _uint_text(value: str | int, name: str) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _ID.fullmatch(text):
        raise InvalidRequest(f"{name} must be a non-negative whole number")
    return text


def _decimal(value: str, name: str) -> str:
    if not isinstance(value, str) or not _PLAIN_DECIMAL.fullmatch(value):
        raise InvalidRequest(f"{name} must be a plain decimal string such as 12.5")
    return value


def _address(value: str, name: str) -> str:
    if not isinstance(value, str) or not _ETH_ADDRESS.fullmatch(value):
        raise InvalidRequest(f"{name} must be 0x followed by 40 hex digits")
    return value
