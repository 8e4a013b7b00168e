"""Who is in which policy group right now, with Slack user-group handles resolved when asked.

Commands and reads ask the same :class:`Members`, so a card shows exactly the people a click
would count. Resolution fails closed: a handle Slack does not know refuses the command that
needs it (``approvals.refusals.UnresolvedHandle``); a read, which decides nothing, draws the
card with that group empty instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from approvals.membership import Membership, resolve_membership
from approvals.policy import Policy
from approvals.refusals import ApprovalError

__all__ = ["Handles", "Members"]

# Slack user-group handles -> the user ids in each (``bot.slack.directory.UserGroups``).
Handles = Callable[[Collection[str]], Mapping[str, Collection[str]]]


class Members:
    """The policy's groups over one handle resolver."""

    def __init__(self, policy: Policy, handles: Handles) -> None:
        self.policy = policy
        self._handles = handles

    def resolve(self) -> Membership:
        """Every group with its handles resolved through Slack; refuses an unknown handle."""
        names = self.policy.handles()
        handles = self._handles(names) if names else {}
        return resolve_membership(self.policy, handles)

    def resolve_or_empty(self) -> Membership:
        """As :meth:`resolve`, with an unresolvable handle's group drawn empty (reads only)."""
        try:
            return self.resolve()
        except ApprovalError:
            return resolve_membership(self.policy, dict.fromkeys(self.policy.handles(), ()))
