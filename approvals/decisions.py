"""One person's decision on one version of a request, as it is recorded for ever.

An approval is bound to the exact content (its hash), the approval round and the policy in force
when it was given. Storage keeps every record; whether a record still counts is decided here,
from those three bindings, so a changed request or policy can never inherit earlier approvals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Approval", "Decision"]


class Decision(StrEnum):
    """What the approver clicked."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Approval:
    """An approve or reject click as recorded; ``reason`` is required for rejections."""

    approver: str
    decision: Decision
    at: datetime
    policy_hash: str
    content_hash: str
    approval_round: int
    reason: str | None = None

    def is_current(self, *, content_hash: str, approval_round: int, policy_hash: str) -> bool:
        """Whether it was given on this content, in this round, under this policy.

        Anything else is void: it stays in the record but never counts.
        """
        return (
            self.content_hash == content_hash
            and self.approval_round == approval_round
            and self.policy_hash == policy_hash
        )
