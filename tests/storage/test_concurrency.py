"""Concurrency on both engines: one transition, one decision per click that counts, one chain.

20 threads, and 2 separate processes, approve one request at once (some of them clicking twice):
exactly the quorum of decisions is stored, the request moves to APPROVED exactly once, every
stored decision has exactly one audit row, the chain has no fork or gap, and every other click
is refused with its message (already approved / already decided), never with a database error.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from approvals.lifecycle import State
from storage import audit, outbox, transactions, work
from storage.engine import Database, open_database
from storage.repository import StoredRequest
from tests.approvals.helpers import T0, T1, normal
from tests.storage import clicks
from tests.storage.world import POLICY, approve, store

ALREADY_APPROVED = "This request is already approved, so it cannot be approved"
ALREADY_DECIDED = "You already approved this version of the request"


@pytest.fixture
def busy_db(database_url: str) -> Iterator[Database]:
    """Enough connections that every thread is in the database at once."""
    database = open_database(database_url, pool_size=20)
    yield database
    database.dispose()


def _draft(db: Database) -> StoredRequest:
    return store(db, normal("100"), pol=clicks.policy())


def _check_outcome(db: Database, request: StoredRequest, outcomes: list[tuple[str, str]]) -> None:
    unexpected = [o for o in outcomes if o[1] not in {clicks.OK, ALREADY_APPROVED, ALREADY_DECIDED}]
    assert unexpected == []
    counted = [approver for approver, outcome in outcomes if outcome == clicks.OK]
    assert len(counted) == clicks.QUORUM
    assert len(set(counted)) == clicks.QUORUM

    final = transactions.get_request(db, request_id=request.id)
    assert final.request.state is State.APPROVED
    assert sorted(a.approver for a in final.request.decisions) == sorted(counted)
    assert final.version == 1 + clicks.QUORUM

    with db.read() as session:
        connection = session.connection()
        decisions = connection.execute(text("SELECT count(*) FROM decisions")).scalar_one()
        actions = Counter(
            row[0] for row in connection.execute(text("SELECT action FROM audit_log"))
        )
    assert decisions == clicks.QUORUM
    assert actions == {"draft_stored": 1, "approve": clicks.QUORUM}
    moves = [
        e
        for e in outbox.pending(db)
        if (e.payload["previous_state"], e.payload["state"]) == ("pending_approval", "approved")
    ]
    assert len(moves) == 1
    verdict = audit.verify(db)
    assert verdict.intact, verdict.problem
    assert verdict.rows == 1 + clicks.QUORUM


def test_twenty_threads_approve_at_once(busy_db: Database) -> None:
    request = _draft(busy_db)
    # 12 people, 8 of them double-clicking: 20 clicks released together.
    approvers = [*clicks.APPROVERS[:12], *clicks.APPROVERS[:8]]
    outcomes = clicks.click_all(busy_db, request.id, approvers, pol=clicks.policy())
    assert len(outcomes) == 20
    _check_outcome(busy_db, request, outcomes)


def test_two_processes_approve_at_once(busy_db: Database, database_url: str) -> None:
    request = _draft(busy_db)
    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(2)
    results: multiprocessing.Queue[list[tuple[str, str]]] = spawn.Queue()
    # Overlapping people: five of them click in both processes.
    shares = (clicks.APPROVERS[0:10], clicks.APPROVERS[5:15])
    processes = [
        spawn.Process(
            target=clicks.click_in_process,
            args=(database_url, request.id, list(share), together, results),
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    outcomes = [o for _ in processes for o in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(outcomes) == 20
    _check_outcome(busy_db, request, outcomes)


def test_a_double_click_counts_once(busy_db: Database) -> None:
    request = store(busy_db, normal("20000"))  # needs three people: stays pending
    outcomes = clicks.click_all(busy_db, request.id, [T1] * 20, pol=POLICY)
    assert Counter(outcome for _, outcome in outcomes) == {clicks.OK: 1, ALREADY_DECIDED: 19}
    final = transactions.get_request(busy_db, request_id=request.id)
    assert final.request.state is State.PENDING_APPROVAL
    assert [a.approver for a in final.request.decisions] == [T1]
    assert audit.verify(busy_db).rows == 2


def test_lease_claims_are_exclusive_across_threads(busy_db: Database) -> None:
    requests = [store(busy_db) for _ in range(20)]
    for request in requests:
        approve(busy_db, request.id, T1)
    now = T0 + timedelta(hours=1)
    start = threading.Barrier(8)
    claimed: dict[str, list[int]] = {}

    def claimer(owner: str) -> None:
        start.wait()
        leases = work.claim(
            busy_db,
            owner=owner,
            states={State.APPROVED},
            now=now,
            lease_for=timedelta(minutes=5),
            limit=3,
        )
        claimed[owner] = [lease.id for lease in leases]

    threads = [threading.Thread(target=claimer, args=(f"worker-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [request_id for ids in claimed.values() for request_id in ids]
    assert len(every) == len(set(every)) == 20
    with busy_db.read() as session:
        rows = session.connection().execute(text("SELECT id, lease_owner FROM requests"))
        owners = {row[0]: row[1] for row in rows}
    assert owners == {i: owner for owner, ids in claimed.items() for i in ids}
    late = work.claim(
        busy_db, owner="late", states={State.APPROVED}, now=now, lease_for=timedelta(minutes=5)
    )
    assert late == []


def test_concurrent_drafts_and_decisions_never_fork_the_chain(busy_db: Database) -> None:
    start = threading.Barrier(10)
    errors: list[BaseException] = []

    def draft_and_approve(index: int) -> None:
        start.wait()
        try:
            request = store(busy_db, now=T0 + timedelta(seconds=index))
            approve(busy_db, request.id, T1, now=T0 + timedelta(minutes=1, seconds=index))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=draft_and_approve, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = audit.verify(busy_db)
    assert verdict.intact, verdict.problem
    assert verdict.rows == 20
