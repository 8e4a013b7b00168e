"""Submitted modals read back into commands, and refusals mapped onto the fields they concern.

Slack shows a ``view_submission`` ack of ``{"response_action": "errors", "errors": {block_id:
message}}`` under the named inputs and keeps the form open with what was typed, which is the
kindest way to say "this address fails its checksum". So the domain's ``DraftRefused.field``
names are mapped to the form's block ids here. A refusal no field carries (the person may not
draft at all, the account setting is wrong, edgeX sent an unusable quote) replaces the form
with the reason instead: pinning it to an unrelated field would mislead.

Slack checks required inputs in the client, but a submission is still just JSON the bot did
not write, so every value is read defensively and a missing one is a field error too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from approvals.content import Kind
from approvals.drafts import CrossDraft, Draft, NormalDraft
from approvals.metadata import CrossQuote
from approvals.refusals import DraftRefused
from bot.slack.command_parser import REASON_MAX, DraftCommand
from bot.slack.ids import Field, input_action_id
from bot.slack.modals import refusal_modal
from bot.slack.text import clip

__all__ = [
    "ERROR_MAX",
    "FIELD_OF",
    "FormInvalid",
    "draft_for",
    "errors_response",
    "read_reject_reason",
    "read_withdraw_form",
    "refusal_response",
]

# Domain field names (``DraftRefused.field``) -> the form's input blocks.
FIELD_OF: dict[str, Field] = {
    "coin": Field.COIN,
    "amount": Field.AMOUNT,
    "destination": Field.DESTINATION,
    "chain": Field.CHAIN,
}
# Slack renders an error under the field; a long one pushes the form off a phone screen.
ERROR_MAX = 300

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]


class FormInvalid(ValueError):
    """A submission that cannot become a command; ``errors`` maps fields to what is wrong."""

    def __init__(self, errors: Mapping[Field, str]) -> None:
        super().__init__("; ".join(f"{field.value}: {text}" for field, text in errors.items()))
        self.errors = dict(errors)


def read_withdraw_form(values: Values) -> DraftCommand:
    """The draft a ``/withdraw`` form submission asks for (``view.state.values``)."""
    errors: dict[Field, str] = {}
    kind_text = _selected(values, Field.KIND)
    kind = Kind.CROSS if kind_text == Kind.CROSS.value else Kind.NORMAL
    if kind_text not in (Kind.NORMAL.value, Kind.CROSS.value):
        errors[Field.KIND] = "Choose where the withdrawal goes"
    coin = _selected(values, Field.COIN)
    if not coin:
        errors[Field.COIN] = "Choose a coin"
    amount = _typed(values, Field.AMOUNT)
    if not amount:
        errors[Field.AMOUNT] = "Write the amount, e.g. 250"
    destination = _typed(values, Field.DESTINATION)
    if not destination:
        errors[Field.DESTINATION] = "Paste the destination address"
    chain_id: int | None = None
    if kind is Kind.CROSS:
        chain_text = _selected(values, Field.CHAIN)
        if chain_text.isascii() and chain_text.isdigit() and not chain_text.startswith("0"):
            chain_id = int(chain_text)
        else:
            errors[Field.CHAIN] = "Choose the chain the liquidity provider pays out on"
    reason = _typed(values, Field.REASON)
    if not reason:
        errors[Field.REASON] = "Say what the withdrawal is for; approvers read it"
    elif len(reason) > REASON_MAX:
        errors[Field.REASON] = f"Keep it under {REASON_MAX} characters (it has {len(reason)})"
    if errors:
        raise FormInvalid(errors)
    return DraftCommand(
        kind=kind,
        amount=amount,
        coin=coin,
        destination=destination,
        reason=reason,
        chain_id=chain_id,
    )


def read_reject_reason(values: Values) -> str:
    """The reason typed into the reject modal; an empty one is refused on the field."""
    reason = _typed(values, Field.REJECT_REASON)
    if not reason:
        raise FormInvalid({Field.REJECT_REASON: "Say why; the requester will read it"})
    if len(reason) > REASON_MAX:
        raise FormInvalid(
            {Field.REJECT_REASON: f"Keep it under {REASON_MAX} characters (it has {len(reason)})"}
        )
    return reason


def draft_for(command: DraftCommand, *, account_id: str, quote: CrossQuote | None) -> Draft:
    """The approvals draft for a command, with the account and (cross-chain) the live quote.

    A cross draft has no quote where this process cannot fetch one; it then waits for the
    worker's (``approvals.lifecycle.State.AWAITING_QUOTE``).
    """
    if command.kind is Kind.NORMAL:
        if quote is not None or command.chain_id is not None:
            raise ValueError("a withdrawal to L1 has no chain and no quote")
        return NormalDraft(
            account_id=account_id,
            coin=command.coin,
            amount=command.amount,
            destination=command.destination,
        )
    if command.chain_id is None:
        raise ValueError("a cross-chain draft needs its chain")
    return CrossDraft(
        account_id=account_id,
        coin=command.coin,
        amount=command.amount,
        destination=command.destination,
        chain_id=command.chain_id,
        quote=quote,
    )


def errors_response(errors: Mapping[Field, str]) -> dict[str, Any]:
    """The ``view_submission`` ack that shows each message under its field."""
    return {
        "response_action": "errors",
        "errors": {field.value: clip(text, ERROR_MAX) for field, text in errors.items()},
    }


def refusal_response(err: DraftRefused, *, kind: Kind, paper: bool) -> dict[str, Any]:
    """The ack for a refused draft: under its field when the form has one, else in its place.

    ``kind`` is the kind of form submitted: the chain field exists only on a cross-chain form.
    """
    field = FIELD_OF.get(err.field or "")
    if field is Field.CHAIN and kind is not Kind.CROSS:
        field = None
    if field is None:
        view = refusal_modal(err.message, paper=paper)
        return {"response_action": "update", "view": view.to_dict()}
    return errors_response({field: err.message})


def _element(values: Values, field: Field) -> Mapping[str, Any]:
    block = values.get(field.value)
    if not isinstance(block, Mapping):
        return {}
    element = block.get(input_action_id(field))
    return element if isinstance(element, Mapping) else {}


def _typed(values: Values, field: Field) -> str:
    value = _element(values, field).get("value")
    return value.strip() if isinstance(value, str) else ""


def _selected(values: Values, field: Field) -> str:
    """The chosen option's value, or what was typed where the form had too many to list."""
    element = _element(values, field)
    option = element.get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else element.get("value")
    return value.strip() if isinstance(value, str) else ""
