"""Text as Slack shows it: mrkdwn escaping, mentions, length limits and the PAPER marker.

Everything a person typed (a reason, a reject note, an address that failed validation) reaches
other people's screens through Slack's mrkdwn, where ``<!channel>`` pings a whole channel and
``<https://evil|Cold wallet>`` disguises a link. Slack's rule is that ``&``, ``<`` and ``>`` must
be escaped as HTML entities; everything else in mrkdwn is formatting, not markup. Mentions are the
one markup the bot writes itself, and only for ids that look like Slack user ids.

Block Kit refuses a message whose text is over a limit, and the notifier would retry such a post
for ever, so every piece of user text is clipped before it goes into a block.
"""

from __future__ import annotations

import re

__all__ = [
    "PAPER_BANNER",
    "PAPER_PREFIX",
    "clip",
    "escape",
    "mention",
    "unescape",
]

PAPER_PREFIX = "[PAPER]"
PAPER_BANNER = "🧪 *PAPER* · simulated edgeX: nothing here moves real money"

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}", re.ASCII)


def escape(text: str) -> str:
    """Text safe to put in mrkdwn: ``&``, ``<`` and ``>`` as entities, ``&`` first."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's entity escaping of slash-command text, so the domain sees what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mention(user: str) -> str:
    """``<@U…>`` for a Slack user id; anything else is shown escaped, never as markup."""
    return f"<@{user}>" if _USER_ID.fullmatch(user) else escape(user)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when something was cut."""
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
