"""From an httpx outcome to either a SUCCESS envelope or one exception of ``errors``.

Kept apart from the client so that the rules deciding money-relevant flags (retryable, outcome
unknown) sit in one small place with no I/O: the client sends, this module judges.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from bot.edgex.errors import (
    EdgeXAPIError,
    EdgeXError,
    EdgeXHTTPError,
    EdgeXMalformedResponse,
    EdgeXTimeout,
    EdgeXTransportError,
    body_excerpt,
    redact,
)
from bot.edgex.models import Envelope

__all__ = ["body_text", "decode_data", "log_event", "read_envelope", "transport_error"]

T = TypeVar("T")

SUCCESS = "SUCCESS"
_ENVELOPE = TypeAdapter(Envelope)


def body_text(body: Mapping[str, Any]) -> str:
    """A signed withdrawal body as the exact text sent: the one serialisation there is.

    The worker stores this text when it signs and the client sends it byte for byte, on the
    first send and on every resend.
    """
    return json.dumps(dict(body), separators=(",", ":"), ensure_ascii=True)


def log_event(logger: logging.Logger, level: int, event: str, **fields: object) -> None:
    """One ``event key=value ...`` line; values with spaces are quoted."""
    if not logger.isEnabledFor(level):
        return
    parts = [event]
    for name, value in fields.items():
        if value is None:
            continue
        text = str(value)
        parts.append(f"{name}={json.dumps(text) if not text or ' ' in text else text}")
    logger.log(level, " ".join(parts), stacklevel=2)


def transport_error(exc: httpx.HTTPError, *, method: str, path: str) -> EdgeXError:
    """Map an httpx failure; only a failed connect proves the request never left."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    detail = f"{type(exc).__name__}: {redact(str(exc)) or 'no detail'}"
    if isinstance(exc, httpx.TimeoutException):
        return EdgeXTimeout(detail, method=method, path=path, request_sent=not never_sent)
    if isinstance(exc, httpx.DecodingError):
        return EdgeXMalformedResponse(
            f"undecodable response body ({detail})",
            method=method,
            path=path,
            http_status=0,
            body_excerpt="",
        )
    return EdgeXTransportError(detail, method=method, path=path, request_sent=not never_sent)


def _may_have_acted(status: int) -> bool:
    """Whether a non-200 answer leaves open that the exchange processed the request.

    A 4xx (other than 408/429) or 3xx is a refusal before processing; 2xx, 408, 429 and 5xx may
    come after the request reached the application, so a POST must be treated as maybe-done.
    """
    return 200 <= status < 300 or status in {408, 429} or status >= 500


def _retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date); garbage is ignored."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite JSON number {name}")


def _envelope(raw: bytes) -> Envelope | None:
    try:
        document = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
        return _ENVELOPE.validate_python(document)
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def read_envelope(response: httpx.Response, *, method: str, path: str, now: float) -> Envelope:
    """The SUCCESS envelope of an HTTP 200, or the exception that describes the answer."""
    status = response.status_code
    raw = response.content
    envelope = _envelope(raw)
    if status == 200:
        if envelope is None:
            raise EdgeXMalformedResponse(
                "the answer is not an edgeX JSON envelope",
                method=method,
                path=path,
                http_status=status,
                body_excerpt=body_excerpt(raw),
            )
        if envelope.code != SUCCESS:
            raise EdgeXAPIError(
                method=method,
                path=path,
                code=envelope.code,
                msg=envelope.msg,
                error_param=envelope.error_param,
                trace_id=envelope.trace_id,
                http_status=status,
            )
        return envelope
    retryable = status == 429 or status >= 500
    retry_after = _retry_after(response.headers.get("Retry-After"), now)
    if envelope is not None and envelope.code != SUCCESS:
        raise EdgeXAPIError(
            method=method,
            path=path,
            code=envelope.code,
            msg=envelope.msg,
            error_param=envelope.error_param,
            trace_id=envelope.trace_id,
            http_status=status,
            retryable=retryable,
            outcome_unknown=_may_have_acted(status),
            retry_after=retry_after,
        )
    raise EdgeXHTTPError(
        method=method,
        path=path,
        status=status,
        body_excerpt=body_excerpt(raw),
        retryable=retryable,
        outcome_unknown=_may_have_acted(status),
        retry_after=retry_after,
    )


def decode_data(
    adapter: TypeAdapter[T], envelope: Envelope, *, what: str, method: str, path: str
) -> T:
    """Validate ``data``; a mismatch names the fields but never echoes their values."""
    try:
        return adapter.validate_python(envelope.data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'data'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)[:5]
        )
        raise EdgeXMalformedResponse(
            f"data is not a valid {what} ({redact(problems)})",
            method=method,
            path=path,
            http_status=200,
            body_excerpt="",
            trace_id=envelope.trace_id,
        ) from None
