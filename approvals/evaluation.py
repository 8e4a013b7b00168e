"""Whether a request is approved: which tier applies and whether its quorum is met.

Only current approvals count (same content hash, round and policy hash). Each approver counts
once, for one group: "2 of treasury and 1 of finance-leads" needs three different people even if
someone is in both groups, so approvers are assigned to the tier's slots by a maximum bipartite
matching rather than counted per group. The requester never counts unless the policy says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from approvals.content import WithdrawalContent
from approvals.decisions import Approval, Decision
from approvals.membership import Membership
from approvals.money import format_amount
from approvals.policy import AllowedDestination, CoinPolicy, Policy, Tier, Unlisted
from approvals.refusals import DraftRefused

__all__ = [
    "Evaluation",
    "Ignored",
    "Outcome",
    "Shortfall",
    "TierChoice",
    "choose_tier",
    "coin_policy",
    "evaluate",
    "join_or",
]


class Outcome(StrEnum):
    """The verdict on the current approvals."""

    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class TierChoice:
    """The tier a withdrawal needs and why: by amount, or raised for an unlisted destination."""

    coin: CoinPolicy
    tier: Tier
    by_amount: Tier
    listed: AllowedDestination | None

    @property
    def escalated(self) -> bool:
        """Whether the destination, not the amount, decided the tier."""
        return self.tier != self.by_amount


@dataclass(frozen=True, slots=True)
class Shortfall:
    """``missing`` more approvals are needed from ``group``."""

    group: str
    missing: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """A current decision that does not count, with the reason in words."""

    approval: Approval
    reason: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The verdict plus everything needed to explain it.

    ``counted`` pairs each counting approval with the group it fills a slot of; ``surplus`` are
    valid approvals the quorum did not need; ``voided`` were given on other content, in an earlier
    round or under another policy; ``may_approve`` are the people whose approval would bring the
    request closer to the quorum; ``eligible`` are the groups whose members can count (every
    approver group while the request is blocked, so they can still reject it).
    """

    outcome: Outcome
    choice: TierChoice | None
    blocked_reason: str | None
    counted: tuple[tuple[Approval, str], ...]
    surplus: tuple[Approval, ...]
    rejections: tuple[Approval, ...]
    ignored: tuple[Ignored, ...]
    voided: tuple[Approval, ...]
    shortfalls: tuple[Shortfall, ...]
    may_approve: tuple[str, ...]
    eligible: tuple[str, ...]


def choose_tier(policy: Policy, content: WithdrawalContent) -> TierChoice:
    """The tier for this content, or a refusal when the policy does not allow it at all.

    Checks what depends only on the content and the policy (coin, min/max, allowlist), so it is
    applied both to a new draft and again whenever the request is evaluated.
    """
    coin = coin_policy(policy, content.coin_name)
    unit = content.coin_name
    amount = content.amount
    if amount > coin.max_amount:
        raise DraftRefused(
            f"{format_amount(amount)} {unit} is above the policy maximum of "
            f"{format_amount(coin.max_amount)} {unit} per withdrawal; split it or ask a treasury "
            "lead to change the policy",
            field="amount",
        )
    if coin.min_amount is not None and amount < coin.min_amount:
        raise DraftRefused(
            f"{format_amount(amount)} {unit} is below the policy minimum of "
            f"{format_amount(coin.min_amount)} {unit} per withdrawal",
            field="amount",
        )
    by_amount = coin.tier_for_amount(amount)
    listed = coin.listed(content.chain_id, content.destination)
    if listed is not None:
        return TierChoice(coin, by_amount, by_amount, listed)
    if coin.unlisted is Unlisted.REFUSE or coin.escalate_to is None:
        raise DraftRefused(
            f"{content.destination} is not on the {unit} allowlist for chain {content.chain_id}, "
            "and the policy refuses other destinations; ask a treasury lead to add it to the "
            "policy",
            field="destination",
        )
    escalated = coin.tier_named(coin.escalate_to)
    tier = max(by_amount, escalated, key=coin.tier_index)
    return TierChoice(coin, tier, by_amount, None)


def coin_policy(policy: Policy, coin: str) -> CoinPolicy:
    """The policy's section for ``coin``; a coin the policy does not name is refused."""
    found = policy.coin(coin)
    if found is None:
        allowed = ", ".join(c.coin for c in policy.coins)
        raise DraftRefused(
            f"The approval policy does not allow withdrawing {coin}; it allows {allowed}",
            field="coin",
        )
    return found


def evaluate(
    *,
    requester: str,
    content: WithdrawalContent,
    approval_round: int,
    approvals: Sequence[Approval],
    policy: Policy,
    membership: Membership,
) -> Evaluation:
    """The verdict on ``approvals`` (in the order given) for this content, round and policy."""
    content_hash = content.hash
    current = [
        a
        for a in approvals
        if a.is_current(
            content_hash=content_hash, approval_round=approval_round, policy_hash=policy.hash
        )
    ]
    voided = tuple(
        a
        for a in approvals
        if not a.is_current(
            content_hash=content_hash, approval_round=approval_round, policy_hash=policy.hash
        )
    )
    try:
        choice: TierChoice | None = choose_tier(policy, content)
        blocked_reason = None
    except DraftRefused as err:
        choice, blocked_reason = None, err.message
    eligible = (
        tuple(req.group for req in choice.tier.requires)
        if choice is not None
        else tuple(group.name for group in policy.groups)
    )

    def excluded(user: str) -> bool:
        return user == requester and policy.requester_never_counts

    seen, ignored, rejections, candidates = _sort(current, eligible, membership, excluded)

    slots = [req.group for req in choice.tier.requires for _ in range(req.count)] if choice else []
    assignment = _match([a.approver for a in candidates], slots, membership)
    counted = tuple(
        (a, slots[assignment[a.approver]]) for a in candidates if a.approver in assignment
    )
    surplus = tuple(a for a in candidates if a.approver not in assignment)
    shortfalls = tuple(
        Shortfall(req.group, req.count - sum(1 for _, group in counted if group == req.group))
        for req in (choice.tier.requires if choice else ())
        if req.count > sum(1 for _, group in counted if group == req.group)
    )

    if rejections and policy.one_reject_ends:
        outcome = Outcome.REJECTED
    elif choice is None:
        outcome = Outcome.BLOCKED
    elif not shortfalls:
        outcome = Outcome.APPROVED
    else:
        outcome = Outcome.PENDING

    may_approve: tuple[str, ...] = ()
    if outcome is Outcome.PENDING:
        may_approve = _may_approve(
            eligible,
            [a.approver for a in candidates],
            slots,
            membership,
            counted=len(assignment),
            decided=lambda user: user in seen or excluded(user),
        )
    return Evaluation(
        outcome=outcome,
        choice=choice,
        blocked_reason=blocked_reason,
        counted=counted,
        surplus=surplus,
        rejections=tuple(rejections),
        ignored=tuple(ignored),
        voided=voided,
        shortfalls=shortfalls,
        may_approve=may_approve,
        eligible=eligible,
    )


def join_or(groups: Sequence[str]) -> str:
    """Group names in a sentence: "treasury", "treasury or finance-leads"."""
    if len(groups) == 1:
        return groups[0]
    return f"{', '.join(groups[:-1])} or {groups[-1]}"


def _match(
    approvers: Sequence[str], slots: Sequence[str], membership: Membership
) -> dict[str, int]:
    """Maximum matching of approvers to slots (Kuhn's augmenting paths), earliest first."""
    owner: dict[int, str] = {}

    def assign(approver: str, visited: set[int]) -> bool:
        for slot, group in enumerate(slots):
            if slot in visited or not membership.in_group(approver, group):
                continue
            visited.add(slot)
            if slot not in owner or assign(owner[slot], visited):
                owner[slot] = approver
                return True
        return False

    for approver in approvers:
        assign(approver, set())
    return {approver: slot for slot, approver in owner.items()}


def _may_approve(
    eligible: Sequence[str],
    candidates: list[str],
    slots: list[str],
    membership: Membership,
    *,
    counted: int,
    decided: Callable[[str], bool],
) -> tuple[str, ...]:
    """Everyone whose approval would fill one more slot, of those who have not decided yet."""
    pool = sorted(
        {user for group in eligible for user in membership.groups.get(group, frozenset())}
    )
    return tuple(
        user
        for user in pool
        if not decided(user) and len(_match([*candidates, user], slots, membership)) > counted
    )


def _sort(
    current: Sequence[Approval],
    eligible: Sequence[str],
    membership: Membership,
    excluded: Callable[[str], bool],
) -> tuple[set[str], list[Ignored], list[Approval], list[Approval]]:
    """Who decided, and each current decision as ignored (and why), a rejection or a candidate.

    Only an approver's first decision on this version counts.
    """
    seen: set[str] = set()
    ignored: list[Ignored] = []
    rejections: list[Approval] = []
    candidates: list[Approval] = []
    for approval in current:
        who = approval.approver
        if who in seen:
            ignored.append(Ignored(approval, "already decided on this version"))
        elif excluded(who):
            ignored.append(Ignored(approval, "drafted the request"))
        elif not any(membership.in_group(who, group) for group in eligible):
            ignored.append(Ignored(approval, f"not in {join_or(eligible)}"))
        elif approval.decision is Decision.REJECT:
            rejections.append(approval)
        else:
            candidates.append(approval)
        seen.add(who)
    return seen, ignored, rejections, candidates
