"""The lifecycle: the state table, and every transition's checks and refusals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from approvals.decisions import Decision
from approvals.lifecycle import (
    ABSENCE_WAIT,
    EXCHANGE_TRIGGERS,
    TERMINAL,
    TRANSITIONS,
    Request,
    State,
    Trigger,
    absence_confirmers,
    begin_submission,
    cancel,
    check_absence_wait,
    confirm_absent,
    decide,
    evaluate_request,
    expire,
    next_state,
    quote_received,
    quote_refused,
    record_exchange_outcome,
    reminder_due_at,
    requote,
)
from approvals.metadata import CrossQuote
from approvals.policy import Policy
from approvals.refusals import ActionRefused, DraftRefused, TransitionRefused
from tests.approvals.helpers import (
    F1,
    O1,
    OUTSIDER,
    POLICY_TEXT,
    QUOTE,
    REQUESTER,
    T0,
    T1,
    T2,
    T3,
    UNLISTED,
    cross,
    membership,
    normal,
    policy,
    request,
)

LATER = T0 + timedelta(hours=1)

# DESIGN.md's table, (from, to); None is "(new)".
DESIGN_TABLE = {
    (None, State.PENDING_APPROVAL),
    (State.PENDING_APPROVAL, State.APPROVED),
    (State.PENDING_APPROVAL, State.REJECTED),
    (State.PENDING_APPROVAL, State.CANCELLED),
    (State.PENDING_APPROVAL, State.EXPIRED),
    (State.APPROVED, State.PENDING_APPROVAL),
    (State.APPROVED, State.SUBMITTING),
    (State.SUBMITTING, State.SUBMITTED),
    (State.SUBMITTING, State.FAILED),
    (State.SUBMITTING, State.NEEDS_RECONCILIATION),
    (State.NEEDS_RECONCILIATION, State.SUBMITTED),
    (State.NEEDS_RECONCILIATION, State.FAILED),
    (State.SUBMITTED, State.COMPLETED),
    (State.SUBMITTED, State.FAILED),
}


def _approve(req: Request, who: str, pol: Policy | None = None) -> Request:
    pol = pol or policy()
    return decide(
        req,
        approver=who,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=LATER,
    )


def _reject(req: Request, who: str, reason: str | None = "wrong wallet") -> Request:
    pol = policy()
    return decide(
        req,
        approver=who,
        decision=Decision.REJECT,
        policy=pol,
        membership=membership(pol),
        now=LATER,
        reason=reason,
    )


def _submitting(req: Request) -> Request:
    pol = policy()
    return begin_submission(
        req,
        policy=pol,
        membership=membership(pol),
        quote=QUOTE if req.content.fee_cap is not None else None,
        withdrawn_in_window=Decimal(0),
        now=LATER,
    )


# --- the table ----------------------------------------------------------------------------


# Beyond DESIGN.md: a cross draft stored where no quote can be fetched waits for the worker's.
AWAITING_QUOTE_ROWS = {
    (None, State.AWAITING_QUOTE),
    (State.AWAITING_QUOTE, State.PENDING_APPROVAL),
    (State.AWAITING_QUOTE, State.QUOTE_REFUSED),
    (State.AWAITING_QUOTE, State.CANCELLED),
    (State.AWAITING_QUOTE, State.EXPIRED),
}


def test_table_is_designs_plus_the_requote_self_loop_and_the_wait_for_a_quote() -> None:
    pairs = {(row.source, row.target) for row in TRANSITIONS}
    assert pairs - DESIGN_TABLE == {
        (State.PENDING_APPROVAL, State.PENDING_APPROVAL),
        *AWAITING_QUOTE_ROWS,
    }
    assert pairs >= DESIGN_TABLE


def test_table_is_deterministic_and_terminal_states_have_no_exit() -> None:
    keys = [(row.source, row.trigger) for row in TRANSITIONS]
    assert len(keys) == len(set(keys))
    assert not [row for row in TRANSITIONS if row.source in TERMINAL]
    reachable = {row.target for row in TRANSITIONS if row.source is None}
    for _ in TRANSITIONS:
        reachable |= {row.target for row in TRANSITIONS if row.source in reachable}
    assert reachable == set(State)


@pytest.mark.parametrize("state", sorted(TERMINAL))
@pytest.mark.parametrize("trigger", list(Trigger))
def test_terminal_states_never_change(state: State, trigger: Trigger) -> None:
    with pytest.raises(TransitionRefused, match=r"^This request "):
        next_state(state, trigger)


def test_refused_transition_speaks_to_people() -> None:
    with pytest.raises(TransitionRefused) as caught:
        next_state(State.REJECTED, Trigger.POLICY_MET)
    assert str(caught.value) == "This request was rejected, so it cannot be approved"


# --- drafting, approving, rejecting -------------------------------------------------------


def test_open_request() -> None:
    req = request()
    assert req.state is State.PENDING_APPROVAL
    assert (req.drafted_at, req.round_opened_at, req.expires_at) == (
        T0,
        T0,
        T0 + timedelta(hours=24),
    )
    assert (req.approval_round, req.decisions, req.note) == (1, (), None)
    with pytest.raises(DraftRefused, match="requester group"):
        request(requester=OUTSIDER)


def test_quorum_approves_and_records_every_binding() -> None:
    pol = policy()
    req = _approve(request(normal("20000")), T1)
    assert req.state is State.PENDING_APPROVAL
    req = _approve(req, T2)
    assert req.state is State.PENDING_APPROVAL
    req = _approve(req, F1)
    assert req.state is State.APPROVED
    assert [(a.approver, a.decision) for a in req.decisions] == [
        (T1, Decision.APPROVE),
        (T2, Decision.APPROVE),
        (F1, Decision.APPROVE),
    ]
    first = req.decisions[0]
    assert (first.at, first.policy_hash, first.content_hash, first.approval_round) == (
        LATER,
        pol.hash,
        req.content_hash,
        1,
    )


def test_reject_ends_the_request_with_its_reason() -> None:
    req = _reject(request(), T1)
    assert req.state is State.REJECTED
    assert req.note == "Rejected by UT1: wrong wallet"


REFUSED_CLICKS: dict[str, tuple[Callable[[], object], str]] = {
    "self-approval": (
        lambda: _approve(request(normal("100"), requester=T2), T2),
        "You drafted this request, so your approval cannot count",
    ),
    "self-rejection": (
        lambda: _reject(request(), REQUESTER),
        "You drafted this request; to withdraw it, use Cancel instead of Reject",
    ),
    "outsider": (
        lambda: _approve(request(), OUTSIDER),
        "You are not in treasury, the group that approves this request, so your approval "
        "cannot count",
    ),
    "outsider-large": (
        lambda: _reject(request(normal("20000")), OUTSIDER),
        "You are not in treasury or finance, the groups that approve this request, so your "
        "rejection cannot count",
    ),
    "finance-on-standard": (
        lambda: _approve(request(), F1),
        "You are not in treasury, the group that approves this request",
    ),
    "twice": (
        lambda: _approve(_approve(request(normal("20000")), T1), T1),
        "You already approved this version of the request",
    ),
    "reject-after-approve": (
        lambda: _reject(_approve(request(normal("20000")), T1), T1),
        "You already approved this version of the request",
    ),
    "reject-without-reason": (
        lambda: _reject(request(), T1, "  "),
        "Please say why you reject this request; the requester will see it",
    ),
    "approve-approved": (
        lambda: _approve(_approve(request(), T1), T2),
        "This request is already approved, so it cannot be approved",
    ),
    "approve-rejected": (
        lambda: _approve(_reject(request(), T1), T2),
        "This request was rejected, so it cannot be approved",
    ),
    "approve-cancelled": (
        lambda: _approve(cancel(request(), by=REQUESTER), T2),
        "This request was cancelled, so it cannot be approved",
    ),
    "approve-after-window": (
        lambda: _approve(replace(request(), expires_at=LATER), T1),
        "The approval window of this request closed at 2025-01-02 11:00 UTC, so it can no "
        "longer be approved",
    ),
    "cancel-by-someone-else": (
        lambda: cancel(request(), by=T1),
        "Only the person who drafted this request can cancel it",
    ),
    "cancel-approved": (
        lambda: cancel(_approve(request(), T1), by=REQUESTER),
        "This request is already approved, so it cannot be cancelled",
    ),
    "expire-too-early": (
        lambda: expire(request(), now=LATER),
        "This request can still be approved until 2025-01-03 10:00 UTC",
    ),
    "expire-approved": (
        lambda: expire(_approve(request(), T1), now=T0 + timedelta(days=2)),
        "This request is already approved, so it cannot be expired",
    ),
    "submit-pending": (
        lambda: _submitting(request()),
        "This request is still waiting for approvals, so it cannot be signed and sent",
    ),
    "requote-terminal": (
        lambda: requote(_reject(request(cross()), T1), quote=QUOTE, policy=policy(), now=LATER),
        "This request was rejected, so its quote can no longer change",
    ),
    "confirm-absent-requester": (
        lambda: confirm_absent(
            _unknown(), confirmer=REQUESTER, earlier=[], policy=policy(), membership=membership()
        ),
        "You drafted this request, so you cannot confirm that edgeX does not have it",
    ),
    "confirm-absent-twice": (
        lambda: confirm_absent(
            _unknown(), confirmer=T1, earlier=[T1], policy=policy(), membership=membership()
        ),
        "You already confirmed that edgeX does not have this withdrawal",
    ),
    "confirm-absent-outsider": (
        lambda: confirm_absent(
            _unknown(), confirmer=OUTSIDER, earlier=[], policy=policy(), membership=membership()
        ),
        "You are not in treasury, who approve this request, so you cannot confirm",
    ),
    "confirm-absent-other-tier-group": (
        lambda: confirm_absent(
            _unknown(), confirmer=F1, earlier=[T1], policy=policy(), membership=membership()
        ),
        "You are not in treasury, who approve this request",
    ),
    "confirm-absent-matched": (
        lambda: confirm_absent(
            record_exchange_outcome(_unknown(), Trigger.MATCHED_AT_EXCHANGE),
            confirmer=T1,
            earlier=[],
            policy=policy(),
            membership=membership(),
        ),
        "This request was sent to edgeX, so it no longer needs anyone to confirm",
    ),
}


@pytest.mark.parametrize(("action", "message"), REFUSED_CLICKS.values(), ids=REFUSED_CLICKS.keys())
def test_refused_clicks_say_why(action: Callable[[], object], message: str) -> None:
    with pytest.raises(ActionRefused) as caught:
        action()
    assert str(caught.value).startswith(message)


def test_blocked_request_cannot_be_approved_but_can_be_rejected() -> None:
    req = request(normal("5000"))
    stricter = policy(
        POLICY_TEXT.replace('max_amount = "250000"', 'max_amount = "4000"')
        .replace('daily_limit = "500000"', 'daily_limit = "4000"')
        .replace('above = "10000"', 'above = "1000"')
    )
    with pytest.raises(ActionRefused, match="no longer fits the approval policy"):
        _approve(req, T1, stricter)
    rejected = decide(
        req,
        approver=F1,
        decision=Decision.REJECT,
        policy=stricter,
        membership=membership(stricter),
        now=LATER,
        reason="over the new limit",
    )
    assert rejected.state is State.REJECTED


def test_cancel_and_expire() -> None:
    assert cancel(request(), by=REQUESTER).state is State.CANCELLED
    expired = expire(request(), now=T0 + timedelta(hours=24))
    assert expired.state is State.EXPIRED
    assert expired.note == "The approval window closed at 2025-01-03 10:00 UTC"


# --- quotes and the re-check before signing ----------------------------------------------


def test_requote_within_cap_changes_nothing() -> None:
    req = _approve(request(cross()), T1)
    assert req.state is State.APPROVED
    same = requote(req, quote=replace(QUOTE, fee=Decimal("2.5")), policy=policy(), now=LATER)
    assert same is req
    assert requote(req, quote=replace(QUOTE, lp_l2_key="0xABC"), policy=policy(), now=LATER) is req


@pytest.mark.parametrize(
    "quote",
    [
        replace(QUOTE, fee=Decimal("2.51")),
        replace(QUOTE, lp_account_id="556"),
        replace(QUOTE, lp_l2_key="0xabd"),
    ],
    ids=["fee-above-cap", "other-lp", "other-lp-key"],
)
def test_requote_that_changes_content_voids_approvals(quote: CrossQuote) -> None:
    approved = _approve(request(cross()), T1)
    later = T0 + timedelta(hours=30)
    moved = requote(approved, quote=quote, policy=policy(), now=later)
    assert moved.state is State.PENDING_APPROVAL
    assert moved.approval_round == 2
    assert moved.content_hash != approved.content_hash
    assert (moved.round_opened_at, moved.expires_at) == (later, later + timedelta(hours=24))
    assert moved.note is not None
    assert "earlier approvals no longer count" in moved.note
    # T1 may approve again, on the new content.
    pol = policy()
    again = decide(
        moved,
        approver=T1,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=later,
    )
    assert again.state is State.APPROVED


def test_content_returning_to_an_approved_value_does_not_revive_approvals() -> None:
    first = _approve(request(cross("20000")), T1)
    moved = requote(first, quote=replace(QUOTE, lp_account_id="556"), policy=policy(), now=LATER)
    back = requote(moved, quote=QUOTE, policy=policy(), now=LATER)
    assert back.content_hash == first.content_hash
    assert back.approval_round == 3
    again = _approve(back, T2)
    assert again.state is State.PENDING_APPROVAL  # T1's round-1 approval stays void


def test_requote_that_cannot_serve_is_refused_and_changes_nothing() -> None:
    req = request(cross())
    with pytest.raises(DraftRefused, match="liquidity provider can pay out"):
        requote(req, quote=replace(QUOTE, max_amount=Decimal("999")), policy=policy(), now=LATER)
    with pytest.raises(ValueError, match="only a cross withdrawal has a quote"):
        requote(request(), quote=QUOTE, policy=policy(), now=LATER)


def test_begin_submission_when_everything_holds() -> None:
    assert _submitting(_approve(request(), T1)).state is State.SUBMITTING
    assert _submitting(_approve(request(cross()), T1)).state is State.SUBMITTING


def test_begin_submission_sends_back_when_the_policy_changed() -> None:
    approved = _approve(request(), T1)
    changed = policy(POLICY_TEXT.replace('reminder_after = "4h"', 'reminder_after = "5h"'))
    back = begin_submission(
        approved,
        policy=changed,
        membership=membership(changed),
        quote=None,
        withdrawn_in_window=Decimal(0),
        now=LATER,
    )
    assert back.state is State.PENDING_APPROVAL
    assert back.approval_round == 2
    assert back.note == (
        "Sent back for approval before signing: The approval policy changed since the approvals "
        "were given"
    )


def test_begin_submission_sends_back_over_the_daily_limit() -> None:
    pol = policy()
    back = begin_submission(
        _approve(request(), T1),
        policy=pol,
        membership=membership(pol),
        quote=None,
        withdrawn_in_window=Decimal("499950"),
        now=LATER,
    )
    assert back.state is State.PENDING_APPROVAL
    assert back.note is not None
    assert "above the policy's daily limit of 500,000 USDT" in back.note


def test_begin_submission_sends_back_when_someone_left_the_group() -> None:
    pol = policy()
    approved = _approve(request(), O1)
    shrunk = replace(
        membership(pol), groups={**membership(pol).groups, "treasury": frozenset({T1})}
    )
    back = begin_submission(
        approved,
        policy=pol,
        membership=shrunk,
        quote=None,
        withdrawn_in_window=Decimal(0),
        now=LATER,
    )
    assert back.note == (
        "Sent back for approval before signing: The approvals no longer meet the policy "
        "(1 more from treasury)"
    )


def test_begin_submission_sends_back_approvals_older_than_the_window() -> None:
    """A finished quorum is good to sign on for the approval window, counted from its last vote."""
    pol = policy()
    approved = request(normal("20000"))  # the large tier: 2 of treasury and 1 of finance
    for who, hours in ((T2, 1), (O1, 2), (F1, 20)):
        approved = decide(
            approved,
            approver=who,
            decision=Decision.APPROVE,
            policy=pol,
            membership=membership(pol),
            now=T0 + timedelta(hours=hours),
        )
    assert approved.state is State.APPROVED

    def sign_at(now: datetime) -> Request:
        return begin_submission(
            approved,
            policy=pol,
            membership=membership(pol),
            quote=None,
            withdrawn_in_window=Decimal(0),
            now=now,
        )

    # 24 h after the approval that completed the quorum, not after the first one.
    assert sign_at(T0 + timedelta(hours=44)).state is State.SUBMITTING
    late = T0 + timedelta(hours=74, minutes=30)
    back = sign_at(late)
    assert back.state is State.PENDING_APPROVAL
    assert back.approval_round == approved.approval_round + 1
    assert back.round_opened_at == late
    assert back.expires_at == late + pol.approval_expiry
    assert back.note == (
        "Sent back for approval before signing: Approved 2 days 6 hours 30 minutes ago, longer "
        "than the policy's approval window of 24 hours; approve again"
    )
    assert evaluate_request(back, policy=pol, membership=membership(pol)).counted == ()


def test_begin_submission_sends_back_on_a_higher_fee_with_the_new_cap() -> None:
    pol = policy()
    approved = _approve(request(cross()), T1)
    back = begin_submission(
        approved,
        policy=pol,
        membership=membership(pol),
        quote=replace(QUOTE, fee=Decimal("3")),
        withdrawn_in_window=Decimal(0),
        now=LATER,
    )
    assert back.state is State.PENDING_APPROVAL
    assert back.content.fee_cap == Decimal("3.75")
    unusable = begin_submission(
        approved,
        policy=pol,
        membership=membership(pol),
        quote=replace(QUOTE, max_amount=Decimal(1)),
        withdrawn_in_window=Decimal(0),
        now=LATER,
    )
    assert unusable.state is State.PENDING_APPROVAL
    assert unusable.content == approved.content
    with pytest.raises(ValueError, match="fresh quote"):
        begin_submission(
            approved,
            policy=pol,
            membership=membership(pol),
            quote=None,
            withdrawn_in_window=Decimal(0),
            now=LATER,
        )


# --- after submission ---------------------------------------------------------------------


def test_exchange_outcomes() -> None:
    sent = _submitting(_approve(request(), T1))
    submitted = record_exchange_outcome(sent, Trigger.EXCHANGE_ACCEPTED)
    assert submitted.state is State.SUBMITTED
    assert record_exchange_outcome(submitted, Trigger.EXCHANGE_COMPLETED).state is State.COMPLETED
    failed = record_exchange_outcome(sent, Trigger.FIRST_SEND_REFUSED, note="code=BAD msg=no")
    assert (failed.state, failed.note) == (State.FAILED, "code=BAD msg=no")
    with pytest.raises(ValueError, match="is not an exchange outcome"):
        record_exchange_outcome(sent, Trigger.POLICY_MET)
    with pytest.raises(TransitionRefused):
        record_exchange_outcome(submitted, Trigger.EXCHANGE_ACCEPTED)
    assert Trigger.CONFIRMED_ABSENT not in EXCHANGE_TRIGGERS


def _unknown() -> Request:
    """A standard-tier request whose send had no clear answer."""
    sent = _submitting(_approve(request(), T1))
    return record_exchange_outcome(sent, Trigger.OUTCOME_UNKNOWN)


def test_reconciliation() -> None:
    unknown = _unknown()
    assert unknown.state is State.NEEDS_RECONCILIATION
    assert record_exchange_outcome(unknown, Trigger.MATCHED_AT_EXCHANGE).state is State.SUBMITTED
    pol, members = policy(), membership()
    first = confirm_absent(unknown, confirmer=T3, earlier=[], policy=pol, membership=members)
    assert first == unknown
    absent = confirm_absent(unknown, confirmer=T1, earlier=[T3], policy=pol, membership=members)
    assert absent.state is State.FAILED
    assert absent.note == "Confirmed absent at edgeX by UT3 and UT1"


def test_absence_may_be_confirmed_only_once_the_wait_is_over() -> None:
    """edgeX may list an accepted withdrawal late: nobody confirms it absent too early."""
    since = T0 + timedelta(hours=3)
    with pytest.raises(ActionRefused, match="confirm from 2025-01-02 13:15 UTC"):
        check_absence_wait(unknown_since=since, now=since + ABSENCE_WAIT - timedelta(seconds=1))
    check_absence_wait(unknown_since=since, now=since + ABSENCE_WAIT)


def test_absence_counts_only_current_approvers_of_the_tier() -> None:
    """Finance approves the large tier only; someone no longer in a group stops counting."""
    large = _unknown_large()
    pol, members = policy(), membership()
    both = confirm_absent(large, confirmer=F1, earlier=[T2], policy=pol, membership=members)
    assert both.state is State.FAILED
    assert absence_confirmers(
        large, confirmers=[T2, REQUESTER, OUTSIDER, T2, F1], policy=pol, membership=members
    ) == (T2, F1)
    without_t2 = policy(
        POLICY_TEXT.replace(f'treasury = ["{T1}", "{T2}", "@ops"]', f'treasury = ["{T1}", "@ops"]')
    )
    members = membership(without_t2)
    still = confirm_absent(large, confirmer=F1, earlier=[T2], policy=without_t2, membership=members)
    assert still == large


def _unknown_large() -> Request:
    req = _approve(_approve(_approve(request(normal("20000")), T1), T3), F1)
    return record_exchange_outcome(_submitting(req), Trigger.OUTCOME_UNKNOWN)


def test_reminders() -> None:
    pol = policy()
    req = request()
    assert reminder_due_at(req, pol) == T0 + timedelta(hours=4)
    assert reminder_due_at(_approve(req, T1), pol) is None
    quiet = policy(POLICY_TEXT.replace('reminder_after = "4h"\n', ""))
    assert reminder_due_at(req, quiet) is None


def test_unlisted_destination_needs_three_people() -> None:
    req = request(normal("100", UNLISTED))
    req = _approve(_approve(req, T1), T2)
    assert req.state is State.PENDING_APPROVAL
    assert _approve(req, O1).state is State.APPROVED


# --- waiting for the worker's quote -------------------------------------------------------------


QUOTED_AT = T0 + timedelta(minutes=20)


def _unquoted(amount: str = "1000", *, now: datetime = T0) -> Request:
    return request(cross(amount=amount, quote=None), now=now)


def test_a_cross_draft_without_a_quote_waits_for_it_and_cannot_be_approved() -> None:
    waiting = _unquoted()
    assert waiting.state is State.AWAITING_QUOTE
    assert not waiting.content.quoted
    assert waiting.content.erc20_address is not None
    assert waiting.expires_at == T0 + policy().approval_expiry
    assert reminder_due_at(waiting, policy()) is None
    with pytest.raises(TransitionRefused, match="waiting for its LP quote, so it cannot be"):
        _approve(waiting, T1)


def test_a_draft_without_a_quote_is_refused_for_everything_else_as_before() -> None:
    with pytest.raises(DraftRefused, match="not in the requester group"):
        request(cross(quote=None), requester=OUTSIDER)
    with pytest.raises(DraftRefused, match="no USDT withdrawals to chain 5"):
        request(cross(chain_id=5, quote=None))


def test_the_quote_gives_the_same_content_and_hash_as_a_draft_quoted_at_once() -> None:
    at_once = request(cross(), now=T0)
    later = quote_received(_unquoted(), quote=QUOTE, policy=policy(), now=QUOTED_AT)
    assert later.state is State.PENDING_APPROVAL
    assert later.content == at_once.content
    assert later.content_hash == at_once.content_hash
    assert later.approval_round == 1
    assert later.note is None


def test_the_approval_window_and_reminders_count_from_the_quote() -> None:
    pol = policy()
    later = quote_received(_unquoted(), quote=QUOTE, policy=pol, now=QUOTED_AT)
    assert later.round_opened_at == QUOTED_AT
    assert later.expires_at == QUOTED_AT + pol.approval_expiry
    assert later.drafted_at == T0
    assert _approve(later, T1).decisions[-1].content_hash == later.content_hash


def test_a_quote_that_cannot_serve_the_draft_ends_it_with_the_reason() -> None:
    small = replace(QUOTE, max_amount=Decimal("500"))
    refused = quote_received(_unquoted(), quote=small, policy=policy(), now=QUOTED_AT)
    assert refused.state is State.QUOTE_REFUSED
    assert refused.terminal
    assert refused.note is not None
    assert "above the 500 USDT the liquidity provider can pay out" in refused.note
    assert not refused.content.quoted


def test_an_exchange_refusal_ends_the_draft() -> None:
    refused = quote_refused(_unquoted(), reason="edgeX said CHAIN_NOT_SUPPORTED")
    assert refused.state is State.QUOTE_REFUSED
    assert refused.note == ("No LP quote, so it cannot be approved: edgeX said CHAIN_NOT_SUPPORTED")
    with pytest.raises(TransitionRefused, match="was refused a quote by edgeX"):
        quote_refused(refused, reason="again")


def test_no_quote_after_the_drafts_window_it_expires_instead() -> None:
    waiting = _unquoted()
    with pytest.raises(ActionRefused, match="waited for its quote until its window closed"):
        quote_received(waiting, quote=QUOTE, policy=policy(), now=waiting.expires_at)
    expired = expire(waiting, now=waiting.expires_at)
    assert expired.state is State.EXPIRED
    assert expired.note is not None
    assert expired.note.startswith("No LP quote arrived")


def test_the_requester_can_cancel_while_it_waits_for_its_quote() -> None:
    waiting = _unquoted()
    with pytest.raises(ActionRefused, match="Only the person who drafted"):
        cancel(waiting, by=F1)
    assert cancel(waiting, by=REQUESTER).state is State.CANCELLED


def test_only_a_draft_waiting_for_it_takes_a_first_quote() -> None:
    quoted = request(cross())
    with pytest.raises(TransitionRefused, match="waiting for approvals, so it cannot be given"):
        quote_received(quoted, quote=QUOTE, policy=policy(), now=QUOTED_AT)
    with pytest.raises(TransitionRefused):
        requote(_unquoted(), quote=QUOTE, policy=policy(), now=QUOTED_AT)


def test_a_request_knows_whether_its_content_may_lack_a_quote() -> None:
    waiting = _unquoted()
    with pytest.raises(ValueError, match="must have its LP quote"):
        replace(waiting, state=State.PENDING_APPROVAL)
    with pytest.raises(ValueError, match="has no quote yet"):
        replace(request(cross()), state=State.AWAITING_QUOTE)
