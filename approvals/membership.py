"""Who is in which group right now: the policy's members with user-group handles resolved.

The policy may name Slack user groups (``@treasury``); only the bot can ask Slack who is in them.
It passes the answer in as a plain mapping, and everything downstream deals in user ids only.
Resolution fails closed: a handle the bot could not resolve raises instead of counting as empty
or as anyone, so nobody's approval counts on a guess.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from approvals.policy import Policy, handle_name, is_handle
from approvals.refusals import UnresolvedHandle

__all__ = ["Membership", "resolve_membership"]


@dataclass(frozen=True, slots=True)
class Membership:
    """User ids of the requester group and of each approver group, by group name."""

    requesters: frozenset[str]
    groups: Mapping[str, frozenset[str]]

    def in_group(self, user: str, group: str) -> bool:
        """Whether ``user`` is a member of the approver group ``group``."""
        return user in self.groups.get(group, frozenset())

    def groups_of(self, user: str) -> tuple[str, ...]:
        """The approver groups ``user`` belongs to, in policy order."""
        return tuple(name for name, members in self.groups.items() if user in members)


def resolve_membership(policy: Policy, handles: Mapping[str, Collection[str]]) -> Membership:
    """Expand every ``@handle`` through ``handles`` (keyed by handle without ``@``)."""

    def expand(members: Collection[str]) -> frozenset[str]:
        users: set[str] = set()
        for member in members:
            if not is_handle(member):
                users.add(member)
                continue
            name = handle_name(member)
            if name not in handles:
                raise UnresolvedHandle(name)
            users.update(handles[name])
        return frozenset(users)

    return Membership(
        requesters=expand(policy.requesters),
        groups={group.name: expand(group.members) for group in policy.groups},
    )
