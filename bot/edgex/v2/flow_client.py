"""Synchronous edgeX V2 unified-asset client: HMAC-authenticated, on the asset host.

The unified-asset paths live on their own host (``https://spot.edgex.exchange``; the docs say
never to combine them with the REST host), the exchange clock on the V2 REST host
(``https://edgex-prod-v2.edgex.exchange``, ``/api/v2/public/meta/getServerTime``, INFERRED from
the SDK's ``/api/v1`` to ``/api/v2`` rewrite). Everything else is the V1 client's machinery: one
envelope reader and error tree, GETs retried with backoff, POSTs never retried and sent on a
fresh connection, each request authenticated afresh with the exchange's clock (edgeX allows
+-60 s).

A POST body is serialised once (``bot.edgex.wire.body_text``) and the HMAC is computed over
those very bytes parsed back, so what is authenticated is what travels; a stored submit body is
sent byte for byte.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter

from bot.edgex.client import AccountClient, EdgeXPublicClient, RetryPolicy, body_bytes
from bot.edgex.signing import InvalidRequest
from bot.edgex.v2.flow_models import AssetFlow, AssetFlowPage, FlowFeeData, FlowSubmitted
from bot.edgex.v2.hmac_auth import hmac_headers
from bot.edgex.v2.hosts import ASSET_URL, REST_URL
from bot.edgex.wire import body_text, decode_data

__all__ = [
    "ASSET_URL",
    "FEE_PATH",
    "QUERY_PATH",
    "REST_URL",
    "SUBMIT_PATH",
    "TIME_PATH",
    "TYPED_DATA_PATH",
    "FlowClient",
]

_UNIFIED = "/api/v1/private/unified-asset"
FEE_PATH = f"{_UNIFIED}/getFeeByAssetFlow"
TYPED_DATA_PATH = f"{_UNIFIED}/getEIP712Data"
SUBMIT_PATH = f"{_UNIFIED}/submitAssetFlow"
QUERY_PATH = f"{_UNIFIED}/queryAssetFlows"
TIME_PATH = "/api/v2/public/meta/getServerTime"
T = TypeVar("T")

_FEE = TypeAdapter(FlowFeeData)
_SUBMITTED = TypeAdapter(FlowSubmitted)
_PAGE = TypeAdapter(AssetFlowPage)
_TYPED = TypeAdapter(dict[str, Any])


class FlowClient(AccountClient):
    """The unified-asset calls of one account, authenticated with its API key."""

    def __init__(
        self,
        asset_url: str,
        *,
        rest_url: str,
        account_id: str,
        api_key: str,
        api_secret: str,
        passphrase: str,
        time_sync_interval: float = 600.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        for name, value in (("api_key", api_key), ("api_secret", api_secret)):
            if not value or not value.isascii() or not value.isprintable():
                raise ValueError(f"{name} must be printable ASCII text")
        timing: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "retry": retry,
            "clock": clock,
            "sleep": sleep,
            "jitter": jitter,
        }
        super().__init__(
            asset_url,
            account_id=account_id,
            time_source=EdgeXPublicClient(rest_url, **timing),
            time_path=TIME_PATH,
            time_sync_interval=time_sync_interval,
            **timing,
        )
        self._api_key = api_key
        self._api_secret = api_secret
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return f"FlowClient(account_id={self._account_id}, api_key=...)"

    # --- endpoints -----------------------------------------------------------------------

    def fee(self, attempt: Mapping[str, Any]) -> str:
        """The fee edgeX charges for ``attempt``, raw token units as text."""
        return self._read_post(FEE_PATH, {"attempt": dict(attempt)}, _FEE, "asset flow fee").fee

    def typed_data(self, attempt: Mapping[str, Any]) -> dict[str, Any]:
        """EdgeX's EIP-712 typed data for ``attempt`` (untrusted: check it before signing)."""
        return self._read_post(TYPED_DATA_PATH, {"attempt": dict(attempt)}, _TYPED, "typed data")

    def submit(self, body: str) -> str:
        """Send a stored ``submitAssetFlow`` body once, byte for byte; returns the ``flowId``.

        Never retried. On an ``EdgeXError`` with ``outcome_unknown`` the withdrawal may exist.
        """
        content, as_sent = _body(body)
        client_id = as_sent["attempt"].get("clientWithdrawId")
        created = self._submit(
            SUBMIT_PATH, content, as_sent, _SUBMITTED, "submitted asset flow", client_id=client_id
        )
        return created.flow_id

    def flows(
        self, *, flow_ids: Sequence[str] = (), client_withdraw_ids: Sequence[str] = ()
    ) -> tuple[AssetFlow, ...]:
        """Asset flows by id or by client withdraw id (at most 100 of each).

        ASSUMED: the parameter names ``flowIdList`` / ``clientWithdrawIdList`` (V1's habit);
        edgeX documents none.
        """
        query: dict[str, str] = {"accountId": self._account_id}
        for name, ids in (("flowIdList", flow_ids), ("clientWithdrawIdList", client_withdraw_ids)):
            if ids:
                if len(ids) > 100 or not all(i.isascii() and i.isdigit() for i in ids):
                    raise InvalidRequest(f"{name} takes 1-100 decimal ids")
                query[name] = ",".join(ids)
        if len(query) == 1:
            raise InvalidRequest("queryAssetFlows needs flow ids or client withdraw ids")
        return self._get(QUERY_PATH, _PAGE, "asset flows", query).data_list

    # --- machinery -----------------------------------------------------------------------

    def _auth_headers(
        self, method: str, path: str, query: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> dict[str, str]:
        if "private" not in path:
            return {}
        return hmac_headers(
            api_key=self._api_key,
            api_secret=self._api_secret,
            passphrase=self._passphrase,
            timestamp_ms=self.server_time_ms(),
            method=method,
            path=path,
            query=query or None,
            body=body,
        )

    def _read_post(
        self, path: str, body: Mapping[str, Any], adapter: TypeAdapter[T], what: str
    ) -> T:
        """A POST that only reads (fee, typed data): retried like a GET, authenticated afresh."""
        content = body_text(body).encode("ascii")
        as_sent: dict[str, Any] = json.loads(content)

        def attempt() -> T:
            headers = {
                "Content-Type": "application/json",
                **self._auth_headers("POST", path, {}, as_sent),
            }
            envelope = self._exchange("POST", path, b"", content, headers)
            return decode_data(adapter, envelope, what=what, method="POST", path=path)

        return self._retrying("POST", path, attempt)


def _body(body: str) -> tuple[bytes, dict[str, Any]]:
    content, parsed = body_bytes(body)
    if not isinstance(parsed.get("attempt"), dict):
        raise InvalidRequest("the body is not a signed submitAssetFlow body")
    if not isinstance(parsed.get("userSignature"), str):
        raise InvalidRequest("the body carries no userSignature: sign it before submitting")
    return content, parsed
