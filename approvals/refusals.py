"""Domain errors: every refusal in ``approvals`` carries a message fit for the person who clicked.

The bot shows ``str(err)`` as it is, so messages speak to that person ("You drafted this request,
so your approval cannot count"), name the amount, address or field involved, and say what to do
instead where there is something to do. One tree, so a caller can catch ``ApprovalError`` at the
boundary and still tell a broken policy file (an operator's problem) from a refused click::

    ApprovalError (ValueError)
     ├── PolicyError        policy.toml is invalid; ``path`` names the field
     │                      (``coins.USDT.tiers[1].above``)
     ├── UnresolvedHandle   a Slack user-group handle in the policy that the bot did not resolve
     ├── DraftRefused       a draft or a new quote does not fit the exchange or the policy;
     │    │                 ``field`` names the form field (amount, destination, coin, chain, ...)
     │    ├── InvalidAmount   not an exact positive decimal within the coin's step
     │    └── InvalidAddress  not a usable EIP-55 checksummed address
     └── ActionRefused      an approve / reject / cancel / expire that may not happen or count
          └── TransitionRefused  the lifecycle table has no such move from the current state
"""

from __future__ import annotations

__all__ = [
    "ActionRefused",
    "ApprovalError",
    "DraftRefused",
    "InvalidAddress",
    "InvalidAmount",
    "PolicyError",
    "TransitionRefused",
    "UnresolvedHandle",
]


class ApprovalError(ValueError):
    """Base of every refusal; ``message`` is what the person is shown."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PolicyError(ApprovalError):
    """The policy file cannot be used; the whole policy is refused, never half-applied."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class UnresolvedHandle(ApprovalError):
    """Group membership is unknown, so nobody in it may count until the bot resolves it."""

    def __init__(self, handle: str) -> None:
        super().__init__(
            f"The Slack user group @{handle} named in the approval policy could not be resolved, "
            "so its members cannot count right now"
        )
        self.handle = handle


class DraftRefused(ApprovalError):
    """A draft is refused before anyone is asked to approve it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidAmount(DraftRefused):
    """Money text that is not exact; floats, exponents and NaN never become amounts."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="amount")


class InvalidAddress(DraftRefused):
    """An address that could hide a typo; funds sent to a mistyped address are gone."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="destination")


class ActionRefused(ApprovalError):
    """A click that is refused; the request is left exactly as it was."""


class TransitionRefused(ActionRefused):
    """The state table forbids the move; terminal states never change."""
