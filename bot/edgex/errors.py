"""Every way an edgeX call can fail, as one tree (in the manner of httpx's ``_exceptions.py``).

::

    EdgeXError                    .method .path .retryable .outcome_unknown .retry_after .attempts
     ├── EdgeXAPIError            an envelope whose code is not SUCCESS: .code .msg .error_param
     │                            .trace_id .http_status
     ├── EdgeXHTTPError           a non-200 answer without an envelope: .status .body_excerpt
     ├── EdgeXTransportError      no complete answer (refused, reset, dropped): .request_sent
     │    └── EdgeXTimeout        connect, write, read or pool timeout
     └── EdgeXMalformedResponse   an answer we cannot read: not JSON, not an envelope, or ``data``
                                  not of the documented shape: .http_status .body_excerpt .trace_id

Inputs refused before anything is sent (a query value that would be signed differently from how it
travels, a body that is not signable JSON) raise ``signing.InvalidRequest``, a ``ValueError`` and no
part of this tree: nothing reached the network.

Two questions every handler asks are answered by attributes, never by the class alone:

* ``retryable``: sending the same request again may succeed (transport failures, timeouts, 429 and
  5xx). For a POST "the same request" means the identical stored body; the client itself never
  resends a POST.
* ``outcome_unknown``: only ever true for a POST. The exchange may have acted on it (a timeout or
  dropped connection after the request left, 2xx/408/429/5xx, an unreadable 200). The caller must
  not treat it as failed: the withdrawal may exist, so resend the same body or reconcile.

The messages are meant for people and logs. They never contain the private key or the signature
headers, and long hex runs in echoed bodies are redacted so a signature cannot leak through them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "EdgeXAPIError",
    "EdgeXError",
    "EdgeXHTTPError",
    "EdgeXMalformedResponse",
    "EdgeXTimeout",
    "EdgeXTransportError",
    "body_excerpt",
    "redact",
]

_EXCERPT_CHARS = 200
# A Stark signature is 128 or 192 hex digits; anything 64+ long is a key, hash or signature.
_LONG_HEX = re.compile(r"(0x)?[0-9a-fA-F]{64,}")


def redact(text: str, limit: int = _EXCERPT_CHARS) -> str:
    """One line of at most ``limit`` characters with long hex runs (keys, signatures) removed."""
    text = " ".join(_LONG_HEX.sub("<hex redacted>", text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _scrub(value: Any) -> Any:
    """``errorParam`` with long hex strings redacted at any depth (the server may echo them)."""
    if isinstance(value, str):
        return _LONG_HEX.sub("<hex redacted>", value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def body_excerpt(raw: bytes) -> str:
    """A short, printable, redacted prefix of a response body for error messages."""
    return redact(raw[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace"))


class EdgeXError(Exception):
    """Base of every failed edgeX call; the attributes say what a caller may safely do next."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        retryable: bool,
        outcome_unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.retryable = retryable
        self.outcome_unknown = outcome_unknown and method == "POST"
        self.retry_after = retry_after
        self.attempts = 1

    def __str__(self) -> str:
        parts = [f"{self.method} {self.path}: {self.message}"]
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        if self.outcome_unknown:
            parts.append("outcome unknown: the exchange may have accepted it")
        return "; ".join(parts)


class EdgeXAPIError(EdgeXError):
    """The exchange answered with its envelope and a code other than ``SUCCESS``."""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        code: str,
        msg: str | None,
        error_param: Any,
        trace_id: str | None,
        http_status: int,
        retryable: bool = False,
        outcome_unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.msg = msg
        self.error_param = _scrub(error_param)
        self.trace_id = trace_id
        self.http_status = http_status
        detail = f"edgeX error {redact(code, 80)}"
        if msg:
            detail += f": {redact(msg)}"
        if error_param:
            detail += f" (errorParam={redact(repr(self.error_param))})"
        detail += f" [HTTP {http_status}, traceId={redact(trace_id or '-', 80)}]"
        super().__init__(
            detail,
            method=method,
            path=path,
            retryable=retryable,
            outcome_unknown=outcome_unknown,
            retry_after=retry_after,
        )


class EdgeXHTTPError(EdgeXError):
    """A non-200 answer that is not an edgeX envelope (a gateway, proxy or load balancer page)."""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        body_excerpt: str,
        retryable: bool,
        outcome_unknown: bool,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.body_excerpt = body_excerpt
        detail = f"HTTP {status}"
        if body_excerpt:
            detail += f": {body_excerpt}"
        super().__init__(
            detail,
            method=method,
            path=path,
            retryable=retryable,
            outcome_unknown=outcome_unknown,
            retry_after=retry_after,
        )


class EdgeXTransportError(EdgeXError):
    """No complete HTTP answer arrived; ``request_sent`` is false only if no connection was made."""

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(
            message, method=method, path=path, retryable=True, outcome_unknown=request_sent
        )


class EdgeXTimeout(EdgeXTransportError):
    """A connect, write, read or connection-pool timeout."""


class EdgeXMalformedResponse(EdgeXError):
    """An answer that cannot be read as the documented envelope and ``data`` shape.

    After a POST this is outcome-unknown: a 200 we cannot parse may still carry a created id.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        http_status: int,
        body_excerpt: str,
        trace_id: str | None = None,
    ) -> None:
        self.http_status = http_status
        self.body_excerpt = body_excerpt
        self.trace_id = trace_id
        detail = f"{message} [HTTP {http_status}, traceId={trace_id or '-'}]"
        if body_excerpt:
            detail += f": {body_excerpt}"
        super().__init__(detail, method=method, path=path, retryable=False, outcome_unknown=True)
