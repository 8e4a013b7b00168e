"""Random sequences of drafts, clicks, quotes, clock ticks, policy changes and exchange answers.

Cross drafts come with their quote or without (a web-only process), the latter quoted or
refused later by the worker's quote.

Whatever happens, no request reaches APPROVED (or is sent) unless distinct approvers other than
the requester met the policy on its current content hash, in its current round, under the policy
they approved under; voided approvals never count; terminal states never change. The quorum is
checked by a brute-force oracle written from the policy file's words, not by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from itertools import permutations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from approvals.content import Kind, content_hash
from approvals.decisions import Decision
from approvals.drafts import CrossDraft, NormalDraft
from approvals.lifecycle import (
    EXCHANGE_TRIGGERS,
    TRANSITIONS,
    Request,
    State,
    Trigger,
    begin_submission,
    cancel,
    decide,
    evaluate_request,
    expire,
    open_request,
    quote_received,
    quote_refused,
    record_exchange_outcome,
    requote,
)
from approvals.membership import Membership
from approvals.metadata import CrossQuote
from approvals.policy import Policy
from approvals.refusals import ApprovalError
from tests.approvals.helpers import (
    EVERYONE,
    EXCHANGE,
    F1,
    LISTED,
    LISTED_ARB,
    O1,
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
)

# The test policy in plain words: who is in which group, what each tier needs, what is listed.
TREASURY = {T1, T2, T3, O1}
FINANCE = {F1, T1}
GROUPS = {"treasury": TREASURY, "finance": FINANCE}
REQUESTERS = {REQUESTER, T2, F1, T3, O1}
TIERS = {"standard": ["treasury"], "large": ["treasury", "treasury", "finance"]}
ALLOWLISTED = {(1, LISTED), (42161, LISTED_ARB)}

POLICIES = (policy(), policy(POLICY_TEXT.replace('reminder_after = "4h"', 'reminder_after = "3h"')))
SENT = {State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION}
ALLOWED_MOVES = {(row.source, row.target) for row in TRANSITIONS}

AMOUNTS = st.sampled_from(
    ["100", "9999.99", "10000", "10000.000001", "20000", "250000", "1e3", "0", "-5", "1.0000001"]
)
QUOTES = st.sampled_from(
    [
        QUOTE,
        replace(QUOTE, fee=Decimal("2.4")),
        replace(QUOTE, fee=Decimal("3")),
        replace(QUOTE, lp_account_id="556"),
        replace(QUOTE, lp_l2_key="0x00abc"),
        replace(QUOTE, max_amount=Decimal(1)),
    ]
)
USERS = st.sampled_from(EVERYONE)


def expected_tier(req: Request) -> str:
    content = req.content
    listed = (content.chain_id, content.destination) in ALLOWLISTED
    return "large" if content.amount > 10000 or not listed else "standard"


def quorum_met(req: Request, pol: Policy) -> bool:
    """Brute force over assignments of distinct, non-requester, current approvers to slots."""
    content = req.content
    slots = TIERS[expected_tier(req)]
    current = content_hash(content)
    approvers = sorted(
        {
            a.approver
            for a in req.decisions
            if a.decision is Decision.APPROVE
            and a.content_hash == current
            and a.approval_round == req.approval_round
            and a.policy_hash == pol.hash
            and a.approver != req.requester
        }
    )
    return any(
        all(person in GROUPS[group] for person, group in zip(chosen, slots, strict=True))
        for chosen in permutations(approvers, len(slots))
    )


class ApprovalMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.policy = POLICIES[0]
        self.now = T0
        self.requests: list[Request] = []
        self.finished: dict[int, Request] = {}

    @property
    def members(self) -> Membership:
        return membership(self.policy)

    # --- helpers ----------------------------------------------------------------------------

    def _apply(self, index: int, action_name: str, action: Callable[[Request], Request]) -> None:
        before = self.requests[index]
        refusal: str | None = None
        try:
            after = action(before)
        except ApprovalError as err:
            refusal = str(err)
        if refusal is not None:
            assert refusal.strip(), f"{action_name}: refusal without a message"
            return
        if before.terminal:
            raise AssertionError(f"{action_name} changed terminal {before.state}")
        if after.state is not before.state:
            assert (before.state, after.state) in ALLOWED_MOVES, (action_name, after.state)
        if after.state is State.APPROVED and before.state is not State.APPROVED:
            assert quorum_met(after, self.policy), f"{action_name} approved without a quorum"
        if after.state is State.SUBMITTING:
            assert quorum_met(after, self.policy), "sent without a quorum under today's policy"
        if after.state is State.EXPIRED:
            assert self.now >= before.expires_at, "expired while the window was open"
        for made in after.decisions[len(before.decisions) :]:
            assert before.state is State.PENDING_APPROVAL
            assert made.at < before.expires_at, "decision recorded after the window closed"
            assert made.approver != before.requester, "the requester's decision was recorded"
            eligible = set().union(*(GROUPS[group] for group in TIERS[expected_tier(before)]))
            assert made.approver in eligible, "an outsider's decision was recorded"
            assert not any(
                a.approver == made.approver
                and a.approval_round == made.approval_round
                and a.policy_hash == made.policy_hash
                for a in before.decisions
            ), "a second decision on the same version was recorded"
        assert after.decisions[: len(before.decisions)] == before.decisions, "history rewritten"
        if after.approval_round != before.approval_round:
            assert after.approval_round == before.approval_round + 1
            assert after.state is State.PENDING_APPROVAL
        self.requests[index] = after
        if after.terminal:
            self.finished[index] = after

    def _pick(self, data: st.DataObject) -> int:
        return data.draw(st.integers(min_value=0, max_value=len(self.requests) - 1))

    # --- rules ------------------------------------------------------------------------------

    @rule(
        user=USERS,
        amount=AMOUNTS,
        kind=st.sampled_from([Kind.NORMAL, Kind.CROSS]),  # the V1 exchange of EXCHANGE
        destination=st.sampled_from([LISTED, LISTED_ARB, UNLISTED, LISTED.lower()]),
        withdrawn=st.sampled_from(["0", "499990"]),
        quoted=st.booleans(),
    )
    def draft(
        self, user: str, amount: str, kind: Kind, destination: str, withdrawn: str, quoted: bool
    ) -> None:
        made: NormalDraft | CrossDraft = (
            normal(amount, destination)
            if kind is Kind.NORMAL
            else cross(amount, destination, quote=QUOTE if quoted else None)
        )
        try:
            req = open_request(
                made,
                requester=user,
                exchange=EXCHANGE,
                policy=self.policy,
                membership=self.members,
                withdrawn_in_window=Decimal(withdrawn),
                now=self.now,
            )
        except ApprovalError:
            return
        assert user in self.members.requesters
        waits = kind is Kind.CROSS and not quoted
        assert req.state is (State.AWAITING_QUOTE if waits else State.PENDING_APPROVAL)
        assert not quorum_met(req, self.policy)
        self.requests.append(req)

    @rule(
        user=st.sampled_from(sorted(REQUESTERS)),
        amount=st.sampled_from(["100", "10000", "20000"]),
        kind=st.sampled_from([Kind.NORMAL, Kind.CROSS]),  # the V1 exchange of EXCHANGE
        listed=st.booleans(),
        quoted=st.booleans(),
    )
    def draft_valid(self, user: str, amount: str, kind: Kind, listed: bool, quoted: bool) -> None:
        destination = UNLISTED if not listed else LISTED if kind is Kind.NORMAL else LISTED_ARB
        self.draft(user, amount, kind, destination, "0", quoted)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), user=USERS)
    def approve(self, data: st.DataObject, user: str) -> None:
        self._apply(
            self._pick(data),
            "approve",
            lambda r: decide(
                r,
                approver=user,
                decision=Decision.APPROVE,
                policy=self.policy,
                membership=self.members,
                now=self.now,
            ),
        )

    @precondition(lambda self: any(r.state is State.PENDING_APPROVAL for r in self.requests))
    @rule(data=st.data(), user=st.sampled_from(sorted(TREASURY | FINANCE)))
    def approve_waiting(self, data: st.DataObject, user: str) -> None:
        waiting = [i for i, r in enumerate(self.requests) if r.state is State.PENDING_APPROVAL]
        self._apply(
            data.draw(st.sampled_from(waiting)),
            "approve",
            lambda r: decide(
                r,
                approver=user,
                decision=Decision.APPROVE,
                policy=self.policy,
                membership=self.members,
                now=self.now,
            ),
        )

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), user=USERS, reason=st.sampled_from(["", "", "", "wrong wallet"]))
    def reject(self, data: st.DataObject, user: str, reason: str) -> None:
        self._apply(
            self._pick(data),
            "reject",
            lambda r: decide(
                r,
                approver=user,
                decision=Decision.REJECT,
                policy=self.policy,
                membership=self.members,
                now=self.now,
                reason=reason,
            ),
        )

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), user=USERS)
    def cancel(self, data: st.DataObject, user: str) -> None:
        self._apply(self._pick(data), "cancel", lambda r: cancel(r, by=user))

    @rule(hours=st.sampled_from([1, 1, 1, 5, 25]))
    def tick(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule()
    def change_policy(self) -> None:
        self.policy = POLICIES[1] if self.policy is POLICIES[0] else POLICIES[0]

    @precondition(lambda self: self.requests)
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        self._apply(self._pick(data), "expire", lambda r: expire(r, now=self.now))

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), quote=QUOTES)
    def requote(self, data: st.DataObject, quote: CrossQuote) -> None:
        index = self._pick(data)
        if self.requests[index].content.kind is Kind.CROSS:
            self._apply(
                index,
                "requote",
                lambda r: requote(r, quote=quote, policy=self.policy, now=self.now),
            )

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), quote=QUOTES)
    def worker_quotes(self, data: st.DataObject, quote: CrossQuote) -> None:
        index = self._pick(data)
        before = self.requests[index]
        self._apply(
            index,
            "quote",
            lambda r: quote_received(r, quote=quote, policy=self.policy, now=self.now),
        )
        after = self.requests[index]
        if after is not before and after.state is State.PENDING_APPROVAL:
            assert after.content.quoted
            assert after.expires_at == self.now + self.policy.approval_expiry

    @precondition(lambda self: self.requests)
    @rule(data=st.data())
    def edgex_refuses_the_quote(self, data: st.DataObject) -> None:
        self._apply(
            self._pick(data), "quote refused", lambda r: quote_refused(r, reason="LP_UNAVAILABLE")
        )

    @invariant()
    def nothing_unquoted_is_approvable(self) -> None:
        for req in self.requests:
            if not req.content.quoted:
                assert req.state is State.AWAITING_QUOTE or req.terminal
                assert not req.decisions

    @precondition(lambda self: any(r.state is State.APPROVED for r in self.requests))
    @rule(data=st.data(), quote=QUOTES, withdrawn=st.sampled_from(["0", "0", "400000"]))
    def submit(self, data: st.DataObject, quote: CrossQuote, withdrawn: str) -> None:
        approved = [i for i, r in enumerate(self.requests) if r.state is State.APPROVED]
        index = data.draw(st.sampled_from(approved))
        fresh = quote if self.requests[index].content.kind is Kind.CROSS else None
        self._apply(
            index,
            "submit",
            lambda r: begin_submission(
                r,
                policy=self.policy,
                membership=self.members,
                quote=fresh,
                withdrawn_in_window=Decimal(withdrawn),
                now=self.now,
            ),
        )

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), trigger=st.sampled_from(sorted(EXCHANGE_TRIGGERS)))
    def exchange_answers(self, data: st.DataObject, trigger: Trigger) -> None:
        self._apply(self._pick(data), "exchange", lambda r: record_exchange_outcome(r, trigger))

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def terminal_states_never_change(self) -> None:
        for index, final in self.finished.items():
            assert self.requests[index] == final

    @invariant()
    def only_current_approvals_count(self) -> None:
        for req in self.requests:
            evaluation = evaluate_request(req, policy=self.policy, membership=self.members)
            current = content_hash(req.content)
            for approval, _group in evaluation.counted:
                assert approval.content_hash == current
                assert approval.approval_round == req.approval_round
                assert approval.policy_hash == self.policy.hash
                assert approval.approver != req.requester
            counted = [a.approver for a, _ in evaluation.counted]
            assert len(counted) == len(set(counted))

    @invariant()
    def approved_requests_were_met_under_the_policy_they_were_approved_under(self) -> None:
        for req in self.requests:
            if req.state is State.APPROVED:
                assert any(quorum_met(req, pol) for pol in POLICIES)


ApprovalMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None
)
TestApprovalMachine = ApprovalMachine.TestCase
