"""A request's approval status in words: which tier applies, what is still needed, who can help.

Approvers should never have to read policy.toml to know whether their click matters, and a
requester should see at once why a request is stuck (nobody left in a group, approvals voided by
a new quote, a policy change). The lines are plain text; ``mention`` turns a user id into
whatever the caller shows (the Slack surface passes ``lambda u: f"<@{u}>"``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from approvals.evaluation import Evaluation, Outcome, TierChoice, join_or
from approvals.lifecycle import (
    Request,
    State,
    evaluate_request,
    format_moment,
    state_phrase,
)
from approvals.membership import Membership
from approvals.money import format_amount
from approvals.policy import Policy

__all__ = ["explain"]


def explain(
    request: Request,
    *,
    policy: Policy,
    membership: Membership,
    now: datetime,
    mention: Callable[[str], str] = str,
) -> list[str]:
    """Lines describing the request's standing under ``policy`` at ``now``."""
    evaluation = evaluate_request(request, policy=policy, membership=membership)
    lines: list[str] = []
    if evaluation.choice is not None:
        lines.append(_tier_line(request, evaluation.choice))
    elif evaluation.blocked_reason is not None:
        lines.append(f"This request no longer fits the policy: {evaluation.blocked_reason}.")
    lines.extend(_decision_lines(evaluation, policy, mention))
    if request.state is not State.PENDING_APPROVAL:
        lines.append(f"This request {state_phrase(request.state)}.")
    if request.note and not evaluation.rejections:
        lines.append(f"{request.note}.")
    if request.state is not State.PENDING_APPROVAL:
        return lines
    lines.extend(_pending_lines(request, evaluation, mention, now))
    return lines


def _tier_line(request: Request, choice: TierChoice) -> str:
    content = request.content
    unit = content.coin_name
    tier = choice.tier
    head = f"Tier {tier.name!r} applies ({tier.describe()})"
    if choice.escalated:
        return (
            f"{head}: {content.destination} is not on the {unit} allowlist for chain "
            f"{content.chain_id}, so it needs more than tier {choice.by_amount.name!r}, which "
            "its amount alone would need."
        )
    amount = format_amount(content.amount)
    span = (
        f"up to {format_amount(choice.coin.upper_bound(tier))}"
        if tier.above == 0
        else f"above {format_amount(tier.above)}"
    )
    listed = f" to {choice.listed.label}" if choice.listed is not None else ""
    return f"{head}: {amount} {unit}{listed} is {span} {unit}."


def _decision_lines(
    evaluation: Evaluation, policy: Policy, mention: Callable[[str], str]
) -> list[str]:
    lines: list[str] = []
    if evaluation.counted:
        names = ", ".join(f"{mention(a.approver)} ({group})" for a, group in evaluation.counted)
        lines.append(f"Approvals that count: {names}.")
    else:
        lines.append("No approval counts yet.")
    if evaluation.surplus:
        names = ", ".join(mention(a.approver) for a in evaluation.surplus)
        lines.append(f"Also approved, beyond what the tier needs: {names}.")
    for rejection in evaluation.rejections:
        lines.append(f"Rejected by {mention(rejection.approver)}: {rejection.reason or ''}".strip())
    if evaluation.ignored:
        names = ", ".join(
            f"{mention(i.approval.approver)} ({i.reason})" for i in evaluation.ignored
        )
        lines.append(f"Not counted: {names}.")
    if evaluation.voided:
        count = len(evaluation.voided)
        lines.append(
            f"{count} earlier decision{'' if count == 1 else 's'} no longer "
            f"count{'s' if count == 1 else ''}: the request changed, was sent back for approval, "
            "or the policy changed since."
        )
    if evaluation.rejections and not policy.one_reject_ends:
        lines.append("Rejections are recorded but do not end a request under this policy.")
    return lines


def _pending_lines(
    request: Request, evaluation: Evaluation, mention: Callable[[str], str], now: datetime
) -> list[str]:
    lines: list[str] = []
    if evaluation.outcome is Outcome.PENDING:
        needed = " and ".join(f"{s.missing} more from {s.group}" for s in evaluation.shortfalls)
        lines.append(f"Still needed: {needed}.")
        if evaluation.may_approve:
            names = ", ".join(mention(user) for user in evaluation.may_approve)
            lines.append(f"Who may still approve: {names}.")
        else:
            groups = join_or([s.group for s in evaluation.shortfalls])
            lines.append(
                f"Nobody left in {groups} can approve, so the policy cannot be met until the "
                "group changes; cancel the request or ask a treasury lead."
            )
    if now >= request.expires_at:
        lines.append(
            f"The approval window closed at {format_moment(request.expires_at)}; the request "
            "will be marked expired."
        )
    else:
        lines.append(f"Approvals close at {format_moment(request.expires_at)}.")
    return lines
