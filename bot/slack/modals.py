"""The modals: the ``/withdraw`` form, the reject-reason form, and a refusal shown in place.

A Slack modal cannot show or hide a field by itself, so the kind radio dispatches its change and
the listener redraws the form with :func:`withdraw_modal` for the new kind: the chain field exists
only on a cross-chain form. Slack keeps what was typed across that redraw because the block and
action ids stay the same (``bot.slack.ids.Field``).

Titles, submit and close labels are limited to 24 characters by Slack; a paper-mode title says
PAPER in them, and a banner says it again inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from approvals.content import Kind
from approvals.money import format_amount
from bot.slack.command_parser import REASON_MAX
from bot.slack.ids import CallbackId, Field, input_action_id
from bot.slack.messages import RequestCard
from bot.slack.text import PAPER_BANNER, clip, escape, fit

__all__ = ["KIND_LABELS", "ChainChoice", "refusal_modal", "reject_modal", "withdraw_modal"]

KIND_LABELS: dict[Kind, str] = {
    Kind.NORMAL: "To L1 (Ethereum), claimed from the StarkEx contract",
    Kind.CROSS: "Cross-chain, paid out by a liquidity provider",
}
# edgeX V2: a draft to a chain (the form's "cross" kind) is paid out by edgeX itself.
V2_CHAIN_LABEL = "To a chain, paid out by edgeX (V2)"
_TITLE_MAX = 24
OPTIONS_MAX = 100  # Block Kit: options in one select


@dataclass(frozen=True, slots=True)
class ChainChoice:
    """A chain the cross-chain form offers, as edgeX's metadata names it."""

    chain_id: int
    name: str

    def option(self) -> Option:
        return Option(value=str(self.chain_id), text=clip(f"{self.name} ({self.chain_id})", 75))


def withdraw_modal(
    *,
    coins: Sequence[str],
    chains: Sequence[ChainChoice],
    kind: Kind = Kind.NORMAL,
    paper: bool,
    private_metadata: str = "",
    to_l1: bool = True,
) -> View:
    """The draft form for ``kind``; the cross-chain choice is offered only when ``chains`` exist.

    ``coins`` are the coins the policy allows (the first is preselected when it is the only one);
    ``private_metadata`` comes back with the submission (e.g. the channel it was opened from).
    Without ``to_l1`` (edgeX V2) only withdrawals to a chain are offered, paid out by edgeX.
    """
    if not coins:
        raise ValueError("the form needs at least one coin the policy allows")
    if not to_l1:
        kind = Kind.CROSS
    if kind is Kind.CROSS and not chains:
        raise ValueError("a cross-chain form needs the chains edgeX offers")
    coin_options = [Option(value=coin, text=clip(coin, 75)) for coin in coins]
    blocks: list[Block] = [
        _kind_choice(kind, to_l1=to_l1, chains=bool(chains)),
        _choice(
            Field.COIN,
            label="Coin",
            placeholder="Choose a coin",
            options=coin_options,
            initial=coin_options[0] if len(coin_options) == 1 else None,
            typed="the coin's name, e.g. USDT",
        ),
        InputBlock(
            block_id=Field.AMOUNT.value,
            label="Amount",
            hint="An exact decimal with a dot for decimals, e.g. 250 or 1,500.25",
            element=PlainTextInputElement(
                action_id=input_action_id(Field.AMOUNT), placeholder="250", max_length=40
            ),
        ),
        InputBlock(
            block_id=Field.DESTINATION.value,
            label="Destination address",
            hint="Paste the EIP-55 checksummed address from the wallet; do not retype it",
            element=PlainTextInputElement(
                action_id=input_action_id(Field.DESTINATION),
                placeholder="0x…",
                max_length=100,
            ),
        ),
    ]
    if kind is Kind.CROSS:
        blocks.append(
            _choice(
                Field.CHAIN,
                label="Chain",
                placeholder="Choose a chain",
                options=[chain.option() for chain in chains],
                typed="the chain id, e.g. 42161",
                hint=(
                    "The liquidity provider pays out on this chain; its fee is shown to approvers"
                    if to_l1
                    else "edgeX pays out on this chain; its fee is shown to approvers"
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=Field.REASON.value,
            label="Reason",
            hint="Approvers see this beside the amount and the address",
            element=PlainTextInputElement(
                action_id=input_action_id(Field.REASON),
                multiline=True,
                max_length=REASON_MAX,
                placeholder="What is it for?",
            ),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Approvers see the amount, the full address, the reason and the "
                    "content fingerprint; any change after drafting voids their approvals."
                )
            ]
        ),
    ]
    return _modal(
        CallbackId.WITHDRAW,
        title="Withdraw",
        submit="Draft",
        blocks=blocks,
        paper=paper,
        private_metadata=private_metadata,
    )


def _kind_choice(kind: Kind, *, to_l1: bool, chains: bool) -> InputBlock:
    """The radio buttons that redraw the form; V2 (no ``to_l1``) has the one kind."""
    kinds = ([Kind.NORMAL] if to_l1 else []) + ([Kind.CROSS] if chains else [])
    labels = KIND_LABELS if to_l1 else {Kind.CROSS: V2_CHAIN_LABEL}
    options = {k: Option(value=k.value, text=labels[k]) for k in kinds}
    return InputBlock(
        block_id=Field.KIND.value,
        label="Kind",
        dispatch_action=True,
        element=RadioButtonsElement(
            action_id=input_action_id(Field.KIND),
            options=list(options.values()),
            initial_option=options[kind],
        ),
    )


def _choice(
    field: Field,
    *,
    label: str,
    placeholder: str,
    options: list[Option],
    typed: str,
    initial: Option | None = None,
    hint: str | None = None,
) -> InputBlock:
    """A select of ``options``; past Block Kit's 100 options, a typed field instead.

    Slack refuses a select of more than 100 options, and the form would not open at all; the
    typed value is read and checked exactly as a chosen one (``bot.slack.forms``).
    """
    if len(options) <= OPTIONS_MAX:
        return InputBlock(
            block_id=field.value,
            label=label,
            hint=hint,
            element=StaticSelectElement(
                action_id=input_action_id(field),
                placeholder=placeholder,
                options=options,
                initial_option=initial,
            ),
        )
    return InputBlock(
        block_id=field.value,
        label=label,
        hint=f"Type {typed} ({len(options)} choices: too many to list)",
        element=PlainTextInputElement(
            action_id=input_action_id(field), placeholder=placeholder, max_length=40
        ),
    )


def reject_modal(card: RequestCard, *, paper: bool) -> View:
    """Asks why; the request reference rides in ``private_metadata`` to bind the rejection."""
    content = card.request.content
    what = (
        f"Reject withdrawal *#{card.request_id}*: {format_amount(content.amount)} "
        f"{escape(content.coin_name)} to `{content.destination}`?"
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=what)),
        InputBlock(
            block_id=Field.REJECT_REASON.value,
            label="Why?",
            hint="The requester and the channel see this",
            element=PlainTextInputElement(
                action_id=input_action_id(Field.REJECT_REASON),
                multiline=True,
                max_length=REASON_MAX,
            ),
        ),
    ]
    return _modal(
        CallbackId.REJECT_REASON,
        title="Reject request",
        submit="Reject",
        blocks=blocks,
        paper=paper,
        private_metadata=card.ref.encode(),
    )


def refusal_modal(text: str, *, paper: bool) -> View:
    """Replaces the form when a draft is refused for a reason no single field carries.

    Sent as ``response_action: update``; the person reads why and closes it.
    """
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"🚫 {fit(text, 2900)}")),
    ]
    return _modal(None, title="Not drafted", submit=None, blocks=blocks, paper=paper)


def _modal(
    callback_id: CallbackId | None,
    *,
    title: str,
    submit: str | None,
    blocks: Sequence[Block],
    paper: bool,
    private_metadata: str = "",
) -> View:
    if paper:
        title = clip(f"PAPER · {title}", _TITLE_MAX)
        blocks = [ContextBlock(elements=[MarkdownTextObject(text=PAPER_BANNER)]), *blocks]
    return View(
        type="modal",
        callback_id=callback_id.value if callback_id is not None else None,
        title=title,
        submit=submit,
        close="Close" if submit is None else "Cancel",
        blocks=list(blocks),
        private_metadata=private_metadata or None,
    )
