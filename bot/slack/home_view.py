"""The App Home tab: what waits for me, what is in flight, what happened lately.

An approver opening the app should see at once which requests need their click, with the same
buttons as the channel message (the same action ids, values and confirm dialogs, so a click here
is judged exactly like one there). Slack caps a Home view at 100 blocks, so each list shows its
newest entries and says how many more there are.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.messages import RequestCard, approval_buttons, request_line
from bot.slack.text import PAPER_BANNER, fit

__all__ = ["HOME_SHOWN", "home_view"]

HOME_SHOWN = 10


def home_view(
    *,
    waiting: Sequence[RequestCard],
    in_flight: Sequence[RequestCard],
    recent: Sequence[RequestCard],
    frozen: str | None,
    paper: bool,
    quoting: Sequence[RequestCard] = (),
    notice: str | None = None,
) -> View:
    """The Home tab for one person; ``waiting`` are the requests their approval would count on.

    ``frozen`` is why signing is frozen (``None`` when it is not), shown first because it
    explains why approved requests do not move. ``quoting`` (cross drafts waiting for the
    worker's LP quote) gets a section only when there are some: nobody can act on them but
    their requester, who may cancel. ``notice`` answers the person's last click here (a
    refusal), since a click in Home has no ``response_url`` and the person may not be in the
    approval channel an ephemeral would need.
    """
    blocks: list[Block] = []
    if paper:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=PAPER_BANNER)]))
    blocks.append(HeaderBlock(text="withdrawbot"))
    if notice is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"🚫 {fit(notice, 1500)}")))
    if frozen is not None:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"🧊 *Signing is frozen*: {fit(frozen, 500)}\n"
                    "Approvals still count; nothing is sent to edgeX until two approvers "
                    "run `/withdraw unfreeze`."
                )
            )
        )
    blocks += _section("Waiting for you", waiting, "Nothing waits for your approval.", True)
    if quoting:
        blocks += _section("Waiting for an LP quote", quoting, "", False)
    blocks += _section("In flight", in_flight, "Nothing is on its way right now.", False)
    blocks += _section("Recent outcomes", recent, "No finished withdrawals yet.", False)
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text="`/withdraw help` lists every command.")])
    )
    return View(type="home", blocks=blocks)


def _section(title: str, cards: Sequence[RequestCard], empty: str, buttons: bool) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), SectionBlock(text=MarkdownTextObject(text=f"*{title}*"))]
    if not cards:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=empty)]))
        return blocks
    for card in cards[:HOME_SHOWN]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=request_line(card))))
        if buttons:
            blocks.append(approval_buttons(card, block_id=f"home.{card.request_id}", cancel=False))
    if len(cards) > HOME_SHOWN:
        more = len(cards) - HOME_SHOWN
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more: `/withdraw list`")])
        )
    return blocks
