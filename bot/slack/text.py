"""Text as Slack shows it: mrkdwn escaping, mentions, length limits and the PAPER marker.

Everything a person typed (a reason, a reject note, an address that failed validation) reaches
other people's screens through Slack's mrkdwn, where ``<!channel>`` pings a whole channel and
``<https://evil|Cold wallet>`` disguises a link. Slack's rule is that ``&``, ``<`` and ``>`` must
be escaped as HTML entities; everything else in mrkdwn is formatting, not markup. Mentions are the
one markup the bot writes itself, and only for ids that look like Slack user ids.

Block Kit refuses a message whose text is over a limit. Escaping grows text (``&`` becomes five
characters), so clipping before escaping is no limit at all: :func:`fit` escapes first and clips
the escaped text, and :func:`clip_markup` never cuts inside an entity (``&amp;``) or a ``<...>``
reference (a mention, a link), which Slack would show broken or refuse. Lengths are counted in
UTF-16 code units, which is never less than the code points slack_sdk counts, so a text within
budget passes both ways of counting.
"""

from __future__ import annotations

import re

__all__ = [
    "PAPER_BANNER",
    "PAPER_PREFIX",
    "SECTION_MAX",
    "clip",
    "clip_markup",
    "escape",
    "fit",
    "mention",
    "unescape",
    "units",
]

PAPER_PREFIX = "[PAPER]"
SECTION_MAX = 3000  # Block Kit: a section's (or a context element's) text
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
    """At most ``limit`` units of plain text, ending in an ellipsis when something was cut.

    For text that is not mrkdwn (a header, a button label, a log line); mrkdwn is clipped with
    :func:`clip_markup` or :func:`fit`.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    return text if units(text) <= limit else _cut(text, limit - 1).rstrip() + "…"


def units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _cut(text: str, budget: int) -> str:
    """The longest prefix of ``text`` within ``budget`` UTF-16 code units."""
    if len(text) * 2 <= budget:
        return text
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > budget:
            return text[:index]
    return text


def clip_markup(markup: str, limit: int) -> str:
    """Escaped mrkdwn within ``limit`` units, ending in an ellipsis when something was cut.

    The cut backs off to before an entity or ``<...>`` reference it would split, so what is
    left is still valid mrkdwn showing only whole characters and whole mentions.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    if units(markup) <= limit:
        return markup
    head = _cut(markup, limit - 1)
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    open_ref = head.rfind("<")
    if open_ref != -1 and ">" not in head[open_ref:]:
        head = head[:open_ref]
    return head.rstrip() + "…"


def fit(text: str, limit: int) -> str:
    """Untrusted ``text`` as mrkdwn of at most ``limit`` units: escaped first, then clipped."""
    return clip_markup(escape(text), limit)
