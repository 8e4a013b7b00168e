"""What each outbox event says in its request's thread, drawn from the typed event alone.

Pure functions of ``storage.outbox_events`` types and the request's card: which reply an event
gets is a ``match`` on its kind, never a probe of JSON keys. The single replies themselves
(a decision, a transition, an exchange status, a quote) are ``bot.slack.messages``'; this module
composes them, adds the worker's warnings, the payout's L1 transaction and the audit head, and
draws the channel alerts that belong to no request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from approvals.lifecycle import TERMINAL, Request
from bot.slack.messages import (
    Message,
    RequestCard,
    absence_reply,
    decision_reply,
    exchange_reply,
    quote_reply,
    reminder_reply,
    transition_reply,
)
from bot.slack.text import PAPER_BANNER, PAPER_PREFIX, SECTION_MAX, clip_markup, escape, fit
from storage.outbox_events import (
    AbsenceConfirmed,
    AlertEvent,
    Decided,
    Quoted,
    Reminded,
    RequestEvent,
    StatusReported,
    Transition,
)

__all__ = ["alert_message", "as_of", "event_reply", "lines_message"]


def as_of(request: Request, event: RequestEvent) -> Request:
    """The request as the event saw it: its state and note, and the decisions made by then."""
    at = event.at
    decisions = tuple(d for d in request.decisions if at is None or d.at <= at)
    return replace(request, state=event.state, note=event.note, decisions=decisions)


def event_reply(event: RequestEvent, then: RequestCard, *, paper: bool) -> tuple[Message, bool]:
    """The thread reply for ``event`` (``then``: the card as of it), and whether it is final.

    A final outcome is broadcast to the channel too.
    """
    parts = _replies(event, then, paper=paper)
    extra = [f"⚠️ {fit(text, 1500)}" for text in event.alerts]
    if event.l1_tx_hash is not None:
        extra.append(f"L1 transaction `{escape(event.l1_tx_hash)}`")
    if event.verifying_contract is not None:
        extra.append(
            "Signed with the wallet key over edgeX's typed data, checked field by field; its "
            f"domain's verifyingContract is `{escape(fit(event.verifying_contract, 60))}`"
        )
    if event.audit_head_hash is not None:
        extra.append(
            f"Audit log head `{escape(event.audit_head_hash)}` (compare with "
            "`withdrawbot audit verify`)"
        )
    if extra:
        parts.append(lines_message(extra, paper=paper))
    return _joined(parts), event.moved and event.state in TERMINAL


def _replies(event: RequestEvent, then: RequestCard, *, paper: bool) -> list[Message]:
    """What the event itself says, then its transition when a person's click moved it."""
    moved = event.moved
    match event.body:
        case Decided(decision, reason):
            said = decision_reply(
                then, approver=event.actor, decision=decision, reason=reason, paper=paper
            )
        case AbsenceConfirmed(confirmers, needed):
            said = absence_reply(
                then, confirmer=event.actor, confirmed_by=confirmers, needed=needed, paper=paper
            )
        case Reminded():
            return [reminder_reply(then, paper=paper)]
        case Quoted(quote):
            return [
                quote_reply(
                    then,
                    fee=quote.fee,
                    max_amount=quote.max_amount,
                    lp_account=quote.lp_account_id,
                    paper=paper,
                )
            ]
        case StatusReported(edgex) if then.exchange_status is not None:
            said = exchange_reply(then, code=edgex.code, detail=edgex.reason, paper=paper)
        case StatusReported(edgex) | Transition(edgex) if moved or not event.alerts:
            words = " · ".join(fit(w, 500) for w in (edgex.code, edgex.reason) if w)
            told = [lines_message([f"edgeX said: {words}"], paper=paper)] if words else []
            return [transition_reply(then, paper=paper), *told]
        case _:
            return []
    return [said, transition_reply(then, paper=paper)] if moved else [said]


def alert_message(alert: AlertEvent, *, paper: bool) -> Message:
    """A channel alert that belongs to no request (a withdrawal withdrawbot did not make)."""
    return lines_message([f"🚨 {fit(text, 2000)}" for text in alert.texts], paper=paper)


def lines_message(lines: Sequence[str], *, paper: bool) -> Message:
    """Lines of mrkdwn already escaped, as one section."""
    text = clip_markup("\n".join(lines), SECTION_MAX)
    blocks: tuple[Block, ...] = (SectionBlock(text=MarkdownTextObject(text=text)),)
    if paper:
        banner = ContextBlock(elements=[MarkdownTextObject(text=PAPER_BANNER)])
        return Message(text=f"{PAPER_PREFIX} {text}", blocks=(banner, *blocks))
    return Message(text=text, blocks=blocks)


def _joined(parts: Sequence[Message]) -> Message:
    """One message of several replies, with one PAPER banner at most."""
    if len(parts) == 1:
        return parts[0]
    blocks: list[Block] = []
    for part in parts:
        blocks.extend(part.blocks[1:] if blocks and _has_banner(part) else part.blocks)
    return Message(text=parts[-1].text, blocks=tuple(blocks))


def _has_banner(message: Message) -> bool:
    return message.text.startswith(PAPER_PREFIX) and message.blocks[0].type == "context"
