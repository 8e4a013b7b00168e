"""What a request to ``POST /slack/events`` must be before Bolt sees it.

Anyone on the internet can post to the request URL, and Slack itself sends shapes the bot never
asked for. Bolt decodes the body before it checks the signature (a non-UTF-8 body was a 500),
parses the timestamp with ``int()`` (a non-numeric one was a 500) and trusts the shape of what it
parsed (``actions`` empty, a JSON array, 5,000-deep nesting: 500s with tracebacks). So here, in
this order and on the raw bytes:

1. the signature (HMAC-SHA256 of ``v0:timestamp:body`` with the signing secret, as Slack
   documents it) and a timestamp within five minutes: otherwise **401**, whatever the body
   holds. slack_sdk's ``SignatureVerifier`` decodes the body as UTF-8 first and raises on
   anything else, so the digest is taken here on the raw bytes Slack signed;
2. a signed body that is not what Slack sends (not UTF-8, a form or JSON that does not parse,
   not an object, the fields the listeners route on missing or of another type): **400**.

Each refusal is one log line from a fixed vocabulary plus the body's size, never the body, so a
flood of forged megabytes costs the log a few dozen bytes each. Socket Mode has no such door:
only Slack writes to its authenticated socket.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

__all__ = ["MAX_BODY", "REPLAY_WINDOW", "Refusal", "check_request", "check_shape"]

MAX_BODY = 1024 * 1024  # Slack's own payloads are far smaller; more is refused unread (413)
REPLAY_WINDOW = 5 * 60  # seconds: Slack's documented window for X-Slack-Request-Timestamp
_MAX_FIELDS = 200


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: an HTTP status and a short reason for the one log line."""

    status: int
    reason: str


def check_request(
    body: bytes,
    headers: Mapping[str, str],
    *,
    signing_secret: str | None,
    now: Callable[[], float] = time.time,
) -> Refusal | None:
    """``None`` if Bolt may have the request; otherwise why not (401 unsigned, 400 malformed)."""
    if signing_secret is not None:
        refused = _check_signature(body, headers, signing_secret, now())
        if refused is not None:
            return refused
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "not_utf8")
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    parsed = _parse(text, json_body=content_type == "application/json")
    if isinstance(parsed, Refusal):
        return parsed
    reason = check_shape(parsed)
    return None if reason is None else Refusal(400, reason)


def _check_signature(
    body: bytes, headers: Mapping[str, str], secret: str, now: float
) -> Refusal | None:
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Refusal(401, "bad_timestamp")
    if abs(now - int(timestamp)) > REPLAY_WINDOW:
        return Refusal(401, "stale_timestamp")
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return Refusal(401, "bad_signature")
    return None


def _parse(text: str, *, json_body: bool) -> dict[str, Any] | Refusal:
    if json_body:
        return _object(text, "json")
    try:
        form = parse_qs(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:
        return Refusal(400, "bad_form")
    if "payload" in form:
        return _object(form["payload"][0], "payload")
    return {name: values[0] for name, values in form.items()}


def _object(text: str, what: str) -> dict[str, Any] | Refusal:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return Refusal(400, f"{what}_not_json")
    if not isinstance(value, dict):
        return Refusal(400, f"{what}_not_an_object")
    return value


def check_shape(body: Mapping[str, Any]) -> str | None:
    """What is wrong with a parsed Slack body for the listeners' routing, or ``None``.

    Only the fields Bolt and the listeners route on are required; everything else stays the
    listeners' to read defensively.
    """
    if "command" in body:
        missing = [name for name in ("command", "user_id", "trigger_id") if not _str(body, name)]
        return f"command_without_{missing[0]}" if missing else None
    if "ssl_check" in body:
        return None
    kind = body.get("type")
    if not isinstance(kind, str):
        return "no_type"
    if kind == "app_rate_limited":  # Slack's own notice to the Events URL; it names no user
        return None
    if kind in ("url_verification", "event_callback"):
        return _events_api_problem(kind, body)
    return _interaction_problem(kind, body)


def _events_api_problem(kind: str, body: Mapping[str, Any]) -> str | None:
    if kind == "url_verification":
        return None if _str(body, "challenge") else "challenge_missing"
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event_missing"
    return None if _str(body, "event_id") else "event_id_missing"


def _interaction_problem(kind: str, body: Mapping[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "user_missing"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "actions_missing"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "action_malformed"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return "view_missing"
        state = view.get("state", {})
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            return "view_state_malformed"
    return None


def _str(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    return isinstance(value, str) and bool(value)
