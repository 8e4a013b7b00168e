"""Block Kit budgets for whole payloads: a message, a modal or a home view Slack will take.

Each text is already clipped where it is written (``bot.slack.text.fit``); what is left is the
payload as a whole. Slack refuses a message of more than 50 blocks (``invalid_blocks``), a
view of more than 100, and a message whose blocks are too long altogether
(``msg_blocks_too_long``, from about 13,000 characters of block JSON). Any of those would be
refused on every retry, so :func:`fit_blocks` brings the blocks within budget by construction:
it shortens the longest texts first (whole entities and references kept) and, only if that is
not enough, replaces the tail with one line saying how much was left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bot.slack.text import clip_markup, units

__all__ = ["BLOCKS_JSON_MAX", "MESSAGE_BLOCKS_MAX", "VIEW_BLOCKS_MAX", "fit_blocks"]

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
# Slack reports msg_blocks_too_long from about 13,000 characters; the JSON is measured with
# non-ASCII escaped (six characters each), the longest way of counting it.
BLOCKS_JSON_MAX = 12_000
_SHORTEST = 80  # a text is never shortened below this, so every block still says something

Json = dict[str, Any]


def fit_blocks(
    blocks: list[Json], *, max_blocks: int = MESSAGE_BLOCKS_MAX, max_json: int | None = None
) -> list[Json]:
    """``blocks`` within ``max_blocks`` and (for messages) ``max_json`` characters of JSON."""
    if len(blocks) > max_blocks:
        left_out = len(blocks) - (max_blocks - 1)
        blocks = [*blocks[: max_blocks - 1], _more(left_out)]
    if max_json is None:
        return blocks
    while _size(blocks) > max_json:
        longest = max(_texts(blocks), key=lambda text: units(text["text"]), default=None)
        if longest is None or units(longest["text"]) <= _SHORTEST:
            break
        longest["text"] = clip_markup(longest["text"], max(_SHORTEST, units(longest["text"]) // 2))
    while _size(blocks) > max_json and len(blocks) > 1:
        blocks = [*blocks[:-2], _more(2)] if len(blocks) > 2 else blocks[:1]
    return blocks


def _more(count: int) -> Json:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"…{count} more not shown (too long for Slack)"}],
    }


def _size(blocks: list[Json]) -> int:
    return len(json.dumps(blocks))


def _texts(node: object) -> Iterator[Json]:
    """Every text object (``{"type": "mrkdwn"|"plain_text", "text": ...}``) in ``node``."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)
