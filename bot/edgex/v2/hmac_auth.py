"""V2 request authentication: the four ``X-edgeX-*`` headers of an HMAC-SHA256 signature.

As the official Python SDK computes them (``edgex_sdk/internal/auth.py`` @ ba99804, the notes'
section 2.2), for every path containing ``private``::

    content   = timestamp_ms + METHOD + path + tail
    tail      = GET:  "&".join(f"{k}={v}" for k, v in sorted(query))        raw values
                POST: flatten(json_body)                                     see flatten()
    key       = base64(api_secret)        the base64 TEXT is the HMAC key; it is not decoded
    signature = hex(HMAC-SHA256(key, content))

The header names are the SDKs' (``X-edgeX-Signature``, ``X-edgeX-Timestamp``), not the
``X-edgeX-Api-*`` names of an unmerged documentation draft. A pure function of its inputs: the
caller supplies the timestamp (edgeX allows +-60 s against its clock) and sends the body the
signature was computed over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

__all__ = ["HEADER_KEY", "JsonValue", "flatten", "hmac_headers", "sign_content"]

HEADER_KEY = "edgeX"

JsonValue = None | bool | int | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"]


def flatten(value: JsonValue) -> str:
    """A JSON value as the SDK's ``get_value`` writes it into the signed content.

    Objects become ``k=v`` pairs sorted by key and joined by ``&`` (a nested object flattens in
    place: ``attempt=amount=990&...``, ambiguous but what the server verifies); lists join their
    items by ``&``; ``None`` is empty; booleans are ``true`` / ``false``. Floats are refused: an
    amount on the wire is a string, and ``str(float)`` would make the signature depend on
    Python's float formatting.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return "&".join(f"{key}={flatten(value[key])}" for key in sorted(value))
    if isinstance(value, Sequence):
        return "&".join(flatten(item) for item in value)
    raise TypeError(f"a signed V2 body holds no {type(value).__name__}")


def sign_content(
    *,
    timestamp_ms: int,
    method: str,
    path: str,
    query: Mapping[str, str] | None = None,
    body: Mapping[str, JsonValue] | None = None,
) -> str:
    """The text the signature is computed over (the notes' "sign content")."""
    verb = method.upper()
    if verb == "GET":
        tail = "&".join(f"{k}={v}" for k, v in sorted((query or {}).items()))
    else:
        tail = flatten(body) if body else ""
    return f"{timestamp_ms}{verb}{path}{tail}"


def hmac_headers(
    *,
    api_key: str,
    api_secret: str,
    passphrase: str,
    timestamp_ms: int,
    method: str,
    path: str,
    query: Mapping[str, str] | None = None,
    body: Mapping[str, JsonValue] | None = None,
    header_key: str = HEADER_KEY,
) -> dict[str, str]:
    """The four auth headers for one request; ``api_secret`` appears in none of them."""
    content = sign_content(
        timestamp_ms=timestamp_ms, method=method, path=path, query=query, body=body
    )
    key = base64.b64encode(api_secret.encode())
    signature = hmac.new(key, content.encode(), hashlib.sha256).hexdigest()
    return {
        f"X-{header_key}-Api-Key": api_key,
        f"X-{header_key}-Passphrase": passphrase,
        f"X-{header_key}-Signature": signature,
        f"X-{header_key}-Timestamp": str(timestamp_ms),
    }
