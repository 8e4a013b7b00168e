"""Every id Slack echoes back to the bot: action ids, modal callback ids, block ids, button values.

Slack routes a click or a modal submission to a listener by these strings alone, and the bot reads
a submitted modal by block id and action id, so the renderer and the listeners must agree on them
exactly. Keeping them in enums here makes a mismatch a type error instead of a silent dead button.

A request button carries the request id, its approval round and the content hash the message
was drawn with (:class:`RequestRef`). Slack lets anyone click a message that went stale (an old
copy on a phone, a second tab), so the listener compares the hash with the request as stored and
refuses the click when they differ: nobody approves content they were not shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ActionId", "BlockId", "CallbackId", "Field", "RequestRef", "input_action_id"]


class ActionId(StrEnum):
    """``action_id`` of every interactive element a listener answers."""

    APPROVE = "request.approve"
    REJECT = "request.reject"
    CANCEL = "request.cancel"
    CONFIRM_ABSENT = "request.confirm_absent"
    # The kind radio in the /withdraw modal dispatches on change, so the chain field can appear.
    WITHDRAW_KIND = "withdraw.kind"


class CallbackId(StrEnum):
    """``callback_id`` of the modals; a ``view_submission`` is routed by it."""

    WITHDRAW = "withdraw.modal"
    REJECT_REASON = "reject.modal"


class BlockId(StrEnum):
    """``block_id`` of message blocks a listener looks for."""

    REQUEST_ACTIONS = "request.actions"


class Field(StrEnum):
    """``block_id`` of each modal input; ``response_action: errors`` is keyed by these."""

    KIND = "withdraw.kind"
    COIN = "withdraw.coin"
    AMOUNT = "withdraw.amount"
    DESTINATION = "withdraw.destination"
    CHAIN = "withdraw.chain"
    REASON = "withdraw.reason"
    REJECT_REASON = "reject.reason"


def input_action_id(field: Field) -> str:
    """The ``action_id`` of the element inside a field's input block.

    It equals the block id except for the kind radio, whose changes a listener answers; a view's
    state is read as ``values[field][input_action_id(field)]``.
    """
    return ActionId.WITHDRAW_KIND.value if field is Field.KIND else field.value


_REF = re.compile(r"([1-9][0-9]{0,18}):([1-9][0-9]{0,9}):([0-9a-f]{64})", re.ASCII)


@dataclass(frozen=True, slots=True)
class RequestRef:
    """Which request, in which approval round, on which content a button was drawn for."""

    request_id: int
    approval_round: int
    content_hash: str

    def encode(self) -> str:
        """The button ``value`` (or modal ``private_metadata``): ``id:round:hash``."""
        ref = f"{self.request_id}:{self.approval_round}:{self.content_hash}"
        if not _REF.fullmatch(ref):
            raise ValueError(f"not a request reference: {ref[:100]!r}")
        return ref

    @classmethod
    def decode(cls, value: str) -> RequestRef:
        """Parse a value Slack echoed back; anything malformed is refused, never guessed at."""
        match = _REF.fullmatch(value)
        if match is None:
            raise ValueError(f"not a request reference: {value[:100]!r}")
        return cls(int(match[1]), int(match[2]), match[3])
