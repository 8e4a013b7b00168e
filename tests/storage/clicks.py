"""Many people clicking Approve on one request at once, from threads of one or more processes.

Kept apart from the test module so a spawned process can import it without pytest's fixtures.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier as ProcessBarrier

from approvals.decisions import Decision
from approvals.membership import resolve_membership
from approvals.policy import Policy, parse_policy
from approvals.refusals import ActionRefused
from storage import transactions
from storage.engine import Database, open_database
from tests.approvals.helpers import HANDLES, LISTED, REQUESTER, T0

APPROVERS = tuple(f"UA{i:02d}" for i in range(24))
QUORUM = 8
POLICY_TEXT = f"""
version = 1
requesters = ["{REQUESTER}"]

[groups]
treasury = [{", ".join(f'"{a}"' for a in APPROVERS)}]

[coins.USDT]
max_amount = "1000"
daily_limit = "1000"

[[coins.USDT.tiers]]
name = "all"
above = "0"
require = [{{ group = "treasury", count = {QUORUM} }}]

[[coins.USDT.allowlist]]
chain_id = 1
address = "{LISTED}"
label = "Cold wallet"
"""
OK = "ok"


def policy() -> Policy:
    return parse_policy(POLICY_TEXT)


def click_all(
    database: Database, request_id: int, approvers: Sequence[str], *, pol: Policy
) -> list[tuple[str, str]]:
    """Every approver clicks in its own thread, all released at once; (approver, outcome)."""
    membership = resolve_membership(pol, HANDLES)
    start = threading.Barrier(len(approvers))
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def click(index: int, approver: str) -> None:
        start.wait()
        try:
            transactions.decide(
                database,
                request_id=request_id,
                approver=approver,
                decision=Decision.APPROVE,
                policy=pol,
                membership=membership,
                now=T0 + timedelta(seconds=60 + index),
            )
            outcome = OK
        except ActionRefused as refused:
            outcome = refused.message
        except Exception as err:
            outcome = f"unexpected {type(err).__name__}: {err}"
        with lock:
            outcomes.append((approver, outcome))

    threads = [
        threading.Thread(target=click, args=(index, approver))
        for index, approver in enumerate(approvers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def click_in_process(
    url: str,
    request_id: int,
    approvers: Sequence[str],
    together: ProcessBarrier,
    results: Queue[list[tuple[str, str]]],
) -> None:
    """A separate process: its own engine and threads, released with the other process."""
    database = open_database(url, pool_size=len(approvers))
    try:
        pol = policy()
        together.wait()
        results.put(click_all(database, request_id, approvers, pol=pol))
    finally:
        database.dispose()
