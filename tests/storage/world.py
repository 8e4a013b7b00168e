"""The approval tests' small world (tests/approvals/helpers.py), stored through storage."""

from __future__ import annotations

from datetime import datetime, timedelta

from approvals.decisions import Decision
from approvals.drafts import Draft
from approvals.policy import Policy
from storage import transactions
from storage.engine import Database
from storage.repository import StoredRequest
from tests.approvals.helpers import EXCHANGE, REQUESTER, T0, membership, normal, policy

POLICY = policy()
MEMBERSHIP = membership(POLICY)
MINUTE = timedelta(minutes=1)


def store(
    database: Database,
    draft: Draft | None = None,
    *,
    requester: str = REQUESTER,
    pol: Policy = POLICY,
    now: datetime = T0,
) -> StoredRequest:
    return transactions.draft(
        database,
        draft=draft or normal(),
        requester=requester,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        now=now,
    )


def approve(
    database: Database,
    request_id: int,
    approver: str,
    *,
    pol: Policy = POLICY,
    now: datetime = T0 + MINUTE,
) -> StoredRequest:
    return transactions.decide(
        database,
        request_id=request_id,
        approver=approver,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=now,
    )
