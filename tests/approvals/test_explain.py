"""Explain: the tier, what is still needed and who can still help, in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from approvals.decisions import Decision
from approvals.explain import explain
from approvals.lifecycle import Request, decide, requote
from tests.approvals.helpers import (
    F1,
    O1,
    QUOTE,
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


def _lines(req: Request, *, hours: int = 1) -> list[str]:
    pol = policy()
    return explain(
        req,
        policy=pol,
        membership=membership(pol),
        now=T0 + timedelta(hours=hours),
        mention=lambda user: f"<@{user}>",
    )


def _approve(req: Request, who: str) -> Request:
    pol = policy()
    return decide(
        req,
        approver=who,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=T0,
    )


def test_large_request_halfway() -> None:
    req = _approve(_approve(request(normal("20000"), requester=T2), O1), T3)
    assert _lines(req) == [
        "Tier 'large' applies (2 of treasury and 1 of finance): 20,000 USDT to Cold wallet is "
        "above 10,000 USDT.",
        "Approvals that count: <@UO1> (treasury), <@UT3> (treasury).",
        "Still needed: 1 more from finance.",
        "Who may still approve: <@UF1>, <@UT1>.",
        "Approvals close at 2025-01-03 10:00 UTC.",
    ]


def test_fresh_request_lists_everyone_but_the_requester() -> None:
    lines = _lines(request(normal("20000"), requester=T2))
    assert "No approval counts yet." in lines
    assert "Still needed: 2 more from treasury and 1 more from finance." in lines
    assert "Who may still approve: <@UF1>, <@UO1>, <@UT1>, <@UT3>." in lines


def test_escalation_is_explained() -> None:
    lines = _lines(request(normal("100", UNLISTED)))
    assert lines[0] == (
        f"Tier 'large' applies (2 of treasury and 1 of finance): {UNLISTED} is not on the USDT "
        "allowlist for chain 1, so it needs more than tier 'standard', which its amount alone "
        "would need."
    )


def test_voided_approvals_and_the_reason_are_shown() -> None:
    approved = _approve(request(cross()), T1)
    moved = requote(approved, quote=replace(QUOTE, lp_account_id="556"), policy=policy(), now=T0)
    lines = _lines(moved)
    assert (
        "1 earlier decision no longer counts: the request changed, was sent back for "
        "approval, or the policy changed since." in lines
    )
    assert (
        "The cross-chain quote changed (LP account 556, fee cap 2.5 USDT), so earlier approvals "
        "no longer count." in lines
    )
    assert "Still needed: 1 more from treasury." in lines


def test_approved_and_rejected_requests() -> None:
    approved = _approve(request(), T1)
    assert _lines(approved)[-2:] == [
        "Approvals that count: <@UT1> (treasury).",
        "This request is already approved.",
    ]
    pol = policy()
    rejected = decide(
        request(),
        approver=T1,
        decision=Decision.REJECT,
        policy=pol,
        membership=membership(pol),
        now=T0,
        reason="unknown wallet",
    )
    lines = _lines(rejected)
    assert "Rejected by <@UT1>: unknown wallet" in lines
    assert lines[-1] == "This request was rejected."


def test_stuck_and_expired_requests() -> None:
    only_f1 = replace(
        membership(), groups={"treasury": frozenset({T1}), "finance": frozenset({F1})}
    )
    pol = policy()
    req = _approve(request(normal("20000")), T1)
    lines = explain(req, policy=pol, membership=only_f1, now=T0)
    assert "Who may still approve: <@UF1>." not in lines  # no mention function given
    assert "Who may still approve: UF1." in lines
    stuck = _approve(_approve(request(normal("20000")), T1), F1)
    lines = explain(stuck, policy=pol, membership=only_f1, now=T0)
    assert lines[-2] == (
        "Nobody left in treasury can approve, so the policy cannot be met until the group "
        "changes; cancel the request or ask a treasury lead."
    )
    assert _lines(request(), hours=24)[-1] == (
        "The approval window closed at 2025-01-03 10:00 UTC; the request will be marked expired."
    )
