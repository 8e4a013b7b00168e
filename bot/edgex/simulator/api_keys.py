"""The simulated V2 API keys: issued per account, and the HMAC check of every request.

The four ``X-edgeX-*`` headers of the SDKs (notes section 2.2): an API key this simulator
issued, its passphrase, a timestamp within +-60 s of the server's clock (the docs' window), and
an HMAC-SHA256 whose key is the base64 text of the secret, over the SDK's sign content. A
request carrying only the unmerged documentation draft's ``X-edgeX-Api-*`` names is refused as
missing its headers: the SDKs, which edgeX maintains, never send them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from bot.edgex.simulator.books import Account, Books
from bot.edgex.simulator.fields import ApiError
from bot.edgex.v2.hmac_auth import sign_content

__all__ = ["ApiKeys"]

_HEADERS = ("x-edgex-api-key", "x-edgex-passphrase", "x-edgex-signature", "x-edgex-timestamp")


class ApiKeys:
    """Issues keys into :class:`Books` and checks requests against them, under the lock."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def issue_key(self, account_id: str) -> dict[str, str]:
        """A new API key, secret and passphrase for an account (the dialog's SDK signer)."""
        if account_id not in self.books.accounts:
            raise ApiError("ACCOUNT_NOT_FOUND", f"account {account_id} does not exist")
        key = {
            "apiKey": secrets.token_hex(16),
            "apiSecret": secrets.token_urlsafe(24),
            "passphrase": secrets.token_urlsafe(12),
            "accountId": account_id,
        }
        self.books.api_keys[key["apiKey"]] = key
        return key

    def authenticate(
        self,
        headers: dict[str, str],
        *,
        method: str,
        path: str,
        query: dict[str, str],
        body: dict[str, Any] | None,
        received_ms: int,
    ) -> Account:
        """The account whose API key signed this request, or the error edgeX would answer."""
        missing = [name for name in _HEADERS if not headers.get(name)]
        if missing:
            raise ApiError(
                "AUTH_HEADER_MISSING",
                "X-edgeX-Api-Key, X-edgeX-Passphrase, X-edgeX-Signature and X-edgeX-Timestamp "
                "are required",
                {"missing": ",".join(missing)},
                http_status=401,
            )
        timestamp = headers["x-edgex-timestamp"]
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 16:
            raise ApiError("AUTH_TIMESTAMP_INVALID", "X-edgeX-Timestamp must be Unix ms", None, 401)
        window = self.books.config.auth_window_ms
        if abs(int(timestamp) - received_ms) > window:
            raise ApiError(
                "AUTH_TIMESTAMP_EXPIRED",
                f"timestamp is outside +-{window} ms of server time",
                {"serverTime": str(received_ms)},
                http_status=401,
            )
        key = self.books.api_keys.get(headers["x-edgex-api-key"])
        if key is None or not hmac.compare_digest(key["passphrase"], headers["x-edgex-passphrase"]):
            raise ApiError("AUTH_API_KEY_INVALID", "unknown API key or passphrase", None, 401)
        content = sign_content(
            timestamp_ms=int(timestamp), method=method, path=path, query=query, body=body
        )
        secret = base64.b64encode(key["apiSecret"].encode())  # the base64 text is the HMAC key
        expected = hmac.new(secret, content.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers["x-edgex-signature"].lower()):
            raise ApiError("AUTH_SIGNATURE_INVALID", "X-edgeX-Signature does not verify", None, 401)
        return self.books.accounts[key["accountId"]]
