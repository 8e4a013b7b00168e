"""What the stand-in accepts: Web API arguments read as Slack reads them, Block Kit within limits.

Every refusal is a :class:`SlackError` carrying the error code Slack answers with. Block Kit is
checked against Slack's documented limits (blocks per message and view, text per block type,
fields, elements, options, a button's label, the size of a message's blocks), so a payload the
real Slack would refuse is refused here too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "MAX_BLOCKS_JSON",
    "MAX_MESSAGE_BLOCKS",
    "MAX_TEXT",
    "MAX_VIEW_BLOCKS",
    "Json",
    "SlackError",
    "check_blocks",
    "flag_arg",
    "int_arg",
    "json_arg",
    "metadata_arg",
    "required_arg",
    "text_arg",
]

Json = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
# Block Kit's documented limits, answered with the codes Slack uses for them.
MAX_BLOCKS_JSON = 13_000  # Slack reports msg_blocks_too_long from about here
_TEXT_LIMITS = {"section": 3000, "header": 150, "context": 3000}
_FIELD_MAX = 2000
_FIELDS_MAX = 10
_CONTEXT_ELEMENTS_MAX = 10
_ACTIONS_ELEMENTS_MAX = 25
_BUTTON_TEXT_MAX = 75
_OPTIONS_MAX = 100


class SlackError(Exception):
    """A Web API refusal: ``{"ok": false, "error": code}`` with HTTP 200, as Slack answers."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.code = code
        self.detail = detail


def text_arg(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise SlackError("invalid_arguments", f"{name} must be a string")
    return str(value)


def required_arg(args: Mapping[str, Any], name: str) -> str:
    value = text_arg(args, name)
    if not value:
        raise SlackError("invalid_arguments", f"{name} is required")
    return value


def flag_arg(args: Mapping[str, Any], name: str) -> bool:
    value = args.get(name)
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


def int_arg(args: Mapping[str, Any], name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments", f"{name} must be a number") from None


def json_arg(args: Mapping[str, Any], name: str) -> Json:
    value = args.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_json", f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise SlackError("invalid_arguments", f"{name} is required")
    return value


def check_blocks(value: object, *, limit: int) -> list[Json]:
    """``blocks`` as Slack would take them, or the :class:`SlackError` Slack would answer."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_blocks_format") from None
    if not isinstance(value, list) or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in value
    ):
        raise SlackError("invalid_blocks_format")
    if len(value) > limit:
        raise SlackError("invalid_blocks", f"more than {limit} blocks")
    for index, block in enumerate(value):
        problem = _block_problem(block)
        if problem is not None:
            raise SlackError("invalid_blocks", f"block {index}: {problem}")
    if limit == MAX_MESSAGE_BLOCKS and len(json.dumps(value, ensure_ascii=False)) > MAX_BLOCKS_JSON:
        raise SlackError("msg_blocks_too_long")
    return copy.deepcopy(value)


def _text_of(node: object) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("text"), str):
        return str(node["text"])
    return None


def _block_problem(block: Json) -> str | None:
    """What Slack would refuse in ``block`` (its documented per-block limits), or ``None``."""
    return next(_block_problems(block), None)


def _block_problems(block: Json) -> Iterator[str]:
    kind = block["type"]
    limit = _TEXT_LIMITS.get(kind)
    text = _text_of(block.get("text"))
    if limit is not None and text is not None and len(text) > limit:
        yield f"{kind} text over {limit} characters"
    fields = block.get("fields")
    if isinstance(fields, list):
        if len(fields) > _FIELDS_MAX:
            yield f"more than {_FIELDS_MAX} fields"
        if any(len(_text_of(field) or "") > _FIELD_MAX for field in fields):
            yield f"a field over {_FIELD_MAX} characters"
    elements = block.get("elements")
    elements = elements if isinstance(elements, list) else []
    if kind == "context" and len(elements) > _CONTEXT_ELEMENTS_MAX:
        yield f"more than {_CONTEXT_ELEMENTS_MAX} context elements"
    if kind == "context" and any(
        len(_text_of(element) or "") > _TEXT_LIMITS["context"] for element in elements
    ):
        yield "a context element over 3000 characters"
    if kind == "actions" and len(elements) > _ACTIONS_ELEMENTS_MAX:
        yield f"more than {_ACTIONS_ELEMENTS_MAX} elements"
    accessory = block.get("accessory") or block.get("element")
    for element in [*elements, accessory]:
        problem = _element_problem(element) if isinstance(element, dict) else None
        if problem is not None:
            yield problem


def _element_problem(element: Json) -> str | None:
    if (
        element.get("type") == "button"
        and len(_text_of(element.get("text")) or "") > _BUTTON_TEXT_MAX
    ):
        return f"a button label over {_BUTTON_TEXT_MAX} characters"
    options = element.get("options")
    if isinstance(options, list) and len(options) > _OPTIONS_MAX:
        return f"more than {_OPTIONS_MAX} options"
    return None


def metadata_arg(value: object) -> Json | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_metadata_format") from None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not isinstance(value.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": value["event_payload"]}
