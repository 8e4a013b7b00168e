"""The request lifecycle: DESIGN.md's state table as data, and the only functions that move it.

Every move a request can make is a row of ``TRANSITIONS``; ``next_state`` refuses anything else,
so terminal states (rejected, cancelled, expired, failed, completed, quote refused) never
change. The functions below are the transitions people and workers cause. Each takes the request
as it is stored plus the time and inputs it needs, checks who may do what, and returns the new
request; a refusal raises an ``ActionRefused`` whose message is for the person who clicked, and
leaves the request as it was. Storage applies one of these per transaction.

A cross-chain draft stored by a process that cannot fetch the LP quote (it does not hold the
account key) waits in AWAITING_QUOTE, unapprovable, until the worker fills the quote in
(``quote_received``) or edgeX refuses to quote it (``quote_refused``, ending in QUOTE_REFUSED:
a state of its own, since nothing was approved, signed or sent, which FAILED would suggest).

Approvals belong to a round. A new round starts whenever what was approved stops holding (the
content changed on a re-quote, or the re-check before signing failed); it voids every earlier
approval, even if the content later returns to a value approved before, and opens a fresh
approval window.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from approvals.content import Kind, WithdrawalContent
from approvals.decisions import Approval, Decision
from approvals.drafts import (
    Draft,
    check_daily_limit,
    check_draft,
    quote_content,
    requote_content,
)
from approvals.evaluation import Evaluation, Outcome, evaluate, join_or
from approvals.membership import Membership
from approvals.metadata import ExchangeMetadata, Quote
from approvals.money import format_amount
from approvals.policy import Policy, format_duration
from approvals.refusals import ActionRefused, DraftRefused, TransitionRefused

__all__ = [
    "ABSENCE_QUORUM",
    "ABSENCE_WAIT",
    "EXCHANGE_TRIGGERS",
    "TERMINAL",
    "TRANSITIONS",
    "Request",
    "State",
    "Transition",
    "Trigger",
    "absence_confirmers",
    "begin_submission",
    "cancel",
    "check_absence_wait",
    "confirm_absent",
    "decide",
    "evaluate_request",
    "expire",
    "format_moment",
    "next_state",
    "open_checked_request",
    "open_request",
    "quote_received",
    "quote_refused",
    "record_exchange_outcome",
    "reminder_due_at",
    "requote",
    "state_phrase",
]


class State(StrEnum):
    """Internal states; the exchange's own status is kept beside them by storage."""

    AWAITING_QUOTE = "awaiting_quote"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    FAILED = "failed"
    NEEDS_RECONCILIATION = "needs_reconciliation"
    COMPLETED = "completed"
    QUOTE_REFUSED = "quote_refused"


class Trigger(StrEnum):
    """What happened; together with the current state it selects one row of the table."""

    DRAFT_STORED = "draft_stored"
    DRAFT_STORED_UNQUOTED = "draft_stored_unquoted"
    QUOTED = "quoted"
    QUOTE_REFUSED = "quote_refused"
    POLICY_MET = "policy_met"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    WINDOW_PASSED = "window_passed"
    REQUOTED = "requoted"
    RECHECK_FAILED = "recheck_failed"
    SIGNED = "signed"
    EXCHANGE_ACCEPTED = "exchange_accepted"
    FIRST_SEND_REFUSED = "first_send_refused"
    OUTCOME_UNKNOWN = "outcome_unknown"
    MATCHED_AT_EXCHANGE = "matched_at_exchange"
    CONFIRMED_ABSENT = "confirmed_absent"
    EXCHANGE_COMPLETED = "exchange_completed"
    EXCHANGE_FAILED = "exchange_failed"


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the state table; ``source`` ``None`` is a request not yet stored."""

    source: State | None
    trigger: Trigger
    target: State
    when: str


_S, _T = State, Trigger
# Distinct approvers who must confirm that edgeX never received a withdrawal before it fails.
ABSENCE_QUORUM = 2
# How long after a send's outcome became unknown people may start confirming it absent: edgeX
# can list a withdrawal in its order history some minutes after it accepted it, and the worker
# keeps searching that history meanwhile. A confirmation given too early invites a duplicate.
ABSENCE_WAIT = timedelta(minutes=15)
TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, _T.DRAFT_STORED, _S.PENDING_APPROVAL, "a valid draft is stored"),
    Transition(
        None,
        _T.DRAFT_STORED_UNQUOTED,
        _S.AWAITING_QUOTE,
        "a cross draft valid in every check but its LP quote is stored by a process without "
        "the key",
    ),
    Transition(
        _S.AWAITING_QUOTE,
        _T.QUOTED,
        _S.PENDING_APPROVAL,
        "the worker fetched an LP quote that serves the draft; the approval window opens",
    ),
    Transition(
        _S.AWAITING_QUOTE,
        _T.QUOTE_REFUSED,
        _S.QUOTE_REFUSED,
        "edgeX refused to quote, or its quote cannot serve the draft (amount above the LP "
        "maximum, fee rule)",
    ),
    Transition(_S.AWAITING_QUOTE, _T.CANCELLED, _S.CANCELLED, "the requester cancels"),
    Transition(
        _S.AWAITING_QUOTE,
        _T.WINDOW_PASSED,
        _S.EXPIRED,
        "no quote arrived within the draft's approval window",
    ),
    Transition(
        _S.PENDING_APPROVAL,
        _T.POLICY_MET,
        _S.APPROVED,
        "the policy is met on the current content hash",
    ),
    Transition(_S.PENDING_APPROVAL, _T.REJECTED, _S.REJECTED, "a reject (with reason)"),
    Transition(_S.PENDING_APPROVAL, _T.CANCELLED, _S.CANCELLED, "the requester cancels"),
    Transition(_S.PENDING_APPROVAL, _T.WINDOW_PASSED, _S.EXPIRED, "the approval window passes"),
    Transition(
        _S.PENDING_APPROVAL,
        _T.REQUOTED,
        _S.PENDING_APPROVAL,
        "a new LP quote changed the content; approvals void",
    ),
    Transition(
        _S.APPROVED,
        _T.REQUOTED,
        _S.PENDING_APPROVAL,
        "a new LP quote changed the content; approvals void",
    ),
    Transition(
        _S.APPROVED,
        _T.RECHECK_FAILED,
        _S.PENDING_APPROVAL,
        "re-check before signing fails (quote fee above the approved cap, limit, policy "
        "changed); approvals void",
    ),
    Transition(_S.APPROVED, _T.SIGNED, _S.SUBMITTING, "signed body stored (one transaction)"),
    Transition(
        _S.SUBMITTING, _T.EXCHANGE_ACCEPTED, _S.SUBMITTED, "edgeX returned the withdrawal id"
    ),
    Transition(
        _S.SUBMITTING,
        _T.FIRST_SEND_REFUSED,
        _S.FAILED,
        "edgeX answered the first send with an error (code and message kept)",
    ),
    Transition(
        _S.SUBMITTING,
        _T.OUTCOME_UNKNOWN,
        _S.NEEDS_RECONCILIATION,
        "the outcome is unknown and resending is no longer safe",
    ),
    Transition(
        _S.NEEDS_RECONCILIATION,
        _T.MATCHED_AT_EXCHANGE,
        _S.SUBMITTED,
        "matched at the exchange",
    ),
    Transition(
        _S.NEEDS_RECONCILIATION,
        _T.CONFIRMED_ABSENT,
        _S.FAILED,
        "confirmed absent by two approvers",
    ),
    Transition(
        _S.SUBMITTED,
        _T.EXCHANGE_COMPLETED,
        _S.COMPLETED,
        "the exchange reached a terminal success status",
    ),
    Transition(
        _S.SUBMITTED,
        _T.EXCHANGE_FAILED,
        _S.FAILED,
        "the exchange reached a terminal failure status",
    ),
)
TERMINAL: frozenset[State] = frozenset(
    {
        State.REJECTED,
        State.CANCELLED,
        State.EXPIRED,
        State.FAILED,
        State.COMPLETED,
        State.QUOTE_REFUSED,
    }
)
# Triggers that come from the exchange and carry no person's decision.
EXCHANGE_TRIGGERS: frozenset[Trigger] = frozenset(
    {
        Trigger.EXCHANGE_ACCEPTED,
        Trigger.FIRST_SEND_REFUSED,
        Trigger.OUTCOME_UNKNOWN,
        Trigger.MATCHED_AT_EXCHANGE,
        Trigger.EXCHANGE_COMPLETED,
        Trigger.EXCHANGE_FAILED,
    }
)

_PHRASE = {
    State.AWAITING_QUOTE: "is still waiting for its LP quote",
    State.QUOTE_REFUSED: "was refused a quote by edgeX",
    State.PENDING_APPROVAL: "is still waiting for approvals",
    State.APPROVED: "is already approved",
    State.REJECTED: "was rejected",
    State.CANCELLED: "was cancelled",
    State.EXPIRED: "expired before it was approved",
    State.SUBMITTING: "is being sent to edgeX",
    State.SUBMITTED: "was sent to edgeX",
    State.FAILED: "failed",
    State.NEEDS_RECONCILIATION: "is being reconciled with edgeX",
    State.COMPLETED: "is complete",
}
_VERB = {
    Trigger.DRAFT_STORED: "stored as a new draft",
    Trigger.DRAFT_STORED_UNQUOTED: "stored as a new draft",
    Trigger.QUOTED: "given its LP quote",
    Trigger.QUOTE_REFUSED: "refused its LP quote",
    Trigger.POLICY_MET: "approved",
    Trigger.REJECTED: "rejected",
    Trigger.CANCELLED: "cancelled",
    Trigger.WINDOW_PASSED: "expired",
    Trigger.REQUOTED: "re-quoted",
    Trigger.RECHECK_FAILED: "sent back for approval",
    Trigger.SIGNED: "signed and sent",
    Trigger.EXCHANGE_ACCEPTED: "marked as accepted by edgeX",
    Trigger.FIRST_SEND_REFUSED: "marked as refused by edgeX",
    Trigger.OUTCOME_UNKNOWN: "marked for reconciliation",
    Trigger.MATCHED_AT_EXCHANGE: "matched at edgeX",
    Trigger.CONFIRMED_ABSENT: "confirmed absent at edgeX",
    Trigger.EXCHANGE_COMPLETED: "marked as completed",
    Trigger.EXCHANGE_FAILED: "marked as failed at edgeX",
}


def next_state(source: State | None, trigger: Trigger) -> State:
    """The state ``trigger`` leads to from ``source``, or a refusal fit to show a person."""
    for row in TRANSITIONS:
        if row.source == source and row.trigger == trigger:
            return row.target
    if source is None:
        raise TransitionRefused(f"A new request cannot be {_VERB[trigger]}")
    raise TransitionRefused(f"This request {_PHRASE[source]}, so it cannot be {_VERB[trigger]}")


@dataclass(frozen=True, slots=True)
class Request:
    """A withdrawal request as stored: content, state, approval round and every decision.

    ``decisions`` holds every approve and reject ever recorded, voided ones included, in the
    order they were made; ``note`` says why the last transition happened (a reject reason, why a
    re-check sent it back, the exchange's error) for the thread and the audit log.
    """

    requester: str
    content: WithdrawalContent
    state: State
    drafted_at: datetime
    round_opened_at: datetime
    expires_at: datetime
    approval_round: int = 1
    decisions: tuple[Approval, ...] = ()
    note: str | None = None

    def __post_init__(self) -> None:
        awaiting = self.state is State.AWAITING_QUOTE
        if awaiting and self.content.quoted:
            raise ValueError("a request waiting for its quote has no quote yet")
        if not self.content.quoted and not (awaiting or self.state in TERMINAL):
            raise ValueError(f"a request {self.state.value} must have its LP quote")

    @property
    def content_hash(self) -> str:
        """The hash current approvals must carry."""
        return self.content.hash

    @property
    def terminal(self) -> bool:
        """Whether nothing can ever happen to this request again."""
        return self.state in TERMINAL


def open_request(
    draft: Draft,
    *,
    requester: str,
    exchange: ExchangeMetadata,
    policy: Policy,
    membership: Membership,
    withdrawn_in_window: Decimal,
    now: datetime,
) -> Request:
    """A new request, if the draft passes every check of ``validate_draft``.

    It waits for approval, or, a cross draft without a quote, for its quote; the approval window
    is counted from now either way (``quote_received`` says why it restarts with the quote).
    """
    content = check_draft(
        draft, requester=requester, exchange=exchange, policy=policy, membership=membership
    )
    return open_checked_request(
        content,
        requester=requester,
        policy=policy,
        withdrawn_in_window=withdrawn_in_window,
        now=now,
    )


def open_checked_request(
    content: WithdrawalContent,
    *,
    requester: str,
    policy: Policy,
    withdrawn_in_window: Decimal,
    now: datetime,
) -> Request:
    """A new request for content ``check_draft`` returned, once the daily limit has room."""
    check_daily_limit(policy, content, withdrawn_in_window)
    trigger = Trigger.DRAFT_STORED if content.quoted else Trigger.DRAFT_STORED_UNQUOTED
    return Request(
        requester=requester,
        content=content,
        state=next_state(None, trigger),
        drafted_at=now,
        round_opened_at=now,
        expires_at=now + policy.approval_expiry,
    )


def evaluate_request(request: Request, *, policy: Policy, membership: Membership) -> Evaluation:
    """The verdict on the request's decisions under ``policy`` as it is now."""
    return evaluate(
        requester=request.requester,
        content=request.content,
        approval_round=request.approval_round,
        approvals=request.decisions,
        policy=policy,
        membership=membership,
    )


def decide(
    request: Request,
    *,
    approver: str,
    decision: Decision,
    policy: Policy,
    membership: Membership,
    now: datetime,
    reason: str | None = None,
) -> Request:
    """Record an approve or reject click and move the request if the policy is now decided.

    Refused (with a message for ``approver``) when the request is no longer waiting, its window
    has closed, the approver drafted it, already decided on this version, or is not in a group
    that approves it, or a rejection gives no reason.
    """
    noun = "approval" if decision is Decision.APPROVE else "rejection"
    verb = "approved" if decision is Decision.APPROVE else "rejected"
    if request.state is not State.PENDING_APPROVAL:
        raise TransitionRefused(f"This request {_PHRASE[request.state]}, so it cannot be {verb}")
    if now >= request.expires_at:
        raise ActionRefused(
            "The approval window of this request closed at "
            f"{format_moment(request.expires_at)}, so it can no longer be {verb}"
        )
    if approver == request.requester:
        if decision is Decision.REJECT:
            raise ActionRefused(
                "You drafted this request; to withdraw it, use Cancel instead of Reject"
            )
        if policy.requester_never_counts:
            raise ActionRefused("You drafted this request, so your approval cannot count")
    earlier = next(
        (
            a
            for a in request.decisions
            if a.approver == approver
            and a.is_current(
                content_hash=request.content_hash,
                approval_round=request.approval_round,
                policy_hash=policy.hash,
            )
        ),
        None,
    )
    if earlier is not None:
        done = "approved" if earlier.decision is Decision.APPROVE else "rejected"
        raise ActionRefused(f"You already {done} this version of the request")
    before = evaluate_request(request, policy=policy, membership=membership)
    if decision is Decision.APPROVE and before.outcome is Outcome.BLOCKED:
        raise ActionRefused(
            f"This request no longer fits the approval policy: {before.blocked_reason}. It "
            "cannot be approved; cancel it and draft it again"
        )
    if not any(membership.in_group(approver, group) for group in before.eligible):
        groups = (
            "the group that approves" if len(before.eligible) == 1 else "the groups that approve"
        )
        raise ActionRefused(
            f"You are not in {join_or(before.eligible)}, {groups} this request, so your {noun} "
            "cannot count"
        )
    text = (reason or "").strip()
    if decision is Decision.REJECT and not text:
        raise ActionRefused("Please say why you reject this request; the requester will see it")
    recorded = Approval(
        approver=approver,
        decision=decision,
        at=now,
        policy_hash=policy.hash,
        content_hash=request.content_hash,
        approval_round=request.approval_round,
        reason=text or None,
    )
    updated = replace(request, decisions=(*request.decisions, recorded))
    after = evaluate_request(updated, policy=policy, membership=membership)
    if after.outcome is Outcome.REJECTED:
        return replace(
            updated,
            state=next_state(request.state, Trigger.REJECTED),
            note=f"Rejected by {approver}: {text}",
        )
    if after.outcome is Outcome.APPROVED:
        return replace(updated, state=next_state(request.state, Trigger.POLICY_MET), note=None)
    return updated


def cancel(request: Request, *, by: str) -> Request:
    """The requester withdraws a request that is still waiting for approvals or its quote."""
    if by != request.requester:
        raise ActionRefused("Only the person who drafted this request can cancel it")
    return replace(
        request,
        state=next_state(request.state, Trigger.CANCELLED),
        note=f"Cancelled by {by}",
    )


def expire(request: Request, *, now: datetime) -> Request:
    """Close a request whose approval window has passed without the policy being met."""
    target = next_state(request.state, Trigger.WINDOW_PASSED)
    if now < request.expires_at:
        raise ActionRefused(
            f"This request can still be approved until {format_moment(request.expires_at)}"
        )
    closed = format_moment(request.expires_at)
    note = (
        f"No LP quote arrived before the draft's window closed at {closed}"
        if request.state is State.AWAITING_QUOTE
        else f"The approval window closed at {closed}"
    )
    return replace(request, state=target, note=note)


def quote_received(request: Request, *, quote: Quote, policy: Policy, now: datetime) -> Request:
    """Fill the worker's LP quote into a draft waiting for it: approvable, or refused.

    The content is computed by ``quote_content``, exactly as for a draft quoted at once, so the
    hash approvers bind to does not depend on which process fetched the quote. A quote that
    cannot serve the draft (amount above the LP maximum, an unusable answer, no fee rule in the
    policy) ends the request in QUOTE_REFUSED with the reason, as the same draft quoted at once
    would have been refused.

    The approval window and the reminder delay restart now, when the request becomes
    approvable: approvers can act only from now on, and the window is theirs, so a slow quote
    must not eat into it. The draft's own window still bounds the wait for a quote (an
    AWAITING_QUOTE request past it expires and is never quoted), so a worker that comes back
    after an outage does not put long-stale drafts up for approval.
    """
    target = next_state(request.state, Trigger.QUOTED)
    if now >= request.expires_at:
        raise ActionRefused(
            f"The draft waited for its quote until its window closed at "
            f"{format_moment(request.expires_at)}, so it expires instead"
        )
    try:
        content = quote_content(request.content, quote, policy)
    except DraftRefused as err:
        return quote_refused(request, reason=err.message)
    return replace(
        request,
        content=content,
        state=target,
        round_opened_at=now,
        expires_at=now + policy.approval_expiry,
        note=None,
    )


def quote_refused(request: Request, *, reason: str) -> Request:
    """End a draft waiting for its quote that edgeX will not quote; ``reason`` says why."""
    return replace(
        request,
        state=next_state(request.state, Trigger.QUOTE_REFUSED),
        note=(
            f"No fee from edgeX, so it cannot be approved: {reason}"
            if request.content.kind is Kind.FLOW
            else f"No LP quote, so it cannot be approved: {reason}"
        ),
    )


def requote(request: Request, *, quote: Quote, policy: Policy, now: datetime) -> Request:
    """Apply a fresh LP quote to a cross withdrawal waiting for approval or approved.

    A quote that fits what was approved changes nothing; any other starts a new round (an
    approved request goes back to waiting), so approvals given on the old quote never count.
    A quote that cannot serve the request at all is refused and changes nothing either.
    """
    if request.state not in {State.PENDING_APPROVAL, State.APPROVED}:
        raise TransitionRefused(
            f"This request {_PHRASE[request.state]}, so its quote can no longer change"
        )
    content = requote_content(request.content, quote, policy)
    if content.hash == request.content_hash:
        return request
    return _new_round(
        request,
        Trigger.REQUOTED,
        content=content,
        policy=policy,
        now=now,
        note=_quote_note(content),
    )


def begin_submission(
    request: Request,
    *,
    policy: Policy,
    membership: Membership,
    quote: Quote | None,
    withdrawn_in_window: Decimal,
    now: datetime,
) -> Request:
    """The re-check right before signing: SUBMITTING if everything still holds, else a new round.

    Everything is checked again against the present: the policy (it may have changed, voiding
    approvals given under the old one), group membership, the age of the approvals (a freeze or
    an outage may have held the request long after people said yes), the rolling limit
    (``withdrawn_in_window`` excludes this request) and, for a cross withdrawal, the fresh
    ``quote`` the body will be signed with. The caller stores the signed body in the same
    transaction as the SUBMITTING state it gets back, and sends nothing in any other case.
    """
    target = next_state(request.state, Trigger.SIGNED)
    problems: list[str] = []
    evaluation = evaluate_request(request, policy=policy, membership=membership)
    if evaluation.outcome is not Outcome.APPROVED:
        problems.append(_why_not_approved(request, evaluation, policy))
    else:
        stale = _stale_approvals(evaluation, policy, now)
        if stale is not None:
            problems.append(stale)
    try:
        check_daily_limit(policy, request.content, withdrawn_in_window)
    except DraftRefused as err:
        problems.append(err.message)
    content = request.content
    if quote is None and content.fee_cap is not None:
        raise ValueError("a cross withdrawal is re-checked against a fresh quote")
    if quote is not None:
        try:
            content = requote_content(content, quote, policy)
        except DraftRefused as err:
            problems.append(err.message)
        if content.hash != request.content_hash:
            problems.append(_quote_note(content))
    if not problems:
        return replace(request, state=target, note=None)
    return _new_round(
        request,
        Trigger.RECHECK_FAILED,
        content=content,
        policy=policy,
        now=now,
        note="Sent back for approval before signing: " + "; ".join(problems),
    )


def record_exchange_outcome(
    request: Request, trigger: Trigger, *, note: str | None = None
) -> Request:
    """Move a submitted request on what the exchange said; ``note`` keeps its code and message."""
    if trigger not in EXCHANGE_TRIGGERS:
        raise ValueError(f"{trigger} is not an exchange outcome")
    return replace(request, state=next_state(request.state, trigger), note=note)


def absence_confirmers(
    request: Request, *, confirmers: Collection[str], policy: Policy, membership: Membership
) -> tuple[str, ...]:
    """Who of ``confirmers`` counts towards "absent at edgeX" now, in the order they confirmed.

    Members of a group the request's tier requires under ``policy`` as it is now, never the
    requester, each once: the people trusted to approve this withdrawal are the ones trusted to
    say edgeX never had it. A confirmer who has since left the groups no longer counts.
    """
    groups = evaluate_request(request, policy=policy, membership=membership).eligible
    counted: list[str] = []
    for user in confirmers:
        eligible = any(membership.in_group(user, group) for group in groups)
        if user != request.requester and eligible and user not in counted:
            counted.append(user)
    return tuple(counted)


def confirm_absent(
    request: Request,
    *,
    confirmer: str,
    earlier: Collection[str],
    policy: Policy,
    membership: Membership,
) -> Request:
    """One approver confirms that edgeX never received an unreconciled withdrawal.

    ``earlier`` are the people who confirmed before. The request is returned unchanged until
    ``ABSENCE_QUORUM`` distinct approvers (``absence_confirmers``) have confirmed, then FAILED.
    A wrong "absent" invites a second, duplicate withdrawal, so the confirmer must be eligible
    now, must not be the requester and must not have confirmed already; anything else is
    refused with the reason.
    """
    if request.state is not State.NEEDS_RECONCILIATION:
        raise TransitionRefused(
            f"This request {_PHRASE[request.state]}, so it no longer needs anyone to confirm "
            "that edgeX does not have it"
        )
    if confirmer == request.requester:
        raise ActionRefused(
            "You drafted this request, so you cannot confirm that edgeX does not have it; two "
            "approvers other than you must"
        )
    if confirmer in earlier:
        raise ActionRefused(
            "You already confirmed that edgeX does not have this withdrawal; another approver "
            "must confirm it too"
        )
    groups = evaluate_request(request, policy=policy, membership=membership).eligible
    if not any(membership.in_group(confirmer, group) for group in groups):
        raise ActionRefused(
            f"You are not in {join_or(groups)}, who approve this request, so you cannot "
            "confirm that edgeX does not have it"
        )
    counted = absence_confirmers(
        request, confirmers=(*earlier, confirmer), policy=policy, membership=membership
    )
    if len(counted) < ABSENCE_QUORUM:
        return request
    return replace(
        request,
        state=next_state(request.state, Trigger.CONFIRMED_ABSENT),
        note=f"Confirmed absent at edgeX by {' and '.join(counted)}",
    )


def check_absence_wait(*, unknown_since: datetime, now: datetime) -> None:
    """Refuse a confirmation of absence given before ``ABSENCE_WAIT`` has passed.

    Checked for every confirmer before their confirmation is recorded, so even the first of the
    two cannot be given while edgeX's order list may still be catching up.
    """
    allowed_from = unknown_since + ABSENCE_WAIT
    if now < allowed_from:
        raise ActionRefused(
            "edgeX can list a withdrawal in its order history some minutes after accepting it, "
            "and withdrawbot is still searching it: check the account history again and confirm "
            f"from {format_moment(allowed_from)}"
        )


def reminder_due_at(request: Request, policy: Policy) -> datetime | None:
    """When to remind approvers of a waiting request, if the policy wants reminders at all."""
    if request.state is not State.PENDING_APPROVAL or policy.reminder_after is None:
        return None
    due = request.round_opened_at + policy.reminder_after
    return due if due < request.expires_at else None


def _new_round(
    request: Request,
    trigger: Trigger,
    *,
    content: WithdrawalContent,
    policy: Policy,
    now: datetime,
    note: str,
) -> Request:
    return replace(
        request,
        content=content,
        state=next_state(request.state, trigger),
        approval_round=request.approval_round + 1,
        round_opened_at=now,
        expires_at=now + policy.approval_expiry,
        note=note,
    )


def _stale_approvals(evaluation: Evaluation, policy: Policy, now: datetime) -> str | None:
    """Why approvals are too old to sign on, or None.

    People approve what they see at that moment; the same window that bounds how long a quorum
    may take to gather also bounds how long a finished quorum stays good to sign on. It runs from
    the approval that completed the quorum (the newest counted one).
    """
    completed = max((approval.at for approval, _ in evaluation.counted), default=None)
    if completed is None or now - completed <= policy.approval_expiry:
        return None
    age = now - completed
    return (
        f"Approved {format_duration(age)} ago, longer than the policy's approval window of "
        f"{format_duration(policy.approval_expiry)}; approve again"
    )


def _quote_note(content: WithdrawalContent) -> str:
    cap = format_amount(content.fee_cap) if content.fee_cap is not None else "none"
    if content.kind is Kind.FLOW:
        return (
            f"edgeX's withdrawal fee rose above the approved cap (new fee cap {cap} "
            f"{content.coin_name}), so earlier approvals no longer count"
        )
    return (
        f"The cross-chain quote changed (LP account {content.lp_account_id}, fee cap {cap} "
        f"{content.coin_name}), so earlier approvals no longer count"
    )


def _why_not_approved(request: Request, evaluation: Evaluation, policy: Policy) -> str:
    if evaluation.blocked_reason is not None:
        return evaluation.blocked_reason
    if any(
        a.approval_round == request.approval_round and a.policy_hash != policy.hash
        for a in request.decisions
    ):
        return "The approval policy changed since the approvals were given"
    needed = ", ".join(f"{s.missing} more from {s.group}" for s in evaluation.shortfalls)
    return f"The approvals no longer meet the policy ({needed or 'a rejection was recorded'})"


def format_moment(moment: datetime) -> str:
    """A time as people read it in a message: "2025-01-02 10:00 UTC"."""
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def state_phrase(state: State) -> str:
    """The state as the end of a sentence starting "This request": "was rejected"."""
    return _PHRASE[state]
