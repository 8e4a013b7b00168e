"""Quorum: distinct people, each counting once, only on the current content, round and policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from approvals.decisions import Approval, Decision
from approvals.evaluation import Outcome, Shortfall
from approvals.lifecycle import Request, evaluate_request
from approvals.policy import Policy
from tests.approvals.helpers import (
    F1,
    O1,
    OUTSIDER,
    POLICY_TEXT,
    T0,
    T1,
    T2,
    T3,
    UNLISTED,
    membership,
    normal,
    policy,
    request,
)


def _with(
    req: Request,
    *people: str,
    decision: Decision = Decision.APPROVE,
    pol: Policy | None = None,
    content_hash: str | None = None,
    approval_round: int | None = None,
) -> Request:
    pol = pol or policy()
    made = tuple(
        Approval(
            approver=person,
            decision=decision,
            at=T0,
            policy_hash=pol.hash,
            content_hash=content_hash or req.content_hash,
            approval_round=approval_round or req.approval_round,
            reason="no" if decision is Decision.REJECT else None,
        )
        for person in people
    )
    return replace(req, decisions=(*req.decisions, *made))


def _outcome(req: Request, pol: Policy | None = None) -> Outcome:
    pol = pol or policy()
    return evaluate_request(req, policy=pol, membership=membership(pol)).outcome


def test_standard_tier_needs_one_treasury_member() -> None:
    req = request(normal("100"))
    assert _outcome(req) is Outcome.PENDING
    assert _outcome(_with(req, F1)) is Outcome.PENDING  # finance only
    assert _outcome(_with(req, O1)) is Outcome.APPROVED  # treasury through @ops


def test_large_tier_needs_three_distinct_people() -> None:
    req = request(normal("20000"))
    assert _outcome(_with(req, T1, T2)) is Outcome.PENDING
    assert _outcome(_with(req, T1, T2, O1)) is Outcome.APPROVED
    assert _outcome(_with(req, T1, F1)) is Outcome.PENDING
    assert _outcome(_with(req, T2, T3, F1)) is Outcome.APPROVED


def test_someone_in_both_groups_fills_the_slot_that_makes_the_quorum() -> None:
    # A greedy count would give T1 a treasury slot and leave finance empty.
    req = _with(request(normal("20000")), T1, T2, O1)
    pol = policy()
    evaluation = evaluate_request(req, policy=pol, membership=membership(pol))
    assert evaluation.outcome is Outcome.APPROVED
    assert sorted((a.approver, group) for a, group in evaluation.counted) == sorted(
        [(T1, "finance"), (T2, "treasury"), (O1, "treasury")]
    )


def test_one_person_never_counts_twice() -> None:
    req = _with(request(normal("20000")), T1, T1, T1)
    pol = policy()
    evaluation = evaluate_request(req, policy=pol, membership=membership(pol))
    assert evaluation.outcome is Outcome.PENDING
    assert len(evaluation.counted) == 1
    assert [i.reason for i in evaluation.ignored] == ["already decided on this version"] * 2


def test_requester_never_counts_unless_the_policy_says_so() -> None:
    req = _with(request(normal("100"), requester=T2), T2)
    pol = policy()
    evaluation = evaluate_request(req, policy=pol, membership=membership(pol))
    assert evaluation.outcome is Outcome.PENDING
    assert [i.reason for i in evaluation.ignored] == ["drafted the request"]
    assert T2 not in evaluation.may_approve
    lenient = policy(
        POLICY_TEXT.replace('expiry = "24h"', 'expiry = "24h"\nrequester_never_counts = false')
    )
    assert (
        _outcome(_with(request(normal("100"), requester=T2, pol=lenient), T2, pol=lenient), lenient)
        is Outcome.APPROVED
    )


def test_outsiders_do_not_count() -> None:
    pol = policy()
    req = _with(request(normal("100")), OUTSIDER)
    evaluation = evaluate_request(req, policy=pol, membership=membership(pol))
    assert evaluation.outcome is Outcome.PENDING
    assert [i.reason for i in evaluation.ignored] == ["not in treasury"]


@pytest.mark.parametrize("void", ["content", "round", "policy"])
def test_voided_approvals_never_count(void: str) -> None:
    req = request(normal("100"))
    other_policy = policy(POLICY_TEXT.replace('reminder_after = "4h"', 'reminder_after = "5h"'))
    stale = {
        "content": _with(req, T1, content_hash="0" * 64),
        "round": _with(req, T1, approval_round=7),
        "policy": _with(req, T1, pol=other_policy),
    }[void]
    pol = policy()
    evaluation = evaluate_request(stale, policy=pol, membership=membership(pol))
    assert evaluation.outcome is Outcome.PENDING
    assert len(evaluation.voided) == 1
    assert not evaluation.counted
    assert T1 in evaluation.may_approve  # a voided decision does not stop a fresh one


def test_one_reject_ends_unless_configured_otherwise() -> None:
    req = _with(request(normal("100")), T1, decision=Decision.REJECT)
    assert _outcome(req) is Outcome.REJECTED
    lenient = policy(
        POLICY_TEXT.replace('expiry = "24h"', 'expiry = "24h"\none_reject_ends = false')
    )
    kept = _with(request(normal("100"), pol=lenient), T1, decision=Decision.REJECT, pol=lenient)
    assert _outcome(kept, lenient) is Outcome.PENDING
    assert _outcome(_with(kept, T2, pol=lenient), lenient) is Outcome.APPROVED


def test_outsider_rejection_does_not_end_it() -> None:
    req = _with(request(normal("100")), OUTSIDER, decision=Decision.REJECT)
    assert _outcome(req) is Outcome.PENDING


def test_unlisted_destination_needs_the_escalated_tier() -> None:
    req = request(normal("100", UNLISTED))
    pol = policy()
    evaluation = evaluate_request(_with(req, T1), policy=pol, membership=membership(pol))
    assert evaluation.outcome is Outcome.PENDING
    assert evaluation.choice is not None
    assert evaluation.choice.escalated
    assert evaluation.choice.tier.name == "large"
    assert evaluation.shortfalls == (Shortfall("treasury", 1), Shortfall("finance", 1))


def test_who_may_still_approve() -> None:
    pol = policy()
    req = _with(request(normal("20000")), T2, O1)  # treasury slots full, finance missing
    evaluation = evaluate_request(req, policy=pol, membership=membership(pol))
    assert evaluation.shortfalls == (Shortfall("finance", 1),)
    assert evaluation.may_approve == (F1, T1)


def test_policy_change_can_block_a_request() -> None:
    req = request(normal("5000"))
    stricter = policy(
        POLICY_TEXT.replace('max_amount = "250000"', 'max_amount = "4000"')
        .replace('daily_limit = "500000"', 'daily_limit = "4000"')
        .replace('above = "10000"', 'above = "1000"')
    )
    evaluation = evaluate_request(req, policy=stricter, membership=membership(stricter))
    assert evaluation.outcome is Outcome.BLOCKED
    assert evaluation.blocked_reason is not None
    assert "above the policy maximum of 4,000 USDT" in evaluation.blocked_reason
    assert evaluation.eligible == ("treasury", "finance")
