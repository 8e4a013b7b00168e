"""Replies for the exchange reads: ``/withdraw history`` and ``/withdraw claimable``.

Pure functions like the rest of the rendering; exchange text (addresses, chains, coins) is
escaped because it reaches mrkdwn, and the list is clipped to what a message can hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from approvals.money import format_amount
from bot.slack.messages import Message, notice_message
from bot.slack.ports import ClaimableAmount, HistoryLine
from bot.slack.text import PAPER_BANNER, PAPER_PREFIX, SECTION_MAX, clip_markup, escape

__all__ = ["HISTORY_SHOWN", "claimable_message", "history_message"]

HISTORY_SHOWN = 30


def history_message(lines: Sequence[HistoryLine], *, days: int, paper: bool) -> Message:
    """The newest deposits and withdrawals edgeX recorded in the last ``days`` days."""
    if not lines:
        return notice_message(
            f"edgeX recorded no deposits or withdrawals in the last {days} days.", paper=paper
        )
    shown = lines[:HISTORY_SHOWN]
    rows = [_line(line) for line in shown]
    text = f"*edgeX history, last {days} days ({len(lines)})*\n" + "\n".join(rows)
    if len(lines) > len(shown):
        text += f"\n…and {len(lines) - len(shown)} older ones"
    blocks = [SectionBlock(text=MarkdownTextObject(text=clip_markup(text, SECTION_MAX)))]
    return _finish(blocks, f"edgeX history: {len(lines)} entries in {days} days", paper=paper)


def claimable_message(claim: ClaimableAmount, *, paper: bool) -> Message:
    """What the address can claim on L1 from the StarkEx contract."""
    text = (
        f"`{claim.address}` can claim *{format_amount(claim.amount)} {escape(claim.coin)}* on L1 "
        "from finished withdrawals to it."
    )
    return _finish([SectionBlock(text=MarkdownTextObject(text=text))], text, paper=paper)


def _line(line: HistoryLine) -> str:
    when = line.at.strftime("%Y-%m-%d %H:%M") if line.at else "?"
    amount = f"{format_amount(line.amount)} " if line.amount is not None else ""
    where = f" → `{escape(line.address)}`" if line.address else ""
    chain = f" on {escape(line.chain)}" if line.chain else ""
    status = f" · status {escape(line.status)}" if line.status else ""
    return (
        f"• {when} · {escape(line.kind or 'order')} #{escape(line.order_id)} · "
        f"{amount}{escape(line.coin)}{where}{chain}{status}"
    )


def _finish(blocks: list[SectionBlock], text: str, *, paper: bool) -> Message:
    if not paper:
        return Message(text=text, blocks=tuple(blocks))
    banner = ContextBlock(elements=[MarkdownTextObject(text=PAPER_BANNER)])
    return Message(text=f"{PAPER_PREFIX} {text}", blocks=(banner, *blocks))
