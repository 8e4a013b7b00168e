"""Block Kit messages drawn from domain objects: the request message, its thread, replies to people.

Pure functions: the same request renders the same blocks, so the notifier can redraw the root
message after any event without knowing what it showed before, and the tests can assert on the
JSON without Slack. Every piece of user text (reasons, reject notes, exchange messages) goes
through :func:`bot.slack.text.escape` and is clipped to Block Kit's limits; user ids become
mentions only when they look like Slack ids.

The request message is what an approver judges, so it shows everything they approve: who asked,
the amount, the full destination (never shortened: a look-alike address differs in the middle),
the chain, the reason, the content fingerprint that the approval binds to, and what the policy
still needs. Buttons appear only while the request waits for approvals; every final state shows
its outcome and no buttons. A cross draft waiting for the worker's LP quote shows what it can
(no LP, no fee cap yet) and only the requester's Cancel: there is nothing to approve until the
quote is in, and then the redrawn message carries the buttons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from approvals.content import Kind, fingerprint
from approvals.decisions import Decision
from approvals.evaluation import Evaluation, Outcome
from approvals.explain import explain
from approvals.lifecycle import Request, State, evaluate_request, format_moment
from approvals.membership import Membership
from approvals.money import format_amount
from approvals.policy import Policy
from bot.edgex.statuses import FAILURES
from bot.slack.budget import BLOCKS_JSON_MAX, fit_blocks
from bot.slack.command_parser import USAGE, DraftCommand
from bot.slack.ids import ActionId, BlockId, RequestRef
from bot.slack.progress import progress_track, status_phrase
from bot.slack.text import (
    PAPER_BANNER,
    PAPER_PREFIX,
    SECTION_MAX,
    clip,
    clip_markup,
    escape,
    fit,
    mention,
)

__all__ = [
    "REASON_SHOWN",
    "Message",
    "Reconciliation",
    "RequestCard",
    "absence_reply",
    "approval_buttons",
    "decision_reply",
    "duplicate_warning",
    "exchange_reply",
    "explain_message",
    "fallback_note",
    "help_message",
    "notice_message",
    "outcome_message",
    "policy_progress",
    "quote_reply",
    "reconciliation_check",
    "refusal_message",
    "reminder_reply",
    "request_line",
    "request_list_message",
    "request_message",
    "transition_reply",
]

# Block Kit allows 3000 characters per section; a reason or note never takes more than this.
REASON_SHOWN = 1000
_NOTE_SHOWN = 1500
_LIST_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Message:
    """A message as ``chat.postMessage`` / ``chat.update`` / ``respond`` take it."""

    text: str
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        """``text`` and ``blocks`` as JSON-ready dicts, within Slack's limits for a message.

        slack_sdk checks each block's own limits in ``to_dict``; ``fit_blocks`` the message's.
        """
        blocks = fit_blocks([block.to_dict() for block in self.blocks], max_json=BLOCKS_JSON_MAX)
        return {"text": clip_markup(self.text, SECTION_MAX) or "withdrawbot", "blocks": blocks}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What people look for at edgeX when a send had no clear answer, and who looked.

    ``signed_at`` is when the body was stored, just before its first send; ``valid_until`` is
    its expiry, until which edgeX could still accept it. ``confirmed_by`` are the confirmations
    that count now, ``needed`` how many end the request.
    """

    client_withdraw_id: str
    signed_at: datetime
    valid_until: datetime
    confirmed_by: tuple[str, ...]
    needed: int


@dataclass(frozen=True, slots=True)
class RequestCard:
    """One request with everything its message shows beside the domain object.

    ``reason`` is what the requester wrote; ``exchange_status`` and ``withdraw_id`` are edgeX's
    (``None`` until it has answered); ``chain_name`` names a cross withdrawal's chain for people;
    ``reconciliation`` is set while the request needs reconciliation; ``duplicate_of`` is an
    earlier request with the same content still waiting (approvers should approve only one).
    """

    request_id: int
    request: Request
    reason: str
    evaluation: Evaluation
    exchange_status: str | None = None
    withdraw_id: str | None = None
    chain_name: str | None = None
    reconciliation: Reconciliation | None = None
    duplicate_of: int | None = None

    @classmethod
    def build(
        cls,
        request_id: int,
        request: Request,
        *,
        reason: str,
        policy: Policy,
        membership: Membership,
        exchange_status: str | None = None,
        withdraw_id: str | None = None,
        chain_name: str | None = None,
        reconciliation: Reconciliation | None = None,
        duplicate_of: int | None = None,
    ) -> RequestCard:
        """A card with the request evaluated under ``policy`` as it is now."""
        return cls(
            request_id=request_id,
            request=request,
            reason=reason,
            evaluation=evaluate_request(request, policy=policy, membership=membership),
            exchange_status=exchange_status,
            withdraw_id=withdraw_id,
            chain_name=chain_name,
            reconciliation=reconciliation,
            duplicate_of=duplicate_of,
        )

    @property
    def ref(self) -> RequestRef:
        """What the buttons carry, so a click binds to this exact version."""
        return RequestRef(self.request_id, self.request.approval_round, self.request.content_hash)


# --- the request message ---------------------------------------------------------------------


def request_message(card: RequestCard, *, paper: bool, interactive: bool = True) -> Message:
    """The root message in the approval channel; ``interactive=False`` draws it without buttons.

    Buttons are drawn only while the request waits for approvals (and ``interactive``); a
    draft waiting for its quote gets the requester's Cancel alone, and a withdrawal that needs
    reconciliation the approvers' "Confirm not at edgeX".
    """
    request = card.request
    blocks: list[Block] = [
        HeaderBlock(text=clip(_title(card, paper=paper), HeaderBlock.text_max_length)),
        SectionBlock(
            fields=[
                _md(f"*Requested by*\n{mention(request.requester)}"),
                _md(f"*Amount*\n{_amount(card)}"),
            ]
        ),
        SectionBlock(text=_md(f"*To* {_destination(card)}")),
        SectionBlock(text=_md(f"*Why*\n{fit(card.reason, REASON_SHOWN)}")),
        ContextBlock(
            elements=[
                _md(
                    f"Fingerprint `{fingerprint(request.content_hash)}` · approval round "
                    f"{request.approval_round} · drafted {format_moment(request.drafted_at)}"
                )
            ]
        ),
        SectionBlock(text=_md(_status_text(card))),
    ]
    if card.duplicate_of is not None:
        blocks.append(SectionBlock(text=_md(f"⚠️ {duplicate_warning(card)}")))
    if _shows_track(card):
        blocks.append(
            ContextBlock(elements=[_md(f"edgeX: {escape(progress_track(card.exchange_status))}")])
        )
    if interactive and request.state is State.PENDING_APPROVAL:
        blocks.append(approval_buttons(card))
        blocks.append(
            ContextBlock(
                elements=[
                    _md(
                        f"Approvals close at {format_moment(request.expires_at)}. Only "
                        f"{mention(request.requester)} can cancel."
                    )
                ]
            )
        )
    if interactive and request.state is State.AWAITING_QUOTE:
        blocks.append(
            ActionsBlock(block_id=BlockId.REQUEST_ACTIONS.value, elements=[_cancel_button(card)])
        )
        blocks.append(
            ContextBlock(
                elements=[
                    _md(
                        "Approvals open once the LP quote is in. Only "
                        f"{mention(request.requester)} can cancel."
                    )
                ]
            )
        )
    if interactive and request.state is State.NEEDS_RECONCILIATION and card.reconciliation:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.REQUEST_ACTIONS.value, elements=[_confirm_absent_button(card)]
            )
        )
        blocks.append(
            ContextBlock(
                elements=[
                    _md(
                        f"{card.reconciliation.needed} approvers of this request other than "
                        f"{mention(request.requester)} must confirm it is not at edgeX; it then "
                        "ends failed and is never sent or matched again."
                    )
                ]
            )
        )
    return _finish(blocks, _summary(card), paper=paper)


def duplicate_warning(card: RequestCard) -> str:
    """Said on a draft whose content equals an earlier one still waiting: likely a copy."""
    return (
        f"*Same as #{card.duplicate_of}, still pending*: the same amount, coin and destination. "
        "Approve only the one that is meant; the requester can cancel the copy."
    )


def _title(card: RequestCard, *, paper: bool) -> str:
    content = card.request.content
    where = (
        "to L1"
        if content.kind is Kind.NORMAL
        else f"to {_chain(card)} (edgeX V2)"
        if content.kind is Kind.FLOW
        else f"cross-chain to {_chain(card)}"
    )
    prefix = "PAPER · " if paper else ""
    return (
        f"{prefix}Withdrawal #{card.request_id}: {format_amount(content.amount)} "
        f"{content.coin_name} {where}"
    )


def _amount(card: RequestCard) -> str:
    content = card.request.content
    text = f"{format_amount(content.amount)} {escape(content.coin_name)}"
    who = "edgeX's fee (taken from the amount)" if content.kind is Kind.FLOW else "LP fee"
    if content.fee_cap is not None:
        text += f"\n{who} at most {format_amount(content.fee_cap)} {escape(content.coin_name)}"
    elif not content.quoted:
        text += f"\n{who}: set by the quote (pending)"
    return text


def _chain(card: RequestCard) -> str:
    content = card.request.content
    if content.kind is Kind.NORMAL:
        return f"L1 (chain {content.chain_id})"
    if card.chain_name:
        return f"{escape(card.chain_name)} (chain {content.chain_id})"
    return f"chain {content.chain_id}"


def _destination(card: RequestCard) -> str:
    content = card.request.content
    text = f"`{content.destination}` on {_chain(card)}"
    if content.kind is Kind.CROSS and content.lp_account_id is None:
        text += (
            "\nPaid out by the liquidity provider the quote names (pending)"
            f" (token `{content.erc20_address}`)"
        )
    elif content.kind is Kind.CROSS:
        text += (
            f"\nPaid out by liquidity provider account {escape(content.lp_account_id or '')}"
            f" (token `{content.erc20_address}`)"
        )
    elif content.kind is Kind.FLOW:
        text += f"\nPaid out by edgeX (token `{content.erc20_address}`)"
    return text


def _shows_track(card: RequestCard) -> bool:
    state = card.request.state
    after_signing = {State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION}
    return (
        state in after_signing
        or state is State.COMPLETED
        or (state is State.FAILED and card.exchange_status is not None)
    )


def approval_buttons(
    card: RequestCard, *, block_id: str = BlockId.REQUEST_ACTIONS.value, cancel: bool = True
) -> ActionsBlock:
    """Approve (confirming the full address and amount), Reject, and Cancel when ``cancel``.

    Every button carries :attr:`RequestCard.ref`, so a click is judged against the version drawn.
    """
    content = card.request.content
    value = card.ref.encode()
    where = f"on {_chain(card)}"
    if content.fee_cap is not None:
        where += f", LP fee at most {format_amount(content.fee_cap)} {escape(content.coin_name)}"
    approve_text = (
        f"You approve sending *{format_amount(content.amount)} {escape(content.coin_name)}* "
        f"to `{content.destination}` {where}. Fingerprint `{fingerprint(content.hash)}`."
    )
    buttons = [
        ButtonElement(
            text="Approve",
            action_id=ActionId.APPROVE.value,
            value=value,
            style="primary",
            confirm=ConfirmObject(
                title=f"Approve withdrawal #{card.request_id}?",
                text=_md(clip(approve_text, ConfirmObject.text_max_length)),
                confirm="Approve",
                deny="Back",
            ),
        ),
        ButtonElement(text="Reject…", action_id=ActionId.REJECT.value, value=value, style="danger"),
    ]
    if cancel:
        buttons.append(_cancel_button(card))
    return ActionsBlock(block_id=block_id, elements=buttons)


def _confirm_absent_button(card: RequestCard) -> ButtonElement:
    """An approver's word that edgeX has no such withdrawal, behind a dialog saying what it does."""
    reconciliation = card.reconciliation
    client_id = reconciliation.client_withdraw_id if reconciliation else ""
    text = (
        f"Two approvers' confirmations mark withdrawal #{card.request_id} failed; it is then "
        "never sent or matched again. Confirm only if you checked the edgeX account history "
        f"and {_client_id_field(card)} {client_id} is not there."
    )
    return ButtonElement(
        text="Confirm not at edgeX",
        action_id=ActionId.CONFIRM_ABSENT.value,
        value=card.ref.encode(),
        style="danger",
        confirm=ConfirmObject(
            title=f"Withdrawal #{card.request_id} not at edgeX?",
            text=_md(clip(text, ConfirmObject.text_max_length)),
            confirm="I checked: not there",
            deny="Back",
            style="danger",
        ),
    )


def _client_id_field(card: RequestCard) -> str:
    """The name edgeX's records give the client id, so people search for the right field."""
    return (
        "clientCrossWithdrawId" if card.request.content.kind is Kind.CROSS else "clientWithdrawId"
    )


def _cancel_button(card: RequestCard) -> ButtonElement:
    return ButtonElement(
        text="Cancel",
        action_id=ActionId.CANCEL.value,
        value=card.ref.encode(),
        confirm=ConfirmObject(
            title=f"Cancel withdrawal #{card.request_id}?",
            text=_md(
                "Only the person who drafted it can cancel it. It cannot be approved "
                "after that; draft it again if it is still needed."
            ),
            confirm="Cancel it",
            deny="Keep it",
            style="danger",
        ),
    )


# --- what the policy needs, and where the request stands ----------------------------------------


def policy_progress(evaluation: Evaluation) -> str:
    """What the tier needs and how far the approvals got: "2 of treasury: 1/2 so far"."""
    choice = evaluation.choice
    if choice is None:
        reason = evaluation.blocked_reason or "the request no longer fits the approval policy"
        return f"blocked: {escape(reason)}"
    parts = []
    for requirement in choice.tier.requires:
        got = sum(1 for _, group in evaluation.counted if group == requirement.group)
        parts.append(
            f"{requirement.count} of {escape(requirement.group)}: {got}/{requirement.count} so far"
        )
    text = "; ".join(parts)
    if choice.escalated:
        text += " (raised: the destination is not on the allowlist)"
    return text


def _decided_by(evaluation: Evaluation) -> str:
    approvals = [f"{mention(a.approver)} ({escape(group)})" for a, group in evaluation.counted]
    approvals += [mention(a.approver) for a in evaluation.surplus]
    return f"Approved by {', '.join(approvals)}" if approvals else ""


def _rejection(request: Request) -> str:
    """The deciding rejection, from the decisions rather than the note, so it can mention."""
    rejection = next(
        (a for a in reversed(request.decisions) if a.decision is Decision.REJECT), None
    )
    if rejection is None:
        return fit(request.note or "", _NOTE_SHOWN)
    reason = fit(rejection.reason or "", REASON_SHOWN)
    return f"by {mention(rejection.approver)}: {reason}"


def _status_text(card: RequestCard) -> str:
    note = fit(card.request.note or "", _NOTE_SHOWN)
    lines = _STATE_LINES[card.request.state](card, note)
    decided = _decided_by(card.evaluation)
    if decided and card.request.state is not State.REJECTED:
        lines.append(decided)
    return "\n".join(lines)


def _pending_lines(card: RequestCard, note: str) -> list[str]:
    lines = [f"⏳ *Waiting for approvals* · needs {policy_progress(card.evaluation)}"]
    return [*lines, f"Note: {note}"] if note else lines


def _failed_lines(card: RequestCard, note: str) -> list[str]:
    absent = card.reconciliation
    if absent is not None and absent.confirmed_by:
        names = " and ".join(mention(user) for user in absent.confirmed_by)
        return [
            f"❌ *Failed* · confirmed not at edgeX by {names} ({_client_id_field(card)} "
            f"`{escape(absent.client_withdraw_id)}`)",
            "Nothing is sent or matched for it any more; should edgeX show it after all, the "
            "account watch says so here and in the channel.",
        ]
    lines = [f"❌ *Failed*{_withdraw_id(card)}" + (f": {note}" if note else "")]
    failure = FAILURES.get(card.exchange_status or "")
    if failure is not None:
        lines.append(f"{escape(failure.cause)} {escape(failure.next_step)}")
    return lines


def _reconciliation_lines(card: RequestCard, note: str) -> list[str]:
    lines = [
        "⚠️ *Needs reconciliation* · edgeX's answer was lost, so nothing is sent again until "
        "the withdrawal is found at edgeX or two approvers confirm it is absent"
    ]
    if note:
        lines.append(note)
    return [*lines, *reconciliation_check(card)]


def reconciliation_check(card: RequestCard) -> list[str]:
    """What to look for in the edgeX account history, and who has confirmed it is not there."""
    reconciliation = card.reconciliation
    if reconciliation is None:
        return []
    content = card.request.content
    lines = [
        f"Look in the edgeX account's withdrawals for {_client_id_field(card)} "
        f"`{escape(reconciliation.client_withdraw_id)}`: {format_amount(content.amount)} "
        f"{escape(content.coin_name)} to `{content.destination}`, sent from "
        f"{format_moment(reconciliation.signed_at)} on. edgeX could accept the signed body until "
        f"{format_moment(reconciliation.valid_until)}.",
    ]
    confirmed = reconciliation.confirmed_by
    if confirmed:
        names = ", ".join(mention(user) for user in confirmed)
        lines.append(f"Confirmed not at edgeX: {len(confirmed)}/{reconciliation.needed} ({names})")
    else:
        lines.append(f"Confirmed not at edgeX: 0/{reconciliation.needed}")
    return lines


def _quoting_lines(card: RequestCard, note: str) -> list[str]:
    return [
        "⏳ *Waiting for the LP quote* · the worker asks edgeX which liquidity provider pays "
        "out and at what fee; Approve and Reject appear once it has"
    ]


def _quote_refused_lines(card: RequestCard, note: str) -> list[str]:
    return [
        f"🚫 *Refused at quoting* · {note}",
        "Nothing was approved, signed or sent; draft it again (another amount or chain) if it "
        "is still needed.",
    ]


_STATE_LINES: dict[State, Callable[[RequestCard, str], list[str]]] = {
    State.AWAITING_QUOTE: _quoting_lines,
    State.QUOTE_REFUSED: _quote_refused_lines,
    State.PENDING_APPROVAL: _pending_lines,
    State.APPROVED: lambda card, note: ["✅ *Approved* · it is signed and sent to edgeX next"],
    State.SUBMITTING: lambda card, note: ["📤 *Sending to edgeX*"],
    State.SUBMITTED: lambda card, note: [f"🚚 *Submitted to edgeX*{_withdraw_id(card)}"],
    State.NEEDS_RECONCILIATION: _reconciliation_lines,
    State.COMPLETED: lambda card, note: [f"✅ *Completed*{_withdraw_id(card)}"],
    State.FAILED: _failed_lines,
    State.REJECTED: lambda card, note: [f"🚫 *Rejected* {_rejection(card.request)}"],
    State.CANCELLED: lambda card, note: [f"↩️ *Cancelled* by {mention(card.request.requester)}"],
    State.EXPIRED: lambda card, note: ["⌛ *Expired*" + (f" · {note}" if note else "")],
}


def _withdraw_id(card: RequestCard) -> str:
    return f" · edgeX id `{escape(card.withdraw_id)}`" if card.withdraw_id else ""


def _summary(card: RequestCard) -> str:
    """The notification text: one line that still says what and where."""
    content = card.request.content
    return (
        f"Withdrawal #{card.request_id}: {format_amount(content.amount)} "
        f"{escape(content.coin_name)} to {content.destination} by "
        f"{mention(card.request.requester)}, {_state_word(card.request.state)}"
    )


_STATE_WORDS = {
    State.AWAITING_QUOTE: "waiting for the LP quote",
    State.QUOTE_REFUSED: "refused a quote by edgeX",
    State.PENDING_APPROVAL: "waiting for approvals",
    State.APPROVED: "approved",
    State.REJECTED: "rejected",
    State.CANCELLED: "cancelled",
    State.EXPIRED: "expired",
    State.SUBMITTING: "being sent to edgeX",
    State.SUBMITTED: "submitted to edgeX",
    State.FAILED: "failed",
    State.NEEDS_RECONCILIATION: "needs reconciliation",
    State.COMPLETED: "completed",
}


def _state_word(state: State) -> str:
    return _STATE_WORDS[state]


# --- thread replies --------------------------------------------------------------------------


def decision_reply(
    card: RequestCard, *, approver: str, decision: Decision, reason: str | None, paper: bool
) -> Message:
    """A click that counted, for the thread; ``card`` is the request after the click."""
    if decision is Decision.REJECT:
        text = f"👎 {mention(approver)} rejected: {fit(reason or '', REASON_SHOWN)}"
    elif card.evaluation.outcome is Outcome.APPROVED:
        text = f"👍 {mention(approver)} approved · the policy is met"
    else:
        text = f"👍 {mention(approver)} approved · needs {policy_progress(card.evaluation)}"
    return _finish([SectionBlock(text=_md(text))], text, paper=paper)


def absence_reply(
    card: RequestCard, *, confirmer: str, confirmed_by: Sequence[str], needed: int, paper: bool
) -> Message:
    """An approver's confirmation that edgeX does not have the withdrawal, for the thread.

    ``confirmed_by`` are the confirmations that counted when it was made, this one included.
    """
    names = ", ".join(mention(user) for user in confirmed_by)
    text = (
        f"🔎 {mention(confirmer)} checked edgeX: withdrawal #{card.request_id} is not there · "
        f"{len(confirmed_by)}/{needed} confirmations ({names})"
    )
    return _finish([SectionBlock(text=_md(text))], text, paper=paper)


def transition_reply(card: RequestCard, *, paper: bool) -> Message:
    """The state the request just entered, for the thread: outcome, note and track."""
    text = f"Withdrawal #{card.request_id}: {_status_text(card)}"
    blocks: list[Block] = [SectionBlock(text=_md(text))]
    if _shows_track(card):
        blocks.append(
            ContextBlock(elements=[_md(f"edgeX: {escape(progress_track(card.exchange_status))}")])
        )
    return _finish(blocks, _summary(card), paper=paper)


def exchange_reply(
    card: RequestCard,
    *,
    code: str | None = None,
    detail: str | None = None,
    paper: bool,
) -> Message:
    """A new edgeX status for the thread; a failure says why, with edgeX's code and reason."""
    status = card.exchange_status
    if status is None:
        raise ValueError("an exchange reply needs the exchange status")
    track = escape(progress_track(status))
    lines = [f"edgeX: {escape(status_phrase(status))} · `{escape(status)}`"]
    failure = FAILURES.get(status)
    if failure is not None:
        lines.append(f"❌ {escape(failure.cause)}")
        if code or detail:
            said = " · ".join(fit(part, _NOTE_SHOWN) for part in (code, detail) if part)
            lines.append(f"edgeX says: {said}")
        lines.append(escape(failure.next_step))
    blocks: list[Block] = [
        SectionBlock(text=_md("\n".join(lines))),
        ContextBlock(elements=[_md(track)]),
    ]
    return _finish(blocks, f"Withdrawal #{card.request_id}: {lines[0]}", paper=paper)


def quote_reply(
    card: RequestCard, *, fee: str, max_amount: str, lp_account: str, paper: bool
) -> Message:
    """The worker's LP quote is in: what edgeX quoted, and that approvals are open.

    ``fee``, ``max_amount`` and ``lp_account`` are edgeX's words as the event recorded them;
    ``card`` is the request as it became approvable.
    """
    content = card.request.content
    unit = escape(content.coin_name)
    cap = ""
    if content.fee_cap is not None:
        cap = f" (approvers approve at most {format_amount(content.fee_cap)} {unit})"
    priced = (
        f"💱 edgeX's fee: {fit(fee, 40)} {unit}, taken from the amount{cap}; "
        if content.kind is Kind.FLOW
        else f"💱 LP quote: fee {fit(fee, 40)} {unit}{cap}, "
        f"max {fit(max_amount, 40)} {unit}, LP account {fit(lp_account, 40)}; "
    )
    text = (
        f"{priced}ready for approval · needs {policy_progress(card.evaluation)} · approvals "
        f"close at {format_moment(card.request.expires_at)}"
    )
    return _finish([SectionBlock(text=_md(text))], text, paper=paper)


def reminder_reply(card: RequestCard, *, paper: bool) -> Message:
    """A nudge to the people whose approval would still count."""
    evaluation = card.evaluation
    who = ", ".join(mention(user) for user in evaluation.may_approve)
    needed = policy_progress(evaluation)
    if who:
        text = (
            f"⏰ Withdrawal #{card.request_id} still needs {needed}. {who}: you can approve it "
            f"until {format_moment(card.request.expires_at)}."
        )
    else:
        text = (
            f"⏰ Withdrawal #{card.request_id} still needs {needed}, and nobody left in the "
            "group can approve it; cancel it or ask a treasury lead."
        )
    return _finish([SectionBlock(text=_md(text))], text, paper=paper)


def outcome_message(card: RequestCard, *, paper: bool) -> Message:
    """A final outcome for the channel itself, so nobody has to open the thread to learn it."""
    if not card.request.terminal:
        raise ValueError(f"request {card.request_id} is not in a final state")
    text = f"{_summary(card)}.\n{_status_text(card)}"
    return _finish([SectionBlock(text=_md(text))], _summary(card), paper=paper)


def fallback_note(
    *,
    request_id: int | None,
    event: str,
    error: str,
    first: bool,
    redraw: bool,
    paper: bool,
) -> dict[str, Any]:
    """Plain text saying an event was set aside as a dead letter, and where its facts are.

    Plain ``text`` with no blocks, so the note itself cannot hit a Block Kit limit: it is what
    is posted when the event's own message could not be. ``redraw``: the event's reply did go
    out and only the request's card could not be redrawn.
    """
    prefix = f"{PAPER_PREFIX} " if paper else ""
    reason = fit(error, 300)
    if request_id is None:
        what = f"A withdrawbot alert ({fit(event, 60)}) could not be shown in Slack"
        where = "Operators: `withdrawbot outbox dead` lists it, with `retry` and `drop`."
    else:
        if redraw:
            what = (
                f"Withdrawal #{request_id}'s message above can no longer be updated, "
                "so it may show an old state"
            )
        elif first:
            what = f"Withdrawal #{request_id} could not be shown in Slack as a card"
        else:
            what = f"An update of withdrawal #{request_id} ({fit(event, 60)}) could not be shown"
        where = (
            f"Its state: `/withdraw status {request_id}`; its history: "
            "`withdrawbot audit export`; operators: `withdrawbot outbox dead`."
        )
    return {"text": f"{prefix}⚠️ {what} (Slack: {reason}). {where}"}


# --- replies to one person -------------------------------------------------------------------


def refusal_message(text: str, *, paper: bool) -> Message:
    """A refused click or command, shown only to the person (ephemeral)."""
    shown = f"🚫 {fit(text, _NOTE_SHOWN)}"
    return _finish([SectionBlock(text=_md(shown))], shown, paper=paper)


def drafted_message(card: RequestCard, *, paper: bool) -> Message:
    """Where a stored draft went, for its author: up for approval, or waiting for its LP quote."""
    if card.request.state is State.AWAITING_QUOTE:
        return notice_message(
            f"Drafted withdrawal #{card.request_id}; the worker is fetching its LP quote from "
            "edgeX, then posts it for approval in the approval channel (or ends it there with "
            "edgeX's reason).",
            paper=paper,
        )
    twin = (
        f" ⚠️ Same as #{card.duplicate_of}, still pending: if this one is a copy, "
        f"`/withdraw cancel {card.request_id}`."
        if card.duplicate_of is not None
        else ""
    )
    return notice_message(
        f"Drafted withdrawal #{card.request_id}; it is posted for approval in the approval "
        f"channel. Fingerprint {fingerprint(card.request.content_hash)}.{twin}",
        paper=paper,
    )


def drafting_message(command: DraftCommand, *, paper: bool) -> Message:
    """The ack of an inline draft: what was read, before it is checked and stored.

    Echoing the parsed amount, coin and destination lets the author catch a typo at once; the
    request number (or the refusal) follows through ``response_url``.
    """
    chain = f" on chain {command.chain_id}" if command.chain_id is not None else ""
    kind = "cross-chain withdrawal" if command.chain_id is not None else "withdrawal"
    return notice_message(
        f"⏳ Drafting a {kind} of {command.amount} {command.coin} to {command.destination}{chain}: "
        "checking it against the policy and storing it. Its request number follows here.",
        paper=paper,
    )


def notice_message(text: str, *, paper: bool) -> Message:
    """A plain answer to one person (a cancelled request, a freeze taken)."""
    shown = fit(text, _NOTE_SHOWN)
    return _finish([SectionBlock(text=_md(shown))], shown, paper=paper)


def help_message(hint: str | None = None, *, paper: bool) -> Message:
    """The commands, led by what was wrong with the last one when there was something."""
    blocks: list[Block] = []
    if hint:
        blocks.append(SectionBlock(text=_md(f"⚠️ {fit(hint, _NOTE_SHOWN)}")))
    lines = [f"• `{escape(syntax)}`: {escape(what)}" for syntax, what in USAGE]
    blocks.append(SectionBlock(text=_md("*withdrawbot commands*\n" + "\n".join(lines))))
    blocks.append(
        ContextBlock(
            elements=[
                _md(
                    "Amounts are exact decimals (250.5 or 10,000.5, a dot for decimals); "
                    "addresses are the EIP-55 checksummed form copied from the wallet."
                )
            ]
        )
    )
    text = f"⚠️ {fit(hint, _NOTE_SHOWN)}" if hint else "withdrawbot commands: /withdraw help"
    return _finish(blocks, clip_markup(text, _NOTE_SHOWN), paper=paper)


def request_line(card: RequestCard) -> str:
    """One request on one line of a list: id, amount, where, state, who asked, why."""
    content = card.request.content
    state = card.request.state
    where = f"`{content.destination}` on {_chain(card)}"
    status = (
        f"needs {policy_progress(card.evaluation)}"
        if state is State.PENDING_APPROVAL
        else _state_word(state)
    )
    if card.exchange_status is not None and not card.request.terminal:
        status += f" · edgeX: {escape(status_phrase(card.exchange_status))}"
    return (
        f"*#{card.request_id}* · {format_amount(content.amount)} {escape(content.coin_name)} → "
        f"{where} · {status} · by {mention(card.request.requester)} · "
        f"{fit(card.reason, 120)}"
    )


def request_list_message(cards: Sequence[RequestCard], *, paper: bool) -> Message:
    """``/withdraw list``: open requests, newest first as given, at most twenty shown."""
    if not cards:
        return notice_message("No withdrawal request is open.", paper=paper)
    shown = cards[:_LIST_SHOWN]
    text = "\n".join(request_line(card) for card in shown)
    if len(cards) > len(shown):
        text += f"\n…and {len(cards) - len(shown)} more"
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*Open withdrawal requests ({len(cards)})*")),
        *(SectionBlock(text=_md(request_line(card))) for card in shown),
    ]
    if len(cards) > len(shown):
        blocks.append(ContextBlock(elements=[_md(f"…and {len(cards) - len(shown)} more")]))
    return _finish(blocks, f"{len(cards)} open withdrawal requests", paper=paper)


_MARK = re.compile("\ue000([UW][A-Z0-9]{2,20})\ue001")


def explain_message(
    card: RequestCard,
    *,
    policy: Policy,
    membership: Membership,
    now: datetime,
    paper: bool,
) -> Message:
    """``/withdraw explain ID``: the policy's view of the request, in words, with mentions.

    The domain's lines mix user text (a reject reason) with user ids, so ids are marked with
    private-use characters, the whole line is escaped, and only then are marks made mentions.
    """
    lines = explain(
        card.request,
        policy=policy,
        membership=membership,
        now=now,
        mention=lambda user: f"\ue000{user}\ue001",
    )
    body = "\n".join(_MARK.sub(lambda m: mention(m[1]), fit(line, REASON_SHOWN)) for line in lines)
    check = reconciliation_check(card)
    if check:
        body += "\n" + "\n".join(check)
    blocks: list[Block] = [
        SectionBlock(text=_md(request_line(card))),
        SectionBlock(text=_md(body)),
    ]
    return _finish(blocks, f"Withdrawal #{card.request_id} explained", paper=paper)


# --- shared ----------------------------------------------------------------------------------


def _md(text: str) -> MarkdownTextObject:
    """Escaped mrkdwn as a text object, clipped to what any block takes (3,000 units)."""
    return MarkdownTextObject(text=clip_markup(text, SECTION_MAX))


def _finish(blocks: Sequence[Block], text: str, *, paper: bool) -> Message:
    """Every message of a paper-mode process says so, in the blocks and in the notification."""
    if not paper:
        return Message(text=text, blocks=tuple(blocks))
    banner = ContextBlock(elements=[_md(PAPER_BANNER)])
    return Message(text=f"{PAPER_PREFIX} {text}", blocks=(banner, *blocks))
